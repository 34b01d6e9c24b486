//! `sales`: each sale as clients read it, written inline with the sale; its ledger status
//! follows the ledger's events.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
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

/// The same row from `SaleCompleted` as it is appended, in the append's statement
/// (`AppendRequest::with_row`): its document is the event's `sale`, what `SaleRecord`
/// serializes to.
pub const FROM_COMPLETED: &str =
    "INSERT INTO sales (id, sale_number, location_id, created_at, document, customer_id, repair_id)
     SELECT s ->> 'id', s ->> 'sale_number', s ->> 'location_id',
            (s ->> 'completed_at')::timestamptz, s, s ->> 'customer_id', s ->> 'repair_id'
     FROM appended, LATERAL (SELECT appended.payload -> 'sale') AS completed(s)
     WHERE appended.event_type = 'SaleCompleted'";

/// By id or by sale number.
pub async fn find(pool: &PgPool, id_or_number: &str) -> Result<Option<SaleView>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT document, status, returns, ledger_status, ledger_entry_ids FROM sales
         WHERE id = $1 OR sale_number = $1",
    )
    .bind(id_or_number.trim())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(view))
}

type Row = (
    Json<SaleRecord>,
    String,
    Json<Vec<ReturnRecord>>,
    String,
    Vec<String>,
);

fn view((record, status, returns, ledger_status, ledger_entry_ids): Row) -> SaleView {
    SaleView {
        record: record.0,
        status,
        returns: returns.0,
        ledger_status,
        ledger_entry_ids,
    }
}

/// Which sales to list; `None` matches all.
#[derive(Debug, Clone, Default)]
pub struct SaleFilter {
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub until: Option<DateTime<Utc>>,
    pub location_id: Option<String>,
    pub ledger_status: Option<String>,
    pub customer_id: Option<String>,
}

/// One page of the sales matching `filter`, newest first, and how many match in all.
pub async fn page(
    pool: &PgPool,
    filter: &SaleFilter,
    limit: u32,
    offset: u64,
) -> Result<(Vec<SaleView>, u64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sales
         WHERE ($1::timestamptz IS NULL OR created_at >= $1)
           AND ($2::timestamptz IS NULL OR created_at < $2)
           AND ($3::text IS NULL OR location_id = $3)
           AND ($4::text IS NULL OR ledger_status = $4)
           AND ($5::text IS NULL OR customer_id = $5)",
    )
    .bind(filter.from)
    .bind(filter.until)
    .bind(filter.location_id.as_deref())
    .bind(filter.ledger_status.as_deref())
    .bind(filter.customer_id.as_deref())
    .fetch_one(pool)
    .await?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT document, status, returns, ledger_status, ledger_entry_ids FROM sales
         WHERE ($1::timestamptz IS NULL OR created_at >= $1)
           AND ($2::timestamptz IS NULL OR created_at < $2)
           AND ($3::text IS NULL OR location_id = $3)
           AND ($4::text IS NULL OR ledger_status = $4)
           AND ($7::text IS NULL OR customer_id = $7)
         ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6",
    )
    .bind(filter.from)
    .bind(filter.until)
    .bind(filter.location_id.as_deref())
    .bind(filter.ledger_status.as_deref())
    .bind(i64::from(limit))
    .bind(i64::try_from(offset).unwrap_or(i64::MAX))
    .bind(filter.customer_id.as_deref())
    .fetch_all(pool)
    .await?;
    Ok((
        rows.into_iter().map(view).collect(),
        u64::try_from(total).unwrap_or(0),
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

/// Takes the rows of `sales` in id order, as every writer of several sales' rows in one
/// transaction does: two of them (leaders overlapping in a handover, marking overlapping
/// batches posted) then queue instead of locking the sales they share in two orders.
pub async fn lock_in_id_order(tx: &mut PgConnection, sales: &[&str]) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM sales WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
        .bind(sales)
        .execute(tx)
        .await?;
    Ok(())
}

/// `mark_posted` for many (sale, entry) pairs at once, entries kept in their order.
pub async fn mark_all_posted(
    tx: &mut PgConnection,
    posted: &[(String, String)],
) -> Result<(), sqlx::Error> {
    if posted.is_empty() {
        return Ok(());
    }
    // One row per sale: an UPDATE joined to two rows of one sale applies only one.
    let mut by_sale: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (sale, entry) in posted {
        by_sale.entry(sale).or_default().push(entry);
    }
    let (sales, entries): (Vec<&str>, Vec<String>) = by_sale
        .into_iter()
        .map(|(sale, entries)| (sale, entries.join(",")))
        .unzip();
    // Left to itself the UPDATE takes the rows in its plan's order (the table's, or the
    // entries'). Joined to `held`, it updates a row only once `held` has yielded it, and
    // `held` locks in id order whichever side of the join the plan puts it on: so the
    // rows are taken in id order in the statement that marks them.
    sqlx::query(
        "WITH held AS MATERIALIZED (
             SELECT id FROM sales WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE)
         UPDATE sales s SET ledger_status = 'posted',
             ledger_entry_ids = s.ledger_entry_ids || ARRAY(
                 SELECT e FROM unnest(string_to_array(u.entries, ',')) WITH ORDINALITY AS t(e, n)
                 WHERE NOT e = ANY(s.ledger_entry_ids) ORDER BY n)
         FROM unnest($1::text[], $2::text[]) AS u(id, entries), held h
         WHERE s.id = u.id AND h.id = u.id",
    )
    .bind(&sales)
    .bind(&entries)
    .execute(tx)
    .await?;
    Ok(())
}
