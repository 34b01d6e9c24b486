//! `tillstream seed demo` builds a store through the gateway, and `tillstream tail` shows its
//! events; a second run adds sales and nothing else twice.

use serde_json::Value;
use tillstream_test_support::{eventually, nats_url};
use tokio::process::Command;

use crate::api::Api;
use crate::system::System;

async fn seed(system: &System) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_tillstream"))
        .args(["seed", "demo", "--url", &system.url])
        .args(["--products", "40", "--days", "2", "--sales-per-day", "6"])
        .env("TILLSTREAM_ADMIN_PASSWORD", &system.admin_password)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn tail(system: &System, args: &[&str]) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_tillstream"))
        .args(["tail", "--from-start", "--no-follow"])
        .args(args)
        .env("TILLSTREAM_SUBJECT_PREFIX", &system.subject_prefix)
        .env("TILLSTREAM_NATS_URL", nats_url())
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn the_demo_store_is_built_and_its_events_can_be_tailed() {
    let system = System::up().await;
    let summary = seed(&system).await;
    // Two days, two locations, six sales each.
    assert_eq!(summary["sales"], 24, "{summary}");
    assert_eq!(summary["products"], 40);

    let api = Api::new(&system.url);
    let manager = api.login("mara", "demo-pass-123").await;
    let products = api.get("/api/v1/products?q=DEMO&limit=1", &manager).await;
    assert_eq!(products.body["meta"]["total"], 40);

    let sales = eventually("the relay published the demo's sales", || async {
        let sales = tail(&system, &["--service", "sales", "--type", "SaleCompleted"]).await;
        (sales.len() == 24).then_some(sales)
    })
    .await;
    assert!(sales.iter().all(|s| s["data"]["sale"]["total"].is_string()));
    let stock = tail(&system, &["--service", "inventory", "--type", "StockSold"]).await;
    assert!(!stock.is_empty(), "inventory reacted to the demo's sales");

    // Again: another 24 sales; staff, locations and products are not doubled.
    let again = seed(&system).await;
    assert_eq!(again["sales"], 24);
    let products = api.get("/api/v1/products?q=DEMO&limit=1", &manager).await;
    assert_eq!(products.body["meta"]["total"], 40);
}
