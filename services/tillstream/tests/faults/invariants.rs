//! The brief's invariants, checked against the stores themselves: every failure is named,
//! so a suite that waits for quiescence can say what never settled.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use sqlx::PgPool;
use tillstream_messaging::Naming;

use crate::stack::Stack;

/// What one round of checks found.
#[derive(Debug, Default)]
pub struct Checked {
    /// Individual invariants checked (each sale's, each stock level's, each book's).
    pub checks: u64,
    pub failures: Vec<String>,
    pub sales: usize,
    pub returns: usize,
}

impl Checked {
    pub fn expect(&mut self, holds: bool, failure: impl FnOnce() -> String) {
        self.checks += 1;
        if !holds {
            self.failures.push(failure());
        }
    }
}

pub struct Stores {
    pub sales: PgPool,
    pub inventory: PgPool,
    pub ledger: PgPool,
}

impl Stores {
    pub async fn connect(stack: &Stack) -> Stores {
        let pool = |service: &str| {
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(2)
                .connect_lazy(&stack.database(service))
                .unwrap()
        };
        Stores {
            sales: pool("sales"),
            inventory: pool("inventory"),
            ledger: pool("ledger"),
        }
    }
}

impl Stores {
    /// Appends a poison event straight into inventory's store, as only a bug or an
    /// operator's hand could: a receipt whose numbers overflow the ledger's arithmetic, on a
    /// stock item of its own. Its event id.
    pub async fn inject_poison(&self) -> String {
        let huge = "79228162514264337593543950335";
        sqlx::query_scalar(
            "INSERT INTO events (stream_id, version, event_id, event_type, payload, metadata)
             SELECT 'stock-POISON:' || gen_random_uuid(), 1, gen_random_uuid(), 'StockReceived',
                    jsonb_build_object('type', 'StockReceived', 'quantity', $1::text, 'unit_cost', $1::text),
                    metadata
             FROM events WHERE event_type = 'StockReceived' LIMIT 1
             RETURNING event_id::text",
        )
        .bind(huge)
        .fetch_one(&self.inventory)
        .await
        .unwrap()
    }
}

/// A sale as sales keeps it: units sold, units restocked by its returns, and its returns.
#[derive(Debug, Default, Clone, PartialEq)]
struct Sale {
    units: Decimal,
    restocked: Decimal,
    returns: i64,
}

/// Checks every invariant; the dead letters must be exactly the events `poisons` names
/// (by ULID or UUID text), in any order.
pub async fn check(
    stores: &Stores,
    stack: &Stack,
    accepted: &BTreeSet<String>,
    poisons: &BTreeSet<String>,
) -> Checked {
    let mut checked = Checked::default();
    match check_stores(stores, accepted, &mut checked).await {
        Ok(()) => {}
        Err(error) => checked
            .failures
            .push(format!("could not read the stores: {error}")),
    }
    if let Err(error) = crate::drawers::check(stores, &mut checked).await {
        checked
            .failures
            .push(format!("could not read the registers: {error}"));
    }
    match quiet_streams(stack, poisons).await {
        Ok(problems) => {
            checked.checks += 1;
            checked.failures.extend(problems);
        }
        Err(error) => checked
            .failures
            .push(format!("could not read JetStream: {error}")),
    }
    checked
}

async fn check_stores(
    stores: &Stores,
    accepted: &BTreeSet<String>,
    checked: &mut Checked,
) -> Result<(), sqlx::Error> {
    // Sales: each sale once, with its units, restocked units and returns.
    let rows: Vec<(String, Decimal, Decimal, i64, String)> = sqlx::query_as(
        "SELECT s.id,
                -- A repair's sale takes nothing: its parts left stock when they were fitted.
                (SELECT coalesce(sum((l->>'quantity')::numeric), 0) FROM jsonb_array_elements(s.document->'lines') l
                  WHERE s.repair_id IS NULL),
                (SELECT coalesce(sum((rl->>'quantity')::numeric), 0)
                   FROM jsonb_array_elements(s.returns) r, jsonb_array_elements(r->'lines') rl
                  WHERE coalesce((r->>'restock')::boolean, true)),
                jsonb_array_length(s.returns)::bigint,
                s.ledger_status
         FROM sales s",
    )
    .fetch_all(&stores.sales)
    .await?;
    let mut sales = BTreeMap::new();
    for (id, units, restocked, returns, ledger_status) in rows {
        checked.expect(ledger_status == "posted", || {
            format!("sale {id} is still {ledger_status}")
        });
        sales.insert(
            id,
            Sale {
                units,
                restocked,
                returns,
            },
        );
    }
    checked.sales = sales.len();
    checked.returns = sales.values().map(|s| s.returns as usize).sum();
    for id in accepted {
        checked.expect(sales.contains_key(id), || {
            format!("accepted sale {id} is not in sales")
        });
    }
    let twice: Vec<(String,)> = sqlx::query_as(
        "SELECT stream_id FROM events WHERE event_type = 'SaleCompleted'
         GROUP BY stream_id HAVING count(*) <> 1",
    )
    .fetch_all(&stores.sales)
    .await?;
    checked.expect(twice.is_empty(), || {
        format!("sales completed twice: {twice:?}")
    });

    // Approvals: each one spent belongs to exactly one recorded sale, return or void, and
    // each one recorded was spent (a crash between the two would break one or the other).
    let approvals: Vec<(String, bool, i64)> = sqlx::query_as(
        "WITH recorded AS (
             SELECT a #>> '{}' AS approval_id, count(*) AS times
             FROM events, jsonb_path_query(payload, 'strict $.**.approval_id') a
             GROUP BY 1)
         SELECT approval_id, u.approval_id IS NOT NULL, coalesce(r.times, 0)
         FROM approvals_used u FULL JOIN recorded r USING (approval_id)
         WHERE u.approval_id IS NULL OR r.times IS DISTINCT FROM 1",
    )
    .fetch_all(&stores.sales)
    .await?;
    checked.expect(approvals.is_empty(), || {
        format!("approvals (id, spent, times recorded) out of step: {approvals:?}")
    });

    // Inventory: each sale's units sold once and its returns restocked once; every level
    // the fold of its movements, by kind.
    let moved: Vec<(String, Decimal, Decimal)> = sqlx::query_as(
        "SELECT reference,
                coalesce(-sum(quantity) FILTER (WHERE kind = 'sold'), 0),
                coalesce(sum(quantity) FILTER (WHERE kind = 'returned'), 0)
         FROM stock_movements WHERE reference IS NOT NULL AND kind IN ('sold', 'returned')
         GROUP BY reference",
    )
    .fetch_all(&stores.inventory)
    .await?;
    let moved: BTreeMap<String, (Decimal, Decimal)> = moved
        .into_iter()
        .map(|(id, sold, returned)| (id, (sold, returned)))
        .collect();
    for (id, sale) in &sales {
        let found = moved.get(id).copied().unwrap_or_default();
        checked.expect(found == (sale.units, sale.restocked), || {
            format!(
                "sale {id}: inventory moved {found:?} (sold, restocked), the sale says ({}, {})",
                sale.units, sale.restocked
            )
        });
    }
    for id in moved.keys().filter(|id| !sales.contains_key(*id)) {
        checked.failures.push(format!(
            "stock moved for sale {id}, which sales does not know"
        ));
    }
    let levels: Vec<(String, String, Decimal, Decimal, Decimal)> = sqlx::query_as(
        "SELECT l.product_id, l.location_id, l.on_hand,
                coalesce(sum(m.quantity), 0),
                coalesce(sum(m.quantity) FILTER (WHERE m.kind = 'received'), 0)
                  - coalesce(-sum(m.quantity) FILTER (WHERE m.kind = 'sold'), 0)
                  + coalesce(sum(m.quantity) FILTER (WHERE m.kind IN ('returned', 'void_reversed')), 0)
                  + coalesce(sum(m.quantity) FILTER (WHERE m.kind IN ('adjusted', 'counted', 'transferred_in', 'transferred_out', 'repair')), 0)
         FROM stock_levels l
         LEFT JOIN stock_movements m USING (product_id, location_id)
         GROUP BY l.product_id, l.location_id, l.on_hand",
    )
    .fetch_all(&stores.inventory)
    .await?;
    for (product, location, on_hand, fold, by_kind) in levels {
        checked.expect(on_hand == fold && fold == by_kind, || {
            format!("{product} at {location}: on hand {on_hand}, fold {fold}, by kind {by_kind}")
        });
    }
    // Every sale that took stock at a cost is costed once, in one entry (`SaleCosted`), for
    // what its movements took, each valued to the cent as the ledger values it.
    let (costed_sales, sold_cost): (i64, Decimal) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(cost), 0) FROM (
             SELECT sum(round(abs(quantity) * unit_cost, 2)) AS cost FROM stock_movements
             WHERE kind = 'sold' GROUP BY reference) sales
         WHERE cost > 0",
    )
    .fetch_one(&stores.inventory)
    .await?;

    // Ledger: balanced, each sale and return booked once, each sale's cost once.
    let (debits, credits): (Option<Decimal>, Option<Decimal>) =
        sqlx::query_as("SELECT sum(debit), sum(credit) FROM journal_lines")
            .fetch_one(&stores.ledger)
            .await?;
    checked.expect(debits == credits, || {
        format!("trial balance: debits {debits:?} ≠ credits {credits:?}")
    });
    let unbalanced: Vec<(String,)> = sqlx::query_as(
        "SELECT entry_id FROM journal_lines GROUP BY entry_id HAVING sum(debit) <> sum(credit)",
    )
    .fetch_all(&stores.ledger)
    .await?;
    checked.expect(unbalanced.is_empty(), || {
        format!("unbalanced entries: {unbalanced:?}")
    });
    let booked: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT source_type, source_id, count(*) FROM journal_entries
         WHERE source_type IN ('sale', 'sale_return') GROUP BY 1, 2",
    )
    .fetch_all(&stores.ledger)
    .await?;
    let booked: BTreeMap<(String, String), i64> = booked
        .into_iter()
        .map(|(kind, id, n)| ((kind, id), n))
        .collect();
    for (id, sale) in &sales {
        let entries = booked
            .get(&("sale".into(), id.clone()))
            .copied()
            .unwrap_or(0);
        checked.expect(entries == 1, || {
            format!("sale {id} has {entries} ledger entries")
        });
        let refunds = booked
            .get(&("sale_return".into(), id.clone()))
            .copied()
            .unwrap_or(0);
        checked.expect(refunds == sale.returns, || {
            format!(
                "sale {id}: {} returns, {refunds} refund entries",
                sale.returns
            )
        });
    }
    let (costs, sales_costed, booked_cost): (i64, i64, Decimal) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT e.source_id), coalesce(sum(l.debit), 0)
         FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id AND l.account = '5000'
         WHERE e.source_type = 'stock_sold'",
    )
    .fetch_one(&stores.ledger)
    .await?;
    checked.expect(costs == costed_sales && sales_costed == costs, || {
        format!("{costed_sales} sales took stock, {costs} cost-of-goods entries for {sales_costed} sales")
    });
    checked.expect(booked_cost == sold_cost, || {
        format!("sales took {sold_cost} of stock at cost, the ledger booked {booked_cost}")
    });
    Ok(())
}

/// Nothing waiting in any durable consumer, and no dead letters but the poisons.
async fn quiet_streams(stack: &Stack, poisons: &BTreeSet<String>) -> Result<Vec<String>, String> {
    let client = async_nats::connect(&stack.nats_url)
        .await
        .map_err(|e| e.to_string())?;
    let js = async_nats::jetstream::new(client);
    let naming = Naming::new(stack.prefix.clone())?;
    let mut problems = Vec::new();
    for service in tillstream_service::addrs::SERVICES {
        let Ok(mut stream) = js.get_stream(naming.service_stream(service)).await else {
            continue;
        };
        let names: Vec<String> = {
            use futures::TryStreamExt;
            stream
                .consumer_names()
                .try_collect()
                .await
                .map_err(|e| e.to_string())?
        };
        for name in names {
            let mut consumer: async_nats::jetstream::consumer::PullConsumer = stream
                .get_consumer(&name)
                .await
                .map_err(|e| e.to_string())?;
            let info = consumer.info().await.map_err(|e| e.to_string())?;
            if info.num_pending > 0 || info.num_ack_pending > 0 {
                problems.push(format!(
                    "consumer {name} on {service}: {} pending, {} unacknowledged",
                    info.num_pending, info.num_ack_pending
                ));
            }
        }
        let _ = stream.info().await;
    }
    let mut lettered = BTreeSet::new();
    if let Ok(mut letters) = js.get_stream(naming.dead_letter_stream()).await {
        let state = letters
            .info()
            .await
            .map_err(|e| e.to_string())?
            .state
            .clone();
        for sequence in state.first_sequence..=state.last_sequence {
            if state.messages == 0 {
                break;
            }
            if let Ok(letter) = letters.get_raw_message(sequence).await {
                let id = letter
                    .headers
                    .get(tillstream_messaging::headers::ID)
                    .map(|v| v.as_str().to_owned())
                    .unwrap_or_default();
                lettered.insert(uuid_text(&id));
            }
        }
    }
    let expected: BTreeSet<String> = poisons.iter().map(|p| uuid_text(p)).collect();
    if lettered != expected {
        problems.push(format!(
            "dead letters {lettered:?}, expected exactly the poisons {expected:?}"
        ));
    }
    Ok(problems)
}

/// An event id as a ULID, whether it was written as a ULID or as a UUID.
fn uuid_text(id: &str) -> String {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    match u128::from_str_radix(&hex, 16) {
        Ok(value) if hex.len() == 32 => tillstream_kernel::Ulid::from(value).to_string(),
        _ => id.to_owned(),
    }
}
