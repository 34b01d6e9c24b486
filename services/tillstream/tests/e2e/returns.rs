//! Returns and voids over HTTP: refunds to the cent, the sale showing its returns, stock
//! following through inventory's reactions, and the conflicts a manager can run into.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tillstream_test_support::eventually;

use crate::api::Api;
use crate::system::System;

async fn on_hand(api: &Api, token: &str, product: &str) -> Option<String> {
    let stock = api
        .get(&format!("/api/v1/stock?product_id={product}"), token)
        .await;
    Some(
        stock.body["data"].as_array()?.first()?["on_hand"]
            .as_str()?
            .to_owned(),
    )
}

async fn level_becomes(api: &Api, token: &str, product: &str, expected: &str) {
    eventually(&format!("stock becomes {expected}"), || async {
        (on_hand(api, token, product).await? == expected).then_some(())
    })
    .await;
}

#[tokio::test]
async fn returns_and_voids_refund_to_the_cent_and_put_stock_back() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let location = api.create_location(&admin, "S1").await;
    // 3 × 3.00 at 11.1 %: net 9.00, tax 1.00, total 10.00.
    let jam = api
        .create(
            "/api/v1/products",
            &admin,
            &json!({"sku": "JAM", "name": "Jam", "price": "3.00", "tax_rate": "0.111"}),
        )
        .await;
    let jam = jam["id"].as_str().unwrap().to_owned();
    let receipt = json!({"location_id": location,
                         "lines": [{"product_id": jam, "quantity": 10, "unit_cost": "1.00"}]});
    eventually("inventory knows the jam", || async {
        let answer = api.post("/api/v1/stock/receipts", &admin, &receipt).await;
        (answer.status == StatusCode::CREATED).then_some(())
    })
    .await;
    let sell = |cash: &'static str| {
        json!({"location_id": location, "lines": [{"product_id": jam, "quantity": 3}],
               "payments": [{"method": "cash", "amount": cash}]})
    };
    let sale: Value = eventually("sales knows the jam", || async {
        let answer = api.post("/api/v1/sales", &admin, &sell("10.00")).await;
        (answer.status == StatusCode::CREATED).then_some(answer.body)
    })
    .await;
    assert_eq!(sale["total"], "10.00");
    let sale_id = sale["id"].as_str().unwrap();
    level_becomes(&api, &admin, &jam, "7").await;

    // One jar back on the shelf, refunded in cash: round(10.00 × 1/3).
    let returns = format!("/api/v1/sales/{sale_id}/returns");
    let first = api
        .call(
            reqwest::Method::POST,
            &returns,
            Some(&admin),
            Some(&json!({"lines": [{"line_no": 1, "quantity": "1"}],
                         "refunds": [{"method": "cash", "amount": "3.33"}], "reason": "dented"})),
            &[("idempotency-key", "return-1")],
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(
        (
            &first.body["refund_total"],
            &first.body["tax"],
            &first.body["revenue"]
        ),
        (&json!("3.33"), &json!("0.33"), &json!("3.00"))
    );
    // The same request again (a retry) refunds nothing twice.
    let retried = api
        .call(
            reqwest::Method::POST,
            &returns,
            Some(&admin),
            Some(&json!({"lines": [{"line_no": 1, "quantity": "1"}],
                         "refunds": [{"method": "cash", "amount": "3.33"}], "reason": "dented"})),
            &[("idempotency-key", "return-1")],
        )
        .await;
    assert_eq!(retried.body["id"], first.body["id"]);
    level_becomes(&api, &admin, &jam, "8").await;

    let too_many = api
        .post(
            &returns,
            &admin,
            &json!({"lines": [{"line_no": 1, "quantity": 3}], "refunds": [{"method": "cash", "amount": "6.67"}]}),
        )
        .await;
    assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        too_many.body["error"]["details"][0]["field"],
        "lines[0].quantity"
    );
    let wrong_refund = api
        .post(
            &returns,
            &admin,
            &json!({"lines": [{"line_no": 1, "quantity": 1}], "refunds": [{"method": "cash", "amount": "3.33"}]}),
        )
        .await;
    assert_eq!(
        wrong_refund.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the second jar refunds 3.34"
    );
    let kept = api
        .post(
            &returns,
            &admin,
            &json!({"lines": [{"line_no": 1, "quantity": 1}], "restock": false,
                    "refunds": [{"method": "cash", "amount": "3.34"}]}),
        )
        .await;
    assert_eq!(kept.status, StatusCode::CREATED, "{}", kept.body);
    let read = api.get(&format!("/api/v1/sales/{sale_id}"), &admin).await;
    assert_eq!(
        read.body["returns"].as_array().unwrap().len(),
        2,
        "the sale shows its returns"
    );

    // A sale with returns cannot be voided; another one can, once, and its stock comes back.
    let void = |id: &str| format!("/api/v1/sales/{id}/void");
    let refused = api
        .post(&void(sale_id), &admin, &json!({"reason": "oops"}))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let second = api.create("/api/v1/sales", &admin, &sell("20.00")).await;
    let second_id = second["id"].as_str().unwrap();
    level_becomes(&api, &admin, &jam, "5").await;
    let voided = api
        .post(
            &void(second_id),
            &admin,
            &json!({"reason": "rang up twice"}),
        )
        .await;
    assert_eq!(voided.status, StatusCode::OK, "{}", voided.body);
    assert_eq!(voided.body["status"], "voided");
    let again = api
        .post(&void(second_id), &admin, &json!({"reason": "again"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    level_becomes(&api, &admin, &jam, "8").await;
    let after_void = api
        .post(
            &format!("/api/v1/sales/{second_id}/returns"),
            &admin,
            &json!({"lines": [{"line_no": 1, "quantity": 1}], "refunds": [{"method": "cash", "amount": "3.33"}]}),
        )
        .await;
    assert_eq!(after_void.status, StatusCode::CONFLICT);
    let unknown = api
        .post(
            &void("01JD0000000000000000000000"),
            &admin,
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
