//! `product_sales`: how much of each product sold, came back and earned, per UTC day and
//! location — the analytics read model. Unlike the sale views written with each sale, it is
//! built asynchronously from sales' event log by a `ProjectionRunner`, so it can be rebuilt
//! from zero and swapped in while sales go on (`tillstream projection rebuild product_sales`).
//!
//! A sale counts on the day it was completed, a return on the day it was taken back, and a
//! void takes its whole sale off the sale's own day, as the ledger's daily report does.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection};
use tillstream_eventstore::RecordedEvent;
use tillstream_projection::{Generation, Projection, ProjectionError};

use crate::domain::sale::{Event, SaleRecord};

pub const NAME: &str = "product_sales";

/// The projection; see the module's documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProductSales;

/// One row's key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub day: NaiveDate,
    pub location_id: String,
    pub product_id: String,
}

/// What a batch adds to one row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delta {
    pub sku: String,
    pub sold: Decimal,
    pub returned: Decimal,
    pub revenue: Decimal,
    /// Sales with a line of the product (a void takes one off).
    pub sales: i32,
}

/// Folds a batch of sales events into row changes. `originals` holds, by sale id, the sale
/// each return or void of the batch refers to.
pub fn fold(
    events: &[(String, Event)],
    originals: &HashMap<String, SaleRecord>,
) -> Result<BTreeMap<Key, Delta>, String> {
    let original = |sale_id: &str| {
        originals
            .get(sale_id)
            .ok_or_else(|| format!("sale {sale_id} was never completed"))
    };
    let mut rows: BTreeMap<Key, Delta> = BTreeMap::new();
    for (sale_id, event) in events {
        match event {
            Event::SaleCompleted { sale } => add_sale(&mut rows, sale, Sign::Plus)?,
            Event::SaleVoided { .. } => add_sale(&mut rows, original(sale_id)?, Sign::Minus)?,
            Event::SaleReturned {
                location_id,
                returned,
            } => {
                let day = returned.returned_at.date_naive();
                let sale = original(sale_id)?;
                // Labor (a repair's lines without a product) is no product's sales.
                for line in returned.lines.iter().filter(|l| !l.product_id.is_empty()) {
                    let sku = sale
                        .lines
                        .iter()
                        .find(|sold| sold.line_no == line.line_no)
                        .map(|sold| sold.line.sku.clone())
                        .ok_or_else(|| {
                            format!("sale {sale_id} has no line {} to return", line.line_no)
                        })?;
                    let row = rows
                        .entry(Key {
                            day,
                            location_id: location_id.clone(),
                            product_id: line.product_id.clone(),
                        })
                        .or_default();
                    row.sku = sku;
                    add(&mut row.returned, line.quantity.value())?;
                    add(&mut row.revenue, -line.revenue.amount())?;
                }
            }
        }
    }
    Ok(rows)
}

#[derive(Debug, Clone, Copy)]
enum Sign {
    Plus,
    Minus,
}

fn add_sale(rows: &mut BTreeMap<Key, Delta>, sale: &SaleRecord, sign: Sign) -> Result<(), String> {
    let day = sale.completed_at.date_naive();
    let (factor, count) = match sign {
        Sign::Plus => (Decimal::ONE, 1),
        Sign::Minus => (Decimal::NEGATIVE_ONE, -1),
    };
    let mut counted = Vec::new();
    for sold in sale.lines.iter().filter(|s| !s.line.product_id.is_empty()) {
        let key = Key {
            day,
            location_id: sale.location_id.clone(),
            product_id: sold.line.product_id.clone(),
        };
        let row = rows.entry(key.clone()).or_default();
        row.sku.clone_from(&sold.line.sku);
        add(&mut row.sold, factor * sold.line.quantity.value())?;
        add(&mut row.revenue, factor * sold.amounts.revenue.amount())?;
        // A product on two lines of one sale is still one sale of it.
        if !counted.contains(&key) {
            row.sales += count;
            counted.push(key);
        }
    }
    Ok(())
}

/// `into += delta`, refused rather than overflowing (a stored sale beyond today's bounds).
fn add(into: &mut Decimal, delta: Decimal) -> Result<(), String> {
    *into = into
        .checked_add(delta)
        .ok_or_else(|| format!("{into} + {delta} is out of range"))?;
    Ok(())
}

impl Projection for ProductSales {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["product_sales"]
    }

    async fn create_tables(
        &self,
        tx: &mut PgConnection,
        generation: Generation,
    ) -> Result<(), ProjectionError> {
        let sql = format!(
            "CREATE TABLE {} (
                day          date    NOT NULL,
                location_id  text    NOT NULL,
                product_id   text    NOT NULL,
                sku          text    NOT NULL,
                sold         numeric NOT NULL,
                returned     numeric NOT NULL,
                revenue      numeric NOT NULL,
                sales        integer NOT NULL,
                PRIMARY KEY (day, location_id, product_id)
            )",
            generation.table("product_sales")
        );
        sqlx::query(AssertSqlSafe(sql)).execute(tx).await?;
        Ok(())
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        generation: Generation,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let mut decoded = Vec::with_capacity(events.len());
        let mut referring = Vec::new();
        for event in events {
            if !matches!(
                event.event_type.as_str(),
                "SaleCompleted" | "SaleReturned" | "SaleVoided"
            ) {
                continue;
            }
            let sale_event: Event = event.decode().map_err(|e| bad(event, e.to_string()))?;
            if !matches!(sale_event, Event::SaleCompleted { .. }) {
                referring.push(event.stream_id.clone());
            }
            decoded.push((event.stream_id.clone(), sale_event));
        }
        let originals = completed_sales(tx, &referring).await?;
        let rows = fold(&decoded, &originals).map_err(|reason| ProjectionError::BadEvent {
            event_id: String::new(),
            event_type: "batch".into(),
            reason,
        })?;
        upsert(tx, generation, rows).await
    }
}

fn bad(event: &RecordedEvent, reason: String) -> ProjectionError {
    ProjectionError::BadEvent {
        event_id: event.event_id.to_string(),
        event_type: event.event_type.clone(),
        reason,
    }
}

/// The completed sales of `sale_ids`, from the log itself (a rebuild must not lean on a
/// read model that may be the one being rebuilt).
async fn completed_sales(
    tx: &mut PgConnection,
    sale_ids: &[String],
) -> Result<HashMap<String, SaleRecord>, ProjectionError> {
    if sale_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, Json<Event>)> = sqlx::query_as(
        "SELECT stream_id, payload FROM events
         WHERE stream_id = ANY($1) AND event_type = 'SaleCompleted'",
    )
    .bind(sale_ids)
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, event)| match event.0 {
            Event::SaleCompleted { sale } => Some((id, *sale)),
            _ => None,
        })
        .collect())
}

async fn upsert(
    tx: &mut PgConnection,
    generation: Generation,
    rows: BTreeMap<Key, Delta>,
) -> Result<(), ProjectionError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut columns = Columns::default();
    for (key, delta) in rows {
        columns.days.push(key.day);
        columns.locations.push(key.location_id);
        columns.products.push(key.product_id);
        columns.skus.push(delta.sku);
        columns.sold.push(delta.sold);
        columns.returned.push(delta.returned);
        columns.revenue.push(delta.revenue);
        columns.sales.push(delta.sales);
    }
    let sql = format!(
        "INSERT INTO {t} AS p (day, location_id, product_id, sku, sold, returned, revenue, sales)
         SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::text[],
                              $5::numeric[], $6::numeric[], $7::numeric[], $8::int4[])
         ON CONFLICT (day, location_id, product_id) DO UPDATE SET
             sku = EXCLUDED.sku,
             sold = p.sold + EXCLUDED.sold,
             returned = p.returned + EXCLUDED.returned,
             revenue = p.revenue + EXCLUDED.revenue,
             sales = p.sales + EXCLUDED.sales",
        t = generation.table("product_sales")
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(&columns.days)
        .bind(&columns.locations)
        .bind(&columns.products)
        .bind(&columns.skus)
        .bind(&columns.sold)
        .bind(&columns.returned)
        .bind(&columns.revenue)
        .bind(&columns.sales)
        .execute(tx)
        .await?;
    Ok(())
}

#[derive(Default)]
struct Columns {
    days: Vec<NaiveDate>,
    locations: Vec<String>,
    products: Vec<String>,
    skus: Vec<String>,
    sold: Vec<Decimal>,
    returned: Vec<Decimal>,
    revenue: Vec<Decimal>,
    sales: Vec<i32>,
}

#[cfg(test)]
mod tests {
    use rust_decimal::dec;
    use tillstream_kernel::{Currency, Decider, Money, Quantity, Tender};

    use super::*;
    use crate::domain::pricing::{Payment, PricingPolicy};
    use crate::domain::returns::{ReturnLineRequest, ReturnSale};
    use crate::domain::sale::{Command, CompleteSale, ResolvedLine, Sale, SaleId};

    fn usd(s: &str) -> Money {
        Money::parse(s, Currency::USD).unwrap()
    }

    /// 2 × A at 3.50 and 1 × B at 10.00, 8 % tax, on 24 November.
    fn completed(id: &str) -> (String, Vec<Event>) {
        let line = |sku: &str, price: &str, qty: i64| ResolvedLine {
            product_id: format!("p-{sku}"),
            sku: sku.into(),
            name: sku.into(),
            unit_price: usd(price),
            tax_rate: "0.08".parse().unwrap(),
            quantity: Quantity::from_units(qty),
            discount: None,
            catalog_price: None,
        };
        let command = CompleteSale {
            id: SaleId::generate(),
            sale_number: format!("S1-20261124-{id}"),
            location_id: "loc".into(),
            cashier_id: "cashier".into(),
            completed_at: "2026-11-24T23:30:00-02:00".parse().unwrap(), // 25 Nov, UTC
            policy: PricingPolicy {
                currency: Currency::USD,
                prices_include_tax: false,
            },
            lines: vec![line("A", "3.50", 2), line("B", "10.00", 1)],
            discount: None,
            payments: vec![Payment {
                method: Tender::Cash,
                amount: usd("20.00"),
                reference: None,
            }],
            customer_id: None,
            customer: None,
            notes: None,
            controls: None,
            locations: crate::domain::controls::Locations::every(),
            session: None,
            repair_id: None,
        };
        let events = Sale::decide(&Sale::default(), &Command::Complete(Box::new(command))).unwrap();
        (id.to_owned(), events)
    }

    fn then(history: &[Event], command: Command) -> Event {
        let state = history.iter().fold(Sale::default(), Sale::evolve);
        Sale::decide(&state, &command).unwrap().remove(0)
    }

    fn record(events: &[Event]) -> SaleRecord {
        match &events[0] {
            Event::SaleCompleted { sale } => (**sale).clone(),
            other => panic!("not a sale: {other:?}"),
        }
    }

    fn key(day: u32, product: &str) -> Key {
        Key {
            day: NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
            location_id: "loc".into(),
            product_id: product.into(),
        }
    }

    #[test]
    fn sales_count_on_their_utc_day_returns_on_theirs_and_a_void_takes_its_sale_off() {
        let (kept, kept_events) = completed("kept");
        let (voided, voided_events) = completed("voided");
        let returned = then(
            &kept_events,
            Command::Return(ReturnSale {
                return_id: "r1".into(),
                lines: vec![ReturnLineRequest {
                    line_no: 1,
                    quantity: Quantity::from_units(1),
                }],
                refunds: vec![Payment {
                    method: Tender::Cash,
                    amount: usd("3.78"),
                    reference: None,
                }],
                restock: true,
                reason: None,
                returned_at: "2026-11-26T10:00:00Z".parse().unwrap(),
                controls: None,
                session_id: None,
            }),
        );
        let void = then(
            &voided_events,
            Command::Void {
                reason: "wrong till".into(),
                voided_at: "2026-11-26T10:00:00Z".parse().unwrap(),
                controls: None,
            },
        );
        let batch = vec![
            (kept.clone(), kept_events[0].clone()),
            (voided.clone(), voided_events[0].clone()),
            (kept.clone(), returned),
            (voided.clone(), void),
        ];
        let originals = HashMap::from([
            (kept, record(&kept_events)),
            (voided, record(&voided_events)),
        ]);
        let rows = fold(&batch, &originals).unwrap();

        let a = &rows[&key(25, "p-A")];
        assert_eq!((a.sold, a.revenue, a.sales), (dec!(2), dec!(7.00), 1));
        let b = &rows[&key(25, "p-B")];
        assert_eq!((b.sold, b.revenue, b.sales), (dec!(1), dec!(10.00), 1));
        let back = &rows[&key(26, "p-A")];
        assert_eq!(
            (back.sku.as_str(), back.sold, back.returned, back.revenue),
            ("A", dec!(0), dec!(1), dec!(-3.50))
        );
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn a_return_or_void_of_an_unknown_sale_is_refused() {
        let (id, events) = completed("x");
        let void = then(
            &events,
            Command::Void {
                reason: "r".into(),
                voided_at: "2026-11-26T10:00:00Z".parse().unwrap(),
                controls: None,
            },
        );
        assert!(fold(&[(id, void)], &HashMap::new()).is_err());
    }
}
