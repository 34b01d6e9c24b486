//! Relay and projection throughput over a pre-filled store.

use std::sync::Arc;
use std::time::Instant;

use async_nats::jetstream;
use serde_json::json;
use tillstream_eventstore::{AppendRequest, EventStore, NewEvent};
use tillstream_messaging::{
    JsonWire, Naming, Relay, RelayConfig, StreamSettings, ensure_service_stream,
};
use tillstream_projection::{ProjectionRunner, RunnerConfig, SkuIndex};
use tillstream_test_support::TestPrefix;

/// `events` events in streams of ten, appended ten at a time.
pub async fn seed(store: &EventStore, events: usize) -> anyhow::Result<()> {
    let batches = events.div_ceil(10);
    let tasks: Vec<_> = (0..8)
        .map(|worker| {
            let store = store.clone();
            tokio::spawn(async move {
                for batch in (worker..batches).step_by(8) {
                    let events = (0..10)
                        .map(|i| {
                            NewEvent::new(
                                "StockSold",
                                &json!({"sku": format!("SKU-{batch}"), "n": i, "quantity": "1"}),
                            )
                        })
                        .collect::<Result<_, _>>()?;
                    store
                        .append(AppendRequest::new(format!("stock-{batch}"), 0, events))
                        .await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// The broker's own rate for the same message count, for the relay's ratio: bare, and with
/// the CloudEvents headers the relay sends (`with_headers`).
pub async fn jetstream_publish_baseline(
    prefix: &TestPrefix,
    events: usize,
    with_headers: bool,
) -> anyhow::Result<f64> {
    let client = async_nats::connect(&prefix.url).await?;
    let js = jetstream::new(client);
    let naming = Naming::new(prefix.prefix.clone()).map_err(anyhow::Error::msg)?;
    let service = if with_headers {
        "baseline_headers"
    } else {
        "baseline"
    };
    ensure_service_stream(&js, &naming, service, &StreamSettings::default()).await?;
    let subject = naming.event_subject(service, "stock", "StockSold");
    let payload = bytes::Bytes::from(serde_json::to_vec(
        &json!({"sku": "SKU-1", "n": 1, "quantity": "1"}),
    )?);
    let started = Instant::now();
    for chunk in (0..events).collect::<Vec<_>>().chunks(1000) {
        let mut acks = Vec::with_capacity(chunk.len());
        for n in chunk {
            let mut publish = jetstream::message::PublishMessage::build().payload(payload.clone());
            if with_headers {
                publish = publish.headers(cloudevent_headers(*n));
            }
            let publish = publish.message_id(format!("baseline-{n}"));
            acks.push(js.send_publish(subject.clone(), publish).await?);
        }
        for ack in acks {
            ack.await?;
        }
    }
    Ok(events as f64 / started.elapsed().as_secs_f64())
}

pub async fn relay(store: &EventStore, prefix: &TestPrefix, events: usize) -> anyhow::Result<f64> {
    let client = async_nats::connect(&prefix.url).await?;
    let naming = Naming::new(prefix.prefix.clone()).map_err(anyhow::Error::msg)?;
    let config = RelayConfig::new("inventory", naming);
    let relay = Relay::new(
        store.clone(),
        client.clone(),
        Arc::new(JsonWire),
        config.clone(),
    );
    relay.ensure_stream().await?;
    // The running relay, as a service runs it, until it has published everything.
    let started = Instant::now();
    let stop = tokio_util::sync::CancellationToken::new();
    let watch = Relay::new(
        store.clone(),
        client.clone(),
        Arc::new(JsonWire),
        config.clone(),
    );
    let running = tokio::spawn(relay.run(stop.clone()));
    let head = store.head().await?;
    // The checkpoint moves only after the broker acknowledged, so this is delivered events.
    while watch.position().await?.0 < head {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let rate = events as f64 / started.elapsed().as_secs_f64();
    stop.cancel();
    running.await?;
    Ok(rate)
}

pub async fn projection(store: &EventStore, events: usize) -> anyhow::Result<f64> {
    let runner = ProjectionRunner::new(store.clone(), SkuIndex::default(), RunnerConfig::default());
    runner.init().await?;
    let started = Instant::now();
    let mut applied = 0;
    while applied < events {
        let n = runner.apply_batch().await?;
        anyhow::ensure!(n > 0, "the projection stopped at {applied} of {events}");
        applied += n;
    }
    Ok(applied as f64 / started.elapsed().as_secs_f64())
}

/// Headers the size and number of the relay's.
fn cloudevent_headers(n: usize) -> async_nats::HeaderMap {
    let mut h = async_nats::HeaderMap::new();
    let id = ulid::Ulid::generate().to_string();
    h.insert("ce-specversion", "1.0");
    h.insert("ce-id", id.as_str());
    h.insert("ce-type", "tillstream.inventory.v1.StockSold");
    h.insert("ce-source", "/tillstream/inventory");
    h.insert("ce-time", "2026-11-24T10:46:11.123456Z");
    h.insert("ce-subject", format!("stock-{n}").as_str());
    h.insert("ce-datacontenttype", "application/json");
    h.insert(
        "ce-dataschema",
        "/schemas/tillstream.inventory.v1.StockSold.json",
    );
    h.insert("ce-streamversion", "1");
    h.insert("Tillstream-Log-Cursor", format!("123456.{n}").as_str());
    h
}
