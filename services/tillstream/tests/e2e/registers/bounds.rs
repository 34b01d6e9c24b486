//! Bad input on the registers' routes, as an attacker or a broken till would send it: each
//! gets the contract's JSON error naming what is wrong, and who acted is the token's user
//! whatever header says otherwise. (Numbers beyond their bounds: e2e `bounds`.)

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Shop, created};
use crate::api::refused;
use crate::system::System;

#[tokio::test]
async fn bad_input_on_the_registers_routes_gets_the_contracts_errors() {
    let system = System::up().await;
    let shop = Shop::open(&system).await;
    let api = &shop.api;
    let raw = |method: Method, path: &str, token: &str, body: &str| {
        let request = reqwest::Client::new()
            .request(method, format!("{}{path}", system.url))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_owned());
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };

    // Roles before the body: a cashier's token on a manager's route is a 403 whatever it
    // sends; no token is a 401.
    let (status, _) = raw(
        Method::POST,
        "/api/v1/registers",
        &shop.cashier,
        "{not json",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let journal = format!("/api/v1/registers/{}/journal", shop.register);
    for path in [journal.as_str(), "/api/v1/sessions"] {
        refused(
            &api.get(path, &shop.cashier).await,
            StatusCode::FORBIDDEN,
            None,
        );
    }
    let anonymous = api
        .call(Method::GET, "/api/v1/registers", None, None, &[])
        .await;
    refused(&anonymous, StatusCode::UNAUTHORIZED, None);

    // Malformed and misshapen bodies.
    let (status, body) = raw(
        Method::POST,
        "/api/v1/registers",
        &shop.manager,
        "{not json",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let bad_registers = [
        (
            json!({"location_id": shop.location, "code": "T 1", "name": "x"}),
            "code",
        ),
        (
            json!({"location_id": shop.location, "code": "é", "name": "x"}),
            "code",
        ),
        (
            json!({"location_id": shop.location, "code": "T9", "name": "x".repeat(101)}),
            "name",
        ),
        (
            json!({"location_id": "01JD5W2N8Q3V6R1T4Y7Z0A9B2C", "code": "T9", "name": "x"}),
            "location_id",
        ),
    ];
    for (body, field) in bad_registers {
        let answer = api.post("/api/v1/registers", &shop.manager, &body).await;
        refused(&answer, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    let extra = json!({"location_id": shop.location, "code": "T9", "name": "x", "open": true});
    let answer = api.post("/api/v1/registers", &shop.manager, &extra).await;
    assert!(
        answer.status.is_client_error(),
        "an unknown field: {}",
        answer.body
    );

    // Sessions: a float as a JSON number, a negative one, an unknown register.
    let open = format!("/api/v1/registers/{}/sessions", shop.register);
    let number = api
        .post(&open, &shop.cashier, &json!({"opening_float": 100}))
        .await;
    assert!(
        number.status.is_client_error() && number.status != StatusCode::NOT_FOUND,
        "{}",
        number.body
    );
    let negative = api
        .post(&open, &shop.cashier, &json!({"opening_float": "-1.00"}))
        .await;
    refused(
        &negative,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("opening_float"),
    );
    let nowhere = api
        .post(
            "/api/v1/registers/01JD5W2N8Q3V6R1T4Y7Z0A9B2C/sessions",
            &shop.cashier,
            &json!({"opening_float": "1.00"}),
        )
        .await;
    refused(&nowhere, StatusCode::NOT_FOUND, None);
    let session = created(&shop.open_session(&shop.cashier, "50.00").await);

    // Cash movements: an unknown kind, no amount, a reason too long; the actor is the token's.
    let movements = format!("/api/v1/sessions/{session}/cash-movements");
    for (body, field) in [
        (
            json!({"kind": "stolen", "amount": "1.00", "reason": "x"}),
            "kind",
        ),
        (
            json!({"kind": "paid_out", "amount": "0.00", "reason": "x"}),
            "amount",
        ),
        (
            json!({"kind": "paid_out", "amount": "1.00", "reason": "x".repeat(501)}),
            "reason",
        ),
    ] {
        let answer = api.post(&movements, &shop.cashier, &body).await;
        refused(&answer, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    let body = json!({"kind": "paid_in", "amount": "1.00", "reason": "float top-up"});
    let forged = api
        .call(
            Method::POST,
            &movements,
            Some(&shop.cashier),
            Some(&body),
            &[("x-actor", "someone-else"), ("x-forwarded-for", "10.0.0.1")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::CREATED, "{}", forged.body);
    let me = api.get("/api/v1/auth/me", &shop.cashier).await;
    assert_eq!(
        forged.body["by"], me.body["id"],
        "who acted is the token's user"
    );
    let unknown = api
        .post(
            "/api/v1/sessions/01JD5W2N8Q3V6R1T4Y7Z0A9B2C/cash-movements",
            &shop.cashier,
            &body,
        )
        .await;
    refused(&unknown, StatusCode::NOT_FOUND, None);

    // A close with a count that is not money; the journal's paging out of its range.
    let close = format!("/api/v1/sessions/{session}/close");
    let answer = api
        .post(&close, &shop.cashier, &json!({"counted_cash": "lots"}))
        .await;
    refused(
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("counted_cash"),
    );
    for query in ["limit=1001", "limit=0", "after_seq=-1", "after_seq=x"] {
        let answer = api.get(&format!("{journal}?{query}"), &shop.manager).await;
        refused(&answer, StatusCode::BAD_REQUEST, None);
    }
    let status = api
        .get("/api/v1/sessions?status=maybe", &shop.manager)
        .await;
    refused(&status, StatusCode::BAD_REQUEST, Some("status"));
    system.stop().await;
}
