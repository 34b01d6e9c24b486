//! A poison event: one whose numbers overflow every consumer's arithmetic, appended straight
//! into a store as only a bug or an operator's hand could. The flow must go on: the ledger
//! dead-letters that one event, books the ones after it, the books still balance, the stock
//! folds still hold, `tillstream bounds` lists it, and data beyond today's bounds answers a
//! clear error instead of a 500.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tillstream_test_support::eventually;

use crate::api::Api;
use crate::system::System;

/// Decimal's largest value: any product with it overflows.
const HUGE: &str = "79228162514264337593543950335";

#[tokio::test]
async fn a_poison_event_is_dead_lettered_and_the_flow_goes_on() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let location_id = &api.create_location(&admin, "P1").await;
    let mut products = Vec::new();
    for sku in ["SAFE-1", "POISONED-1"] {
        products.push(api.create_product(&admin, sku, "5.00", "0").await);
    }
    let (safe, poisoned) = (&products[0], &products[1]);
    let receipt = |quantity: &str| {
        json!({"location_id": location_id, "lines": [
            {"product_id": safe, "quantity": quantity, "unit_cost": "2.00"}]})
    };
    api.receive_stock(&admin, &receipt("3")).await;
    let inventory_db = system.database("inventory").await;
    let ledger_db = system.database("ledger").await;
    let cost_entries = |n: i64| {
        let ledger_db = ledger_db.clone();
        let source = format!("{safe}:{location_id}");
        async move {
            let posted: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM journal_entries WHERE source_type = 'stock_received' AND source_id = $1",
            )
            .bind(&source)
            .fetch_one(&ledger_db)
            .await
            .unwrap();
            (posted == n).then_some(())
        }
    };
    eventually("the first receipt is booked", || cost_entries(1)).await;

    // The poison: a receipt of Decimal::MAX units at Decimal::MAX each, appended around the
    // API with the metadata of a real event.
    sqlx::query(
        "INSERT INTO events (stream_id, version, event_id, event_type, payload, metadata)
         SELECT $1, 1, gen_random_uuid(), 'StockReceived',
                jsonb_build_object('type', 'StockReceived', 'quantity', $2::text, 'unit_cost', $2::text),
                metadata
         FROM events WHERE event_type = 'StockReceived' LIMIT 1",
    )
    .bind(format!("stock-{poisoned}:{location_id}"))
    .bind(HUGE)
    .execute(&inventory_db)
    .await
    .unwrap();

    // The flow goes on: the next ordinary receipt is booked.
    api.create("/api/v1/stock/receipts", &admin, &receipt("2"))
        .await;
    eventually("the receipt after the poison is booked", || cost_entries(2)).await;

    // Exactly that event is in the dead letters, with the reason.
    let letters = eventually("the poison is dead-lettered", || async {
        let (ok, letters, said) = system.cli(&["dlq", "list"]).await;
        assert!(ok, "{said}");
        (!letters.is_empty()).then_some(letters)
    })
    .await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["type"], "tillstream.inventory.v1.StockReceived");
    let reason = letters[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("out of range") || reason.contains("overflow"),
        "{reason}"
    );

    // The books balance and can be read.
    let balance = api.get("/api/v1/ledger/trial-balance", &admin).await;
    assert_eq!(balance.status, StatusCode::OK, "{}", balance.body);
    assert_eq!(balance.body["total_debits"], balance.body["total_credits"]);
    assert_eq!(balance.body["total_debits"], "10.00");

    // The safe item's level is the fold of its movements.
    let stock = api
        .get(
            &format!("/api/v1/stock?location_id={location_id}&product_id={safe}"),
            &admin,
        )
        .await;
    assert_eq!(stock.body["data"][0]["on_hand"], "5", "{}", stock.body);

    // The poisoned item answers a clear refusal, not a 503 from a panic.
    let refused = api
        .post(
            "/api/v1/stock/receipts",
            &admin,
            &json!({"location_id": location_id, "lines": [
                {"product_id": poisoned, "quantity": "1", "unit_cost": "1.00"}]}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(
        refused.body["error"]["details"][0]["field"],
        "lines[0].quantity"
    );

    // The operator's list names it.
    let (ok, listed, said) = system.cli(&["bounds"]).await;
    assert!(ok, "{said}");
    let fields: Vec<(&Value, &Value)> = listed
        .iter()
        .map(|l| (&l["stream_id"], &l["field"]))
        .collect();
    let stream = json!(format!("stock-{poisoned}:{location_id}"));
    assert_eq!(
        fields,
        vec![
            (&stream, &json!("quantity")),
            (&stream, &json!("unit_cost"))
        ],
        "{listed:?}"
    );
    inventory_db.close().await;

    // A journal line beyond today's range written into the books before the bounds
    // existed: the trial balance names the entry instead of answering 500.
    sqlx::query(
        "INSERT INTO journal_entries (id, posted_at, source_type, source_id, source_event_id, memo)
         VALUES ('01JOLDENTRYBEYONDRANGE0000', now(), 'manual', 'old', 'old-event', 'before the bounds')",
    )
    .execute(&ledger_db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO journal_lines (entry_id, line_no, account, debit, credit) VALUES
         ('01JOLDENTRYBEYONDRANGE0000', 1, '1000', $1::numeric, 0),
         ('01JOLDENTRYBEYONDRANGE0000', 2, '4000', 0, $1::numeric)",
    )
    .bind(HUGE)
    .execute(&ledger_db)
    .await
    .unwrap();
    ledger_db.close().await;
    for path in ["/api/v1/ledger/trial-balance", "/api/v1/ledger/accounts"] {
        let answer = api.get(path, &admin).await;
        assert_eq!(
            answer.status,
            StatusCode::CONFLICT,
            "{path}: {}",
            answer.body
        );
        assert_eq!(answer.body["error"]["code"], "stored_value_out_of_range");
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("01JOLDENTRYBEYONDRANGE0000"), "{message}");
    }
}
