//! The inventory benchmark, in one run on one machine, against the real PostgreSQL and NATS:
//! - catching up a backlog: N sale events published while inventory is stopped, then the
//!   time until every one is a movement (movements/s), beside PostgreSQL's raw single-row
//!   insert commit rate measured in the same run;
//! - command latency on a stock item with N movements (the one those sales hit) against a
//!   fresh one (goal: a p50 ratio ≤ 1.5; snapshots keep the load bounded).
//!
//! `cargo run --release -p tillstream-benches --bin inventory-bench -- [--sales N] [--commands N]`

#![allow(clippy::float_arithmetic, reason = "rates and ratios, never money")]

use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use tillstream_benches::{ms, parse_counts, raw_insert_rate};
use tillstream_proto::catalog::v1 as catalog;
use tillstream_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use tillstream_proto::inventory::v1 as pb;
use tillstream_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use tillstream_proto::sales::v1 as sales;
use tillstream_service::{Launch, ServiceSettings};
use tillstream_test_support::grpc::{Authed, connect_as_admin};
use tillstream_test_support::sales_events::{SalesEvent, publish};
use tillstream_test_support::{TestDatabase, TestPrefix, stack_env, unique_name};
use tokio_util::sync::CancellationToken;

struct Options {
    sales: usize,
    commands: usize,
}

fn options() -> anyhow::Result<Options> {
    let (mut sales, mut commands) = (100_000, 1_000);
    parse_counts(&mut [("sales", &mut sales), ("commands", &mut commands)])?;
    Ok(Options { sales, commands })
}

/// Starts inventory on a fresh port; the client once it answers.
async fn start_inventory(
    settings: &ServiceSettings,
    stop: &CancellationToken,
) -> anyhow::Result<InventoryServiceClient<Authed>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(tillstream_inventory::serve(Launch {
        settings: settings.clone(),
        listener,
        shutdown: stop.clone(),
    }));
    for _ in 0..100 {
        if let Some(channel) = connect_as_admin(url.clone()).await {
            let mut client = InventoryServiceClient::new(channel);
            if client
                .list_locations(pb::ListLocationsRequest {})
                .await
                .is_ok()
            {
                return Ok(client);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("inventory did not start")
}

async fn publish_sales(
    prefix: &TestPrefix,
    location: &str,
    product: &str,
    count: usize,
) -> anyhow::Result<()> {
    let events: Vec<SalesEvent> = (0..count)
        .map(|_| {
            SalesEvent::completed(sales::Sale {
                id: ulid::Ulid::generate().to_string(),
                location_id: location.into(),
                lines: vec![sales::SaleLine {
                    line_no: 1,
                    product_id: product.into(),
                    quantity: "1".into(),
                    ..Default::default()
                }],
                ..Default::default()
            })
        })
        .collect();
    publish(&prefix.url, &prefix.prefix, &events, "").await
}

async fn on_hand(
    inventory: &mut InventoryServiceClient<Authed>,
    location: &str,
    product: &str,
) -> anyhow::Result<String> {
    let levels = inventory
        .get_stock(pb::GetStockRequest {
            location_id: location.into(),
            product_id: product.into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .levels;
    Ok(levels
        .first()
        .map(|l| l.on_hand.clone())
        .unwrap_or_default())
}

async fn adjust_latency(
    inventory: &mut InventoryServiceClient<Authed>,
    location: &str,
    product: &str,
    commands: usize,
) -> anyhow::Result<Histogram<u64>> {
    let mut histogram = Histogram::<u64>::new(3)?;
    for i in 0..commands {
        let request = pb::AdjustStockRequest {
            location_id: location.into(),
            product_id: product.into(),
            delta: if i % 2 == 0 { "1" } else { "-1" }.into(),
            reason: "bench".into(),
            ..Default::default()
        };
        let started = Instant::now();
        inventory.adjust_stock(request).await?;
        histogram.record(u64::try_from(started.elapsed().as_micros())?)?;
    }
    Ok(histogram)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let prefix = TestPrefix::new();
    let env = stack_env(&prefix.prefix, &unique_name("bench"));
    let catalog_settings = ServiceSettings::from_lookup("catalog", "127.0.0.1:0", env.clone())?;
    let settings = ServiceSettings::from_lookup("inventory", "127.0.0.1:0", env)?;
    let _dbs = [&catalog_settings, &settings].map(|s| TestDatabase {
        server_url: s.database_url.clone(),
        name: s.database.clone(),
    });
    let stop = CancellationToken::new();
    let catalog_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let catalog_url = format!("http://{}", catalog_listener.local_addr()?);
    tokio::spawn(tillstream_catalog::serve(Launch {
        settings: catalog_settings,
        listener: catalog_listener,
        shutdown: stop.clone(),
    }));
    let first_run = stop.child_token();
    let mut inventory = start_inventory(&settings, &first_run).await?;
    let mut catalog = CatalogServiceClient::new(
        connect_as_admin(catalog_url)
            .await
            .context("catalog answers")?,
    );
    let location = inventory
        .create_location(pb::CreateLocationRequest {
            code: "BENCH".into(),
            name: "Bench".into(),
        })
        .await?
        .into_inner()
        .id;
    let mut products = Vec::new();
    for sku in ["HOT", "FRESH"] {
        let id = catalog
            .create_product(catalog::CreateProductRequest {
                sku: sku.into(),
                name: sku.into(),
                price: "1.00".into(),
                tax_rate: "0".into(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .id;
        // Known once a receipt of it is accepted.
        let receipt = pb::ReceiveStockRequest {
            location_id: location.clone(),
            lines: vec![pb::ReceiptLine {
                product_id: id.clone(),
                quantity: "1000000".into(),
                unit_cost: "0.50".into(),
            }],
            ..Default::default()
        };
        while inventory.receive_stock(receipt.clone()).await.is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        products.push(id);
    }
    let (hot, fresh) = (products[0].clone(), products[1].clone());
    let raw = raw_insert_rate(&settings, 2_000).await?;

    // A backlog: sales rung up while inventory was down.
    first_run.cancel();
    tokio::time::sleep(Duration::from_millis(500)).await;
    publish_sales(&prefix, &location, &hot, options.sales).await?;
    let started = Instant::now();
    let mut inventory = start_inventory(&settings, &stop.child_token()).await?;
    let expected = (1_000_000 - options.sales).to_string();
    while on_hand(&mut inventory, &location, &hot).await? != expected {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let rate = options.sales as f64 / seconds;
    println!("## Inventory ({} sale events of one item)\n", options.sales);
    println!(
        "backlog caught up: {} movements in {seconds:.1} s = **{rate:.0} movements/s**; \
         PostgreSQL raw single-row insert commits: {raw:.0}/s (ratio {:.2})\n",
        options.sales,
        rate / raw
    );

    let fresh_latency = adjust_latency(&mut inventory, &location, &fresh, options.commands).await?;
    let hot_latency = adjust_latency(&mut inventory, &location, &hot, options.commands).await?;
    println!("| adjustment on | p50 ms | p99 ms | max ms |\n|---|---|---|---|");
    for (name, h) in [
        ("a fresh item (baseline)", &fresh_latency),
        (
            &*format!("an item with {} movements", options.sales),
            &hot_latency,
        ),
    ] {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} |",
            ms(h, 0.5),
            ms(h, 0.99),
            h.max() as f64 / 1000.0
        );
    }
    println!(
        "\np50 ratio long / fresh: **{:.2}** (goal ≤ 1.5)",
        ms(&hot_latency, 0.5) / ms(&fresh_latency, 0.5)
    );
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(())
}
