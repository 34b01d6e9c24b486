//! The auth routes over HTTP through the gateway: refresh rotation and reuse, logout, PIN
//! login, disabling a user, lockout with `Retry-After`.

use reqwest::StatusCode;
use serde_json::json;

use crate::api::Api;
use crate::system::System;

#[tokio::test]
async fn sessions_pins_disabling_and_lockout_over_http() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let carol = api
        .create(
            "/api/v1/users",
            &admin,
            &json!({"username": "carol", "password": "till-pass-123", "role": "cashier"}),
        )
        .await;
    let carol_id = carol["id"].as_str().unwrap();
    assert_eq!(carol["has_pin"], false);

    // Refresh rotates; the spent token is refused and takes its family with it.
    let first = api
        .post_anonymous(
            "/api/v1/auth/login",
            &json!({"username": "carol", "password": "till-pass-123"}),
        )
        .await
        .body;
    let refresh = |token: &serde_json::Value| json!({"refresh_token": token});
    let second = api
        .post_anonymous("/api/v1/auth/refresh", &refresh(&first["refresh_token"]))
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_ne!(second.body["refresh_token"], first["refresh_token"]);
    let reused = api
        .post_anonymous("/api/v1/auth/refresh", &refresh(&first["refresh_token"]))
        .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    let family = api
        .post_anonymous(
            "/api/v1/auth/refresh",
            &refresh(&second.body["refresh_token"]),
        )
        .await;
    assert_eq!(family.status, StatusCode::UNAUTHORIZED);

    // Logout ends a session.
    let session = api
        .post_anonymous(
            "/api/v1/auth/login",
            &json!({"username": "carol", "password": "till-pass-123"}),
        )
        .await
        .body;
    let logout = api
        .post(
            "/api/v1/auth/logout",
            session["access_token"].as_str().unwrap(),
            &refresh(&session["refresh_token"]),
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    let after = api
        .post_anonymous("/api/v1/auth/refresh", &refresh(&session["refresh_token"]))
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);

    // A manager sets the cashier's PIN; the till logs in with it.
    api.create(
        "/api/v1/users",
        &admin,
        &json!({"username": "morgan", "password": "manager-pass-1", "role": "manager"}),
    )
    .await;
    let manager = api.login("morgan", "manager-pass-1").await;
    let bad_pin = api
        .post(
            &format!("/api/v1/users/{carol_id}/pin"),
            &manager,
            &json!({"pin": "12"}),
        )
        .await;
    assert_eq!(bad_pin.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_pin.body["error"]["details"][0]["field"], "pin");
    let with_pin = api
        .post(
            &format!("/api/v1/users/{carol_id}/pin"),
            &manager,
            &json!({"pin": "4821"}),
        )
        .await;
    assert_eq!(with_pin.status, StatusCode::OK, "{}", with_pin.body);
    assert_eq!(with_pin.body["has_pin"], true);
    let pin_login = api
        .post_anonymous(
            "/api/v1/auth/pin-login",
            &json!({"username": "carol", "pin": "4821"}),
        )
        .await;
    assert_eq!(pin_login.status, StatusCode::OK, "{}", pin_login.body);

    // Disabled: login and refresh fail at once.
    let live = pin_login.body["refresh_token"].clone();
    let disabled = api
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{carol_id}"),
            Some(&admin),
            Some(&json!({"disabled": true})),
            &[],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    assert_eq!(disabled.body["disabled"], true);
    let login = api
        .post_anonymous(
            "/api/v1/auth/login",
            &json!({"username": "carol", "password": "till-pass-123"}),
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    let refreshed = api
        .post_anonymous("/api/v1/auth/refresh", &refresh(&live))
        .await;
    assert_eq!(refreshed.status, StatusCode::UNAUTHORIZED);
    let listed = api.get("/api/v1/users", &admin).await;
    assert_eq!(listed.body["meta"]["total"], 3);

    // Five failures for a name, then 429 with Retry-After, even with the right password.
    for _ in 0..5 {
        let failed = api
            .post_anonymous(
                "/api/v1/auth/login",
                &json!({"username": "morgan", "password": "wrong"}),
            )
            .await;
        assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    }
    let locked = api
        .post_anonymous(
            "/api/v1/auth/login",
            &json!({"username": "morgan", "password": "manager-pass-1"}),
        )
        .await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    let seconds: u64 = locked.retry_after.unwrap().parse().unwrap();
    assert!((1..=900).contains(&seconds));

    system.stop().await;
}

#[tokio::test]
async fn a_user_created_through_rest_is_recorded_in_the_requests_trace() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let body =
        serde_json::json!({"username": "traced", "password": "till-pass-123", "role": "cashier"});
    let created = api
        .call(
            reqwest::Method::POST,
            "/api/v1/users",
            Some(&admin),
            Some(&body),
            &[("traceparent", parent)],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let auth = system.database("auth").await;
    let recorded: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT payload->>'username', metadata->>'traceparent' FROM events
         WHERE event_type = 'UserRegistered'",
    )
    .fetch_all(&auth)
    .await
    .unwrap();
    for (username, traceparent) in &recorded {
        let trace = traceparent
            .as_deref()
            .and_then(tillstream_kernel::trace_id_of);
        assert!(
            trace.is_some(),
            "{username}'s event carries a valid traceparent"
        );
        if username == "traced" {
            assert_eq!(
                trace,
                Some("4bf92f3577b34da6a3ce929d0e0e4736"),
                "the request's trace"
            );
        }
    }
    assert!(
        recorded.iter().any(|(u, _)| u == "admin"),
        "the bootstrap admin, made outside any request"
    );
    system.stop().await;
}
