//! `repairs`: each repair as the workshop reads it, written with each of its events in their
//! transaction, and the per-location counter its numbers come from.

use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

use crate::domain::repair::RepairRecord;

/// A repair and its stream's version (clients send it back as `If-Match`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RepairView {
    pub record: RepairRecord,
    pub version: i64,
}

/// The next number of `location_id`'s repairs: `R-<location code>-000001`, never reused
/// (the counter moves in the repair's transaction).
pub async fn next_number(
    tx: &mut PgConnection,
    location_id: &str,
    location_code: &str,
) -> Result<String, sqlx::Error> {
    let number: i64 = sqlx::query_scalar(
        "INSERT INTO repair_number_counters (location_id, last) VALUES ($1, 1)
         ON CONFLICT (location_id) DO UPDATE SET last = repair_number_counters.last + 1
         RETURNING last",
    )
    .bind(location_id)
    .fetch_one(tx)
    .await?;
    Ok(format!("R-{location_code}-{number:06}"))
}

/// Writes the repair as its latest event left it.
pub async fn upsert(tx: &mut PgConnection, view: &RepairView) -> Result<(), sqlx::Error> {
    let record = &view.record;
    sqlx::query(
        "INSERT INTO repairs (id, number, status, customer_id, location_id, created_at, version,
                              document)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE
            SET status = EXCLUDED.status, version = EXCLUDED.version,
                document = EXCLUDED.document
          WHERE repairs.version < EXCLUDED.version",
    )
    .bind(record.id.to_string())
    .bind(&record.number)
    .bind(record.status.as_str())
    .bind(&record.customer_id)
    .bind(&record.location_id)
    .bind(record.created_at)
    .bind(view.version)
    .bind(Json(record))
    .execute(tx)
    .await?;
    Ok(())
}

/// Locks the repair's row until the transaction ends; its version, `None` when unknown.
pub async fn lock(tx: &mut PgConnection, id: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT version FROM repairs WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(tx)
        .await
}

type Row = (Json<RepairRecord>, i64);

fn view((record, version): Row) -> RepairView {
    RepairView {
        record: record.0,
        version,
    }
}

/// By id or by number.
pub async fn find(pool: &PgPool, id_or_number: &str) -> Result<Option<RepairView>, sqlx::Error> {
    let row: Option<Row> =
        sqlx::query_as("SELECT document, version FROM repairs WHERE id = $1 OR number = $1")
            .bind(id_or_number.trim())
            .fetch_optional(pool)
            .await?;
    Ok(row.map(view))
}

/// Which repairs to list; `None` matches all.
#[derive(Debug, Clone, Default)]
pub struct RepairFilter {
    pub status: Option<String>,
    pub customer_id: Option<String>,
    pub location_id: Option<String>,
}

/// One page of the repairs matching `filter`, newest first, and how many match in all.
pub async fn page(
    pool: &PgPool,
    filter: &RepairFilter,
    limit: u32,
    offset: u64,
) -> Result<(Vec<RepairView>, u64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM repairs
         WHERE ($1::text IS NULL OR status = $1)
           AND ($2::text IS NULL OR customer_id = $2)
           AND ($3::text IS NULL OR location_id = $3)",
    )
    .bind(filter.status.as_deref())
    .bind(filter.customer_id.as_deref())
    .bind(filter.location_id.as_deref())
    .fetch_one(pool)
    .await?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT document, version FROM repairs
         WHERE ($1::text IS NULL OR status = $1)
           AND ($2::text IS NULL OR customer_id = $2)
           AND ($3::text IS NULL OR location_id = $3)
         ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5",
    )
    .bind(filter.status.as_deref())
    .bind(filter.customer_id.as_deref())
    .bind(filter.location_id.as_deref())
    .bind(i64::from(limit))
    .bind(i64::try_from(offset).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    Ok((
        rows.into_iter().map(view).collect(),
        u64::try_from(total).unwrap_or(0),
    ))
}
