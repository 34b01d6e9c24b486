//! `tillstream tail` prints a stack's events as JSON lines with their protobuf data decoded,
//! filtered by service and type, and nothing of another stack's.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use serde_json::Value;
use tillstream_test_support::sales_events::{SalesEvent, publish, two_line_sale};
use tillstream_test_support::{TestPrefix, nats_url};
use tokio::process::Command;

async fn tail(prefix: &TestPrefix, args: &[&str]) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_tillstream"))
        .args(["tail", "--from-start", "--no-follow"])
        .args(args)
        .env("TILLSTREAM_SUBJECT_PREFIX", &prefix.prefix)
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
async fn events_are_json_lines_with_their_data_decoded_and_filtered_by_type() {
    let (ours, theirs) = (TestPrefix::new(), TestPrefix::new());
    let sale = SalesEvent::completed(two_line_sale("LOC-1", "2026-11-24", 1));
    let void = SalesEvent::voided(&sale.sale_id);
    publish(&ours.url, &ours.prefix, std::slice::from_ref(&sale), "")
        .await
        .unwrap();
    publish(&ours.url, &ours.prefix, std::slice::from_ref(&void), "")
        .await
        .unwrap();
    let stranger = SalesEvent::completed(two_line_sale("LOC-2", "2026-11-24", 2));
    publish(&theirs.url, &theirs.prefix, &[stranger], "")
        .await
        .unwrap();

    let lines = tail(&ours, &[]).await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    let completed = &lines[0];
    assert_eq!(completed["id"], sale.event_id.as_str());
    assert_eq!(completed["type"], "tillstream.sales.v1.SaleCompleted");
    assert_eq!(completed["subject"], format!("sale-{}", sale.sale_id));
    assert_eq!(completed["data"]["sale"]["id"], sale.sale_id.as_str());
    assert_eq!(completed["data"]["sale"]["total"], "22.00");
    assert_eq!(completed["data"]["sale"]["payments"][0]["method"], "card");

    let voids = tail(&ours, &["--service", "sales", "--type", "SaleVoided"]).await;
    assert_eq!(voids.len(), 1, "{voids:?}");
    assert_eq!(voids[0]["data"]["sale_id"], sale.sale_id.as_str());
}
