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

/// The customer's credit limit, its row locked until the transaction ends: every change to
/// the account's balance takes this lock first, so they never race.
pub async fn lock(tx: &mut PgConnection, id: &str) -> Result<Option<Decimal>, sqlx::Error> {
    sqlx::query_scalar("SELECT credit_limit FROM customers WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(tx)
        .await
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
    pub at: DateTime<Utc>,
    pub kind: &'a str,
    pub amount: Decimal,
    pub reference: &'a str,
}

pub async fn record_movement(
    tx: &mut PgConnection,
    id: &str,
    balance: Decimal,
    store_credit: Decimal,
    entry: AccountEntry<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH figures AS (UPDATE customers SET balance = $2, store_credit = $3 WHERE id = $1) \
         INSERT INTO account_entries (customer_id, seq, at, kind, amount, reference) \
         SELECT $1, coalesce(max(seq), 0) + 1, $4, $5, $6, $7 FROM account_entries \
         WHERE customer_id = $1",
    )
    .bind(id)
    .bind(balance)
    .bind(store_credit)
    .bind(entry.at)
    .bind(entry.kind)
    .bind(entry.amount)
    .bind(entry.reference)
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
/// and how many match in all.
pub async fn page(
    pool: &PgPool,
    search: Option<Search<'_>>,
    limit: u32,
    offset: u64,
) -> Result<(Vec<CustomerRow>, u64), sqlx::Error> {
    let empty: &[Vec<u8>] = &[];
    let (all, number, whole, words) = match &search {
        None => (true, "", empty, empty),
        Some(search) => (false, search.number, search.whole, search.words),
    };
    let words_needed = i64::try_from(words.len()).unwrap_or(i64::MAX);
    let rows: Vec<(i64, CustomerRow)> = sqlx::query_as::<_, CountedRow>(concat!(
        "WITH matched AS ( \
           SELECT id FROM customers WHERE $1 OR number = upper($2) \
           UNION SELECT customer_id FROM customer_search WHERE token = ANY($3::bytea[]) \
           UNION (SELECT customer_id FROM customer_search WHERE token = ANY($4::bytea[]) \
                  GROUP BY customer_id HAVING count(*) = $5 AND $5 > 0)) \
         SELECT count(*) OVER () AS total, ",
        columns!(),
        " FROM customers c JOIN matched m ON m.id = c.id \
         LEFT JOIN subject_keys k ON k.subject_id = c.id \
         ORDER BY c.created_at DESC, c.id DESC LIMIT $6 OFFSET $7"
    ))
    .bind(all)
    .bind(number.trim())
    .bind(whole)
    .bind(words)
    .bind(words_needed)
    .bind(i64::from(limit))
    .bind(i64::try_from(offset).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| (row.total, row.customer))
    .collect();
    // Past the last page there are no rows to carry the count: count on its own then.
    let total = match rows.first() {
        Some((total, _)) => *total,
        None if offset == 0 => 0,
        None => {
            sqlx::query_scalar::<_, i64>(
                "WITH matched AS ( \
                   SELECT id FROM customers WHERE $1 OR number = upper($2) \
                   UNION SELECT customer_id FROM customer_search WHERE token = ANY($3::bytea[]) \
                   UNION (SELECT customer_id FROM customer_search WHERE token = ANY($4::bytea[]) \
                          GROUP BY customer_id HAVING count(*) = $5 AND $5 > 0)) \
                 SELECT count(*) FROM matched",
            )
            .bind(all)
            .bind(number.trim())
            .bind(whole)
            .bind(words)
            .bind(words_needed)
            .fetch_one(pool)
            .await?
        }
    };
    Ok((
        rows.into_iter().map(|(_, row)| row).collect(),
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
