//! The gateway's own cost, in one run on one machine: p50/p99 of a barcode lookup
//! - through the gateway's REST side (`GET /api/v1/products/lookup`),
//! - through the gateway's gRPC mirror,
//! - from the catalog's gRPC directly,
//!
//! beside a bare axum handler answering a product-sized JSON body over the same HTTP
//! client (the floor of any HTTP request here). Goal: the gateway adds ≤ 1 ms at p99.
//!
//! `cargo run --release -p tillstream-benches --bin gateway-bench -- [--requests N]`

#![allow(clippy::float_arithmetic, reason = "rates and ratios, never money")]

use std::future::Future;
use std::time::Instant;

use hdrhistogram::Histogram;
use tillstream_access::Role;
use tillstream_benches::{micros_since, ms, parse_counts};
use tillstream_gateway::GatewaySettings;
use tillstream_proto::catalog::v1 as pb;
use tillstream_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use tillstream_service::{Launch, ServiceSettings};
use tillstream_test_support::grpc::{SIGNER, authed};
use tillstream_test_support::{TestDatabase, TestPrefix, eventually, stack_env, unique_name};
use tokio_util::sync::CancellationToken;

const BARCODE: &str = "4006381333931";

/// Runs `call` `count` times after a warm-up; the latencies in microseconds.
async fn timed<F, Fut>(count: usize, mut call: F) -> anyhow::Result<Histogram<u64>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    for _ in 0..200 {
        call().await?;
    }
    let mut histogram = Histogram::<u64>::new(3)?;
    for _ in 0..count {
        let started = Instant::now();
        call().await?;
        histogram.record(micros_since(started))?;
    }
    Ok(histogram)
}

async fn http_get(client: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<()> {
    let response = client.get(url).bearer_auth(token).send().await?;
    anyhow::ensure!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.bytes().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut requests = 5_000;
    parse_counts(&mut [("requests", &mut requests)])?;
    let prefix = TestPrefix::new();
    let env = stack_env(&prefix.prefix, &unique_name("bench"));
    let settings = ServiceSettings::from_lookup("catalog", "127.0.0.1:0", env)?;
    let _db = TestDatabase {
        server_url: settings.database_url.clone(),
        name: settings.database.clone(),
    };
    let stop = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let catalog_addr = listener.local_addr()?;
    tokio::spawn(tillstream_catalog::serve(Launch {
        settings,
        listener,
        shutdown: stop.clone(),
    }));

    let gateway_settings = GatewaySettings::from_lookup(|name| match name {
        "TILLSTREAM_CATALOG_ADDR" => Some(catalog_addr.to_string()),
        _ => None,
    })?;
    let mut state = tillstream_gateway::AppState::new(&gateway_settings);
    // One token drives every request: the per-user limit would measure itself.
    state.limits = std::sync::Arc::new(tillstream_gateway::limits::RateLimits::off());
    state.keys = tillstream_service::RefreshingKeys::pinned(SIGNER.key_set());
    let grpc_app = tillstream_gateway::grpc::router(&state, stop.child_token())?;
    let rest_app = tillstream_gateway::router(state);
    let serve = |app: axum::Router, listener: tokio::net::TcpListener| {
        let stop = stop.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
        })
    };
    let rest_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let rest_url = format!("http://{}", rest_listener.local_addr()?);
    serve(rest_app, rest_listener);
    let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let grpc_url = format!("http://{}", grpc_listener.local_addr()?);
    serve(grpc_app, grpc_listener);

    // The floor: a bare handler answering a product's JSON.
    let product_json = serde_json::json!({"id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P", "sku": "TEA", "name": "Green tea",
        "price": "3.50", "tax_rate": "0.08", "barcodes": [BARCODE], "category": null,
        "reorder_point": null, "status": "active", "version": 1});
    let bare = axum::Router::new().route(
        "/lookup",
        axum::routing::get(move || {
            let body = product_json.clone();
            async move { axum::Json(body) }
        }),
    );
    let bare_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_url = format!("http://{}/lookup", bare_listener.local_addr()?);
    serve(bare, bare_listener);

    let connect = |url: String| async move {
        let channel = tonic::transport::Channel::from_shared(url)?
            .tcp_nodelay(true)
            .connect()
            .await?;
        anyhow::Ok(CatalogServiceClient::new(authed(channel, Role::Manager)))
    };
    let direct = eventually("the catalog answers", || {
        let url = format!("http://{catalog_addr}");
        async move { connect(url).await.ok() }
    })
    .await;
    let mirror = connect(grpc_url).await?;
    direct
        .clone()
        .create_product(pb::CreateProductRequest {
            sku: "TEA".into(),
            name: "Green tea".into(),
            price: "3.50".into(),
            tax_rate: "0.08".into(),
            barcodes: vec![BARCODE.into()],
            ..Default::default()
        })
        .await?;
    let lookup = pb::LookupProductRequest {
        key: Some(pb::lookup_product_request::Key::Barcode(BARCODE.into())),
    };

    let client = reqwest::Client::builder().tcp_nodelay(true).build()?;
    let token = SIGNER.token(Role::Manager);
    let rest_lookup = format!("{rest_url}/api/v1/products/lookup?barcode={BARCODE}");
    let floor = timed(requests, || http_get(&client, &bare_url, &token)).await?;
    let through_rest = timed(requests, || http_get(&client, &rest_lookup, &token)).await?;
    let grpc_call = |client: &CatalogServiceClient<_>| {
        let (mut client, request) = (client.clone(), lookup.clone());
        async move {
            client.lookup_product(request).await?;
            anyhow::Ok(())
        }
    };
    let direct_grpc = timed(requests, || grpc_call(&direct)).await?;
    let through_mirror = timed(requests, || grpc_call(&mirror)).await?;

    println!("## The gateway's cost: a barcode lookup ({requests} sequential requests each)\n");
    println!("| path | p50 ms | p99 ms | max ms |\n|---|---|---|---|");
    for (name, h) in [
        ("bare axum handler, product JSON (HTTP floor)", &floor),
        ("catalog gRPC, direct", &direct_grpc),
        ("gateway REST `GET /api/v1/products/lookup`", &through_rest),
        ("gateway gRPC mirror", &through_mirror),
    ] {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} |",
            ms(h, 0.5),
            ms(h, 0.99),
            h.max() as f64 / 1000.0
        );
    }
    println!(
        "\nthe gateway adds at p99: REST **{:.2} ms**, gRPC mirror **{:.2} ms** over the direct call (goal ≤ 1 ms)",
        ms(&through_rest, 0.99) - ms(&direct_grpc, 0.99),
        ms(&through_mirror, 0.99) - ms(&direct_grpc, 0.99),
    );
    stop.cancel();
    Ok(())
}
