//! Appends against the raw baseline: the same row, the same pool, the same concurrency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::json;
use tillstream_eventstore::{AppendRequest, EventStore, NewEvent};

/// What one phase measured.
pub struct Phase {
    pub operations: u64,
    pub elapsed: Duration,
    pub latency_us: Histogram<u64>,
}

impl Phase {
    pub fn per_second(&self) -> f64 {
        self.operations as f64 / self.elapsed.as_secs_f64()
    }
}

/// The baseline table: the events table's columns with nothing but a primary key.
pub async fn create_raw_table(store: &EventStore) -> anyhow::Result<()> {
    sqlx::raw_sql(
        "CREATE TABLE raw_events (
            position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            stream_id text NOT NULL, version bigint NOT NULL, event_id uuid NOT NULL,
            event_type text NOT NULL, schema_version integer NOT NULL, payload jsonb NOT NULL,
            metadata jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())",
    )
    .execute(store.pool())
    .await?;
    Ok(())
}

fn payload() -> serde_json::Value {
    json!({"sku": "COFFEE-1KG", "location_id": "01JD0000000000000000000000", "quantity": "2", "unit_cost": "7.35"})
}

pub async fn raw_inserts(
    store: &EventStore,
    writers: usize,
    phase: Duration,
) -> anyhow::Result<Phase> {
    run(writers, phase, {
        let store = store.clone();
        move |writer, n| {
            let store = store.clone();
            async move {
                sqlx::query(
                    "INSERT INTO raw_events (stream_id, version, event_id, event_type, schema_version, payload, metadata)
                     VALUES ($1, $2, $3, $4, 1, $5, '{}')",
                )
                .bind(format!("raw-{writer}"))
                .bind(n as i64 + 1)
                .bind(uuid_v4())
                .bind("StockReceived")
                .bind(payload())
                .execute(store.pool())
                .await?;
                anyhow::Ok(())
            }
        }
    })
    .await
}

pub async fn event_appends(
    store: &EventStore,
    writers: usize,
    phase: Duration,
) -> anyhow::Result<Phase> {
    let run_id = ulid::Ulid::generate();
    run(writers, phase, {
        let store = store.clone();
        move |writer, n| {
            let store = store.clone();
            async move {
                // Each writer extends its own stream: the version check runs every time.
                let request = AppendRequest::new(
                    format!("stock-{run_id}-{writer}"),
                    n as i64,
                    vec![NewEvent::new("StockReceived", &payload())?],
                );
                store.append(request).await?;
                anyhow::Ok(())
            }
        }
    })
    .await
}

fn uuid_v4() -> sqlx::types::Uuid {
    sqlx::types::Uuid::from(ulid::Ulid::generate())
}

/// Runs `op` in `writers` loops for `phase`, recording each call's latency.
async fn run<F, Fut>(writers: usize, phase: Duration, op: F) -> anyhow::Result<Phase>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let deadline = started + phase;
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut histogram = Histogram::<u64>::new(3)?;
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    op(writer, n).await?;
                    histogram.record(t.elapsed().as_micros() as u64)?;
                    n += 1;
                }
                anyhow::Ok((n, histogram))
            })
        })
        .collect();
    let mut operations = 0;
    let mut latency_us = Histogram::<u64>::new(3)?;
    for task in tasks {
        let (n, histogram) = task.await??;
        operations += n;
        latency_us.add(histogram)?;
    }
    Ok(Phase {
        operations,
        elapsed: started.elapsed(),
        latency_us,
    })
}
