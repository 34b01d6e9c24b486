//! Adjustments, counts, transfers, the history and levels at a past moment, alerts.

use futures::StreamExt;
use tillstream_messaging::{Naming, headers};
use tillstream_proto::inventory::v1 as pb;
use tillstream_service::grpc::field_of;
use tonic::Code;

use crate::start;

fn adjustment(location: &str, product: &str, delta: &str, reason: &str) -> pb::AdjustStockRequest {
    pb::AdjustStockRequest {
        location_id: location.into(),
        product_id: product.into(),
        delta: delta.into(),
        reason: reason.into(),
        ..Default::default()
    }
}

fn count(location: &str, product: &str, counted: &str, counted_at: &str) -> pb::CountStockRequest {
    pb::CountStockRequest {
        location_id: location.into(),
        lines: vec![pb::CountLine {
            product_id: product.into(),
            counted: counted.into(),
        }],
        counted_at: counted_at.into(),
        ..Default::default()
    }
}

fn transfer(from: &str, to: &str, lines: &[(&str, &str)]) -> pb::TransferStockRequest {
    pb::TransferStockRequest {
        from_location_id: from.into(),
        to_location_id: to.into(),
        lines: lines
            .iter()
            .map(|(product_id, quantity)| pb::TransferLine {
                product_id: (*product_id).into(),
                quantity: (*quantity).into(),
            })
            .collect(),
        reference: String::new(),
        ..Default::default()
    }
}

fn field(status: &tonic::Status) -> (Code, Option<&str>) {
    (status.code(), field_of(status))
}

#[tokio::test]
async fn adjustments_and_counts_change_the_level_and_the_history_says_why() {
    let mut stack = start().await;
    let shop = stack.location("S1").await;
    let beans = stack.product("BEANS", "").await;
    stack.receive(&shop, &beans, "10", "2.00").await;

    let adjusted = stack
        .inventory
        .adjust_stock(adjustment(&shop, &beans, "-3", "dropped a crate"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(adjusted.levels[0].on_hand, "7");
    assert_eq!(adjusted.movements[0].quantity, "-3");
    assert_eq!(adjusted.movements[0].unit_cost, "2.00");
    let counted = stack
        .inventory
        .count_stock(count(&shop, &beans, "6", ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(counted.levels[0].on_hand, "6");

    let history = stack.movements(&shop, &beans).await;
    let summary: Vec<_> = history
        .iter()
        .map(|m| {
            (
                m.kind.as_str(),
                m.quantity.as_str(),
                m.on_hand_after.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("counted", "-1", "6"),
            ("adjusted", "-3", "7"),
            ("received", "10", "10")
        ],
        "newest first"
    );
    assert_eq!(history[1].reason, "dropped a crate");
    assert_eq!(history[0].reference, counted.id);

    let refusals = [
        (
            stack
                .inventory
                .adjust_stock(adjustment(&shop, &beans, "0", "x"))
                .await,
            "delta",
        ),
        (
            stack
                .inventory
                .adjust_stock(adjustment(&shop, &beans, "1", " "))
                .await,
            "reason",
        ),
        (
            stack
                .inventory
                .adjust_stock(adjustment(&shop, &beans, "lots", "x"))
                .await,
            "delta",
        ),
        (
            stack
                .inventory
                .count_stock(count(&shop, &beans, "-1", ""))
                .await,
            "lines[0].counted",
        ),
        (
            stack
                .inventory
                .count_stock(count(&shop, &beans, "1", "yesterday"))
                .await,
            "counted_at",
        ),
        (
            stack
                .inventory
                .count_stock(count(&shop, &beans, "1", "2999-01-01T00:00:00Z"))
                .await,
            "counted_at",
        ),
    ];
    for (answer, expected) in refusals {
        let status = answer.unwrap_err();
        assert_eq!(
            field(&status),
            (Code::InvalidArgument, Some(expected)),
            "{status:?}"
        );
    }
    assert_eq!(
        stack.level(&shop, &beans).await.on_hand,
        "6",
        "refusals move nothing"
    );
}

#[tokio::test]
async fn as_of_answers_the_level_at_a_past_moment() {
    let mut stack = start().await;
    let shop = stack.location("S1").await;
    let beans = stack.product("BEANS", "").await;
    stack.receive(&shop, &beans, "10", "2.00").await;
    stack.receive(&shop, &beans, "10", "4.00").await;
    let history = stack.movements(&shop, &beans).await;
    let first = &history[1].occurred_at;

    let at = |as_of: &str| pb::GetStockRequest {
        location_id: shop.clone(),
        product_id: beans.clone(),
        as_of: as_of.into(),
        ..Default::default()
    };
    let then = stack
        .inventory
        .get_stock(at(first))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            then.levels[0].on_hand.as_str(),
            then.levels[0].avg_cost.as_str()
        ),
        ("10", "2.00")
    );
    let before =
        chrono::DateTime::parse_from_rfc3339(first).unwrap() - chrono::TimeDelta::microseconds(1);
    let earlier = stack
        .inventory
        .get_stock(at(&before.to_rfc3339()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        earlier.total, 0,
        "nothing was here before the first receipt"
    );
    let now = stack
        .inventory
        .get_stock(at(""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            now.levels[0].on_hand.as_str(),
            now.levels[0].avg_cost.as_str()
        ),
        ("20", "3.00")
    );
    let bad = stack.inventory.get_stock(at("14:03")).await.unwrap_err();
    assert_eq!(field(&bad), (Code::InvalidArgument, Some("as_of")));
}

#[tokio::test]
async fn transfers_move_out_and_in_at_the_cost_they_left_with_or_not_at_all() {
    let mut stack = start().await;
    let (a, b) = (stack.location("A").await, stack.location("B").await);
    let beans = stack.product("BEANS", "").await;
    let tea = stack.product("TEA", "").await;
    stack.receive(&a, &beans, "10", "3.00").await;
    stack.receive(&b, &beans, "1", "6.00").await;

    let moved = stack
        .inventory
        .transfer_stock(transfer(&a, &b, &[(&beans, "4")]))
        .await
        .unwrap()
        .into_inner();
    let kinds: Vec<_> = moved.movements.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["transferred_out", "transferred_in"]);
    assert_eq!(stack.level(&a, &beans).await.on_hand, "6");
    let arrived = stack.level(&b, &beans).await;
    assert_eq!(
        (arrived.on_hand.as_str(), arrived.avg_cost.as_str()),
        ("5", "3.60")
    );

    // The second line fails after the first has been decided: neither moves.
    let refused = stack
        .inventory
        .transfer_stock(transfer(&a, &b, &[(&beans, "2"), (&tea, "0")]))
        .await
        .unwrap_err();
    assert_eq!(
        field(&refused),
        (Code::InvalidArgument, Some("lines[1].quantity"))
    );
    let same = stack
        .inventory
        .transfer_stock(transfer(&a, &a, &[(&beans, "1")]))
        .await
        .unwrap_err();
    assert_eq!(
        field(&same),
        (Code::InvalidArgument, Some("to_location_id"))
    );
    assert_eq!(stack.level(&a, &beans).await.on_hand, "6");
    assert_eq!(stack.level(&b, &beans).await.on_hand, "5");
}

#[tokio::test]
async fn low_and_negative_stock_show_in_the_read_model_and_are_published() {
    let mut stack = start().await;
    let shop = stack.location("S1").await;
    let beans = stack.product("BEANS", "5").await;
    let tea = stack.product("TEA", "5").await;
    stack.receive(&shop, &beans, "6", "2.00").await;
    stack.receive(&shop, &tea, "50", "1.00").await;
    let client = async_nats::connect(&stack.services.prefix.url)
        .await
        .unwrap();
    let naming = Naming::new(stack.services.prefix.prefix.clone()).unwrap();
    let mut published = client
        .subscribe(naming.service_subjects("inventory"))
        .await
        .unwrap();

    let low = stack
        .inventory
        .adjust_stock(adjustment(&shop, &beans, "-2", "broken"))
        .await
        .unwrap()
        .into_inner();
    assert!(low.levels[0].below_reorder);
    stack
        .inventory
        .adjust_stock(adjustment(&shop, &beans, "-6", "stolen"))
        .await
        .unwrap();
    let below = stack
        .inventory
        .get_stock(pb::GetStockRequest {
            location_id: shop.clone(),
            below_reorder: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<_> = below.levels.iter().map(|l| l.product_id.as_str()).collect();
    assert_eq!(ids, [beans.as_str()], "tea is well stocked");
    assert_eq!(below.levels[0].on_hand, "-2");

    let mut alerts = Vec::new();
    while alerts.len() < 2 {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), published.next())
            .await
            .expect("the relay publishes within seconds")
            .unwrap();
        let ce_type = message
            .headers
            .as_ref()
            .and_then(|h| h.get(headers::TYPE))
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        match ce_type.as_str() {
            "tillstream.inventory.v1.LowStock" => {
                let low = <pb::LowStock as prost::Message>::decode(message.payload).unwrap();
                assert_eq!(
                    (low.on_hand.as_str(), low.reorder_point.as_str()),
                    ("4", "5")
                );
                alerts.push("low");
            }
            "tillstream.inventory.v1.StockWentNegative" => {
                let negative =
                    <pb::StockWentNegative as prost::Message>::decode(message.payload).unwrap();
                assert_eq!(negative.on_hand, "-2");
                alerts.push("negative");
            }
            _ => {}
        }
    }
    assert_eq!(alerts, ["low", "negative"]);
}

#[tokio::test]
async fn a_repeated_idempotency_key_records_once_and_answers_the_first_result() {
    let mut stack = start().await;
    let shop = stack.location("S1").await;
    let beans = stack.product("BEANS", "").await;
    stack.receive(&shop, &beans, "10", "2.00").await;

    let keyed = pb::AdjustStockRequest {
        idempotency_key: "till-7-adjust-1".into(),
        ..adjustment(&shop, &beans, "-3", "dropped a crate")
    };
    let first = stack
        .inventory
        .adjust_stock(keyed.clone())
        .await
        .unwrap()
        .into_inner();
    // Concurrent and later repeats, as a till retrying after a timeout sends them.
    let (mut one, mut two) = (stack.inventory.clone(), stack.inventory.clone());
    let (a, b) = tokio::join!(
        one.adjust_stock(keyed.clone()),
        two.adjust_stock(keyed.clone())
    );
    for repeat in [a.unwrap().into_inner(), b.unwrap().into_inner()] {
        assert_eq!(repeat, first);
    }
    assert_eq!(first.levels[0].on_hand, "7");
    let history = stack.movements(&shop, &beans).await;
    assert_eq!(
        history.len(),
        2,
        "one receipt and one adjustment: {history:?}"
    );

    // The key with another request is refused, naming the key.
    let other = pb::AdjustStockRequest {
        delta: "-4".into(),
        ..keyed.clone()
    };
    let refused = stack.inventory.adjust_stock(other).await.unwrap_err();
    assert_eq!(
        field(&refused),
        (Code::AlreadyExists, Some("idempotency_key"))
    );

    // The same key names a different command elsewhere: a receipt is its own.
    let receipt = pb::ReceiveStockRequest {
        location_id: shop.clone(),
        lines: vec![pb::ReceiptLine {
            product_id: beans.clone(),
            quantity: "5".into(),
            unit_cost: "2.00".into(),
        }],
        idempotency_key: "till-7-adjust-1".into(),
        ..Default::default()
    };
    for _ in 0..2 {
        stack
            .inventory
            .receive_stock(receipt.clone())
            .await
            .unwrap();
    }
    assert_eq!(stack.movements(&shop, &beans).await[0].on_hand_after, "12");
}
