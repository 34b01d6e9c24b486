//! The catalog benchmark, in one run on one machine, through the gateway as a back office
//! and a till would use it, against the real PostgreSQL and NATS:
//! - a 100,000-row CSV import until every row is searchable (rows/s);
//! - barcode lookup and name search latency (p50/p99) with that many products, beside a bare
//!   `GET /healthz` on the same gateway (the HTTP floor).
//!
//! `cargo run --release -p tillstream-benches --bin catalog-bench -- [--rows N] [--requests N]`

#![allow(clippy::float_arithmetic, reason = "rates and ratios, never money")]

use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use tillstream_access::Role;
use tillstream_benches::{ms, parse_counts};
use tillstream_catalog::domain::barcode::in_store_ean13;
use tillstream_gateway::GatewaySettings;
use tillstream_service::{Launch, ServiceSettings};
use tillstream_test_support::grpc::SIGNER;
use tillstream_test_support::{TestDatabase, TestPrefix, stack_env, unique_name};
use tokio_util::sync::CancellationToken;

struct Options {
    rows: usize,
    requests: usize,
}

fn options() -> anyhow::Result<Options> {
    let (mut rows, mut requests) = (100_000, 2_000);
    parse_counts(&mut [("rows", &mut rows), ("requests", &mut requests)])?;
    Ok(Options { rows, requests })
}

async fn timed(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    requests: usize,
) -> anyhow::Result<Histogram<u64>> {
    let mut histogram = Histogram::<u64>::new(3)?;
    for _ in 0..requests {
        let started = Instant::now();
        let response = client.get(url).bearer_auth(token).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        response.bytes().await?;
        histogram.record(u64::try_from(started.elapsed().as_micros())?)?;
    }
    Ok(histogram)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let prefix = TestPrefix::new();
    let env = stack_env(&prefix.prefix, &unique_name("bench"));
    let settings = ServiceSettings::from_lookup("catalog", "127.0.0.1:0", env)?;
    let _db = TestDatabase {
        server_url: settings.database_url.clone(),
        name: settings.database.clone(),
    };
    let stop = CancellationToken::new();
    let catalog_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let catalog_addr = catalog_listener.local_addr()?;
    let catalog = tokio::spawn(tillstream_catalog::serve(Launch {
        settings,
        listener: catalog_listener,
        shutdown: stop.clone(),
    }));
    let gateway_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let gateway_addr = gateway_listener.local_addr()?;
    let gateway_settings = GatewaySettings::from_lookup(|name| match name {
        "TILLSTREAM_CATALOG_ADDR" => Some(catalog_addr.to_string()),
        _ => None,
    })?;
    let mut state = tillstream_gateway::AppState::new(&gateway_settings);
    // One token drives every request: the per-user limit would measure itself.
    state.limits = std::sync::Arc::new(tillstream_gateway::limits::RateLimits::off());
    // The services trust the test key (`TILLSTREAM_JWKS` from `stack_env`); so does the gateway.
    state.keys = tillstream_service::RefreshingKeys::pinned(SIGNER.key_set());
    let app = tillstream_gateway::router(state);
    let gateway = tokio::spawn({
        let stop = stop.clone();
        async move {
            axum::serve(gateway_listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
        }
    });
    let base = format!("http://{gateway_addr}");
    let token = SIGNER.token(Role::Manager);
    let client = reqwest::Client::new();

    let mut csv = String::from("sku,name,price,tax_rate,barcode,category\n");
    for i in 0..options.rows {
        csv.push_str(&format!(
            "SKU-{i:06},Product {i} café,{}.{:02},0.08,{},Cat {}\n",
            1 + i % 50,
            i % 100,
            in_store_ean13(i),
            i % 40
        ));
    }
    println!(
        "## Catalog through the gateway ({} products)\n",
        options.rows
    );
    let started = Instant::now();
    let queued: serde_json::Value = loop {
        let response = client
            .post(format!("{base}/api/v1/products/imports"))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(csv.clone())
            .send()
            .await;
        match response {
            Ok(r) if r.status().as_u16() == 202 => break r.json().await?,
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let id = queued["id"].as_str().context("an import id")?.to_owned();
    loop {
        let job: serde_json::Value = client
            .get(format!("{base}/api/v1/products/imports/{id}"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        if job["status"] == "completed" {
            break;
        }
        anyhow::ensure!(
            job["status"] != "completed_with_errors",
            "rows failed: {job}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let last = format!("{base}/api/v1/products?q=SKU-{:06}", options.rows - 1);
    let found: serde_json::Value = client
        .get(&last)
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(found["meta"]["total"] == 1, "the last row is searchable");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "import until searchable: {} rows in {seconds:.1} s = **{:.0} rows/s**\n",
        options.rows,
        options.rows as f64 / seconds
    );

    let floor = timed(
        &client,
        &format!("{base}/healthz"),
        &token,
        options.requests,
    )
    .await?;
    let lookup = timed(
        &client,
        &format!(
            "{base}/api/v1/products/lookup?barcode={}",
            in_store_ean13(options.rows / 2)
        ),
        &token,
        options.requests,
    )
    .await?;
    let search = timed(
        &client,
        &format!(
            "{base}/api/v1/products?q=product%20{}%20caf&limit=20",
            options.rows / 3
        ),
        &token,
        options.requests / 4,
    )
    .await?;
    println!("| request | p50 ms | p99 ms | max ms |\n|---|---|---|---|");
    for (name, h) in [
        ("`GET /healthz` (baseline)", &floor),
        ("barcode lookup", &lookup),
        ("name search (substring, accent-folded)", &search),
    ] {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} |",
            ms(h, 0.5),
            ms(h, 0.99),
            h.max() as f64 / 1000.0
        );
    }
    stop.cancel();
    let _ = gateway.await;
    let _ = catalog.await;
    Ok(())
}
