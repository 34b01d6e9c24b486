//! Bad subscriptions through the gateway, as a broken script or an attacker would send
//! them: each gets the contract's JSON error naming the field, and nothing is subscribed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{Api, refused};
use crate::system::System;

#[tokio::test]
async fn bad_subscriptions_get_the_contracts_errors_and_only_admins_subscribe() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    api.create(
        "/api/v1/users",
        &admin,
        &json!({"username": "mona", "password": "manager-pass-1", "role": "manager"}),
    )
    .await;
    let manager = api.login("mona", "manager-pass-1").await;
    let good = json!({"url": "http://127.0.0.1:9/in", "event_types": ["*"]});
    refused(
        &api.post("/api/v1/webhooks", &manager, &good).await,
        StatusCode::FORBIDDEN,
        None,
    );
    refused(
        &api.get("/api/v1/webhooks", &manager).await,
        StatusCode::FORBIDDEN,
        None,
    );

    let url_cases: [(Value, StatusCode, Option<&str>); 8] = [
        (
            json!({"url": "ftp://127.0.0.1/in", "event_types": ["*"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("url"),
        ),
        (
            json!({"url": "127.0.0.1/in", "event_types": ["*"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("url"),
        ),
        (
            json!({"url": "http://127.0.0.1/in", "event_types": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("event_types"),
        ),
        (
            json!({"url": "http://127.0.0.1/in", "event_types": ["tillstream.sales.v1.Nope"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("event_types"),
        ),
        (
            json!({"url": "http://127.0.0.1/in", "event_types": "*"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("event_types"),
        ),
        (
            json!({"url": 42, "event_types": ["*"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("url"),
        ),
        (
            json!({"event_types": ["*"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("url"),
        ),
        (
            json!({"url": "http://127.0.0.1/in", "event_types": ["*"], "secret": "whsec_mine"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
    ];
    for (body, status, field) in url_cases {
        let answer = api.post("/api/v1/webhooks", &admin, &body).await;
        refused(&answer, status, field);
    }
    let malformed = reqwest::Client::new()
        .post(format!("{}/api/v1/webhooks", system.url))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"url\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    for path in [
        "/api/v1/webhooks/01JD0000000000000000000000",
        "/api/v1/webhooks/not-an-id",
        "/api/v1/webhooks/01JD0000000000000000000000/deliveries",
    ] {
        refused(&api.get(path, &admin).await, StatusCode::NOT_FOUND, None);
    }
    let unknown = api
        .call(
            Method::DELETE,
            "/api/v1/webhooks/01JD0000000000000000000000",
            Some(&admin),
            None,
            &[],
        )
        .await;
    refused(&unknown, StatusCode::NOT_FOUND, None);
    let paged = api.get("/api/v1/webhooks?limit=0", &admin).await;
    refused(&paged, StatusCode::BAD_REQUEST, Some("limit"));

    // One key, one subscription, whatever the retries.
    let key = [("Idempotency-Key", "hook-setup-1")];
    let first = api
        .call(
            Method::POST,
            "/api/v1/webhooks",
            Some(&admin),
            Some(&good),
            &key,
        )
        .await;
    let again = api
        .call(
            Method::POST,
            "/api/v1/webhooks",
            Some(&admin),
            Some(&good),
            &key,
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(again.body["id"], first.body["id"], "{}", again.body);
    let other = json!({"url": "http://127.0.0.1:10/in", "event_types": ["*"]});
    let reused = api
        .call(
            Method::POST,
            "/api/v1/webhooks",
            Some(&admin),
            Some(&other),
            &key,
        )
        .await;
    assert_eq!(reused.status, StatusCode::CONFLICT, "{}", reused.body);
    let listed = api.get("/api/v1/webhooks", &admin).await;
    assert_eq!(listed.body["meta"]["total"], 1, "{}", listed.body);
}
