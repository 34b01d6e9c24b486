//! What an operator graphs moves when a sale is rung up: the gateway's request counter, the
//! sales service's gRPC counter and appended events, the consumers' applied events.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::json;
use tillstream_test_support::eventually;

use crate::api::Api;
use crate::system::System;

/// A `/metrics` page's samples, by their full name with labels as Prometheus prints them.
async fn scrape(url: &str) -> HashMap<String, f64> {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The sum of the samples of `metric` whose labels include every one of `labels`.
fn total(samples: &HashMap<String, f64>, metric: &str, labels: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|(name, _)| {
            name.split('{').next() == Some(metric) && labels.iter().all(|l| name.contains(l))
        })
        .map(|(_, value)| value)
        .sum()
}

#[tokio::test]
async fn a_sale_moves_the_counters_an_operator_graphs() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let shop = api
        .create(
            "/api/v1/locations",
            &admin,
            &json!({"code": "S1", "name": "Shop"}),
        )
        .await;
    api.create(
        "/api/v1/products",
        &admin,
        &json!({"sku": "TEA", "name": "Tea", "price": "3.50", "tax_rate": "0.08"}),
    )
    .await;
    let sale = json!({"location_id": shop["id"], "lines": [{"sku": "TEA", "quantity": 1}],
                      "payments": [{"method": "cash", "amount": "5.00"}]});
    // The first sale waits for sales' catalog copy; the second is the one measured.
    eventually("sales knows the tea", || async {
        let answer = api.post("/api/v1/sales", &admin, &sale).await;
        (answer.status == StatusCode::CREATED).then_some(())
    })
    .await;
    let (sales_url, ledger_url) = (
        &system.service_urls["sales"],
        &system.service_urls["ledger"],
    );
    let applied = [r#"outcome="applied""#, "_ledger_sales"];
    eventually("the first sale is posted", || async {
        (total(
            &scrape(ledger_url).await,
            "tillstream_consumer_events_total",
            &applied,
        ) >= 1.0)
            .then_some(())
    })
    .await;
    let before = (
        scrape(&system.url).await,
        scrape(sales_url).await,
        scrape(ledger_url).await,
    );

    api.create("/api/v1/sales", &admin, &sale).await;
    let after_ledger = eventually("the ledger applied the second sale", || async {
        let samples = scrape(ledger_url).await;
        (total(&samples, "tillstream_consumer_events_total", &applied)
            > total(&before.2, "tillstream_consumer_events_total", &applied))
        .then_some(samples)
    })
    .await;
    let (gateway, sales) = (scrape(&system.url).await, scrape(sales_url).await);

    let created = [
        r#"route="/api/v1/sales""#,
        r#"method="POST""#,
        r#"status="201""#,
    ];
    assert_eq!(
        total(&gateway, "http_requests_total", &created)
            - total(&before.0, "http_requests_total", &created),
        1.0
    );
    let grpc = [
        r#"method="/tillstream.sales.v1.SalesService/CreateSale""#,
        r#"code="0""#,
    ];
    assert_eq!(
        total(&sales, "grpc_server_requests_total", &grpc)
            - total(&before.1, "grpc_server_requests_total", &grpc),
        1.0
    );
    let appended = [r#"type="SaleCompleted""#];
    assert!(
        total(&sales, "tillstream_events_appended_total", &appended)
            > total(&before.1, "tillstream_events_appended_total", &appended)
    );
    assert!(
        total(&after_ledger, "tillstream_relay_published_total", &[])
            >= total(&before.2, "tillstream_relay_published_total", &[])
    );
    // The consumers' lag and dead-letter depth are reported.
    for gauge in ["tillstream_consumer_lag_events", "tillstream_dead_letters"] {
        assert!(
            after_ledger
                .keys()
                .any(|name| name.starts_with(gauge) && name.contains("_ledger_sales")),
            "{gauge} not among {:?}",
            after_ledger
                .keys()
                .filter(|k| k.contains("consumer") || k.contains("dead"))
                .collect::<Vec<_>>()
        );
    }
    // The latency histograms exist for the route and the method.
    assert!(
        total(
            &gateway,
            "http_request_duration_seconds_count",
            &[created[0]]
        ) >= 2.0
    );
    assert!(
        total(
            &sales,
            "grpc_server_request_duration_seconds_count",
            &[grpc[0]]
        ) >= 2.0
    );
}
