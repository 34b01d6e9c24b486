//! `customers`: each customer as clients read it (personal fields sealed), with the account's
//! figures and entries, and the blind search index; written inline with the customer's and
//! the account's events.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};

/// A customer's row, its wrapped key beside it (`None` once erased).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerRow {
    pub id: String,
    pub number: String,
    pub personal: Option<Vec<u8>>,
    pub credit_limit: Decimal,
    pub balance: Decimal,
    pub store_credit: Decimal,
    pub version: i64,
    pub erased: bool,
    pub created_at: DateTime<Utc>,
    pub wrapped: Option<Vec<u8>>,
}

/// A [`CustomerRow`]'s columns (`c`: customers, `k`: its key).
macro_rules! columns {
    () => {
        "c.id, c.number, c.personal, c.credit_limit, c.balance, c.store_credit, \
         c.version, c.erased, c.created_at, k.wrapped"
    };
}

#[derive(Debug)]
pub struct NewCustomer<'a> {
    pub id: &'a str,
    pub number: &'a str,
    pub personal: &'a [u8],
    pub credit_limit: Decimal,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub tokens: &'a [Vec<u8>],
}

pub async fn insert(tx: &mut PgConnection, customer: NewCustomer<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO customers (id, number, personal, credit_limit, version, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(customer.id)
    .bind(customer.number)
    .bind(customer.personal)
    .bind(customer.credit_limit)
    .bind(customer.version)
    .bind(customer.created_at)
    .execute(&mut *tx)
    .await?;
    index(tx, customer.id, customer.tokens).await
}

/// A change: the sealed record and its tokens when a personal field changed.
pub async fn update(
    tx: &mut PgConnection,
    id: &str,
    personal: Option<(&[u8], &[Vec<u8>])>,
    credit_limit: Decimal,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE customers SET personal = coalesce($2, personal), credit_limit = $3, version = $4 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(personal.map(|(sealed, _)| sealed))
    .bind(credit_limit)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    if let Some((_, tokens)) = personal {
        sqlx::query("DELETE FROM customer_search WHERE customer_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        index(tx, id, tokens).await?;
    }
    Ok(())
}

async fn index(tx: &mut PgConnection, id: &str, tokens: &[Vec<u8>]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO customer_search (token, customer_id) \
         SELECT t, $2 FROM unnest($1::bytea[]) AS t ON CONFLICT DO NOTHING",
    )
    .bind(tokens)
    .bind(id)
    .execute(tx)
    .await?;
    Ok(())
}

/// Erased: the sealed record and the search tokens go; the numbers stay.
pub async fn erase(tx: &mut PgConnection, id: &str, version: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE customers SET personal = NULL, erased = true, version = $2 WHERE id = $1")
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM customer_search WHERE customer_id = $1")
        .bind(id)
        .execute(tx)
        .await?;
    Ok(())
}

/// A customer's account as its stream's state: the row's figures and the stream's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedAccount {
    pub credit_limit: Decimal,
    pub balance: Decimal,
    pub store_credit: Decimal,
    pub version: i64,
}

/// The customer's account, its row locked until the transaction ends: every change to the
/// account (and to the credit limit) takes this lock first, so they never race.
pub async fn lock(tx: &mut PgConnection, id: &str) -> Result<Option<LockedAccount>, sqlx::Error> {
    let row: Option<(Decimal, Decimal, Decimal, i64)> = sqlx::query_as(
        "SELECT credit_limit, balance, store_credit, account_version FROM customers \
         WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(tx)
    .await?;
    Ok(row.map(
        |(credit_limit, balance, store_credit, version)| LockedAccount {
            credit_limit,
            balance,
            store_credit,
            version,
        },
    ))
}

/// Whether the customer exists and is not erased.
pub async fn is_live(tx: &mut PgConnection, id: &str) -> Result<bool, sqlx::Error> {
    let erased: Option<bool> = sqlx::query_scalar("SELECT erased FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(tx)
        .await?;
    Ok(erased == Some(false))
}

/// The account's figures after a movement, and the movement as an entry.
#[derive(Debug)]
pub struct AccountEntry<'a> {
    /// The version of the account stream's event it records.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub kind: &'a str,
    pub amount: Decimal,
    pub reference: &'a str,
}

pub async fn record_movement(
    tx: &mut PgConnection,
    id: &str,
    account: &LockedAccount,
    entry: AccountEntry<'_>,
) -> Result<(), sqlx::Error> {
    // The entry's seq is its event's version in the account stream: no read of the entries.
    sqlx::query(
        "WITH figures AS (UPDATE customers SET balance = $2, store_credit = $3, \
         account_version = $8 WHERE id = $1) \
         INSERT INTO account_entries (customer_id, seq, at, kind, amount, reference) \
         VALUES ($1, $9, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(account.balance)
    .bind(account.store_credit)
    .bind(entry.at)
    .bind(entry.kind)
    .bind(entry.amount)
    .bind(entry.reference)
    .bind(account.version)
    .bind(entry.seq)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn get(pool: &PgPool, id: &str) -> Result<Option<CustomerRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM customers c LEFT JOIN subject_keys k ON k.subject_id = c.id WHERE c.id = $1"
    ))
    .bind(id.trim())
    .fetch_optional(pool)
    .await
}

/// The row a command reads before changing it, in its transaction.
pub async fn get_in(tx: &mut PgConnection, id: &str) -> Result<Option<CustomerRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM customers c LEFT JOIN subject_keys k ON k.subject_id = c.id WHERE c.id = $1"
    ))
    .bind(id.trim())
    .fetch_optional(tx)
    .await
}

/// What a search asks: a number, whole-value tokens (email, phone) any of which matches,
/// and name-word tokens all of which must match.
#[derive(Debug)]
pub struct Search<'a> {
    pub number: &'a str,
    pub whole: &'a [Vec<u8>],
    pub words: &'a [Vec<u8>],
}

/// One page of the customers `search` matches (all of them when it is `None`), newest first,
/// and how many match in all. Two statements, not one with a flag: a prepared statement's
/// generic plan cannot drop a `$1 OR …` branch, and would scan every customer.
pub async fn page(
    pool: &PgPool,
    search: Option<Search<'_>>,
    limit: u32,
    offset: u64,
) -> Result<(Vec<CustomerRow>, u64), sqlx::Error> {
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    let Some(search) = search else {
        let total: i64 = sqlx::query_scalar("SELECT count(*) FROM customers")
            .fetch_one(pool)
            .await?;
        let rows = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM customers c LEFT JOIN subject_keys k ON k.subject_id = c.id \
             ORDER BY c.created_at DESC, c.id DESC LIMIT $1 OFFSET $2"
        ))
        .bind(i64::from(limit))
        .bind(offset)
        .fetch_all(pool)
        .await?;
        return Ok((rows, u64::try_from(total).unwrap_or(0)));
    };
    let words_needed = i64::try_from(search.words.len()).unwrap_or(i64::MAX);
    // The matches as an array the customers are fetched by (primary key): the plan stays an
    // index probe whatever the statistics say of the tokens (a table not yet analysed made a
    // join of the same query scan every customer).
    let rows: Vec<CountedRow> = sqlx::query_as(concat!(
        "SELECT count(*) OVER () AS total, ",
        columns!(),
        " FROM customers c LEFT JOIN subject_keys k ON k.subject_id = c.id \
         WHERE c.id = ANY(ARRAY( \
           SELECT id FROM customers WHERE number = upper($1) \
           UNION SELECT customer_id FROM customer_search WHERE token = ANY($2::bytea[]) \
           UNION (SELECT customer_id FROM customer_search WHERE token = ANY($3::bytea[]) \
                  GROUP BY customer_id HAVING count(*) = $4 AND $4 > 0))) \
         ORDER BY c.created_at DESC, c.id DESC LIMIT $5 OFFSET $6"
    ))
    .bind(search.number.trim())
    .bind(search.whole)
    .bind(search.words)
    .bind(words_needed)
    .bind(i64::from(limit))
    .bind(offset)
    .fetch_all(pool)
    .await?;
    // Past the last page no row carries the count: the first page's does (a search matches a
    // handful).
    let total = match rows.first() {
        Some(row) => row.total,
        None if offset == 0 => 0,
        None => {
            let first: Option<i64> = sqlx::query_scalar(
                "WITH matched AS ( \
                   SELECT id FROM customers WHERE number = upper($1) \
                   UNION SELECT customer_id FROM customer_search WHERE token = ANY($2::bytea[]) \
                   UNION (SELECT customer_id FROM customer_search WHERE token = ANY($3::bytea[]) \
                          GROUP BY customer_id HAVING count(*) = $4 AND $4 > 0)) \
                 SELECT count(*) FROM matched",
            )
            .bind(search.number.trim())
            .bind(search.whole)
            .bind(search.words)
            .bind(words_needed)
            .fetch_optional(pool)
            .await?;
            first.unwrap_or(0)
        }
    };
    Ok((
        rows.into_iter().map(|row| row.customer).collect(),
        u64::try_from(total).unwrap_or(0),
    ))
}

#[derive(sqlx::FromRow)]
struct CountedRow {
    total: i64,
    #[sqlx(flatten)]
    customer: CustomerRow,
}

/// The account's entries, newest first (the latest 100).
pub async fn entries(
    pool: &PgPool,
    id: &str,
) -> Result<Vec<(DateTime<Utc>, String, Decimal, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT at, kind, amount, reference FROM account_entries WHERE customer_id = $1 \
         ORDER BY seq DESC LIMIT 100",
    )
    .bind(id.trim())
    .fetch_all(pool)
    .await
}
