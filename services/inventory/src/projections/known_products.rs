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
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(sku)
    .bind(reorder_point)
    .execute(tx)
    .await?;
    Ok(())
}

/// Applies step `version` of product `id` (a new reorder point, or `None` for a step that
/// changes nothing inventory keeps), only on top of step `version - 1`. Whether it was
/// applied now or before (`Some`), or an earlier step has not arrived yet (`None`).
pub async fn apply_change(
    tx: &mut PgConnection,
    id: &str,
    version: i64,
    reorder_point: Option<Option<Decimal>>,
) -> Result<Option<()>, sqlx::Error> {
    let query = match reorder_point {
        Some(point) => sqlx::query(
            "UPDATE known_products SET reorder_point = $3, version = $2 WHERE id = $1 AND version = $2 - 1",
        )
        .bind(id.to_owned())
        .bind(version)
        .bind(point),
        None => sqlx::query(
            "UPDATE known_products SET version = $2 WHERE id = $1 AND version = $2 - 1",
        )
        .bind(id.to_owned())
        .bind(version),
    };
    if query.execute(&mut *tx).await?.rows_affected() == 1 {
        return Ok(Some(()));
    }
    let current: Option<i64> =
        sqlx::query_scalar("SELECT version FROM known_products WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    Ok(current.filter(|c| *c >= version).map(|_| ()))
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

/// The product's reorder point as the catalog last said (`None`: none, or not heard of).
pub async fn reorder_point(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<Decimal>, sqlx::Error> {
    let point: Option<Option<Decimal>> =
        sqlx::query_scalar("SELECT reorder_point FROM known_products WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(point.flatten())
}

/// `reorder_point` for many products at once: those the copy knows, by id.
pub async fn reorder_points(
    conn: &mut PgConnection,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, Option<Decimal>>, sqlx::Error> {
    let points: Vec<(String, Option<Decimal>)> =
        sqlx::query_as("SELECT id, reorder_point FROM known_products WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(conn)
            .await?;
    Ok(points.into_iter().collect())
}
