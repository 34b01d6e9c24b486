//! `gift_cards`: each card by its code, with its balance, written inline with its events.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

use tillstream_kernel::{Currency, Money};

use crate::domain::stored_value::gift_card::Issue;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GiftCardRow {
    pub id: String,
    pub code: String,
    pub balance: Decimal,
    pub initial_amount: Decimal,
    pub currency: String,
    pub status: String,
    pub customer_id: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub document: Json<Issue>,
}

/// A new card's row at its stream's `version`.
pub async fn insert(tx: &mut PgConnection, issue: &Issue, version: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO gift_cards (id, code, balance, initial_amount, currency, status, customer_id, \
         issued_at, document, version) VALUES ($1, $2, $3, $3, $4, 'active', $5, $6, $7, $8)",
    )
    .bind(issue.id.to_string())
    .bind(&issue.code)
    .bind(issue.amount.amount())
    .bind(issue.amount.currency().code())
    .bind(issue.customer_id.as_deref())
    .bind(issue.issued_at)
    .bind(Json(issue))
    .bind(version)
    .execute(tx)
    .await?;
    Ok(())
}

/// A card's row as its stream's state: its balance and the stream's version.
#[derive(Debug, Clone)]
pub struct LockedCard {
    pub id: String,
    pub balance: Money,
    pub version: i64,
}

/// The card, its row locked until the transaction ends: every draw and credit takes this lock
/// first, so two tills never decide on the same balance.
pub async fn lock(tx: &mut PgConnection, code: &str) -> Result<Option<LockedCard>, sqlx::Error> {
    let row: Option<(String, Decimal, String, i64)> = sqlx::query_as(
        "SELECT id, balance, currency, version FROM gift_cards WHERE code = $1 FOR UPDATE",
    )
    .bind(code.trim())
    .fetch_optional(tx)
    .await?;
    row.map(|(id, balance, currency, version)| {
        let currency: Currency = currency
            .parse()
            .map_err(|e: tillstream_kernel::MoneyError| sqlx::Error::Protocol(e.to_string()))?;
        Ok(LockedCard {
            id,
            balance: Money::new(balance, currency),
            version,
        })
    })
    .transpose()
}

pub async fn set_balance(
    tx: &mut PgConnection,
    id: &str,
    balance: Decimal,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE gift_cards SET balance = $2, version = $3, \
         status = CASE WHEN $2 = 0 THEN 'spent' ELSE 'active' END WHERE id = $1",
    )
    .bind(id)
    .bind(balance)
    .bind(version)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn by_code(pool: &PgPool, code: &str) -> Result<Option<GiftCardRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, code, balance, initial_amount, currency, status, customer_id, issued_at, \
         document FROM gift_cards WHERE code = $1",
    )
    .bind(code.trim())
    .fetch_optional(pool)
    .await
}
