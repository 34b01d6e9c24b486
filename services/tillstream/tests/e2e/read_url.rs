//! `TILLSTREAM_DATABASE_READ_URL`: the lists and reports read from it, and nothing else
//! does. Proven with a "replica" where nothing answers: those endpoints fail with a 503,
//! while a sale is rung up, read back and posted as ever.

use reqwest::StatusCode;
use serde_json::json;
use tillstream_test_support::{eventually, free_port};

use crate::api::Api;
use crate::system::System;

#[tokio::test]
async fn lists_and_reports_read_the_read_url_and_nothing_else_does() {
    let nowhere = format!("postgres://postgres@127.0.0.1:{}", free_port().unwrap());
    let system =
        System::up_with_env(&[], &[("TILLSTREAM_DATABASE_READ_URL", nowhere.as_str())]).await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let location = api.create_location(&admin, "R1").await;
    let product = api.create_product(&admin, "READ-1", "4.00", "0").await;
    let sale = json!({"location_id": location, "lines": [{"product_id": product, "quantity": "1"}],
        "payments": [{"method": "cash", "amount": "4.00"}]});
    let sold = eventually("sales knows the product", || async {
        let answer = api.post("/api/v1/sales", &admin, &sale).await;
        (answer.status == StatusCode::CREATED).then_some(answer.body)
    })
    .await;
    let id = sold["id"].as_str().unwrap();
    let one = api.get(&format!("/api/v1/sales/{id}"), &admin).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    eventually("the sale is posted", || async {
        let answer = api.get(&format!("/api/v1/sales/{id}"), &admin).await;
        (answer.body["ledger_status"] == "posted").then_some(())
    })
    .await;

    for path in [
        "/api/v1/sales",
        "/api/v1/ledger/entries",
        "/api/v1/ledger/trial-balance",
        "/api/v1/reports/daily",
        "/api/v1/products?q=READ",
        "/api/v1/stock/movements",
    ] {
        let answer = api.get(path, &admin).await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{path} does not read the read-only server: {}",
            answer.body
        );
    }
}
