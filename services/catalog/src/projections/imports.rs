//! `import_jobs` and `import_rows`: each job with its counts, and its rows with their
//! outcomes, written in the job's own transactions.

use serde_json::json;
use sqlx::{PgConnection, PgPool};

use crate::domain::import::{CsvRow, RowError};
use crate::domain::import_job::{ImportJob, ImportMode};

/// A job as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct JobRow {
    pub id: String,
    pub mode: String,
    pub status: String,
    pub total_rows: i32,
    pub succeeded: i32,
    pub failed: i32,
    pub version: i64,
}

fn mode_name(mode: ImportMode) -> &'static str {
    match mode {
        ImportMode::Create => "create",
        ImportMode::Upsert => "upsert",
    }
}

pub async fn insert_job(
    tx: &mut PgConnection,
    id: &str,
    mode: ImportMode,
    total_rows: u32,
) -> Result<JobRow, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO import_jobs (id, mode, status, total_rows, version) VALUES ($1, $2, 'queued', $3, 1) \
         RETURNING id, mode, status, total_rows, succeeded, failed, version",
    )
    .bind(id)
    .bind(mode_name(mode))
    .bind(i32::try_from(total_rows).unwrap_or(i32::MAX))
    .fetch_one(tx)
    .await
}

/// Every row of the file, in one statement.
pub async fn insert_rows(
    tx: &mut PgConnection,
    id: &str,
    rows: &[CsvRow],
) -> Result<(), sqlx::Error> {
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| json!([r.row, r.sku(), r.fields]))
        .collect();
    sqlx::query(
        "INSERT INTO import_rows (job_id, row_no, sku, fields) \
         SELECT $1, (r->>0)::int, r->>1, r->2 FROM jsonb_array_elements($2::jsonb) AS r",
    )
    .bind(id)
    .bind(serde_json::Value::Array(data))
    .execute(tx)
    .await?;
    Ok(())
}

/// The oldest open job, locked for this transaction (another worker skips it).
pub async fn lock_open_job(
    tx: &mut PgConnection,
) -> Result<Option<(String, ImportMode)>, sqlx::Error> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT id, mode FROM import_jobs WHERE status IN ('queued', 'processing') \
         ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .fetch_optional(tx)
    .await?;
    Ok(row.map(|(id, mode)| {
        let mode = if mode == "upsert" {
            ImportMode::Upsert
        } else {
            ImportMode::Create
        };
        (id, mode)
    }))
}

#[derive(sqlx::FromRow)]
struct StoredRow {
    row_no: i32,
    fields: sqlx::types::Json<Vec<String>>,
}

/// The next `limit` pending rows, in file order.
pub async fn pending(
    tx: &mut PgConnection,
    id: &str,
    limit: i64,
) -> Result<Vec<CsvRow>, sqlx::Error> {
    let stored: Vec<StoredRow> = sqlx::query_as(
        "SELECT row_no, fields FROM import_rows WHERE job_id = $1 AND state = 'pending' \
         ORDER BY row_no LIMIT $2",
    )
    .bind(id)
    .bind(limit)
    .fetch_all(tx)
    .await?;
    Ok(stored
        .into_iter()
        .map(|s| CsvRow {
            row: u32::try_from(s.row_no).unwrap_or(0),
            fields: s.fields.0,
        })
        .collect())
}

pub async fn pending_count(tx: &mut PgConnection, id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM import_rows WHERE job_id = $1 AND state = 'pending'")
        .bind(id)
        .fetch_one(tx)
        .await
}

/// For each of `skus`, the first row of the file that has it.
pub async fn first_rows(
    tx: &mut PgConnection,
    id: &str,
    skus: &[String],
) -> Result<Vec<(String, i32)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sku, min(row_no) FROM import_rows WHERE job_id = $1 AND sku = ANY($2) GROUP BY sku",
    )
    .bind(id)
    .bind(skus)
    .fetch_all(tx)
    .await
}

/// Every row's outcome in one statement: done (`None`) or failed.
pub async fn mark_all(
    tx: &mut PgConnection,
    id: &str,
    outcomes: &[(u32, Option<RowError>)],
) -> Result<(), sqlx::Error> {
    let data: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|(row, error)| {
            json!({"row_no": row, "field": error.as_ref().map(|e| &e.field),
                   "message": error.as_ref().map(|e| &e.message)})
        })
        .collect();
    sqlx::query(
        "UPDATE import_rows AS r \
            SET state = CASE WHEN o.field IS NULL THEN 'done' ELSE 'failed' END, \
                field = o.field, message = o.message \
           FROM jsonb_to_recordset($2) AS o(row_no int, field text, message text) \
          WHERE r.job_id = $1 AND r.row_no = o.row_no",
    )
    .bind(id)
    .bind(serde_json::Value::Array(data))
    .execute(tx)
    .await?;
    Ok(())
}

/// The first earlier row of the same file with the same SKU, if any.
pub async fn earlier_row_with_sku(
    tx: &mut PgConnection,
    id: &str,
    row: &CsvRow,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT min(row_no) FROM import_rows WHERE job_id = $1 AND sku = $2 AND row_no < $3",
    )
    .bind(id)
    .bind(row.sku())
    .bind(i32::try_from(row.row).unwrap_or(i32::MAX))
    .fetch_one(tx)
    .await
}

/// A row done (`None`) or failed.
pub async fn mark(
    tx: &mut PgConnection,
    id: &str,
    row: u32,
    error: Option<&RowError>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE import_rows SET state = CASE WHEN $3::text IS NULL THEN 'done' ELSE 'failed' END, \
                field = $3, message = $4 WHERE job_id = $1 AND row_no = $2",
    )
    .bind(id)
    .bind(i32::try_from(row).unwrap_or(i32::MAX))
    .bind(error.map(|e| e.field.as_str()))
    .bind(error.map(|e| e.message.as_str()))
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn update_job(
    tx: &mut PgConnection,
    id: &str,
    state: &ImportJob,
    version: i64,
) -> Result<JobRow, sqlx::Error> {
    sqlx::query_as(
        "UPDATE import_jobs SET status = $2, succeeded = $3, failed = $4, version = $5, updated_at = now() \
          WHERE id = $1 RETURNING id, mode, status, total_rows, succeeded, failed, version",
    )
    .bind(id)
    .bind(state.status.as_str())
    .bind(i32::try_from(state.succeeded).unwrap_or(i32::MAX))
    .bind(i32::try_from(state.failed).unwrap_or(i32::MAX))
    .bind(version)
    .fetch_one(tx)
    .await
}

pub async fn failed_rows(pool: &PgPool, id: &str) -> Result<Vec<u32>, sqlx::Error> {
    let rows: Vec<i32> = sqlx::query_scalar(
        "SELECT row_no FROM import_rows WHERE job_id = $1 AND state = 'failed' ORDER BY row_no",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| u32::try_from(r).ok())
        .collect())
}

/// Takes new content for rows (from a corrected file).
pub async fn replace_rows(
    tx: &mut PgConnection,
    id: &str,
    rows: &[&CsvRow],
) -> Result<(), sqlx::Error> {
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| json!([r.row, r.sku(), r.fields]))
        .collect();
    sqlx::query(
        "UPDATE import_rows SET sku = r->>1, fields = r->2 \
           FROM jsonb_array_elements($2::jsonb) AS r \
          WHERE job_id = $1 AND row_no = (r->>0)::int",
    )
    .bind(id)
    .bind(serde_json::Value::Array(data))
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn reset_failed(tx: &mut PgConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE import_rows SET state = 'pending', field = NULL, message = NULL \
          WHERE job_id = $1 AND state = 'failed'",
    )
    .bind(id)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn job(pool: &PgPool, id: &str) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, mode, status, total_rows, succeeded, failed, version FROM import_jobs WHERE id = $1",
    )
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The failed rows' errors, in file order.
pub async fn errors(pool: &PgPool, id: &str) -> Result<Vec<RowError>, sqlx::Error> {
    let rows: Vec<(i32, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT row_no, sku, field, message FROM import_rows \
          WHERE job_id = $1 AND state = 'failed' ORDER BY row_no",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(row, sku, field, message)| RowError {
            row: u32::try_from(row).unwrap_or(0),
            sku,
            field: field.unwrap_or_default(),
            message: message.unwrap_or_default(),
        })
        .collect())
}
