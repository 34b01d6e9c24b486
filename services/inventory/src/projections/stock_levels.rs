//! `stock_levels`: each stock item's level and average cost, written inline with every
//! movement; the reorder point comes from the catalog copy when read.

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};

use crate::domain::stock_item::StockItem;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
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

/// Levels matching the filters (`None` matches all), by product then location.
pub async fn find(
    pool: &PgPool,
    product_id: Option<&str>,
    location_id: Option<&str>,
) -> Result<Vec<StockLevelRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.product_id, s.location_id, s.on_hand, s.avg_cost, k.reorder_point
         FROM stock_levels s LEFT JOIN known_products k ON k.id = s.product_id
         WHERE ($1::text IS NULL OR s.product_id = $1) AND ($2::text IS NULL OR s.location_id = $2)
         ORDER BY s.product_id, s.location_id
         LIMIT 1000",
    )
    .bind(product_id)
    .bind(location_id)
    .fetch_all(pool)
    .await
}
