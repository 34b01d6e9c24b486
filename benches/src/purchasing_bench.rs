//! The purchasing benchmark, in one run on one machine, against the real PostgreSQL and NATS,
//! over inventory's gRPC (the gateway adds the same HTTP hop to each):
//! - a 500-line delivery against a purchase order, until every line is in stock (the answer:
//!   receipt and stock are one transaction), p50/p99, beside the same 500 lines received as a
//!   bare stock receipt (no order) in the same run;
//! - reorder suggestions for a location with 50,000 stocked products (their reorder points,
//!   open orders and four weeks of sales seeded as rows), p50/p99 (goal p99 < 200 ms), and
//!   the leader's periodic recount of the four weeks' sales they read.
//!
//! `cargo run --release -p tillstream-benches --bin purchasing-bench -- [--lines N] [--deliveries N] [--products N] [--requests N]`

#![allow(clippy::float_arithmetic, reason = "rates and ratios, never money")]

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tillstream_benches::{micros_since, ms, parse_counts};
use tillstream_proto::inventory::v1 as pb;
use tillstream_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use tillstream_proto::inventory::v1::purchasing_service_client::PurchasingServiceClient;
use tillstream_service::{Launch, ServiceSettings};
use tillstream_test_support::grpc::{Authed, connect_as_admin};
use tillstream_test_support::{TestDatabase, TestPrefix, stack_env, unique_name};
use tokio_util::sync::CancellationToken;

struct Options {
    lines: usize,
    deliveries: usize,
    products: usize,
    requests: usize,
}

fn options() -> anyhow::Result<Options> {
    let (mut lines, mut deliveries, mut products, mut requests) = (500, 30, 50_000, 200);
    parse_counts(&mut [
        ("lines", &mut lines),
        ("deliveries", &mut deliveries),
        ("products", &mut products),
        ("requests", &mut requests),
    ])?;
    Ok(Options {
        lines,
        deliveries,
        products,
        requests,
    })
}

struct Clients {
    inventory: InventoryServiceClient<Authed>,
    purchasing: PurchasingServiceClient<Authed>,
}

async fn start(settings: &ServiceSettings, stop: &CancellationToken) -> anyhow::Result<Clients> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(tillstream_inventory::serve(Launch {
        settings: settings.clone(),
        listener,
        shutdown: stop.clone(),
    }));
    for _ in 0..100 {
        if let Some(channel) = connect_as_admin(url.clone()).await {
            let mut inventory = InventoryServiceClient::new(channel.clone());
            if inventory
                .list_locations(pb::ListLocationsRequest {})
                .await
                .is_ok()
            {
                return Ok(Clients {
                    inventory,
                    purchasing: PurchasingServiceClient::new(channel),
                });
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("inventory did not start")
}

/// Products known to inventory's catalog copy, as its catalog consumer writes them, with a
/// reorder point of 10: the benchmark measures purchasing, not the catalog.
async fn seed_products(pool: &sqlx::PgPool, prefix: &str, count: usize) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO known_products (id, sku, reorder_point)
         SELECT $1 || lpad(n::text, 8, '0'), $1 || n, 10 FROM generate_series(1, $2) n",
    )
    .bind(prefix)
    .bind(i64::try_from(count)?)
    .execute(pool)
    .await?;
    Ok(())
}

fn product(prefix: &str, n: usize) -> String {
    format!("{prefix}{n:08}")
}

/// One delivery of every line, `deliveries` times: each against an order of its own, then
/// the same lines as a bare receipt.
async fn deliveries(
    clients: &mut Clients,
    supplier: &str,
    location: &str,
    options: &Options,
) -> anyhow::Result<(Histogram<u64>, Histogram<u64>)> {
    let (mut ordered, mut bare) = (Histogram::<u64>::new(3)?, Histogram::<u64>::new(3)?);
    let lines: Vec<pb::OrderLine> = (1..=options.lines)
        .map(|n| pb::OrderLine {
            product_id: product("D", n),
            quantity: "12".into(),
            unit_cost: "1.35".into(),
        })
        .collect();
    for _ in 0..options.deliveries {
        let order = clients
            .purchasing
            .create_purchase_order(pb::CreatePurchaseOrderRequest {
                supplier_id: supplier.into(),
                location_id: location.into(),
                lines: lines.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        clients
            .purchasing
            .submit_purchase_order(pb::PurchaseOrderAction {
                id: order.id.clone(),
                ..Default::default()
            })
            .await?;
        let receipt = pb::ReceivePurchaseOrderRequest {
            purchase_order_id: order.id,
            lines: order
                .lines
                .iter()
                .map(|l| pb::ReceiptQuantity {
                    line_no: l.line_no,
                    quantity: "12".into(),
                })
                .collect(),
            ..Default::default()
        };
        let started = Instant::now();
        clients.purchasing.receive_purchase_order(receipt).await?;
        ordered.record(micros_since(started))?;

        let plain = pb::ReceiveStockRequest {
            location_id: location.into(),
            lines: lines
                .iter()
                .map(|l| pb::ReceiptLine {
                    product_id: l.product_id.clone(),
                    quantity: l.quantity.clone(),
                    unit_cost: l.unit_cost.clone(),
                })
                .collect(),
            ..Default::default()
        };
        let started = Instant::now();
        clients.inventory.receive_stock(plain).await?;
        bare.record(micros_since(started))?;
    }
    Ok((ordered, bare))
}

/// A location with `count` stocked products: a level, some on order, and 28 days of sales
/// (four movements each) for every one, as inventory's own writers leave them.
async fn seed_location(
    pool: &sqlx::PgPool,
    location: &str,
    supplier: &str,
    count: usize,
) -> anyhow::Result<()> {
    let count = i64::try_from(count)?;
    sqlx::query(
        "INSERT INTO stock_levels (product_id, location_id, on_hand, avg_cost, version)
         SELECT 'S' || lpad(n::text, 8, '0'), $1, n % 30, 1.25, 5 FROM generate_series(1, $2) n",
    )
    .bind(location)
    .bind(count)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO stock_movements (product_id, location_id, version, kind, quantity,
             unit_cost, on_hand_after, avg_cost_after, occurred_at)
         SELECT 'S' || lpad(n::text, 8, '0'), $1, v, 'sold', -1, 1.25, 0, 1.25,
                now() - make_interval(days => v * 6)
         FROM generate_series(1, $2) n, generate_series(1, 4) v",
    )
    .bind(location)
    .bind(count)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO purchase_order_lines (purchase_order_id, line_no, product_id, location_id,
             supplier_id, quantity, received, open, ordered_at)
         SELECT 'PO' || (n / 500), n % 500 + 1, 'S' || lpad(n::text, 8, '0'), $1, $2, 6, 0,
                n % 3 = 0, now() - interval '3 days'
         FROM generate_series(1, $3) n WHERE n % 2 = 0",
    )
    .bind(location)
    .bind(supplier)
    .bind(count)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO latest_suppliers (product_id, supplier_id, ordered_at)
         SELECT product_id, supplier_id, ordered_at FROM purchase_order_lines
         WHERE location_id = $1
         ON CONFLICT (product_id) DO NOTHING",
    )
    .bind(location)
    .execute(pool)
    .await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let prefix = TestPrefix::new();
    let env = stack_env(&prefix.prefix, &unique_name("bench"));
    let settings = ServiceSettings::from_lookup("inventory", "127.0.0.1:0", env)?;
    let _db = TestDatabase {
        server_url: settings.database_url.clone(),
        name: settings.database.clone(),
    };
    let stop = CancellationToken::new();
    let mut clients = start(&settings, &stop).await?;
    let pool = sqlx::PgPool::connect(&format!(
        "{}/{}",
        settings.database_url.trim_end_matches('/'),
        settings.database
    ))
    .await?;
    seed_products(&pool, "D", options.lines).await?;
    seed_products(&pool, "S", options.products).await?;
    let location = |code: &str| {
        let mut inventory = clients.inventory.clone();
        let code = code.to_owned();
        async move {
            anyhow::Ok(
                inventory
                    .create_location(pb::CreateLocationRequest {
                        name: code.clone(),
                        code,
                    })
                    .await?
                    .into_inner()
                    .id,
            )
        }
    };
    let (store, shop) = (location("DEPOT").await?, location("SHOP").await?);
    let supplier = clients
        .purchasing
        .create_supplier(pb::CreateSupplierRequest {
            code: "BENCH".into(),
            name: "Bench Supplies".into(),
            lead_time_days: Some(10),
            ..Default::default()
        })
        .await?
        .into_inner()
        .id;

    let (ordered, bare) = deliveries(&mut clients, &supplier, &store, &options).await?;
    println!(
        "## Purchasing\n\n{} deliveries of {} lines, each until every line is in stock:\n",
        options.deliveries, options.lines
    );
    println!("| delivery | p50 ms | p99 ms | max ms |\n|---|---|---|---|");
    for (name, h) in [
        ("against a purchase order", &ordered),
        ("bare stock receipt (baseline)", &bare),
    ] {
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} |",
            ms(h, 0.5),
            ms(h, 0.99),
            h.max() as f64 / 1000.0
        );
    }
    println!(
        "\np50 ratio against an order / bare: **{:.2}**\n",
        ms(&ordered, 0.5) / ms(&bare, 0.5)
    );

    seed_location(&pool, &shop, &supplier, options.products).await?;
    // What the leader does every few minutes; timed, as it is work the machine does.
    let started = Instant::now();
    let items = tillstream_inventory::projections::purchasing::refresh_recent_sales(&pool).await?;
    println!(
        "recent sales recomputed for {items} items in {:.0} ms (every {} s on the leader)\n",
        started.elapsed().as_secs_f64() * 1000.0,
        tillstream_inventory::projections::purchasing::RECENT_SALES_EVERY.as_secs()
    );
    let mut suggestions = Histogram::<u64>::new(3)?;
    let mut total = 0;
    for request in 0..options.requests {
        let started = Instant::now();
        let answer = clients
            .purchasing
            .suggest_purchases(pb::SuggestPurchasesRequest {
                location_id: shop.clone(),
                page: u32::try_from(request % 5 + 1)?,
                limit: 50,
            })
            .await?
            .into_inner();
        suggestions.record(micros_since(started))?;
        total = answer.total;
    }
    println!(
        "suggestions at a location with {} products ({total} suggested), {} requests: \
         p50 **{:.1} ms**, p99 **{:.1} ms** (goal < 200 ms), max {:.1} ms",
        options.products,
        options.requests,
        ms(&suggestions, 0.5),
        ms(&suggestions, 0.99),
        suggestions.max() as f64 / 1000.0
    );
    pool.close().await;
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(())
}
