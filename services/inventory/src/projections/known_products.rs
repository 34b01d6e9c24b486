//! `known_products`: inventory's copy of the catalog (existence and reorder point), so a
//! receipt of an unknown product is refused without calling the catalog.

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};

pub async fn upsert(
    tx: &mut PgConnection,
    id: &str,
    sku: &str,
    reorder_point: Option<Decimal>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO known_products (id, sku, reorder_point) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET sku = EXCLUDED.sku, reorder_point = EXCLUDED.reorder_point",
    )
    .bind(id)
    .bind(sku)
    .bind(reorder_point)
    .execute(tx)
    .await?;
    Ok(())
}

/// The ids among `ids` that inventory has not heard of.
pub async fn unknown(pool: &PgPool, ids: &[String]) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM unnest($1::text[]) AS wanted(id)
         WHERE NOT EXISTS (SELECT 1 FROM known_products k WHERE k.id = wanted.id)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}
