//! `stock_levels`: each stock item's level and average cost, written inline with every
//! movement; the reorder point comes from the catalog copy when read.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use crate::domain::stock_item::StockItem;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct StockLevelRow {
    pub product_id: String,
    pub location_id: String,
    pub on_hand: Decimal,
    pub avg_cost: Decimal,
    pub reorder_point: Option<Decimal>,
}

impl StockLevelRow {
    pub fn below_reorder(&self) -> bool {
        self.reorder_point.is_some_and(|r| self.on_hand <= r)
    }
}

pub async fn upsert(
    tx: &mut PgConnection,
    product_id: &str,
    location_id: &str,
    state: &StockItem,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stock_levels (product_id, location_id, on_hand, avg_cost, version)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (product_id, location_id) DO UPDATE
         SET on_hand = EXCLUDED.on_hand, avg_cost = EXCLUDED.avg_cost, version = EXCLUDED.version,
             updated_at = now()
         WHERE stock_levels.version < EXCLUDED.version",
    )
    .bind(product_id)
    .bind(location_id)
    .bind(state.on_hand)
    .bind(state.avg_cost)
    .bind(version)
    .execute(tx)
    .await?;
    Ok(())
}

/// `upsert` for many items in one statement: (product, location, state, version).
pub async fn upsert_many(
    tx: &mut PgConnection,
    items: &[(&str, &str, &StockItem, i64)],
) -> Result<(), sqlx::Error> {
    if items.is_empty() {
        return Ok(());
    }
    let products: Vec<&str> = items.iter().map(|i| i.0).collect();
    let locations: Vec<&str> = items.iter().map(|i| i.1).collect();
    let on_hand: Vec<Decimal> = items.iter().map(|i| i.2.on_hand).collect();
    let avg_cost: Vec<Decimal> = items.iter().map(|i| i.2.avg_cost).collect();
    let versions: Vec<i64> = items.iter().map(|i| i.3).collect();
    sqlx::query(
        "INSERT INTO stock_levels (product_id, location_id, on_hand, avg_cost, version)
         SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::numeric[], $5::int8[])
         ON CONFLICT (product_id, location_id) DO UPDATE
         SET on_hand = EXCLUDED.on_hand, avg_cost = EXCLUDED.avg_cost, version = EXCLUDED.version,
             updated_at = now()
         WHERE stock_levels.version < EXCLUDED.version",
    )
    .bind(&products)
    .bind(&locations)
    .bind(&on_hand)
    .bind(&avg_cost)
    .bind(&versions)
    .execute(tx)
    .await?;
    Ok(())
}

/// Which levels to list; `None` matches all.
#[derive(Debug, Clone, Default)]
pub struct LevelFilter {
    pub product_id: Option<String>,
    pub location_id: Option<String>,
    /// Only items at or below their reorder point.
    pub below_reorder: bool,
    /// Levels as they were then, from the movement history.
    pub as_of: Option<DateTime<Utc>>,
}

/// The current levels, or those at `as_of` (the last movement at or before it), matching
/// the filter, by product then location.
const LEVELS: &str = "
    WITH levels AS (
        SELECT product_id, location_id, on_hand, avg_cost FROM stock_levels
        WHERE $3::timestamptz IS NULL
          AND ($1::text IS NULL OR product_id = $1) AND ($2::text IS NULL OR location_id = $2)
        UNION ALL
        (SELECT DISTINCT ON (product_id, location_id)
                product_id, location_id, on_hand_after, avg_cost_after
         FROM stock_movements
         WHERE $3::timestamptz IS NOT NULL AND occurred_at <= $3
           AND ($1::text IS NULL OR product_id = $1) AND ($2::text IS NULL OR location_id = $2)
         ORDER BY product_id, location_id, occurred_at DESC, version DESC)
    )
    SELECT l.product_id, l.location_id, l.on_hand, l.avg_cost, k.reorder_point
    FROM levels l LEFT JOIN known_products k ON k.id = l.product_id
    WHERE NOT $4 OR (k.reorder_point IS NOT NULL AND l.on_hand <= k.reorder_point)";

/// One page of the levels matching `filter`, and how many match in all.
pub async fn page(
    pool: &PgPool,
    filter: &LevelFilter,
    limit: u32,
    offset: u64,
) -> Result<(Vec<StockLevelRow>, u64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM ({LEVELS}) matching"
    )))
    .bind(filter.product_id.as_deref())
    .bind(filter.location_id.as_deref())
    .bind(filter.as_of)
    .bind(filter.below_reorder)
    .fetch_one(pool)
    .await?;
    let rows = sqlx::query_as(AssertSqlSafe(format!(
        "{LEVELS} ORDER BY l.product_id, l.location_id LIMIT $5 OFFSET $6"
    )))
    .bind(filter.product_id.as_deref())
    .bind(filter.location_id.as_deref())
    .bind(filter.as_of)
    .bind(filter.below_reorder)
    .bind(i64::from(limit))
    .bind(i64::try_from(offset).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    Ok((rows, u64::try_from(total).unwrap_or(0)))
}

/// The current levels of the given (product, location) items.
pub async fn of_items(
    pool: impl sqlx::PgExecutor<'_>,
    items: &[(String, String)],
) -> Result<Vec<StockLevelRow>, sqlx::Error> {
    let (products, locations): (Vec<String>, Vec<String>) = items.iter().cloned().unzip();
    sqlx::query_as(
        "SELECT s.product_id, s.location_id, s.on_hand, s.avg_cost, k.reorder_point
         FROM unnest($1::text[], $2::text[]) AS wanted(product_id, location_id)
         JOIN stock_levels s USING (product_id, location_id)
         LEFT JOIN known_products k ON k.id = s.product_id
         ORDER BY s.product_id, s.location_id",
    )
    .bind(products)
    .bind(locations)
    .fetch_all(pool)
    .await
}
