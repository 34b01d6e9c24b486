//! Running a projection: the live loop, the rebuild and the lag.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{AssertSqlSafe, PgConnection, Postgres, Transaction};
use tillstream_eventstore::{Cursor, EventStore, read_all};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info, info_span, warn};

use crate::{Generation, Projection, ProjectionError};

/// How a runner batches and polls.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    pub batch_size: i64,
    /// Pause between reads while committed events wait behind the gap-safe horizon;
    /// otherwise the runner waits for an append.
    pub idle_poll: Duration,
    /// How long to let appends gather after a wake before reading them: one batch for a
    /// burst, where a read model can be that far behind (analytics).
    pub gather: Duration,
    pub lag_report_every: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            batch_size: 1000,
            idle_poll: Duration::from_millis(20),
            gather: Duration::ZERO,
            lag_report_every: Duration::from_secs(5),
        }
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildReport {
    pub generation: i32,
    pub events_applied: u64,
    pub elapsed: Duration,
}

/// Keeps one projection current.
#[derive(Debug)]
pub struct ProjectionRunner<P> {
    store: EventStore,
    projection: Arc<P>,
    config: RunnerConfig,
}

impl<P> Clone for ProjectionRunner<P> {
    fn clone(&self) -> Self {
        ProjectionRunner {
            store: self.store.clone(),
            projection: self.projection.clone(),
            config: self.config.clone(),
        }
    }
}

struct Checkpoint {
    generation: Generation,
    cursor: Cursor,
}

impl<P: Projection> ProjectionRunner<P> {
    pub fn new(store: EventStore, projection: P, config: RunnerConfig) -> Self {
        ProjectionRunner {
            store,
            projection: Arc::new(projection),
            config,
        }
    }

    /// Creates the checkpoint row, the first generation's tables and the views, if missing.
    pub async fn init(&self) -> Result<(), ProjectionError> {
        let mut tx = self.store.pool().begin().await?;
        let name = self.projection.name();
        // Serialises concurrent `init`s of one projection (several replicas starting).
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('projection:' || $1))")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let created = sqlx::query(
            "INSERT INTO projection_checkpoints (projection) VALUES ($1) ON CONFLICT DO NOTHING",
        )
        .bind(name)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if created {
            let first = Generation(1);
            self.projection.create_tables(&mut tx, first).await?;
            self.point_views_at(&mut tx, first).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Applies the next batch into the live generation, checkpoint in the same commit.
    /// Returns how many events it applied (0 when caught up).
    pub async fn apply_batch(&self) -> Result<usize, ProjectionError> {
        Ok(self.apply_next().await?.0)
    }

    /// [`Self::apply_batch`], and the cursor the projection got to.
    async fn apply_next(&self) -> Result<(usize, Cursor), ProjectionError> {
        let mut tx = self.store.pool().begin().await?;
        let checkpoint = self.lock_checkpoint(&mut tx).await?;
        let events = read_all(&mut *tx, checkpoint.cursor, self.config.batch_size).await?;
        let Some(last) = events.last() else {
            tx.rollback().await?;
            return Ok((0, checkpoint.cursor));
        };
        let reached = last.cursor();
        // A span per applied batch (not per idle poll), so a trace shows when a projection
        // took an event in.
        let span = info_span!(
            "projection",
            projection = self.projection.name(),
            events = events.len(),
            generation = checkpoint.generation.0
        );
        async {
            self.projection
                .apply(&mut tx, checkpoint.generation, &events)
                .await?;
            self.save_cursor(&mut tx, last.cursor(), checkpoint.generation)
                .await?;
            tx.commit().await?;
            Ok::<_, ProjectionError>(())
        }
        .instrument(span)
        .await?;
        metrics::counter!("tillstream_projection_events_total", "projection" => self.projection.name())
            .increment(events.len() as u64);
        Ok((events.len(), reached))
    }

    /// Whether events committed after `cursor` wait behind the gap-safe horizon (an older
    /// transaction still running): no commit will announce them, so the loop polls.
    async fn behind(&self, cursor: Cursor) -> Result<bool, ProjectionError> {
        Ok(self.store.head().await? > cursor)
    }

    /// Runs until `shutdown`, woken by the commits of appends, retrying with backoff when
    /// the database is away.
    pub async fn run(self, shutdown: CancellationToken) {
        let name = self.projection.name();
        let mut backoff = Duration::from_millis(50);
        let mut last_report = Instant::now();
        let mut appends = self.store.appends();
        if let Err(error) = self.init().await {
            warn!(%error, projection = name, "projection init failed; will retry in the loop");
        }
        while !shutdown.is_cancelled() {
            let round_started = Instant::now();
            if last_report.elapsed() >= self.config.lag_report_every {
                self.report_lag().await;
                last_report = Instant::now();
            }
            let applied = match self.apply_next().await {
                Ok((0, cursor)) => self.behind(cursor).await.map(|behind| (0, behind)),
                Ok((n, _)) => Ok((n, false)),
                Err(error) => Err(error),
            };
            let pause = match applied {
                Ok((0, true)) => self.config.idle_poll,
                Ok((0, false)) => {
                    let until_report = self
                        .config
                        .lag_report_every
                        .saturating_sub(last_report.elapsed());
                    let spacing = self.config.idle_poll;
                    // Or after `gather`, where a read model can wait for company.
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        pause = appends.next_round(until_report, round_started, spacing) =>
                            pause.max(self.config.gather),
                    }
                }
                Ok(_) => {
                    backoff = Duration::from_millis(50);
                    continue;
                }
                Err(error) => {
                    warn!(%error, projection = name, "projection batch failed; will retry");
                    let _ = self.init().await;
                    let pause = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    pause
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
        info!(projection = name, "projection stopped");
    }

    /// Rebuilds from position zero into the next generation's tables while the live loop
    /// goes on, then swaps: the last catch-up, the checkpoint move, the views and the drop
    /// of the old tables are one transaction under the checkpoint's row lock, so the live
    /// loop continues on the new generation exactly where the rebuild stopped.
    pub async fn rebuild(&self) -> Result<RebuildReport, ProjectionError> {
        self.rebuild_reporting(|_| {}).await
    }

    /// `rebuild`, calling `progress` with the number of events applied after each batch.
    pub async fn rebuild_reporting(
        &self,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<RebuildReport, ProjectionError> {
        let started = Instant::now();
        self.init().await?;
        let current: i32 = sqlx::query_scalar(
            "SELECT generation FROM projection_checkpoints WHERE projection = $1",
        )
        .bind(self.projection.name())
        .fetch_one(self.store.pool())
        .await?;
        let next = Generation(current + 1);

        let mut tx = self.store.pool().begin().await?;
        self.drop_tables(&mut tx, next).await?; // leftovers of an interrupted rebuild
        self.projection.create_tables(&mut tx, next).await?;
        tx.commit().await?;

        // Catch up aside, without blocking the live loop.
        let mut cursor = Cursor::START;
        let mut applied = 0u64;
        loop {
            let mut tx = self.store.pool().begin().await?;
            let events = read_all(&mut *tx, cursor, self.config.batch_size).await?;
            let Some(last) = events.last() else { break };
            cursor = last.cursor();
            self.projection.apply(&mut tx, next, &events).await?;
            tx.commit().await?;
            applied += events.len() as u64;
            progress(applied);
            if (events.len() as i64) < self.config.batch_size {
                break;
            }
        }

        // The swap.
        let mut tx = self.store.pool().begin().await?;
        let live = self.lock_checkpoint(&mut tx).await?;
        loop {
            let events = read_all(&mut *tx, cursor, self.config.batch_size).await?;
            let Some(last) = events.last() else { break };
            cursor = last.cursor();
            self.projection.apply(&mut tx, next, &events).await?;
            applied += events.len() as u64;
        }
        progress(applied);
        self.save_cursor(&mut tx, cursor, next).await?;
        self.point_views_at(&mut tx, next).await?;
        self.drop_tables(&mut tx, live.generation).await?;
        tx.commit().await?;

        let report = RebuildReport {
            generation: next.0,
            events_applied: applied,
            elapsed: started.elapsed(),
        };
        info!(
            projection = self.projection.name(),
            ?report,
            "projection rebuilt and swapped"
        );
        Ok(report)
    }

    /// Events not yet applied, and how long the oldest of them has waited.
    pub async fn lag(&self) -> Result<(i64, Duration), ProjectionError> {
        let cursor: (i64, i64) = sqlx::query_as(
            "SELECT tx_id::text::bigint, position FROM projection_checkpoints WHERE projection = $1",
        )
        .bind(self.projection.name())
        .fetch_optional(self.store.pool())
        .await?
        .unwrap_or((0, 0));
        let (count, oldest) = self
            .store
            .backlog(Cursor {
                tx_id: cursor.0,
                position: cursor.1,
            })
            .await?;
        let age = oldest
            .and_then(|t| (chrono::Utc::now() - t).to_std().ok())
            .unwrap_or_default();
        Ok((count, age))
    }

    async fn report_lag(&self) {
        match self.lag().await {
            Ok((events, age)) => {
                let name = self.projection.name();
                metrics::gauge!("tillstream_projection_lag_events", "projection" => name)
                    .set(events as f64);
                metrics::gauge!("tillstream_projection_lag_seconds", "projection" => name)
                    .set(age.as_secs_f64());
            }
            Err(error) => warn!(%error, "could not measure projection lag"),
        }
    }

    async fn lock_checkpoint(
        &self,
        tx: &mut Transaction<'_, Postgres>,
    ) -> Result<Checkpoint, ProjectionError> {
        let (generation, tx_id, position): (i32, i64, i64) = sqlx::query_as(
            "SELECT generation, tx_id::text::bigint, position FROM projection_checkpoints
             WHERE projection = $1 FOR UPDATE",
        )
        .bind(self.projection.name())
        .fetch_one(&mut **tx)
        .await?;
        Ok(Checkpoint {
            generation: Generation(generation),
            cursor: Cursor { tx_id, position },
        })
    }

    async fn save_cursor(
        &self,
        tx: &mut PgConnection,
        cursor: Cursor,
        generation: Generation,
    ) -> Result<(), ProjectionError> {
        sqlx::query(
            "UPDATE projection_checkpoints
             SET tx_id = $2::bigint::text::xid8, position = $3, generation = $4, updated_at = now()
             WHERE projection = $1",
        )
        .bind(self.projection.name())
        .bind(cursor.tx_id)
        .bind(cursor.position)
        .bind(generation.0)
        .execute(tx)
        .await?;
        Ok(())
    }

    async fn point_views_at(
        &self,
        tx: &mut PgConnection,
        generation: Generation,
    ) -> Result<(), ProjectionError> {
        for base in self.projection.tables() {
            // Drop and create rather than replace: a new generation may change columns.
            let sql = format!(
                "DROP VIEW IF EXISTS {base}; CREATE VIEW {base} AS SELECT * FROM {table}",
                table = generation.table(base)
            );
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *tx).await?;
        }
        Ok(())
    }

    async fn drop_tables(
        &self,
        tx: &mut PgConnection,
        generation: Generation,
    ) -> Result<(), ProjectionError> {
        for base in self.projection.tables() {
            let sql = format!("DROP TABLE IF EXISTS {} CASCADE", generation.table(base));
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *tx).await?;
        }
        Ok(())
    }
}
