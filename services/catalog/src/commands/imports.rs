//! Running imports. Uploading stores the job (its `ImportQueued` event and its rows) in one
//! transaction. A worker then takes chunks of pending rows: each chunk's products, the rows'
//! outcomes and the job's `RowsProcessed` event commit together, so a crash mid-import loses
//! at most the chunk in flight — which is done again from scratch, creating nothing twice.
//! Several workers (several catalog instances) share jobs by `FOR UPDATE SKIP LOCKED`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgConnection;
use tillstream_eventstore::{
    AppendRequest, Claim, Decided, EventMetadata, EventStore, NewEvent, RunOptions, Snapshots,
    StoreError, UseCase,
};
use tillstream_kernel::{Currency, Decider};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::commands::change_product::change_in;
use crate::error::AppError;

use crate::domain::import::{CsvRow, RowError, changes_of, parse_csv, product_of};
use crate::domain::import_job::{ImportId, ImportJob, ImportMode, JobCommand, JobError, JobEvent};
use crate::domain::product::{Command, Product, ProductDetails, ProductError, ProductId};
use crate::projections::imports::{self as rows, JobRow};
use crate::projections::products::{self, ProductRow};

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
    let options = RunOptions {
        expected_version: Some(0),
        metadata,
        ..Default::default()
    };
    let step = JobStep {
        id,
        command: JobCommand::Queue {
            id,
            mode,
            total_rows,
        },
        writes: JobWrites::Queued { rows: &parsed },
    };
    let row = store.run(&step, &options).await?;
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
    let failed = rows::failed_rows(store.pool(), id).await?;
    let replacements: Option<Vec<&CsvRow>> = corrected.as_ref().map(|corrected| {
        corrected
            .iter()
            .filter(|r| failed.contains(&r.row))
            .collect()
    });
    let step = JobStep {
        id: id.parse().map_err(|_| AppError::from(JobError::NotFound))?,
        command: JobCommand::Retry {
            rows: failed.clone(),
        },
        writes: JobWrites::Retried {
            replacements: replacements.as_deref(),
        },
    };
    let options = RunOptions {
        metadata,
        ..Default::default()
    };
    let row = store.run(&step, &options).await?;
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
    let pending = rows::pending(&mut tx, &id, CHUNK).await?;
    let metadata = EventMetadata {
        actor: Some(format!("import-{id}")),
        ..Default::default()
    };
    let outcomes = import_chunk(&mut tx, store, currency, mode, &id, &pending, &metadata).await?;
    rows::mark_all(&mut tx, &id, &outcomes).await?;
    let failed: Vec<RowError> = outcomes.into_iter().filter_map(|(_, e)| e).collect();
    let succeeded = u32::try_from(pending.len() - failed.len()).unwrap_or(u32::MAX);
    let remaining = u32::try_from(rows::pending_count(&mut tx, &id).await?).unwrap_or(u32::MAX);
    let step = JobStep {
        id: id
            .parse()
            .map_err(|_| AppError::Internal(format!("import job `{id}` has no valid id")))?,
        command: JobCommand::RecordChunk {
            succeeded,
            failed,
            remaining,
        },
        writes: JobWrites::Progress,
    };
    let options = RunOptions {
        metadata,
        ..Default::default()
    };
    store.run_in(&mut tx, &step, &options).await?;
    tx.commit().await.map_err(StoreError::from)?;
    store.announce();
    if remaining == 0 {
        // A bulk load leaves the planner's statistics behind; without fresh ones a barcode
        // lookup may scan the table instead of using its index.
        sqlx::query("ANALYZE products")
            .execute(store.pool())
            .await
            .map_err(StoreError::from)?;
    }
    metrics::counter!("tillstream_import_rows_total", "outcome" => "succeeded")
        .increment(u64::from(succeeded));
    tracing::info!(import_id = %id, chunk = pending.len(), succeeded, remaining, "import chunk done");
    Ok(true)
}

/// A chunk's rows, checked together and written in bulk: parsed and validated, refused when
/// their SKU is on an earlier row of the file, their barcode on an earlier row of the chunk,
/// or a SKU or barcode is already claimed; new products created with two statements for the
/// events and claims and one for the read model. In upsert mode, rows whose SKU exists edit
/// that product, each in a savepoint. The outcome of every row, in order.
async fn import_chunk(
    tx: &mut PgConnection,
    store: &EventStore,
    currency: Currency,
    mode: ImportMode,
    job_id: &str,
    chunk: &[CsvRow],
    metadata: &EventMetadata,
) -> Result<Vec<(u32, Option<RowError>)>, AppError> {
    let skus: Vec<String> = chunk.iter().map(|r| r.sku().to_owned()).collect();
    let first_rows: HashMap<String, i32> = rows::first_rows(&mut *tx, job_id, &skus)
        .await?
        .into_iter()
        .collect();
    let existing: HashMap<String, String> = match mode {
        ImportMode::Upsert => products::ids_by_sku(store.pool(), &skus)
            .await?
            .into_iter()
            .collect(),
        ImportMode::Create => HashMap::new(),
    };
    let barcodes: Vec<String> = chunk
        .iter()
        .map(|r| r.get("barcode").to_owned())
        .filter(|b| !b.is_empty())
        .collect();
    let held_skus: HashMap<String, String> = store
        .claims_held(&mut *tx, "sku", &skus)
        .await?
        .into_iter()
        .collect();
    let held_barcodes: HashMap<String, String> = store
        .claims_held(&mut *tx, "barcode", &barcodes)
        .await?
        .into_iter()
        .collect();

    let mut outcomes = Vec::with_capacity(chunk.len());
    let mut creations = Vec::new();
    let mut new_rows = Vec::new();
    let mut updates = Vec::new();
    let mut chunk_barcodes: HashMap<String, u32> = HashMap::new();
    for row in chunk {
        let checked = check_row(
            row,
            currency,
            &first_rows,
            &held_skus,
            &held_barcodes,
            &mut chunk_barcodes,
            existing.get(row.sku()),
        );
        match checked {
            Err(error) => outcomes.push((row.row, Some(error))),
            Ok(Checked::Update(product_id, details)) => {
                updates.push((outcomes.len(), row, product_id, details));
                outcomes.push((row.row, None));
            }
            Ok(Checked::Create(created)) => {
                let (request, product) = *created;
                creations.push(request);
                new_rows.push(product);
                outcomes.push((row.row, None));
            }
        }
    }
    let metadata_for = |request: AppendRequest| request.with_metadata(metadata.clone());
    let creations: Vec<AppendRequest> = creations.into_iter().map(metadata_for).collect();
    store.create_streams_in(&mut *tx, &creations).await?;
    products::insert_many(&mut *tx, &new_rows).await?;
    for (index, row, product_id, details) in updates {
        if let Some(error) =
            update_row(&mut *tx, store, row, &product_id, &details, metadata).await?
        {
            outcomes[index].1 = Some(error);
        }
    }
    Ok(outcomes)
}

enum Checked {
    Create(Box<(AppendRequest, ProductRow)>),
    Update(String, ProductDetails),
}

/// One row against what the chunk found: a new product to create, an existing one to
/// edit (upsert), or the row's error.
fn check_row(
    row: &CsvRow,
    currency: Currency,
    first_rows: &HashMap<String, i32>,
    held_skus: &HashMap<String, String>,
    held_barcodes: &HashMap<String, String>,
    chunk_barcodes: &mut HashMap<String, u32>,
    existing: Option<&String>,
) -> Result<Checked, RowError> {
    let details = product_of(row, currency)?;
    if let Some(first) = first_rows.get(row.sku())
        && i64::from(*first) < i64::from(row.row)
    {
        return Err(RowError::new(
            row,
            "sku",
            format!("the SKU is also on row {first}"),
        ));
    }
    if let Some(product_id) = existing {
        return Ok(Checked::Update(product_id.clone(), details));
    }
    let id = ProductId::generate();
    let events = Product::decide(
        &Product::default(),
        &Command::Create {
            id,
            details: details.clone(),
        },
    )
    .map_err(|error| match error {
        ProductError::Invalid { field, message } => RowError::new(row, &field, message),
        other => RowError::new(row, "row", other.to_string()),
    })?;
    if held_skus.contains_key(row.sku()) {
        return Err(RowError::new(
            row,
            "sku",
            format!("`{}` is already in the catalog", row.sku()),
        ));
    }
    for code in &details.barcodes {
        if held_barcodes.contains_key(code) {
            return Err(RowError::new(
                row,
                "barcode",
                format!("barcode `{code}` belongs to another product"),
            ));
        }
        if let Some(first) = chunk_barcodes.get(code) {
            return Err(RowError::new(
                row,
                "barcode",
                format!("barcode `{code}` is also on row {first}"),
            ));
        }
    }
    for code in &details.barcodes {
        chunk_barcodes.insert(code.clone(), row.row);
    }
    let product = ProductRow::created(id, &details, events.len() as i64);
    let mut claims = vec![Claim::acquire("sku", product.sku.clone())];
    claims.extend(
        details
            .barcodes
            .iter()
            .map(|c| Claim::acquire("barcode", c.clone())),
    );
    let new_events = events
        .iter()
        .map(NewEvent::from_domain)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| RowError::new(row, "row", e.to_string()))?;
    let request = AppendRequest::new(id.stream_id(), 0, new_events).with_claims(claims);
    Ok(Checked::Create(Box::new((request, product))))
}

/// An upsert's edit of an existing product, in a savepoint: its row error, if any.
async fn update_row(
    tx: &mut PgConnection,
    store: &EventStore,
    row: &CsvRow,
    product_id: &str,
    details: &ProductDetails,
    metadata: &EventMetadata,
) -> Result<Option<RowError>, AppError> {
    let mut savepoint = sqlx::Connection::begin(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    let command = Command::Update {
        changes: changes_of(details),
    };
    let outcome = change_in(&mut savepoint, store, product_id, &command, None, metadata).await;
    let error = match outcome {
        Ok(_) => {
            savepoint.commit().await.map_err(StoreError::from)?;
            return Ok(None);
        }
        Err(AppError::Invalid { field, message }) => RowError::new(row, &field, message),
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
    Ok(Some(error))
}

/// A step of an import job: its event, and the job's rows written beside it.
struct JobStep<'a> {
    id: ImportId,
    command: JobCommand,
    writes: JobWrites<'a>,
}

enum JobWrites<'a> {
    /// The job's row and its file's rows, pending.
    Queued { rows: &'a [CsvRow] },
    /// The failed rows pending again, with a corrected file's content when given.
    Retried {
        replacements: Option<&'a [&'a CsvRow]>,
    },
    /// The job's counts after a chunk (the rows' outcomes are written by the chunk).
    Progress,
}

impl UseCase for JobStep<'_> {
    type Aggregate = ImportJob;
    type Output = JobRow;
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.id.stream_id()
    }

    fn snapshots(&self) -> Snapshots {
        Snapshots {
            state_schema: STATE_SCHEMA,
            every: SNAPSHOT_EVERY,
        }
    }

    fn decide(&self, state: &ImportJob) -> Result<Vec<JobEvent>, AppError> {
        Ok(ImportJob::decide(state, &self.command)?)
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, ImportJob>,
    ) -> Result<JobRow, AppError> {
        let id = &self.id.to_string();
        match self.writes {
            JobWrites::Queued { rows } => {
                let JobCommand::Queue {
                    mode, total_rows, ..
                } = self.command
                else {
                    return Err(AppError::Internal("a queued job without its file".into()));
                };
                let row = rows::insert_job(&mut *tx, id, mode, total_rows).await?;
                rows::insert_rows(&mut *tx, id, rows).await?;
                return Ok(row);
            }
            JobWrites::Retried { replacements } => {
                if let Some(replacements) = replacements {
                    rows::replace_rows(&mut *tx, id, replacements).await?;
                }
                rows::reset_failed(&mut *tx, id).await?;
            }
            JobWrites::Progress => {}
        }
        Ok(rows::update_job(tx, id, decided.state, decided.version).await?)
    }
}
