//! Every inventory route over HTTP: receipts, adjustments, counts, transfers, levels now and
//! at a past moment, the movement history, and their errors.

use reqwest::StatusCode;
use serde_json::json;
use tillstream_test_support::eventually;

use crate::api::Api;
use crate::system::System;

#[tokio::test]
async fn a_back_office_moves_stock_and_reads_its_history_over_http() {
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
    let depot = api
        .create(
            "/api/v1/locations",
            &admin,
            &json!({"code": "D1", "name": "Depot"}),
        )
        .await;
    let (shop, depot) = (shop["id"].as_str().unwrap(), depot["id"].as_str().unwrap());
    let tea = api
        .create(
            "/api/v1/products",
            &admin,
            &json!({"sku": "TEA", "name": "Tea", "price": "3.50", "tax_rate": "0.08", "reorder_point": 4}),
        )
        .await;
    let tea = tea["id"].as_str().unwrap();

    let receipt = json!({"location_id": depot, "supplier": "Leaf & Bean", "reference": "PO-7",
                         "lines": [{"product_id": tea, "quantity": "20", "unit_cost": "1.50"}]});
    let received = eventually("the product reaches inventory", || {
        let (api, admin, receipt) = (&api, &admin, &receipt);
        async move {
            let answer = api.post("/api/v1/stock/receipts", admin, receipt).await;
            (answer.status == StatusCode::CREATED).then_some(answer.body)
        }
    })
    .await;
    assert_eq!(received["supplier"], "Leaf & Bean");
    assert_eq!(received["movements"][0]["reference"], "PO-7");
    assert_eq!(received["levels"][0]["on_hand"], "20");
    let received_at = received["movements"][0]["occurred_at"]
        .as_str()
        .unwrap()
        .to_owned();

    let moved = api
        .create(
            "/api/v1/stock/transfers",
            &admin,
            &json!({"from_location_id": depot, "to_location_id": shop,
                    "lines": [{"product_id": tea, "quantity": 6}]}),
        )
        .await;
    assert_eq!(moved["movements"].as_array().unwrap().len(), 2);
    let adjusted = api
        .create(
            "/api/v1/stock/adjustments",
            &admin,
            &json!({"location_id": shop, "product_id": tea, "delta": "-1", "reason": "broken jar"}),
        )
        .await;
    assert_eq!(adjusted["levels"][0]["on_hand"], "5");
    let counted = api
        .create(
            "/api/v1/stock/counts",
            &admin,
            &json!({"location_id": shop, "lines": [{"product_id": tea, "counted": "3"}]}),
        )
        .await;
    assert_eq!(counted["movements"][0]["quantity"], "-2");

    let low = api.get("/api/v1/stock?below_reorder=true", &admin).await;
    assert_eq!(low.status, StatusCode::OK, "{}", low.body);
    assert_eq!(low.body["meta"]["total"], 1, "{}", low.body);
    assert_eq!(
        (
            &low.body["data"][0]["location_id"],
            &low.body["data"][0]["on_hand"]
        ),
        (&json!(shop), &json!("3"))
    );
    let then = api
        .get(
            &format!(
                "/api/v1/stock?product_id={tea}&as_of={}",
                received_at.replace('+', "%2B")
            ),
            &admin,
        )
        .await;
    assert_eq!(then.status, StatusCode::OK, "{}", then.body);
    assert_eq!(then.body["meta"]["total"], 1, "only the depot had tea then");
    assert_eq!(then.body["data"][0]["on_hand"], "20");

    let history = api
        .get(
            &format!("/api/v1/stock/movements?location_id={shop}&limit=2"),
            &admin,
        )
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    assert_eq!(
        (
            &history.body["meta"]["total"],
            &history.body["meta"]["pages"]
        ),
        (&json!(3), &json!(2))
    );
    let kinds: Vec<_> = history.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["counted", "adjusted"], "newest first");
    assert_eq!(history.body["data"][1]["reason"], "broken jar");

    let bad_moment = api.get("/api/v1/stock?as_of=yesterday", &admin).await;
    assert_eq!(bad_moment.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_moment.body["error"]["details"][0]["field"], "as_of");
    let refusals = [
        (
            "/api/v1/stock/adjustments",
            json!({"location_id": shop, "product_id": tea, "delta": 1.5, "reason": "x"}),
            "delta",
        ),
        (
            "/api/v1/stock/counts",
            json!({"location_id": shop, "lines": [{"product_id": tea, "counted": "-2"}]}),
            "lines[0].counted",
        ),
        (
            "/api/v1/stock/transfers",
            json!({"from_location_id": shop, "to_location_id": shop,
                   "lines": [{"product_id": tea, "quantity": 1}]}),
            "to_location_id",
        ),
    ];
    for (path, body, field) in refusals {
        let answer = api.post(path, &admin, &body).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            answer.body
        );
        assert_eq!(answer.body["error"]["details"][0]["field"], field, "{path}");
    }
}
