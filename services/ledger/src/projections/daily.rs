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

/// What a set of sales adds to each (day, location) and each of its tenders.
#[derive(Debug, Default)]
struct Totals {
    days: BTreeMap<(NaiveDate, String), DayTotals>,
    tenders: BTreeMap<(NaiveDate, String, String), Decimal>,
}

#[derive(Debug, Default)]
struct DayTotals {
    count: i32,
    gross: Decimal,
    discounts: Decimal,
    net: Decimal,
    tax: Decimal,
    total: Decimal,
}

impl Totals {
    /// Adds (`sign` 1) or takes away (`sign` -1, a void) a sale's figures.
    fn add(&mut self, sale: &SaleFigures, sign: Decimal) {
        let day = self
            .days
            .entry((sale.day, sale.location_id.clone()))
            .or_default();
        day.count += if sign.is_sign_negative() { -1 } else { 1 };
        day.gross += sale.gross * sign;
        day.discounts += sale.discounts * sign;
        day.net += sale.net * sign;
        day.tax += sale.tax * sign;
        day.total += sale.total * sign;
        for (tender, amount) in &sale.tenders {
            *self
                .tenders
                .entry((sale.day, sale.location_id.clone(), tender.clone()))
                .or_default() += *amount * sign;
        }
    }

    /// Adds the totals to the report's rows: two statements however many days they span.
    async fn apply(&self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        let (days, locations): (Vec<NaiveDate>, Vec<&str>) =
            self.days.keys().map(|(d, l)| (*d, l.as_str())).unzip();
        let column = |f: fn(&DayTotals) -> Decimal| self.days.values().map(f).collect::<Vec<_>>();
        let counts: Vec<i32> = self.days.values().map(|t| t.count).collect();
        sqlx::query(
            "INSERT INTO daily_reports (day, location_id, sales_count, gross, discounts, net, tax, total)
             SELECT * FROM unnest($1::date[], $2::text[], $3::int4[], $4::numeric[], $5::numeric[],
                                  $6::numeric[], $7::numeric[], $8::numeric[])
             ON CONFLICT (day, location_id) DO UPDATE SET
                 sales_count = daily_reports.sales_count + EXCLUDED.sales_count,
                 gross = daily_reports.gross + EXCLUDED.gross,
                 discounts = daily_reports.discounts + EXCLUDED.discounts,
                 net = daily_reports.net + EXCLUDED.net,
                 tax = daily_reports.tax + EXCLUDED.tax,
                 total = daily_reports.total + EXCLUDED.total",
        )
        .bind(&days)
        .bind(&locations)
        .bind(&counts)
        .bind(column(|t| t.gross))
        .bind(column(|t| t.discounts))
        .bind(column(|t| t.net))
        .bind(column(|t| t.tax))
        .bind(column(|t| t.total))
        .execute(&mut *tx)
        .await?;
        let keys = self.tenders.keys();
        let days: Vec<NaiveDate> = keys.clone().map(|(d, _, _)| *d).collect();
        let locations: Vec<&str> = keys.clone().map(|(_, l, _)| l.as_str()).collect();
        let tenders: Vec<&str> = keys.map(|(_, _, t)| t.as_str()).collect();
        let amounts: Vec<Decimal> = self.tenders.values().copied().collect();
        sqlx::query(
            "INSERT INTO daily_tenders (day, location_id, tender, amount)
             SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::numeric[])
             ON CONFLICT (day, location_id, tender) DO UPDATE
             SET amount = daily_tenders.amount + EXCLUDED.amount",
        )
        .bind(&days)
        .bind(&locations)
        .bind(&tenders)
        .bind(&amounts)
        .execute(tx)
        .await?;
        Ok(())
    }
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

/// Completed sales join their days; each is remembered so a void can take it away again.
pub async fn record_sales(tx: &mut PgConnection, sales: &[SaleFigures]) -> Result<(), sqlx::Error> {
    let ids: Vec<&str> = sales.iter().map(|s| s.sale_id.as_str()).collect();
    let days: Vec<NaiveDate> = sales.iter().map(|s| s.day).collect();
    let locations: Vec<&str> = sales.iter().map(|s| s.location_id.as_str()).collect();
    let column = |f: fn(&SaleFigures) -> Decimal| sales.iter().map(f).collect::<Vec<_>>();
    let tenders: Vec<Json<&BTreeMap<String, Decimal>>> =
        sales.iter().map(|s| Json(&s.tenders)).collect();
    sqlx::query(
        "INSERT INTO report_sales (sale_id, day, location_id, gross, discounts, net, tax, total, tenders)
         SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::numeric[], $5::numeric[],
                              $6::numeric[], $7::numeric[], $8::numeric[], $9::jsonb[])",
    )
    .bind(&ids)
    .bind(&days)
    .bind(&locations)
    .bind(column(|s| s.gross))
    .bind(column(|s| s.discounts))
    .bind(column(|s| s.net))
    .bind(column(|s| s.tax))
    .bind(column(|s| s.total))
    .bind(&tenders)
    .execute(&mut *tx)
    .await?;
    let mut totals = Totals::default();
    for sale in sales {
        totals.add(sale, Decimal::ONE);
    }
    totals.apply(tx).await
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
    let mut totals = Totals::default();
    totals.add(&sale, Decimal::NEGATIVE_ONE);
    totals.apply(tx).await?;
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
