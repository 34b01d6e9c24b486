//! Every refusal the contract lists for customers and stored value, through the gateway:
//! the status, the error's field, and nothing written.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api::{Api, refused};
use crate::customers::{sale_body, shop};
use crate::system::System;

#[tokio::test]
async fn customers_and_stored_value_refuse_what_the_contract_refuses() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let (admin, location, product) = shop(&system, &api, "R1").await;
    api.create(
        "/api/v1/users",
        &admin,
        &json!({"username": "cleo", "password": "cashier-pass-1", "role": "cashier"}),
    )
    .await;
    let cashier = api.login("cleo", "cashier-pass-1").await;

    // Registering: the fields named.
    for (body, field) in [
        (json!({"name": "  "}), "name"),
        (json!({"name": "A", "email": "not-an-address"}), "email"),
        (json!({"name": "A", "phone": "call me maybe"}), "phone"),
        (
            json!({"name": "A", "credit_limit": "-1.00"}),
            "credit_limit",
        ),
        (
            json!({"name": "A", "credit_limit": "12.345"}),
            "credit_limit",
        ),
        (json!({"name": "x".repeat(201)}), "name"),
    ] {
        let answer = api.post("/api/v1/customers", &admin, &body).await;
        refused(&answer, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    let listed = api.get("/api/v1/customers", &admin).await;
    assert_eq!(
        listed.body["meta"]["total"], 0,
        "nothing registered: {}",
        listed.body
    );

    let customer = api
        .create(
            "/api/v1/customers",
            &cashier,
            &json!({"name": "Cleo's Customer", "email": "cc@example.com"}),
        )
        .await;
    let id = customer["id"].as_str().unwrap().to_owned();
    assert_eq!(customer["credit_limit"], "0.00");

    // Changing: a cashier may not set a limit; a stale version is a conflict.
    let path = format!("/api/v1/customers/{id}");
    let patch = |body: serde_json::Value, version: &str, token: &str| {
        let (api, path, token, version) =
            (&api, path.clone(), token.to_owned(), version.to_owned());
        async move {
            api.call(
                Method::PATCH,
                &path,
                Some(&token),
                Some(&body),
                &[("If-Match", version.as_str())],
            )
            .await
        }
    };
    let by_cashier = patch(json!({"credit_limit": "10.00"}), "1", &cashier).await;
    refused(&by_cashier, StatusCode::FORBIDDEN, None);
    let renamed = patch(json!({"name": "Cleo's Best Customer"}), "1", &cashier).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.body["version"], 2);
    let stale = patch(json!({"name": "Again"}), "1", &cashier).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    let cleared = patch(json!({"email": null}), "2", &cashier).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    assert_eq!(cleared.body["email"], serde_json::Value::Null);

    // Unknown customers, and erasing is an admin's.
    let unknown = api
        .get("/api/v1/customers/01JD0000000000000000000000", &admin)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    let erase = format!("/api/v1/customers/{id}/erase");
    refused(
        &api.post(&erase, &cashier, &json!({})).await,
        StatusCode::FORBIDDEN,
        None,
    );

    // Sales: stored value needs its customer, a customer that exists.
    let credit = json!([{"method": "store_credit", "amount": "10.00"}]);
    let without = api
        .post(
            "/api/v1/sales",
            &cashier,
            &sale_body(&location, &product, credit.clone(), None),
        )
        .await;
    refused(
        &without,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("customer_id"),
    );
    let nobody = api
        .post(
            "/api/v1/sales",
            &cashier,
            &sale_body(
                &location,
                &product,
                credit.clone(),
                Some("01JD0000000000000000000000"),
            ),
        )
        .await;
    refused(
        &nobody,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("customer_id"),
    );
    let no_credit = api
        .post(
            "/api/v1/sales",
            &cashier,
            &sale_body(&location, &product, credit, Some(&id)),
        )
        .await;
    refused(
        &no_credit,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("payments[0].amount"),
    );
    let no_limit = api
        .post(
            "/api/v1/sales",
            &cashier,
            &sale_body(
                &location,
                &product,
                json!([{"method": "on_account", "amount": "10.00"}]),
                Some(&id),
            ),
        )
        .await;
    refused(
        &no_limit,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("payments[0].amount"),
    );
    let unknown_tender = api
        .post(
            "/api/v1/sales",
            &cashier,
            &sale_body(
                &location,
                &product,
                json!([{"method": "iou", "amount": "10.00"}]),
                None,
            ),
        )
        .await;
    refused(
        &unknown_tender,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("payments[0].method"),
    );

    // A refund to store credit needs the sale's customer.
    let anonymous = api
        .create(
            "/api/v1/sales",
            &admin,
            &sale_body(
                &location,
                &product,
                json!([{"method": "cash", "amount": "10.00"}]),
                None,
            ),
        )
        .await;
    let to_credit = api
        .post(
            &format!(
                "/api/v1/sales/{}/returns",
                anonymous["id"].as_str().unwrap()
            ),
            &admin,
            &json!({"lines": [{"line_no": 1, "quantity": "1"}],
                    "refunds": [{"method": "store_credit", "amount": "10.00"}]}),
        )
        .await;
    refused(
        &to_credit,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("customer_id"),
    );

    // Account payments: more than is owed, a method other than cash or card.
    let payments = format!("/api/v1/customers/{id}/account/payments");
    for (body, field) in [
        (json!({"amount": "0.01", "method": "cash"}), "amount"),
        (json!({"amount": "-5.00", "method": "cash"}), "amount"),
        (json!({"amount": "5.00", "method": "gift_card"}), "method"),
    ] {
        refused(
            &api.post(&payments, &cashier, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(field),
        );
    }

    // Gift cards: a positive amount, paid in full, not with stored value.
    for (body, field) in [
        (
            json!({"amount": "0.00", "payments": [{"method": "cash", "amount": "1.00"}]}),
            "amount",
        ),
        (
            json!({"amount": "-5.00", "payments": [{"method": "cash", "amount": "1.00"}]}),
            "amount",
        ),
        (
            json!({"amount": "20000.00", "payments": [{"method": "cash", "amount": "20000.00"}]}),
            "amount",
        ),
        (
            json!({"amount": "25.00", "payments": [{"method": "card", "amount": "20.00"}]}),
            "payments",
        ),
        (
            json!({"amount": "25.00", "payments": [{"method": "store_credit", "amount": "25.00"}]}),
            "payments[0].method",
        ),
        (
            json!({"amount": "25.00", "customer_id": "01JD0000000000000000000000",
                   "payments": [{"method": "cash", "amount": "25.00"}]}),
            "customer_id",
        ),
    ] {
        let answer = api.post("/api/v1/gift-cards", &cashier, &body).await;
        refused(&answer, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    let sales_db = system.database("sales").await;
    let cards: i64 = sqlx::query_scalar("SELECT count(*) FROM gift_cards")
        .fetch_one(&sales_db)
        .await
        .unwrap();
    assert_eq!(cards, 0, "no card written by a refused request");
    system.stop().await;
}
