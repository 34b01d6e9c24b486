//! A sale's first statement: its number drawn (and, in a session, then its register's row
//! locked, as every document of the session takes it) with everything the sale reads: the
//! answer kept under its idempotency key, its location's code, its products, whether its
//! customer is live. One round trip where there were five. A sale that needs no
//! transaction reads the same in a statement of its own and draws its number in its
//! append (`commands::ring_up`).

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row as _};
use tillstream_eventstore::kept_answer;

use super::catalog_copy::CatalogProduct;
use super::sessions::{Locked, lock_session, locked_at};

/// What the statement looks up.
#[derive(Debug)]
pub struct StartQuery<'a> {
    pub location_id: &'a str,
    pub day: NaiveDate,
    pub product_ids: &'a [&'a str],
    pub key: Option<&'a str>,
    pub customer_id: Option<&'a str>,
    pub session_id: Option<&'a str>,
}

/// What it found; the number is drawn in the caller's transaction.
#[derive(Debug)]
pub struct Start {
    pub number: i64,
    pub reads: Reads,
    pub locked: Option<Locked>,
}

/// What a sale reads before it is decided.
#[derive(Debug)]
pub struct Reads {
    /// `request_hash` and `response` kept under the key.
    pub kept: Option<(String, Value)>,
    pub location_code: Option<String>,
    pub products: HashMap<String, CatalogProduct>,
    /// `None`: no such customer (or none asked for).
    pub customer_live: Option<bool>,
}

/// Columns 1–11 of both statements; `$1` the location, `$3` the products, `$4` the key,
/// `$5` the customer.
macro_rules! reads {
    () => {
        "k.request_hash, k.response,
         (SELECT code FROM known_locations WHERE id = $1),
         (SELECT NOT erased FROM customers WHERE id = $5),
         p.ids, p.skus, p.names, p.prices, p.currencies, p.tax_rates, p.statuses"
    };
}

macro_rules! joins {
    () => {
        concat!(
            " LEFT JOIN LATERAL (",
            kept_answer!("$4"),
            ") k ON true
             LEFT JOIN LATERAL (
                 SELECT array_agg(id) AS ids, array_agg(sku) AS skus, array_agg(name) AS names,
                        array_agg(price) AS prices, array_agg(currency) AS currencies,
                        array_agg(tax_rate) AS tax_rates, array_agg(status) AS statuses
                 FROM catalog_products WHERE id = ANY($3)) p ON true"
        )
    };
}

/// Columns 12 on are the session's lock.
const START: &str = concat!(
    "WITH n AS (",
    crate::projections::sale_numbers::draw!(),
    ") SELECT n.last, ",
    reads!(),
    ", x.* FROM n",
    joins!(),
    " LEFT JOIN LATERAL (",
    lock_session!("$6"),
    ") x ON true"
);

/// The reads alone, for a sale whose number its append draws (`$2` and `$6` unused).
const READ: &str = concat!(
    "SELECT NULL::int8, ",
    reads!(),
    " FROM (SELECT $2::date, $6::text) AS unused",
    joins!()
);

/// Draws the number and locks the session, in the caller's transaction.
pub async fn start(tx: &mut PgConnection, query: &StartQuery<'_>) -> Result<Start, sqlx::Error> {
    let row = bind(sqlx::query(START), query).fetch_one(tx).await?;
    Ok(Start {
        number: row.try_get(0)?,
        reads: reads_of(&row)?,
        locked: locked_at(&row, 12)?,
    })
}

/// The reads alone, in a statement of their own.
pub async fn read(conn: &mut PgConnection, query: &StartQuery<'_>) -> Result<Reads, sqlx::Error> {
    let row = bind(sqlx::query(READ), query).fetch_one(conn).await?;
    reads_of(&row)
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

fn bind<'q>(query: Query<'q>, start: &'q StartQuery<'q>) -> Query<'q> {
    query
        .bind(start.location_id)
        .bind(start.day)
        .bind(start.product_ids)
        .bind(start.key)
        .bind(start.customer_id)
        .bind(start.session_id)
}

fn reads_of(row: &PgRow) -> Result<Reads, sqlx::Error> {
    let hash: Option<String> = row.try_get(1)?;
    let response: Option<Value> = row.try_get(2)?;
    let column = |index| row.try_get::<Option<Vec<String>>, _>(index);
    let (ids, skus, names, currencies, statuses) =
        (column(5)?, column(6)?, column(7)?, column(9)?, column(11)?);
    let prices: Option<Vec<Decimal>> = row.try_get(8)?;
    let tax_rates: Option<Vec<Decimal>> = row.try_get(10)?;
    let mut products = HashMap::new();
    if let (
        Some(ids),
        Some(skus),
        Some(names),
        Some(prices),
        Some(currencies),
        Some(rates),
        Some(statuses),
    ) = (ids, skus, names, prices, currencies, tax_rates, statuses)
    {
        let columns = skus.into_iter().zip(names).zip(prices).zip(currencies);
        for ((id, (((sku, name), price), currency)), (tax_rate, status)) in ids
            .into_iter()
            .zip(columns)
            .zip(rates.into_iter().zip(statuses))
        {
            let product = CatalogProduct {
                id: id.clone(),
                sku,
                name,
                price,
                currency,
                tax_rate,
                status,
            };
            products.insert(id, product);
        }
    }
    Ok(Reads {
        kept: hash.zip(response),
        location_code: row.try_get(3)?,
        customer_live: row.try_get(4)?,
        products,
    })
}
