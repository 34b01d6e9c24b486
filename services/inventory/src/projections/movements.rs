//! `stock_movements`: every movement with the level it left, written inline with it. It
//! answers the history ("why") and the level at a past moment ("how many at 14:03").

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct MovementRow {
    pub product_id: String,
    pub location_id: String,
    pub version: i64,
    pub kind: String,
    /// Signed: the change to the level.
    pub quantity: Decimal,
    pub unit_cost: Decimal,
    pub on_hand_after: Decimal,
    pub avg_cost_after: Decimal,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// Records movements at the transaction's time (the time the event store gives their
/// events), which it returns; `None` when there was nothing to record.
pub async fn insert(
    tx: &mut PgConnection,
    rows: &[MovementRow],
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(None);
    }
    let column = |f: fn(&MovementRow) -> String| rows.iter().map(f).collect::<Vec<_>>();
    let decimals = |f: fn(&MovementRow) -> Decimal| rows.iter().map(f).collect::<Vec<_>>();
    sqlx::query_scalar(
        "INSERT INTO stock_movements (product_id, location_id, version, kind, quantity, unit_cost,
                                      on_hand_after, avg_cost_after, reference, reason, occurred_at)
         SELECT *, now() FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[],
                                     $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[],
                                     $9::text[], $10::text[])
         ON CONFLICT DO NOTHING
         RETURNING occurred_at",
    )
    .bind(column(|r| r.product_id.clone()))
    .bind(column(|r| r.location_id.clone()))
    .bind(rows.iter().map(|r| r.version).collect::<Vec<_>>())
    .bind(column(|r| r.kind.clone()))
    .bind(decimals(|r| r.quantity))
    .bind(decimals(|r| r.unit_cost))
    .bind(decimals(|r| r.on_hand_after))
    .bind(decimals(|r| r.avg_cost_after))
    .bind(rows.iter().map(|r| r.reference.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.reason.clone()).collect::<Vec<_>>())
    .fetch_all(tx)
    .await
    .map(|times: Vec<DateTime<Utc>>| times.first().copied())
}

/// The level of one item at `at`: what its last movement at or before then left.
pub async fn level_at(
    conn: &mut PgConnection,
    product_id: &str,
    location_id: &str,
    at: DateTime<Utc>,
) -> Result<Decimal, sqlx::Error> {
    let level: Option<Decimal> = sqlx::query_scalar(
        "SELECT on_hand_after FROM stock_movements
         WHERE product_id = $1 AND location_id = $2 AND occurred_at <= $3
         ORDER BY occurred_at DESC, version DESC LIMIT 1",
    )
    .bind(product_id)
    .bind(location_id)
    .bind(at)
    .fetch_optional(conn)
    .await?;
    Ok(level.unwrap_or(Decimal::ZERO))
}

/// What a sale took from a location's stock, per product: the quantity and the unit cost
/// it left with.
pub async fn sold_for_sale(
    conn: &mut PgConnection,
    sale_id: &str,
    location_id: &str,
) -> Result<Vec<(String, Decimal, Decimal)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT product_id, -sum(quantity), max(unit_cost) FROM stock_movements
         WHERE reference = $1 AND location_id = $2 AND kind = 'sold'
         GROUP BY product_id ORDER BY product_id",
    )
    .bind(sale_id)
    .bind(location_id)
    .fetch_all(conn)
    .await
}

/// What a repair (by number) took from a location's stock, movement by movement: the
/// product, the quantity and the unit cost it left with.
pub async fn fitted_to_repair(
    conn: &mut PgConnection,
    repair_number: &str,
    location_id: &str,
) -> Result<Vec<(String, Decimal, Decimal)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT product_id, -quantity, unit_cost FROM stock_movements
         WHERE reference = $1 AND location_id = $2 AND kind = 'repair' AND quantity < 0
         ORDER BY product_id, version",
    )
    .bind(repair_number)
    .bind(location_id)
    .fetch_all(conn)
    .await
}

/// One page of an item's (or a filter's) history, newest first, and the total.
pub async fn page(
    pool: &PgPool,
    product_id: Option<&str>,
    location_id: Option<&str>,
    limit: u32,
    offset: u64,
) -> Result<(Vec<MovementRow>, u64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM stock_movements
         WHERE ($1::text IS NULL OR product_id = $1) AND ($2::text IS NULL OR location_id = $2)",
    )
    .bind(product_id)
    .bind(location_id)
    .fetch_one(pool)
    .await?;
    let rows = sqlx::query_as(
        "SELECT * FROM stock_movements
         WHERE ($1::text IS NULL OR product_id = $1) AND ($2::text IS NULL OR location_id = $2)
         ORDER BY occurred_at DESC, version DESC, product_id, location_id LIMIT $3 OFFSET $4",
    )
    .bind(product_id)
    .bind(location_id)
    .bind(i64::from(limit))
    .bind(i64::try_from(offset).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    Ok((rows, u64::try_from(total).unwrap_or(0)))
}
