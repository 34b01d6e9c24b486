//! `tillstream streams` lists the stack's streams and its consumers' lag, and nothing of
//! another stack's.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use async_nats::jetstream::consumer::pull;
use tillstream_messaging::{Naming, StreamSettings, ensure_service_stream};
use tillstream_test_support::{TestPrefix, nats_url};
use tokio::process::Command;

#[tokio::test]
async fn streams_and_consumer_lag_are_listed_as_json_lines() {
    let (ours, theirs) = (TestPrefix::new(), TestPrefix::new());
    let js = async_nats::jetstream::new(async_nats::connect(&ours.url).await.unwrap());
    for prefix in [&ours, &theirs] {
        let naming = Naming::new(prefix.prefix.clone()).unwrap();
        ensure_service_stream(&js, &naming, "sales", &StreamSettings::default())
            .await
            .unwrap();
    }
    let naming = Naming::new(ours.prefix.clone()).unwrap();
    for n in 0..3 {
        js.publish(
            naming.event_subject("sales", "sale", "SaleCompleted"),
            format!("{n}").into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }
    let stream = js.get_stream(naming.service_stream("sales")).await.unwrap();
    let durable = naming.consumer("ledger", "sales");
    stream
        .create_consumer(pull::Config {
            durable_name: Some(durable.clone()),
            ..Default::default()
        })
        .await
        .unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_tillstream"))
        .arg("streams")
        .env("TILLSTREAM_SUBJECT_PREFIX", &ours.prefix)
        .env("TILLSTREAM_NATS_URL", nats_url())
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        2,
        "our stream and its consumer only: {lines:?}"
    );
    assert_eq!(lines[0]["stream"], naming.service_stream("sales"));
    assert_eq!(lines[0]["messages"], 3);
    assert_eq!(
        (&lines[1]["consumer"], &lines[1]["pending"]),
        (&serde_json::json!(durable), &serde_json::json!(3))
    );
}
