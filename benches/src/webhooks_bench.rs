//! The webhooks benchmark, in one run on one machine: how fast the webhooks service delivers
//! to a local receiver, beside the rate the same receiver takes bare POSTs at with as many in
//! flight; and how long after a sale is answered its `SaleCompleted` webhook arrives, beside
//! how long after it the event reaches a plain NATS subscriber (the bus's share of it).
//!
//! `cargo run --release -p tillstream-benches --bin webhooks-bench -- [--sales N] [--subscriptions N] [--rate N] [--seconds N]`

#![allow(clippy::float_arithmetic, reason = "rates and ratios, never money")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::body::Bytes;
use axum::http::HeaderMap;
use futures::StreamExt;
use hdrhistogram::Histogram;
use tillstream_access::Role;
use tillstream_benches::sales_stack::{SalesStack, sale};
use tillstream_benches::{ms, parse_counts};
use tillstream_proto::webhooks::v1 as pb;
use tillstream_proto::webhooks::v1::webhooks_service_client::WebhooksServiceClient;
use tillstream_test_support::grpc::authed;
use tokio_util::sync::CancellationToken;

const PRODUCTS: usize = 10;
const SALE_COMPLETED: &str = "tillstream.sales.v1.SaleCompleted";

/// When each webhook arrived, by sale id.
type Arrivals = Arc<Mutex<HashMap<String, Vec<Instant>>>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut sales, mut subscriptions, mut rate, mut seconds) = (300, 10, 20, 20);
    parse_counts(&mut [
        ("sales", &mut sales),
        ("subscriptions", &mut subscriptions),
        ("rate", &mut rate),
        ("seconds", &mut seconds),
    ])?;
    let mut stack = SalesStack::start(PRODUCTS).await?;
    let arrivals: Arrivals = Arc::default();
    let receiver = receiver(arrivals.clone()).await?;

    // Deliveries per second: `subscriptions` subscriptions to SaleCompleted, `sales` sales
    // rung up while the webhooks service is stopped, then the service started on the backlog.
    let mut settings = stack.settings_for("webhooks")?;
    settings.webhooks_allow_private = true;
    let first_run = CancellationToken::new();
    let url = start_webhooks(&settings, first_run.clone()).await?;
    let mut client = WebhooksServiceClient::new(connect(&url).await?);
    for _ in 0..subscriptions {
        client
            .create_subscription(pb::CreateSubscriptionRequest {
                url: receiver.clone(),
                event_types: vec![SALE_COMPLETED.into()],
                ..Default::default()
            })
            .await?;
    }
    first_run.cancel();
    tokio::time::sleep(Duration::from_millis(500)).await;
    for n in 0..sales {
        let body = sale(&stack.location, n, PRODUCTS);
        let (status, answer) = stack.post(&stack.cashier, "/api/v1/sales", &body).await?;
        anyhow::ensure!(status == 201, "sale {n}: {answer}");
    }
    arrivals
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clear();
    let expected = sales * subscriptions;
    let started = Instant::now();
    let second_run = CancellationToken::new();
    let url = start_webhooks(&settings, second_run.clone()).await?;
    let delivered_in = wait_for(&arrivals, expected, Duration::from_secs(600)).await?;
    let delivery_rate = expected as f64 / delivered_in.as_secs_f64();
    let bare_rate = bare_post_rate(&receiver, expected, 64).await?;
    println!(
        "## Deliveries to a local receiver ({sales} sales × {subscriptions} subscriptions, from a backlog)\n"
    );
    println!("| path | deliveries | seconds | per second |");
    println!("|---|---|---|---|");
    println!(
        "| webhooks service (consume, queue, claim, sign, POST, record) | {expected} | {:.1} | {delivery_rate:.0} |",
        delivered_in.as_secs_f64()
    );
    println!(
        "| bare POSTs to the same receiver, 64 in flight (baseline) | {expected} | {:.1} | {bare_rate:.0} |",
        expected as f64 / bare_rate
    );
    println!(
        "\nthe service delivers at {:.1} % of the bare rate (first delivery after {:.2} s)\n",
        delivery_rate / bare_rate * 100.0,
        started.elapsed().as_secs_f64() - delivered_in.as_secs_f64()
    );

    // Sale to webhook: one subscription (the rest removed), a till at `rate` sales/s.
    let mut client = WebhooksServiceClient::new(connect(&url).await?);
    let listed = client
        .list_subscriptions(pb::ListSubscriptionsRequest {
            page: 1,
            limit: 200,
        })
        .await?
        .into_inner();
    for subscription in listed.subscriptions.iter().skip(1) {
        client
            .delete_subscription(pb::DeleteSubscriptionRequest {
                id: subscription.id.clone(),
            })
            .await?;
    }
    arrivals
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clear();
    let (webhook, bus, count) = sale_to_webhook(&mut stack, &arrivals, rate, seconds).await?;
    println!("## From a sale's answer to its webhook ({count} sales at {rate}/s)\n");
    println!("| arrives at | p50 ms | p99 ms |");
    println!("|---|---|---|");
    println!(
        "| a plain NATS subscriber (the bus: relay and JetStream) | {:.1} | {:.1} |",
        ms(&bus, 0.5),
        ms(&bus, 0.99)
    );
    println!(
        "| the webhook receiver (bus, consumer, queue, send) | {:.1} | {:.1} |",
        ms(&webhook, 0.5),
        ms(&webhook, 0.99)
    );
    println!(
        "\nthe webhook adds {:.1} ms at p50 and {:.1} ms at p99 to the bus",
        ms(&webhook, 0.5) - ms(&bus, 0.5),
        ms(&webhook, 0.99) - ms(&bus, 0.99)
    );
    second_run.cancel();
    stack.stop().await;
    Ok(())
}

async fn start_webhooks(
    settings: &tillstream_service::ServiceSettings,
    stop: CancellationToken,
) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let launch = tillstream_service::Launch {
        settings: settings.clone(),
        listener,
        shutdown: stop,
    };
    tokio::spawn(tillstream_webhooks::serve(launch));
    Ok(url)
}

async fn connect(url: &str) -> anyhow::Result<tillstream_test_support::grpc::Authed> {
    for _ in 0..100 {
        if let Ok(channel) = tonic::transport::Channel::from_shared(url.to_owned())?
            .connect()
            .await
        {
            return Ok(authed(channel, Role::Admin));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the webhooks service does not answer at {url}")
}

/// A receiver on loopback answering 204 at once and noting when each sale's webhook came.
async fn receiver(arrivals: Arrivals) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |_: HeaderMap, body: Bytes| {
            let arrivals = arrivals.clone();
            async move {
                let at = Instant::now();
                let sale_id = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|event| event["data"]["sale"]["id"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                if let Ok(mut arrivals) = arrivals.lock() {
                    arrivals.entry(sale_id).or_default().push(at);
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

fn arrived(arrivals: &Arrivals) -> usize {
    arrivals
        .lock()
        .map(|a| a.values().map(Vec::len).sum())
        .unwrap_or(0)
}

/// How long until `count` webhooks have arrived.
async fn wait_for(
    arrivals: &Arrivals,
    count: usize,
    patience: Duration,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut first = None;
    while arrived(arrivals) < count {
        if first.is_none() && arrived(arrivals) > 0 {
            first = Some(started.elapsed());
        }
        anyhow::ensure!(
            started.elapsed() < patience,
            "{} of {count} delivered",
            arrived(arrivals)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // From the first delivery to the last: the service's start-up is not its rate.
    Ok(started.elapsed() - first.unwrap_or_default())
}

/// Bare POSTs of a delivery-sized body to `url`, `in_flight` at once: the receiver's rate.
async fn bare_post_rate(url: &str, count: usize, in_flight: usize) -> anyhow::Result<f64> {
    let client = reqwest::Client::new();
    let body = Bytes::from(vec![b'x'; 2_000]);
    let started = Instant::now();
    let posts = futures::stream::iter(0..count).map(|_| {
        let request = client
            .post(url)
            .header("content-type", "application/cloudevents+json")
            .body(body.clone());
        async move { request.send().await }
    });
    let mut posts = posts.buffer_unordered(in_flight);
    while let Some(answer) = posts.next().await {
        answer.context("a bare POST")?;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// A till at `rate` sales/s for `seconds`: each sale's delay to its webhook, and to a plain
/// subscriber of the sales subject.
async fn sale_to_webhook(
    stack: &mut SalesStack,
    arrivals: &Arrivals,
    rate: usize,
    seconds: usize,
) -> anyhow::Result<(Histogram<u64>, Histogram<u64>, usize)> {
    let settings = stack.settings_for("sales")?;
    let nats = async_nats::connect(&settings.nats_url).await?;
    let mut subject = nats
        .subscribe(format!(
            "{}.sales.sale.SaleCompleted",
            settings.naming.prefix()
        ))
        .await?;
    let on_bus: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let seen = on_bus.clone();
    let watcher = tokio::spawn(async move {
        while let Some(message) = subject.next().await {
            // The data is protobuf: the sale id is its first string, found by the receiver's
            // JSON instead; here the subject's `ce-subject` header names the sale.
            let sale = message
                .headers
                .as_ref()
                .and_then(|h| h.get("ce-subject"))
                .map(|v| v.as_str().trim_start_matches("sale-").to_owned())
                .unwrap_or_default();
            if let Ok(mut seen) = seen.lock() {
                seen.insert(sale, Instant::now());
            }
        }
    });
    let mut answered = HashMap::new();
    let pause = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let until = Instant::now() + Duration::from_secs(seconds as u64);
    let mut n = 0;
    while Instant::now() < until {
        let body = sale(&stack.location, n, PRODUCTS);
        let (status, sale) = stack.post(&stack.cashier, "/api/v1/sales", &body).await?;
        anyhow::ensure!(status == 201, "{sale}");
        answered.insert(
            sale["id"].as_str().unwrap_or_default().to_owned(),
            Instant::now(),
        );
        n += 1;
        tokio::time::sleep(pause).await;
    }
    wait_for(arrivals, answered.len(), Duration::from_secs(60)).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    watcher.abort();
    let (mut webhook, mut bus) = (Histogram::<u64>::new(3)?, Histogram::<u64>::new(3)?);
    let arrivals = arrivals.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let on_bus = on_bus.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    for (sale, at) in &answered {
        if let Some(first) = arrivals.get(sale).and_then(|a| a.first()) {
            webhook.record(delay(*at, *first))?;
        }
        if let Some(seen) = on_bus.get(sale) {
            bus.record(delay(*at, *seen))?;
        }
    }
    Ok((webhook, bus, answered.len()))
}

/// Microseconds from `from` to `to`; 0 when `to` came first (the event can beat the answer).
fn delay(from: Instant, to: Instant) -> u64 {
    u64::try_from(to.saturating_duration_since(from).as_micros()).unwrap_or(u64::MAX)
}
