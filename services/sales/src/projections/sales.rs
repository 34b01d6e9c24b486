//! `sales`: each sale as clients read it, written inline with the sale; its ledger status
//! follows the ledger's events.

use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

use crate::domain::returns::ReturnRecord;
use crate::domain::sale::SaleRecord;

/// A sale with where it stands in the books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleView {
    pub record: SaleRecord,
    /// `completed` or `voided`.
    pub status: String,
    /// Oldest first.
    pub returns: Vec<ReturnRecord>,
    pub ledger_status: String,
    pub ledger_entry_ids: Vec<String>,
}

pub async fn insert(tx: &mut PgConnection, record: &SaleRecord) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sales (id, sale_number, location_id, created_at, document)
         VALUES ($1, $2, $3, $4::timestamptz, $5)",
    )
    .bind(record.id.to_string())
    .bind(&record.sale_number)
    .bind(&record.location_id)
    .bind(&record.completed_at)
    .bind(Json(record))
    .execute(tx)
    .await?;
    Ok(())
}

/// By id or by sale number.
pub async fn find(pool: &PgPool, id_or_number: &str) -> Result<Option<SaleView>, sqlx::Error> {
    type Row = (
        Json<SaleRecord>,
        String,
        Json<Vec<ReturnRecord>>,
        String,
        Vec<String>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT document, status, returns, ledger_status, ledger_entry_ids FROM sales
         WHERE id = $1 OR sale_number = $1",
    )
    .bind(id_or_number.trim())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(
        |(record, status, returns, ledger_status, ledger_entry_ids)| SaleView {
            record: record.0,
            status,
            returns: returns.0,
            ledger_status,
            ledger_entry_ids,
        },
    ))
}

/// Adds a return to its sale, written with the return's event.
pub async fn add_return(
    tx: &mut PgConnection,
    sale_id: &str,
    returned: &ReturnRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sales SET returns = returns || jsonb_build_array($2::jsonb) WHERE id = $1")
        .bind(sale_id)
        .bind(Json(returned))
        .execute(tx)
        .await?;
    Ok(())
}

/// Marks a sale voided, with the void's event.
pub async fn mark_voided(tx: &mut PgConnection, sale_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sales SET status = 'voided' WHERE id = $1")
        .bind(sale_id)
        .execute(tx)
        .await?;
    Ok(())
}

/// Records that the ledger posted `entry_id` for the sale (idempotent).
pub async fn mark_posted(
    tx: &mut PgConnection,
    sale_id: &str,
    entry_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sales SET ledger_status = 'posted',
             ledger_entry_ids = CASE WHEN $2 = ANY(ledger_entry_ids) THEN ledger_entry_ids
                                     ELSE array_append(ledger_entry_ids, $2) END
         WHERE id = $1",
    )
    .bind(sale_id)
    .bind(entry_id)
    .execute(tx)
    .await?;
    Ok(())
}
