//! Product edits over HTTP: versions and `If-Match`, barcodes claimed and released, and the
//! copies in sales and inventory following every change.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tillstream_test_support::eventually;

use crate::api::Api;
use crate::system::System;

#[tokio::test]
async fn edits_discontinuing_and_reactivating_reach_the_till_and_the_stock() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let location = api
        .create(
            "/api/v1/locations",
            &admin,
            &json!({"code": "S1", "name": "Main"}),
        )
        .await;
    let location_id = location["id"].as_str().unwrap();
    let tea = api
        .create(
            "/api/v1/products",
            &admin,
            &json!({"sku": "TEA", "name": "Tea", "price": "3.50", "tax_rate": "0.08", "barcodes": ["4006381333931"]}),
        )
        .await;
    let tea_id = tea["id"].as_str().unwrap();
    let path = format!("/api/v1/products/{tea_id}");

    // An edit at the version read: one version per changed field.
    let edited = patch(
        &api,
        &path,
        &admin,
        json!({"name": "Green tea", "price": "4.00", "barcodes": ["96385074"], "reorder_point": 5}),
        "1",
    )
    .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(
        (
            &edited.body["name"],
            &edited.body["price"],
            &edited.body["version"]
        ),
        (&json!("Green tea"), &json!("4.00"), &json!(6))
    );
    // A stale version is refused, and so is a price as a number.
    let stale = patch(&api, &path, &admin, json!({"name": "Black tea"}), "\"1\"").await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    // Any version but the current one is stale, 0 and negatives included.
    for version in ["0", "\"0\"", "-3", "99"] {
        let stale = patch(&api, &path, &admin, json!({"name": "Black tea"}), version).await;
        assert_eq!(
            stale.status,
            StatusCode::CONFLICT,
            "{version}: {}",
            stale.body
        );
    }
    let number = patch(&api, &path, &admin, json!({"price": 4}), "6").await;
    assert_eq!(number.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(number.body["error"]["details"][0]["field"], "price");

    // The old barcode is free again; the new one finds the product.
    let old = api
        .get("/api/v1/products/lookup?barcode=4006381333931", &admin)
        .await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    let found = api
        .get("/api/v1/products/lookup?barcode=96385074", &admin)
        .await;
    assert_eq!(found.body["id"], tea["id"]);
    api.create(
        "/api/v1/products",
        &admin,
        &json!({"sku": "MUG", "name": "Mug", "price": "9.00", "tax_rate": "0.08", "barcodes": ["4006381333931"]}),
    )
    .await;

    // The till rings up the new price (sales' copy followed).
    let rung = eventually("sales rings up the new price", || async {
        let answer = sell(&api, &admin, location_id, "96385074").await;
        (answer.status == StatusCode::CREATED && answer.body["lines"][0]["unit_price"] == "4.00")
            .then_some(answer)
    })
    .await;
    assert_eq!(rung.body["total"], "4.32");

    // Inventory follows the reorder point: after selling one of nothing, it is below.
    eventually("inventory knows the reorder point", || async {
        let stock = api
            .get(&format!("/api/v1/stock?product_id={tea_id}"), &admin)
            .await;
        let level = stock.body["data"].as_array()?.first()?.clone();
        (level["reorder_point"] == "5" && level["below_reorder"] == true).then_some(())
    })
    .await;

    // Discontinued: 200 with the status, no longer sellable; reactivated: sellable again.
    let gone = api
        .call(
            Method::POST,
            &format!("{path}/discontinue"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    assert_eq!(gone.body["status"], "discontinued");
    let refused = eventually("sales refuses the discontinued product", || async {
        let answer = sell(&api, &admin, location_id, "96385074").await;
        (answer.status == StatusCode::UNPROCESSABLE_ENTITY).then_some(answer)
    })
    .await;
    assert_eq!(
        refused.body["error"]["details"][0]["field"],
        "lines[0].barcode"
    );
    let back = api
        .call(
            Method::POST,
            &format!("{path}/reactivate"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(back.body["status"], "active");
    eventually("sales sells it again", || async {
        (sell(&api, &admin, location_id, "96385074").await.status == StatusCode::CREATED)
            .then_some(())
    })
    .await;

    system.stop().await;
}

async fn patch(
    api: &Api,
    path: &str,
    token: &str,
    body: serde_json::Value,
    version: &str,
) -> crate::api::Answer {
    api.call(
        Method::PATCH,
        path,
        Some(token),
        Some(&body),
        &[("If-Match", version)],
    )
    .await
}

async fn sell(api: &Api, token: &str, location_id: &str, code: &str) -> crate::api::Answer {
    let body = json!({"location_id": location_id, "lines": [{"barcode": code, "quantity": 1}],
                      "payments": [{"method": "cash", "amount": "10.00"}]});
    api.post("/api/v1/sales", token, &body).await
}
