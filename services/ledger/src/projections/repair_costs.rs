//! `repair_costs`: the cost of each repair's parts still in 1250, and whether the repair was
//! collected. Each writer locks the repair's row first, so a part's movement and the
//! repair's collection, arriving on two streams at once, see each other in order.

use rust_decimal::Decimal;
use sqlx::PgConnection;

/// The repair's row, locked until the transaction ends: `(open, collected)`.
async fn lock(tx: &mut PgConnection, repair_id: &str) -> Result<(Decimal, bool), sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO repair_costs (repair_id) VALUES ($1)
         ON CONFLICT (repair_id) DO UPDATE SET repair_id = EXCLUDED.repair_id
         RETURNING open, collected",
    )
    .bind(repair_id)
    .fetch_one(tx)
    .await
}

/// Locks the rows of `repair_ids` (sorted, no repeats) in that order until the transaction
/// ends, making those that are missing.
pub async fn lock_all(tx: &mut PgConnection, repair_ids: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO repair_costs (repair_id)
         SELECT id FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n) ORDER BY n
         ON CONFLICT (repair_id) DO UPDATE SET repair_id = EXCLUDED.repair_id",
    )
    .bind(repair_ids)
    .execute(tx)
    .await?;
    Ok(())
}

/// Adds `cost` (negative for a part back) to the repair's open cost, unless the repair was
/// collected already: then it is left as it is and `true` says so.
pub async fn add(
    tx: &mut PgConnection,
    repair_id: &str,
    cost: Decimal,
) -> Result<bool, sqlx::Error> {
    let (_, collected) = lock(&mut *tx, repair_id).await?;
    if collected {
        return Ok(true);
    }
    sqlx::query("UPDATE repair_costs SET open = open + $2 WHERE repair_id = $1")
        .bind(repair_id)
        .bind(cost)
        .execute(tx)
        .await?;
    Ok(false)
}

/// Marks the repair collected and answers the cost it had open (now moved on).
pub async fn collect(tx: &mut PgConnection, repair_id: &str) -> Result<Decimal, sqlx::Error> {
    let (open, _) = lock(&mut *tx, repair_id).await?;
    sqlx::query("UPDATE repair_costs SET open = 0, collected = true WHERE repair_id = $1")
        .bind(repair_id)
        .execute(tx)
        .await?;
    Ok(open)
}
