//! The sales benchmark, in one run on one machine, through the gateway as tills ring up
//! sales (1–4 lines, cash with change), against the real PostgreSQL and NATS: sales/s and
//! latency at 1, 16 and 64 concurrent tills, beside the event store's raw append rate at the
//! same concurrency, measured in the same run on the sales database.
//!
//! `cargo run --release -p tillstream-benches --bin sales-bench -- [--seconds N]`

#![allow(clippy::float_arithmetic, reason = "rates and ratios, never money")]

#[allow(
    dead_code,
    reason = "shared with the foundation benchmark, which uses all of it"
)]
mod appends;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tillstream_access::Role;
use tillstream_eventstore::EventStore;
use tillstream_gateway::GatewaySettings;
use tillstream_service::{Launch, ServiceSettings};
use tillstream_test_support::grpc::SIGNER;
use tillstream_test_support::{TestDatabase, TestPrefix, stack_env, unique_name};
use tokio_util::sync::CancellationToken;

const TILLS: [usize; 3] = [1, 16, 64];

/// The environment a service reads its settings from.
type Env = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;
const PRODUCTS: usize = 20;

fn seconds() -> anyhow::Result<u64> {
    let mut args = std::env::args().skip(1);
    let mut seconds = 10;
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--seconds" => seconds = value.parse().context("--seconds")?,
            other => anyhow::bail!("unknown option {other}; use --seconds N"),
        }
    }
    Ok(seconds)
}

async fn spawn_service(
    name: &'static str,
    env: &impl Fn() -> Env,
    stop: &CancellationToken,
    dbs: &mut Vec<TestDatabase>,
) -> anyhow::Result<(SocketAddr, ServiceSettings)> {
    let settings = ServiceSettings::from_lookup(name, "127.0.0.1:0", env())?;
    dbs.push(TestDatabase {
        server_url: settings.database_url.clone(),
        name: settings.database.clone(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (s, stop) = (settings.clone(), stop.clone());
    match name {
        "catalog" => drop(tokio::spawn(tillstream_catalog::serve(Launch {
            settings: s,
            listener,
            shutdown: stop,
        }))),
        "inventory" => drop(tokio::spawn(tillstream_inventory::serve(Launch {
            settings: s,
            listener,
            shutdown: stop,
        }))),
        _ => drop(tokio::spawn(tillstream_sales::serve(Launch {
            settings: s,
            listener,
            shutdown: stop,
        }))),
    }
    Ok((addr, settings))
}

/// A till's sale: 1–4 of the products, paid in cash with change.
fn sale(location: &str, n: usize) -> Value {
    let lines: Vec<Value> = (0..1 + n % 4)
        .map(
            |i| json!({"sku": format!("SKU-{:02}", (n * 7 + i) % PRODUCTS), "quantity": 1 + i % 2}),
        )
        .collect();
    json!({"location_id": location, "lines": lines,
           "payments": [{"method": "cash", "amount": "500.00"}]})
}

struct Run {
    sales: u64,
    errors: u64,
    elapsed: Duration,
    latency_us: Histogram<u64>,
}

async fn ring_up(
    base: &str,
    token: &str,
    location: &str,
    tills: usize,
    phase: Duration,
) -> anyhow::Result<Run> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + phase;
    let started = Instant::now();
    let tasks: Vec<_> = (0..tills)
        .map(|till| {
            let (client, url) = (client.clone(), format!("{base}/api/v1/sales"));
            let (token, location) = (token.to_owned(), location.to_owned());
            tokio::spawn(async move {
                let mut histogram = Histogram::<u64>::new(3)?;
                let (mut sales, mut errors) = (0u64, 0u64);
                let mut n = till;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let response = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&sale(&location, n))
                        .send()
                        .await?;
                    let ok = response.status().as_u16() == 201;
                    response.bytes().await?;
                    histogram.record(u64::try_from(t.elapsed().as_micros())?)?;
                    if ok {
                        sales += 1;
                    } else {
                        errors += 1;
                    }
                    n += tills;
                }
                anyhow::Ok((sales, errors, histogram))
            })
        })
        .collect();
    let mut run = Run {
        sales: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latency_us: Histogram::<u64>::new(3)?,
    };
    for task in tasks {
        let (sales, errors, histogram) = task.await??;
        run.sales += sales;
        run.errors += errors;
        run.latency_us.add(histogram)?;
    }
    run.elapsed = started.elapsed();
    Ok(run)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let phase = Duration::from_secs(seconds()?);
    let prefix = TestPrefix::new();
    let db_prefix = unique_name("bench");
    let env = || -> Env { Box::new(stack_env(&prefix.prefix, &db_prefix)) };
    let stop = CancellationToken::new();
    let mut dbs = Vec::new();
    let (catalog, _) = spawn_service("catalog", &env, &stop, &mut dbs).await?;
    let (inventory, _) = spawn_service("inventory", &env, &stop, &mut dbs).await?;
    let (sales, sales_settings) = spawn_service("sales", &env, &stop, &mut dbs).await?;
    let gateway_settings = GatewaySettings::from_lookup(|name| match name {
        "TILLSTREAM_CATALOG_ADDR" => Some(catalog.to_string()),
        "TILLSTREAM_INVENTORY_ADDR" => Some(inventory.to_string()),
        "TILLSTREAM_SALES_ADDR" => Some(sales.to_string()),
        _ => None,
    })?;
    let mut state = tillstream_gateway::AppState::new(&gateway_settings);
    // One token drives every request: the per-user limit would measure itself.
    state.limits = std::sync::Arc::new(tillstream_gateway::limits::RateLimits::off());
    state.keys = tillstream_service::RefreshingKeys::pinned(SIGNER.key_set());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = tillstream_gateway::router(state);
    tokio::spawn({
        let stop = stop.clone();
        async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
        }
    });

    let (manager, cashier) = (SIGNER.token(Role::Manager), SIGNER.token(Role::Cashier));
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(&manager)
            .json(&body)
            .send()
    };
    let location: Value = loop {
        match post("/api/v1/locations", json!({"code": "B1", "name": "Bench"})).await {
            Ok(r) if r.status().as_u16() == 201 => break r.json().await?,
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    let location = location["id"].as_str().context("a location id")?.to_owned();
    for i in 0..PRODUCTS {
        let product = json!({"sku": format!("SKU-{i:02}"), "name": format!("Product {i}"),
                             "price": format!("{}.{:02}", 1 + i, (i * 37) % 100), "tax_rate": "0.08"});
        let response = post("/api/v1/products", product).await?;
        anyhow::ensure!(response.status().as_u16() == 201, "product {i}");
    }
    // Ready once sales' copies know the location and every product.
    for n in 0..PRODUCTS {
        loop {
            let response = client
                .post(format!("{base}/api/v1/sales"))
                .bearer_auth(&cashier)
                .json(&sale(&location, n * 4))
                .send()
                .await?;
            if response.status().as_u16() == 201 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    let pool = sqlx::PgPool::connect(&format!(
        "{}/{}",
        sales_settings.database_url.trim_end_matches('/'),
        sales_settings.database
    ))
    .await?;
    let store = EventStore::new(pool);
    println!(
        "## Sales through the gateway ({} s per step)\n",
        phase.as_secs()
    );
    println!(
        "| tills | sales/s | p50 ms | p99 ms | max ms | errors | event-store appends/s, same writers | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    for tills in TILLS {
        let run = ring_up(&base, &cashier, &location, tills, phase).await?;
        let appends = appends::event_appends(&store, tills, phase).await?;
        let rate = run.sales as f64 / run.elapsed.as_secs_f64();
        println!(
            "| {tills} | {rate:.0} | {:.1} | {:.1} | {:.1} | {} | {:.0} | {:.2} |",
            ms(&run.latency_us, 0.5),
            ms(&run.latency_us, 0.99),
            run.latency_us.max() as f64 / 1000.0,
            run.errors,
            appends.per_second(),
            rate / appends.per_second()
        );
    }
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(dbs);
    Ok(())
}
