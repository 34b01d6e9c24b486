//! Purchasing end to end through the gateway: a supplier, an order received in two
//! deliveries (one refused whole for an over-receipt), a cancellation refused after a
//! receipt, an invoice at another price, a short close and a payment, with stock and the
//! books checked after each step.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{Answer, Api, refused};
use crate::system::System;

/// Account balances (debit − credit) once the ledger has posted everything it was sent,
/// after checking that the trial balance holds.
async fn books(system: &System, api: &Api, token: &str) -> BTreeMap<String, String> {
    system.consumers_settled().await;
    let trial = api.get("/api/v1/ledger/trial-balance", token).await;
    assert_eq!(trial.status, StatusCode::OK, "{}", trial.body);
    assert_eq!(
        trial.body["total_debits"], trial.body["total_credits"],
        "{}",
        trial.body
    );
    let accounts = api.get("/api/v1/ledger/accounts", token).await;
    accounts
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["code"].as_str().unwrap().to_owned(),
                a["balance"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Waits until the books show `expected` for each account.
pub async fn books_show(system: &System, api: &Api, token: &str, expected: &[(&str, &str)]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let balances = books(system, api, token).await;
        let wrong: Vec<String> = expected
            .iter()
            .filter(|(code, amount)| balances.get(*code).map(String::as_str) != Some(*amount))
            .map(|(code, amount)| format!("{code}: {:?}, want {amount}", balances.get(*code)))
            .collect();
        if wrong.is_empty() {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{wrong:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn on_hand(api: &Api, token: &str, product: &str, location: &str) -> String {
    let stock = api
        .get(
            &format!("/api/v1/stock?product_id={product}&location_id={location}"),
            token,
        )
        .await;
    stock.body["data"][0]["on_hand"]
        .as_str()
        .unwrap_or("0")
        .to_owned()
}

async fn receive(api: &Api, token: &str, order: &str, body: &Value, key: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
    api.call(
        Method::POST,
        &format!("/api/v1/purchase-orders/{order}/receipts"),
        Some(token),
        Some(body),
        &headers,
    )
    .await
}

#[tokio::test]
async fn an_order_received_in_two_deliveries_invoiced_dearer_closed_short_and_paid() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let location = api.create_location(&admin, "P1").await;
    let tea = api.create_product(&admin, "TEA-1", "4.00", "0").await;
    let cups = api
        .create(
            "/api/v1/products",
            &admin,
            &json!({"sku": "CUP-1", "name": "Cup", "price": "9.00", "tax_rate": "0",
                    "reorder_point": "5"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let supplier = api
        .create(
            "/api/v1/suppliers",
            &admin,
            &json!({"code": "TEA", "name": "Tea Traders", "email": "orders@tea.example",
                    "lead_time_days": 5}),
        )
        .await;
    assert_eq!(supplier["version"], 1, "{supplier}");
    let supplier_id = supplier["id"].as_str().unwrap().to_owned();
    let again = api
        .post(
            "/api/v1/suppliers",
            &admin,
            &json!({"code": "TEA", "name": "Other"}),
        )
        .await;
    refused(&again, StatusCode::CONFLICT, None);

    let order = api
        .create(
            "/api/v1/purchase-orders",
            &admin,
            &json!({"supplier_id": supplier_id, "location_id": location,
                    "lines": [{"product_id": tea, "quantity": "10", "unit_cost": "2.00"},
                              {"product_id": cups, "quantity": "4", "unit_cost": "5.00"}]}),
        )
        .await;
    assert_eq!(order["status"], "draft", "{order}");
    assert_eq!(order["total"], "40.00", "{order}");
    assert!(
        order["number"].as_str().unwrap().starts_with("PO-"),
        "{order}"
    );
    let id = order["id"].as_str().unwrap().to_owned();
    let number = order["number"].as_str().unwrap().to_owned();
    let six_tea = json!({"lines": [{"line_no": 1, "quantity": "6"}], "reference": "DN-1"});

    // A draft receives nothing; submitted, it does, once per key.
    refused(
        &receive(&api, &admin, &id, &six_tea, None).await,
        StatusCode::CONFLICT,
        None,
    );
    let submitted = api
        .post(
            &format!("/api/v1/purchase-orders/{id}/submit"),
            &admin,
            &json!({}),
        )
        .await;
    assert_eq!(submitted.status, StatusCode::OK, "{}", submitted.body);
    assert_eq!(submitted.body["status"], "ordered");
    let first = receive(&api, &admin, &id, &six_tea, Some("delivery-1")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let repeat = receive(&api, &admin, &id, &six_tea, Some("delivery-1")).await;
    assert_eq!(repeat.body["id"], first.body["id"], "{}", repeat.body);
    assert_eq!(on_hand(&api, &admin, &tea, &location).await, "6");
    let movements = api
        .get(
            &format!("/api/v1/stock/movements?product_id={tea}&location_id={location}"),
            &admin,
        )
        .await;
    assert_eq!(movements.body["meta"]["total"], 1, "{}", movements.body);
    assert_eq!(movements.body["data"][0]["kind"], "received");
    assert_eq!(movements.body["data"][0]["reference"], number.as_str());
    books_show(
        &system,
        &api,
        &admin,
        &[("1200", "12.00"), ("2050", "-12.00"), ("2000", "0.00")],
    )
    .await;

    // More than is still open on one line refuses the whole delivery.
    let over = receive(
        &api,
        &admin,
        &id,
        &json!({"lines": [{"line_no": 2, "quantity": "4"}, {"line_no": 1, "quantity": "5"}]}),
        None,
    )
    .await;
    refused(
        &over,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("lines[1].quantity"),
    );
    assert_eq!(on_hand(&api, &admin, &cups, &location).await, "0");
    let cancel = api
        .post(
            &format!("/api/v1/purchase-orders/{id}/cancel"),
            &admin,
            &json!({}),
        )
        .await;
    refused(&cancel, StatusCode::CONFLICT, None);
    let got = api
        .get(&format!("/api/v1/purchase-orders/{id}"), &admin)
        .await;
    assert_eq!(got.body["status"], "partially_received", "{}", got.body);
    assert_eq!(got.body["lines"][0]["received"], "6", "{}", got.body);
    assert_eq!(got.body["receipts"].as_array().unwrap().len(), 1);

    // The supplier invoices the six at 2.15: 0.90 of price variance.
    let invoice = api
        .post(
            &format!("/api/v1/purchase-orders/{id}/invoices"),
            &admin,
            &json!({"number": "INV-77", "lines": [{"line_no": 1, "quantity": "6", "unit_cost": "2.15"}]}),
        )
        .await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.body);
    assert_eq!(invoice.body["total"], "12.90");
    assert_eq!(invoice.body["match"]["status"], "price_variance");
    assert_eq!(invoice.body["match"]["lines"][0]["ordered"], "10");
    let too_much = api
        .post(
            &format!("/api/v1/purchase-orders/{id}/invoices"),
            &admin,
            &json!({"number": "INV-78", "lines": [{"line_no": 1, "quantity": "1", "unit_cost": "2.00"}]}),
        )
        .await;
    refused(
        &too_much,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("lines[0].quantity"),
    );
    let same_number = api
        .post(
            &format!("/api/v1/purchase-orders/{id}/invoices"),
            &admin,
            &json!({"number": "INV-77", "lines": [{"line_no": 2, "quantity": "1", "unit_cost": "5.00"}]}),
        )
        .await;
    refused(&same_number, StatusCode::CONFLICT, None);
    books_show(
        &system,
        &api,
        &admin,
        &[
            ("1200", "12.00"),
            ("2050", "0.00"),
            ("2000", "-12.90"),
            ("5300", "0.90"),
        ],
    )
    .await;

    // The cups never come: closed short, nothing more is received.
    let closed = api
        .post(
            &format!("/api/v1/purchase-orders/{id}/close"),
            &admin,
            &json!({"reason": "supplier out of cups"}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(closed.body["status"], "closed");
    refused(
        &receive(&api, &admin, &id, &six_tea, None).await,
        StatusCode::CONFLICT,
        None,
    );

    let paid = api
        .post(
            &format!("/api/v1/suppliers/{supplier_id}/payments"),
            &admin,
            &json!({"amount": "12.90", "method": "bank", "reference": "TRF-1"}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    let bad_method = api
        .post(
            &format!("/api/v1/suppliers/{supplier_id}/payments"),
            &admin,
            &json!({"amount": "1.00", "method": "cheque"}),
        )
        .await;
    refused(
        &bad_method,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("method"),
    );
    // The supplier as read after a payment takes an If-Match of its version.
    let read = api
        .get(&format!("/api/v1/suppliers/{supplier_id}"), &admin)
        .await;
    let version = read.body["version"].to_string();
    let renamed = api
        .call(
            Method::PATCH,
            &format!("/api/v1/suppliers/{supplier_id}"),
            Some(&admin),
            Some(&json!({"name": "Tea Traders Ltd"})),
            &[("If-Match", &version)],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    books_show(
        &system,
        &api,
        &admin,
        &[
            ("1200", "12.00"),
            ("2050", "0.00"),
            ("2000", "0.00"),
            ("5300", "0.90"),
            ("1030", "-12.90"),
        ],
    )
    .await;

    // Cups are at 0 against a reorder point of 5 and nothing is on order: suggested, from
    // the supplier of their latest order.
    let suggestions = api
        .get(
            &format!("/api/v1/purchasing/suggestions?location_id={location}"),
            &admin,
        )
        .await;
    assert_eq!(suggestions.status, StatusCode::OK, "{}", suggestions.body);
    let rows = suggestions.body["data"].as_array().unwrap();
    let cup = rows
        .iter()
        .find(|r| r["product_id"] == cups.as_str())
        .unwrap_or_else(|| panic!("{}", suggestions.body));
    assert_eq!(cup["on_order"], "0", "{cup}");
    assert_eq!(cup["supplier_id"], supplier_id.as_str(), "{cup}");
    assert_eq!(cup["lead_time_days"], 5, "{cup}");
    assert_eq!(cup["suggested_quantity"], "5", "{cup}");

    let listed = api
        .get(
            &format!("/api/v1/purchase-orders?status=closed&supplier_id={supplier_id}"),
            &admin,
        )
        .await;
    assert_eq!(listed.body["meta"]["total"], 1, "{}", listed.body);
}

#[tokio::test]
async fn orders_refuse_what_the_contract_refuses() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let location = api.create_location(&admin, "P2").await;
    let tea = api.create_product(&admin, "TEA-2", "4.00", "0").await;
    let supplier = api
        .create(
            "/api/v1/suppliers",
            &admin,
            &json!({"code": "S2", "name": "Second"}),
        )
        .await;
    let supplier_id = supplier["id"].as_str().unwrap();
    assert_eq!(supplier["lead_time_days"], 7, "the default: {supplier}");
    let order =
        |lines: Value| json!({"supplier_id": supplier_id, "location_id": location, "lines": lines});
    for (lines, field) in [
        (json!([]), "lines"),
        (
            json!([{"product_id": tea, "quantity": "-1", "unit_cost": "1"}]),
            "lines[0].quantity",
        ),
        (
            json!([{"product_id": tea, "quantity": "1", "unit_cost": "abc"}]),
            "lines[0].unit_cost",
        ),
        (
            json!([{"product_id": "nope", "quantity": "1", "unit_cost": "1"}]),
            "lines[0].product_id",
        ),
        (
            json!([{"product_id": tea, "quantity": "1000000", "unit_cost": "1000000000"}]),
            "lines[0].quantity",
        ),
    ] {
        let answer = api
            .post("/api/v1/purchase-orders", &admin, &order(lines))
            .await;
        refused(&answer, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    let unknown_supplier = api
        .post(
            "/api/v1/purchase-orders",
            &admin,
            &json!({"supplier_id": "01JD5W2N8Q3V6R1T4Y7V0K9M2P", "location_id": location,
                    "lines": [{"product_id": tea, "quantity": "1", "unit_cost": "1"}]}),
        )
        .await;
    refused(
        &unknown_supplier,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("supplier_id"),
    );
    // A double click drafts one order.
    let body = order(json!([{"product_id": tea, "quantity": "2", "unit_cost": "1.50"}]));
    let mut drafted = Vec::new();
    for _ in 0..2 {
        let answer = api
            .call(
                Method::POST,
                "/api/v1/purchase-orders",
                Some(&admin),
                Some(&body),
                &[("Idempotency-Key", "draft-once")],
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        drafted.push(answer.body);
    }
    assert_eq!(drafted[0]["id"], drafted[1]["id"]);
    assert_eq!(drafted[0]["number"], drafted[1]["number"]);
    let id = drafted[0]["id"].as_str().unwrap();
    let stale = api
        .call(
            Method::PATCH,
            &format!("/api/v1/purchase-orders/{id}"),
            Some(&admin),
            Some(&json!({"expected_at": "2026-12-24T09:00:00Z"})),
            &[("If-Match", "5")],
        )
        .await;
    refused(&stale, StatusCode::CONFLICT, None);
    // A draft is changed; submitted, it is not.
    let changed = api
        .call(
            Method::PATCH,
            &format!("/api/v1/purchase-orders/{id}"),
            Some(&admin),
            Some(&json!({"lines": [{"product_id": tea, "quantity": "3", "unit_cost": "1.50"}]})),
            &[],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["total"], "4.50", "{}", changed.body);
    api.post(
        &format!("/api/v1/purchase-orders/{id}/submit"),
        &admin,
        &json!({}),
    )
    .await;
    let late = api
        .call(
            Method::PATCH,
            &format!("/api/v1/purchase-orders/{id}"),
            Some(&admin),
            Some(&json!({"expected_at": "2026-12-24T09:00:00Z"})),
            &[],
        )
        .await;
    refused(&late, StatusCode::CONFLICT, None);
    let missing = api
        .get("/api/v1/purchase-orders/01JD5W2N8Q3V6R1T4Y7V0K9M2P", &admin)
        .await;
    refused(&missing, StatusCode::NOT_FOUND, None);
    // A supplier's stale version is a 409.
    let stale = api
        .call(
            Method::PATCH,
            &format!("/api/v1/suppliers/{supplier_id}"),
            Some(&admin),
            Some(&json!({"lead_time_days": 3})),
            &[("If-Match", "7")],
        )
        .await;
    refused(&stale, StatusCode::CONFLICT, None);
    let fresh = api
        .call(
            Method::PATCH,
            &format!("/api/v1/suppliers/{supplier_id}"),
            Some(&admin),
            Some(&json!({"lead_time_days": 3})),
            &[("If-Match", "1")],
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    assert_eq!(fresh.body["version"], 2);
}
