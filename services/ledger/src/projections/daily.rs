//! The daily report per location and day (UTC): sales count, gross, discounts, net (Σ
//! revenue), tax, returns (Σ refunds), total (sales' totals less refunds) and takings by
//! tender. Written in the transaction that books each sale, return and void, so it is
//! current event by event and reading a day costs one row whatever it held.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

/// What one sale adds to its day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleFigures {
    pub sale_id: String,
    pub day: NaiveDate,
    pub location_id: String,
    pub gross: Decimal,
    pub discounts: Decimal,
    pub net: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
    /// Per tender, payments net of change.
    pub tenders: BTreeMap<String, Decimal>,
}

/// A day's report as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DailyReport {
    pub sales_count: i64,
    pub gross: Decimal,
    pub discounts: Decimal,
    pub net: Decimal,
    pub tax: Decimal,
    pub returns: Decimal,
    pub total: Decimal,
    pub by_tender: BTreeMap<String, Decimal>,
}

/// Adds (`sign` 1) or takes away (`sign` -1, a void) a sale's figures.
async fn apply_sale(
    tx: &mut PgConnection,
    sale: &SaleFigures,
    sign: Decimal,
) -> Result<(), sqlx::Error> {
    let count = if sign.is_sign_negative() { -1 } else { 1 };
    sqlx::query(
        "INSERT INTO daily_reports (day, location_id, sales_count, gross, discounts, net, tax, total)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (day, location_id) DO UPDATE SET
             sales_count = daily_reports.sales_count + EXCLUDED.sales_count,
             gross = daily_reports.gross + EXCLUDED.gross,
             discounts = daily_reports.discounts + EXCLUDED.discounts,
             net = daily_reports.net + EXCLUDED.net,
             tax = daily_reports.tax + EXCLUDED.tax,
             total = daily_reports.total + EXCLUDED.total",
    )
    .bind(sale.day)
    .bind(&sale.location_id)
    .bind(count)
    .bind(sale.gross * sign)
    .bind(sale.discounts * sign)
    .bind(sale.net * sign)
    .bind(sale.tax * sign)
    .bind(sale.total * sign)
    .execute(&mut *tx)
    .await?;
    for (tender, amount) in &sale.tenders {
        add_tender(tx, sale.day, &sale.location_id, tender, *amount * sign).await?;
    }
    Ok(())
}

async fn add_tender(
    tx: &mut PgConnection,
    day: NaiveDate,
    location_id: &str,
    tender: &str,
    amount: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO daily_tenders (day, location_id, tender, amount) VALUES ($1, $2, $3, $4)
         ON CONFLICT (day, location_id, tender) DO UPDATE
         SET amount = daily_tenders.amount + EXCLUDED.amount",
    )
    .bind(day)
    .bind(location_id)
    .bind(tender)
    .bind(amount)
    .execute(tx)
    .await?;
    Ok(())
}

/// A completed sale joins its day.
pub async fn record_sale(tx: &mut PgConnection, sale: &SaleFigures) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO report_sales (sale_id, day, location_id, gross, discounts, net, tax, total, tenders)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&sale.sale_id)
    .bind(sale.day)
    .bind(&sale.location_id)
    .bind(sale.gross)
    .bind(sale.discounts)
    .bind(sale.net)
    .bind(sale.tax)
    .bind(sale.total)
    .bind(Json(&sale.tenders))
    .execute(&mut *tx)
    .await?;
    apply_sale(tx, sale, Decimal::ONE).await
}

/// A voided sale leaves the day it was rung up on; `false` when the sale is unknown.
pub async fn record_void(tx: &mut PgConnection, sale_id: &str) -> Result<bool, sqlx::Error> {
    type Row = (
        NaiveDate,
        String,
        Decimal,
        Decimal,
        Decimal,
        Decimal,
        Decimal,
        Json<BTreeMap<String, Decimal>>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT day, location_id, gross, discounts, net, tax, total, tenders
         FROM report_sales WHERE sale_id = $1",
    )
    .bind(sale_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((day, location_id, gross, discounts, net, tax, total, tenders)) = row else {
        return Ok(false);
    };
    let sale = SaleFigures {
        sale_id: sale_id.to_owned(),
        day,
        location_id,
        gross,
        discounts,
        net,
        tax,
        total,
        tenders: tenders.0,
    };
    apply_sale(tx, &sale, Decimal::NEGATIVE_ONE).await?;
    Ok(true)
}

/// A return on `day`: its refunds, by tender.
pub async fn record_return(
    tx: &mut PgConnection,
    day: NaiveDate,
    location_id: &str,
    refunds: &[(String, Decimal)],
) -> Result<(), sqlx::Error> {
    let refunded: Decimal = refunds.iter().map(|(_, amount)| *amount).sum();
    sqlx::query(
        "INSERT INTO daily_reports (day, location_id, returns, total) VALUES ($1, $2, $3, -$3)
         ON CONFLICT (day, location_id) DO UPDATE SET
             returns = daily_reports.returns + EXCLUDED.returns,
             total = daily_reports.total + EXCLUDED.total",
    )
    .bind(day)
    .bind(location_id)
    .bind(refunded)
    .execute(&mut *tx)
    .await?;
    for (tender, amount) in refunds {
        add_tender(tx, day, location_id, tender, -*amount).await?;
    }
    Ok(())
}

/// The report of `day`, for one location or (`None`) all of them.
pub async fn read(
    pool: &PgPool,
    day: NaiveDate,
    location_id: Option<&str>,
) -> Result<DailyReport, sqlx::Error> {
    let row: (i64, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal) = sqlx::query_as(
        "SELECT coalesce(sum(sales_count), 0)::bigint, coalesce(sum(gross), 0),
                coalesce(sum(discounts), 0), coalesce(sum(net), 0), coalesce(sum(tax), 0),
                coalesce(sum(returns), 0), coalesce(sum(total), 0)
         FROM daily_reports WHERE day = $1 AND ($2::text IS NULL OR location_id = $2)",
    )
    .bind(day)
    .bind(location_id)
    .fetch_one(pool)
    .await?;
    let tenders: Vec<(String, Decimal)> = sqlx::query_as(
        "SELECT tender, sum(amount) FROM daily_tenders
         WHERE day = $1 AND ($2::text IS NULL OR location_id = $2)
         GROUP BY tender ORDER BY tender",
    )
    .bind(day)
    .bind(location_id)
    .fetch_all(pool)
    .await?;
    let (sales_count, gross, discounts, net, tax, returns, total) = row;
    Ok(DailyReport {
        sales_count,
        gross,
        discounts,
        net,
        tax,
        returns,
        total,
        by_tender: tenders.into_iter().collect(),
    })
}
