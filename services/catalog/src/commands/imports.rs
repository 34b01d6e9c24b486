//! Running imports. Uploading stores the job (its `ImportQueued` event and its rows) in one
//! transaction. A worker then takes chunks of pending rows: each chunk's products, the rows'
//! outcomes and the job's `RowsProcessed` event commit together, so a crash mid-import loses
//! at most the chunk in flight — which is done again from scratch, creating nothing twice.
//! Several workers (several catalog instances) share jobs by `FOR UPDATE SKIP LOCKED`.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgConnection;
use tillstream_eventstore::{AppendRequest, EventMetadata, EventStore, NewEvent, StoreError};
use tillstream_kernel::{Currency, Decider};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::api::error::AppError;
use crate::commands::change_product::change_in;
use crate::commands::create_product::{CreateProduct, create_in};
use crate::domain::import::{CsvRow, RowError, changes_of, parse_csv, product_of};
use crate::domain::import_job::{ImportId, ImportJob, ImportMode, JobCommand, JobError};
use crate::domain::product::Command;
use crate::projections::imports::{self as rows, JobRow};
use crate::projections::products;

/// Rows per transaction: large enough to amortize the commit, small enough that a crash
/// redoes little and progress moves visibly.
pub const CHUNK: i64 = 500;
const STATE_SCHEMA: i32 = 1;
const SNAPSHOT_EVERY: usize = 100;

impl From<JobError> for AppError {
    fn from(error: JobError) -> Self {
        match error {
            JobError::NotFound => AppError::NotFound(error.to_string()),
            _ => AppError::Conflict(error.to_string()),
        }
    }
}

/// Stores a new job with the file's rows; the worker picks it up.
pub async fn create_import(
    store: &EventStore,
    csv: &[u8],
    mode: ImportMode,
    metadata: EventMetadata,
) -> Result<JobRow, AppError> {
    let parsed = parse_csv(csv).map_err(|e| AppError::invalid("file", e.to_string()))?;
    let id = ImportId::generate();
    let total_rows = u32::try_from(parsed.len()).unwrap_or(u32::MAX);
    let events = ImportJob::decide(
        &ImportJob::default(),
        &JobCommand::Queue {
            id,
            mode,
            total_rows,
        },
    )?;
    let mut tx = store.pool().begin().await.map_err(StoreError::from)?;
    append(&mut tx, store, &id.to_string(), 0, &events, &metadata).await?;
    let row = rows::insert_job(&mut tx, &id.to_string(), mode, total_rows).await?;
    rows::insert_rows(&mut tx, &id.to_string(), &parsed).await?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::info!(import_id = %id, total_rows, ?mode, "import queued");
    Ok(row)
}

/// Marks a finished job's failed rows pending again, taking their content from `csv` when
/// given (the corrected file: rows are matched by their row number).
pub async fn retry_import(
    store: &EventStore,
    id: &str,
    csv: Option<&[u8]>,
    metadata: EventMetadata,
) -> Result<JobRow, AppError> {
    let corrected = csv
        .map(|bytes| parse_csv(bytes).map_err(|e| AppError::invalid("file", e.to_string())))
        .transpose()?;
    let stream = format!("import-{id}");
    let loaded = store
        .load_state::<ImportJob>(&stream, STATE_SCHEMA, SNAPSHOT_EVERY)
        .await?;
    let failed = rows::failed_rows(store.pool(), id).await?;
    let events = ImportJob::decide(
        &loaded.state,
        &JobCommand::Retry {
            rows: failed.clone(),
        },
    )?;
    let mut tx = store.pool().begin().await.map_err(StoreError::from)?;
    append(&mut tx, store, id, loaded.version, &events, &metadata).await?;
    if let Some(corrected) = &corrected {
        let replacements: Vec<&CsvRow> = corrected
            .iter()
            .filter(|r| failed.contains(&r.row))
            .collect();
        rows::replace_rows(&mut tx, id, &replacements).await?;
    }
    let state = events.iter().fold(loaded.state, ImportJob::evolve);
    rows::reset_failed(&mut tx, id).await?;
    let row = rows::update_job(&mut tx, id, &state, loaded.version + events.len() as i64).await?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::info!(import_id = %id, rows = failed.len(), "import retried");
    Ok(row)
}

/// Works through jobs until `shutdown`, woken by new uploads (and every few seconds, for
/// jobs another instance left behind).
pub async fn run_worker(
    store: EventStore,
    currency: Currency,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) {
    while !shutdown.is_cancelled() {
        match process_chunk(&store, currency).await {
            Ok(true) => tokio::task::yield_now().await,
            Ok(false) => {
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(Duration::from_secs(5)) => {}
                    () = shutdown.cancelled() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "import chunk failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = shutdown.cancelled() => {}
                }
            }
        }
    }
}

/// Processes one chunk of one open job; whether there was one.
pub async fn process_chunk(store: &EventStore, currency: Currency) -> Result<bool, AppError> {
    let mut tx = store.pool().begin().await.map_err(StoreError::from)?;
    let Some((id, mode)) = rows::lock_open_job(&mut tx).await? else {
        return Ok(false);
    };
    let stream = format!("import-{id}");
    let loaded = store
        .load_state::<ImportJob>(&stream, STATE_SCHEMA, SNAPSHOT_EVERY)
        .await?;
    let pending = rows::pending(&mut tx, &id, CHUNK).await?;
    let metadata = EventMetadata {
        actor: Some(format!("import-{id}")),
        ..Default::default()
    };
    let mut succeeded = 0u32;
    let mut failed = Vec::new();
    for row in &pending {
        match import_row(&mut tx, store, currency, mode, &id, row, &metadata).await? {
            Ok(()) => {
                succeeded += 1;
                rows::mark(&mut tx, &id, row.row, None).await?;
            }
            Err(error) => {
                rows::mark(&mut tx, &id, row.row, Some(&error)).await?;
                failed.push(error);
            }
        }
    }
    let remaining = u32::try_from(rows::pending_count(&mut tx, &id).await?).unwrap_or(u32::MAX);
    let command = JobCommand::RecordChunk {
        succeeded,
        failed,
        remaining,
    };
    let events = ImportJob::decide(&loaded.state, &command)?;
    append(&mut tx, store, &id, loaded.version, &events, &metadata).await?;
    let state = events.iter().fold(loaded.state, ImportJob::evolve);
    rows::update_job(&mut tx, &id, &state, loaded.version + events.len() as i64).await?;
    tx.commit().await.map_err(StoreError::from)?;
    metrics::counter!("tillstream_import_rows_total", "outcome" => "succeeded")
        .increment(u64::from(succeeded));
    tracing::info!(import_id = %id, chunk = pending.len(), succeeded, remaining, "import chunk done");
    Ok(true)
}

/// One row inside a savepoint: `Ok(Err(..))` is a row error (its writes undone), `Err(..)`
/// a failure of the chunk itself.
async fn import_row(
    tx: &mut PgConnection,
    store: &EventStore,
    currency: Currency,
    mode: ImportMode,
    job_id: &str,
    row: &CsvRow,
    metadata: &EventMetadata,
) -> Result<Result<(), RowError>, AppError> {
    let details = match product_of(row, currency) {
        Ok(details) => details,
        Err(error) => return Ok(Err(error)),
    };
    if let Some(first) = rows::earlier_row_with_sku(&mut *tx, job_id, row).await? {
        return Ok(Err(RowError::new(
            row,
            "sku",
            format!("the SKU is also on row {first}"),
        )));
    }
    let existing = match mode {
        ImportMode::Upsert => products::by_sku(store.pool(), row.sku()).await?,
        ImportMode::Create => None,
    };
    let mut savepoint = sqlx::Connection::begin(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    let outcome = match existing {
        Some(product) => change_in(
            &mut savepoint,
            store,
            &product.id,
            &Command::Update {
                changes: changes_of(&details),
            },
            None,
            metadata,
        )
        .await
        .map(|_| ()),
        None => {
            let command = CreateProduct {
                details,
                idempotency_key: None,
                metadata: metadata.clone(),
            };
            create_in(&mut savepoint, store, &command, None)
                .await
                .map(|_| ())
        }
    };
    let row_error = match outcome {
        Ok(()) => {
            savepoint.commit().await.map_err(StoreError::from)?;
            return Ok(Ok(()));
        }
        Err(AppError::Invalid { field, message }) => RowError::new(row, &field, message),
        Err(AppError::Store(StoreError::Duplicate { claim, value })) if claim == "sku" => {
            RowError::new(row, "sku", format!("`{value}` is already in the catalog"))
        }
        Err(AppError::Store(StoreError::Duplicate { claim, value })) => RowError::new(
            row,
            &claim,
            format!("{claim} `{value}` belongs to another product"),
        ),
        Err(AppError::Store(StoreError::Conflict { .. })) => RowError::new(
            row,
            "sku",
            "the product changed while the import ran; retry the row",
        ),
        Err(other) => return Err(other),
    };
    savepoint.rollback().await.map_err(StoreError::from)?;
    Ok(Err(row_error))
}

async fn append(
    tx: &mut PgConnection,
    store: &EventStore,
    id: &str,
    expected: i64,
    events: &[crate::domain::import_job::JobEvent],
    metadata: &EventMetadata,
) -> Result<(), AppError> {
    let new_events = events
        .iter()
        .map(NewEvent::from_domain)
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::from)?;
    let request = AppendRequest::new(format!("import-{id}"), expected, new_events)
        .with_metadata(metadata.clone());
    store.append_in(tx, &request).await?;
    Ok(())
}
