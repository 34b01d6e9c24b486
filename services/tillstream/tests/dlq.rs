//! `tillstream dlq list|replay|drop` against a real broker: a letter filed as a consumer
//! would file it is listed as JSON, and dropped or replayed by its sequence.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use async_nats::HeaderMap;
use tillstream_messaging::{
    Naming, StreamSettings, ensure_dead_letter_stream, ensure_service_stream, headers,
};
use tillstream_test_support::{TestPrefix, nats_url};
use tokio::process::Command;

async fn dlq(prefix: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tillstream"))
        .arg("dlq")
        .args(args)
        .env("TILLSTREAM_SUBJECT_PREFIX", prefix)
        .env("TILLSTREAM_NATS_URL", nats_url())
        .output()
        .await
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[tokio::test]
async fn dead_letters_are_listed_replayed_and_dropped_by_sequence() {
    let prefix = TestPrefix::new();
    let naming = Naming::new(prefix.prefix.clone()).unwrap();
    let js = async_nats::jetstream::new(async_nats::connect(&prefix.url).await.unwrap());
    ensure_dead_letter_stream(&js, &naming, &StreamSettings::default())
        .await
        .unwrap();
    // Where a replayed letter goes back to.
    ensure_service_stream(&js, &naming, "sales", &StreamSettings::default())
        .await
        .unwrap();
    let original = naming.event_subject("sales", "sale", "SaleCompleted");
    for n in 1..=2 {
        let mut h = HeaderMap::new();
        h.insert(headers::MSG_ID, format!("letter-{n}").as_str());
        h.insert(
            headers::ID,
            format!("01JD00000000000000000000{n:02}").as_str(),
        );
        h.insert(headers::TYPE, "tillstream.sales.v1.SaleCompleted");
        h.insert(headers::DLQ_REASON, "not protobuf");
        h.insert(headers::DLQ_CONSUMER, "t_ledger_sales");
        h.insert(headers::DLQ_SUBJECT, original.as_str());
        let subject = naming.dead_letter_subject("t_ledger_sales");
        js.publish_with_headers(subject, h, "garbage".into())
            .await
            .unwrap()
            .await
            .unwrap();
    }

    let (ok, listed, _) = dlq(&prefix.prefix, &["list"]).await;
    assert!(ok);
    let letters: Vec<serde_json::Value> = listed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(letters.len(), 2, "{listed}");
    assert_eq!(letters[0]["reason"], "not protobuf");
    assert_eq!(letters[0]["subject"], original.as_str());

    let first = letters[0]["sequence"].to_string();
    let second = letters[1]["sequence"].to_string();
    let (ok, _, said) = dlq(&prefix.prefix, &["drop", &first]).await;
    assert!(ok, "{said}");
    let (ok, _, said) = dlq(&prefix.prefix, &["replay", &second]).await;
    assert!(ok, "{said}");
    let (ok, listed, said) = dlq(&prefix.prefix, &["list"]).await;
    assert!(ok && listed.is_empty(), "{listed}");
    assert!(said.contains("no dead letters"));
    let (ok, _, said) = dlq(&prefix.prefix, &["drop", "999"]).await;
    assert!(!ok, "an unknown letter is an error: {said}");
}
