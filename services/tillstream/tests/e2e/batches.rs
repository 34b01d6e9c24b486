//! Offline batches over HTTP: a till's own ids, capture times and prices; one result per
//! sale; a resubmitted batch creates nothing twice; a thousand sales in one request.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tillstream_test_support::eventually;

use crate::api::Api;
use crate::system::System;

fn ulid() -> String {
    tillstream_kernel::Ulid::generate().to_string()
}

#[tokio::test]
async fn an_offline_till_uploads_its_sales_once_with_the_prices_it_charged() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let shop = api
        .create(
            "/api/v1/locations",
            &admin,
            &json!({"code": "S9", "name": "Kiosk"}),
        )
        .await;
    let shop = shop["id"].as_str().unwrap().to_owned();
    let tea = api
        .create(
            "/api/v1/products",
            &admin,
            &json!({"sku": "TEA", "name": "Tea", "price": "3.50", "tax_rate": "0.08"}),
        )
        .await;
    let tea = tea["id"].as_str().unwrap().to_owned();
    // Ready once the till's ordinary sale goes through.
    eventually("sales knows the tea", || async {
        let sale = json!({"location_id": shop, "lines": [{"product_id": tea, "quantity": 1}],
                          "payments": [{"method": "card", "amount": "3.78"}]});
        let answer = api.post("/api/v1/sales", &admin, &sale).await;
        (answer.status == StatusCode::CREATED).then_some(())
    })
    .await;

    let yesterday = (chrono::Utc::now() - chrono::TimeDelta::days(1)).to_rfc3339();
    let (first, second) = (ulid(), ulid());
    let batch = json!({"sales": [
        {"id": first, "captured_at": yesterday, "location_id": shop,
         "lines": [{"product_id": tea, "quantity": 2, "unit_price": "3.00"}],
         "payments": [{"method": "cash", "amount": "10.00"}]},
        {"id": second, "captured_at": yesterday, "location_id": shop,
         "lines": [{"sku": "TEA", "quantity": 1}],
         "payments": [{"method": "card", "amount": "3.78"}]},
        {"id": ulid(), "captured_at": yesterday, "location_id": shop,
         "lines": [{"sku": "TEA", "quantity": 0}],
         "payments": [{"method": "cash", "amount": "5.00"}]},
        {"captured_at": yesterday, "location_id": shop,
         "lines": [{"sku": "TEA", "quantity": 1}],
         "payments": [{"method": "cash", "amount": "5.00"}]}
    ]});
    let answer = api.post("/api/v1/sales/batch", &admin, &batch).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let results = answer.body["results"].as_array().unwrap().clone();
    let statuses: Vec<_> = results
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["created", "created", "rejected", "rejected"]);
    let offline = &results[0]["sale"];
    assert_eq!(
        (
            &offline["lines"][0]["unit_price"],
            &offline["lines"][0]["catalog_price"],
            &offline["total"]
        ),
        (&json!("3.00"), &json!("3.50"), &json!("6.48")),
        "the till's price is kept and flagged"
    );
    let day = yesterday[..10].replace('-', "");
    assert!(
        offline["sale_number"].as_str().unwrap().contains(&day),
        "{offline}"
    );
    assert!(
        results[1]["sale"]["lines"][0]
            .get("catalog_price")
            .is_none()
    );
    assert_eq!(
        results[2]["error"]["details"][0]["field"],
        "sales[2].lines[0].quantity"
    );
    assert_eq!(results[3]["error"]["details"][0]["field"], "sales[3].id");

    let again = api.post("/api/v1/sales/batch", &admin, &batch).await;
    let statuses: Vec<_> = again.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        statuses,
        [
            "already_recorded",
            "already_recorded",
            "rejected",
            "rejected"
        ]
    );
    assert_eq!(
        again.body["results"][0]["sale"]["sale_number"],
        offline["sale_number"]
    );
    let listed = api
        .get(&format!("/api/v1/sales?location_id={shop}"), &admin)
        .await;
    assert_eq!(
        listed.body["meta"]["total"], 3,
        "the online sale and two offline, once each"
    );

    // A thousand sales in one request.
    let many: Vec<Value> = (0..1_000)
        .map(|_| {
            json!({"id": ulid(), "captured_at": yesterday, "location_id": shop,
                   "lines": [{"product_id": tea, "quantity": 1}],
                   "payments": [{"method": "card", "amount": "3.78"}]})
        })
        .collect();
    let big = api
        .post("/api/v1/sales/batch", &admin, &json!({"sales": many}))
        .await;
    assert_eq!(big.status, StatusCode::OK, "{}", big.body);
    let created = big.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "created")
        .count();
    assert_eq!(created, 1_000);
    // Every one reaches stock exactly once: 1 + 2 + 1 + 1,000 sold.
    eventually("stock follows the uploads", || async {
        let stock = api
            .get(&format!("/api/v1/stock?product_id={tea}"), &admin)
            .await;
        (stock.body["data"][0]["on_hand"] == "-1004").then_some(())
    })
    .await;
}
