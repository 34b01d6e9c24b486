//! `registers`: each register, the head of its journal and its Z counter. Every document
//! on a register locks its row ([`lock`]) for the journal's next `seq`, so a register's
//! documents are numbered one after another, and closes counted likewise.

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};

use crate::domain::session::NewRegister;

/// A register as clients read it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RegisterRow {
    pub id: String,
    pub location_id: String,
    pub code: String,
    pub name: String,
    pub open_session_id: Option<String>,
}

/// A register's row, locked for the transaction: its journal head and Z counter.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Head {
    pub location_id: String,
    pub journal_seq: i64,
    pub journal_hash: String,
    pub z_count: i32,
    pub grand_total: Decimal,
}

/// `SELECT <a register row> <tail>`, as one static string.
macro_rules! select_registers {
    ($tail:literal) => {
        concat!(
            "SELECT r.id, r.location_id, r.code, r.name, r.open_session_id FROM registers r ",
            $tail
        )
    };
}

pub async fn insert(tx: &mut PgConnection, register: &NewRegister) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO registers (id, location_id, code, name) VALUES ($1, $2, $3, $4)")
        .bind(register.id.to_string())
        .bind(&register.location_id)
        .bind(&register.code)
        .bind(&register.name)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn find(pool: &PgPool, id: &str) -> Result<Option<RegisterRow>, sqlx::Error> {
    sqlx::query_as(select_registers!("WHERE r.id = $1"))
        .bind(id.trim())
        .fetch_optional(pool)
        .await
}

/// One page of registers by location and code, and how many there are.
pub async fn list(
    pool: &PgPool,
    location_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RegisterRow>, i64), sqlx::Error> {
    let rows = sqlx::query_as(select_registers!(
        "WHERE ($1::text IS NULL OR r.location_id = $1) \
         ORDER BY r.location_id, r.code LIMIT $2 OFFSET $3"
    ))
    .bind(location_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(
        "SELECT count(*) FROM registers WHERE ($1::text IS NULL OR location_id = $1)",
    )
    .bind(location_id)
    .fetch_one(pool)
    .await?;
    Ok((rows, total))
}

/// Locks register `id` for the transaction; `None` when there is none.
pub async fn lock(tx: &mut PgConnection, id: &str) -> Result<Option<Head>, sqlx::Error> {
    sqlx::query_as(
        "SELECT location_id, journal_seq, journal_hash, z_count, grand_total \
         FROM registers WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(tx)
    .await
}

/// Session `session_id` opened on register `id` (locked): its figures start at nothing.
pub async fn opened(tx: &mut PgConnection, id: &str, session_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE registers SET open_session_id = $2, open_totals = '{}' WHERE id = $1")
        .bind(id)
        .bind(session_id)
        .execute(tx)
        .await?;
    Ok(())
}

/// Counts a close and its perpetual total (the register is locked); no session is open on
/// it any more. Call after the session's row has taken its final figures.
pub async fn closed(
    tx: &mut PgConnection,
    id: &str,
    z_number: u32,
    grand_total: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE registers SET z_count = $2, grand_total = $3, open_session_id = NULL, open_totals = '{}'
         WHERE id = $1",
    )
        .bind(id)
        .bind(i32::try_from(z_number).unwrap_or(i32::MAX))
        .bind(grand_total)
        .execute(tx)
        .await?;
    Ok(())
}
