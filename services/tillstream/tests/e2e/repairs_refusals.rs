//! Repairs' refusals end to end: every move the contract does not list, and bad requests,
//! each answered with the field named and nothing written.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api::{Api, refused};
use crate::repairs::{bench, conflict, fit, move_to, open_repair, walk};
use crate::system::System;

/// Every move the contract does not list is a 409 `invalid_transition` that changes
/// nothing; a repair with nothing to charge is collected by status alone.
#[tokio::test]
async fn every_illegal_move_is_refused_and_bad_requests_name_their_field() {
    // Some 150 requests in a row from one user: the rate limits would slow them, not test.
    let system = System::up_with_env(
        &[],
        &[
            ("TILLSTREAM_RATE_LIMIT_USER_RPS", "0"),
            ("TILLSTREAM_RATE_LIMIT_ADDR_RPS", "0"),
        ],
    )
    .await;
    let api = Api::new(&system.url);
    let bench = bench(&system, &api, "RP3", &[]).await;
    let admin = &bench.admin;
    let paths: [(&str, &[&str]); 6] = [
        ("received", &[]),
        ("diagnosed", &["diagnosed"]),
        ("awaiting_parts", &["diagnosed", "awaiting_parts"]),
        ("in_repair", &["diagnosed", "in_repair"]),
        ("ready", &["diagnosed", "in_repair", "ready"]),
        ("cancelled", &["cancelled"]),
    ];
    let allowed = [
        ("received", "diagnosed"),
        ("diagnosed", "awaiting_parts"),
        ("diagnosed", "in_repair"),
        ("awaiting_parts", "in_repair"),
        ("in_repair", "awaiting_parts"),
        ("in_repair", "ready"),
        // Nothing to charge: collected by status with no sale.
        ("ready", "collected"),
    ];
    let all = [
        "received",
        "diagnosed",
        "awaiting_parts",
        "in_repair",
        "ready",
        "collected",
        "cancelled",
    ];
    for (from, path) in paths {
        for to in all {
            if allowed.contains(&(from, to)) || (to == "cancelled" && from != "cancelled") {
                continue;
            }
            let id = open_repair(&api, &bench).await["id"]
                .as_str()
                .unwrap()
                .to_owned();
            walk(&api, admin, &id, path).await;
            let before = api.get(&format!("/api/v1/repairs/{id}"), admin).await;
            conflict(&move_to(&api, admin, &id, to).await, "invalid_transition");
            let after = api.get(&format!("/api/v1/repairs/{id}"), admin).await;
            assert_eq!(
                before.body["version"], after.body["version"],
                "{from} → {to}"
            );
        }
    }
    let free = open_repair(&api, &bench).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    walk(
        &api,
        admin,
        &free,
        &["diagnosed", "in_repair", "ready", "collected"],
    )
    .await;
    let read = api.get(&format!("/api/v1/repairs/{free}"), admin).await;
    assert_eq!(read.body["sale_id"], Value::Null, "{}", read.body);

    // Bad requests name their field and write nothing.
    let base = json!({"customer_id": bench.customer, "location_id": bench.location,
                      "device": "Phone", "problem": "dead"});
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    for (body, field, status) in [
        (with("customer_id", json!("nobody")), "customer_id", 422),
        (with("location_id", json!("nowhere")), "location_id", 422),
        (with("device", json!("  ")), "device", 422),
        (with("problem", json!("x".repeat(2001))), "problem", 422),
        (with("estimate", json!("-1.00")), "estimate", 422),
        (with("estimate", json!("12.345")), "estimate", 422),
    ] {
        let answer = api.post("/api/v1/repairs", admin, &body).await;
        refused(&answer, StatusCode::from_u16(status).unwrap(), Some(field));
    }
    let id = open_repair(&api, &bench).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (quantity, product) in [("0", bench.part.as_str()), ("-1", bench.part.as_str())] {
        refused(
            &fit(&api, admin, &id, product, quantity).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("quantity"),
        );
    }
    refused(
        &fit(&api, admin, &id, "no-such-product", "1").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("product_id"),
    );
    for (body, field) in [
        (json!({"description": "x", "amount": "-0.01"}), "amount"),
        (json!({"description": " ", "amount": "1.00"}), "description"),
    ] {
        let answer = api
            .post(&format!("/api/v1/repairs/{id}/labor"), admin, &body)
            .await;
        refused(&answer, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    // Who acted comes from the token: a body naming someone is refused, naming the field.
    let forged = api
        .post(
            &format!("/api/v1/repairs/{id}/status"),
            admin,
            &json!({"status": "diagnosed", "by": "someone-else"}),
        )
        .await;
    refused(&forged, StatusCode::UNPROCESSABLE_ENTITY, Some("by"));
    let forged = api
        .post(
            "/api/v1/repairs",
            admin,
            &with("received_by", json!("someone-else")),
        )
        .await;
    refused(
        &forged,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("received_by"),
    );
    refused(
        &move_to(&api, admin, &id, "fixed").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("status"),
    );
    let missing = api
        .get("/api/v1/repairs/01JD0000000000000000000000", admin)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    let read = api.get(&format!("/api/v1/repairs/{id}"), admin).await;
    assert_eq!(read.body["version"], 1, "nothing written: {}", read.body);
    system.stop().await;
}
