//! `Server-Timing` on every answer unless `TILLSTREAM_SERVER_TIMING` turns it off.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tillstream_gateway::{AppState, GatewaySettings, router};
use tower::ServiceExt;

fn app(server_timing: Option<&str>) -> axum::Router {
    let settings = GatewaySettings::from_lookup(|name| match name {
        "TILLSTREAM_SERVER_TIMING" => server_timing.map(str::to_owned),
        name if name.ends_with("_ADDR") && name != "TILLSTREAM_HTTP_ADDR" => {
            Some("127.0.0.1:1".into())
        }
        _ => None,
    })
    .unwrap();
    router(AppState::new(&settings))
}

/// An unauthenticated call: answered by the gateway alone, a 401.
fn me() -> Request<Body> {
    Request::get("/api/v1/auth/me").body(Body::empty()).unwrap()
}

#[tokio::test]
async fn answers_say_where_the_time_went_unless_turned_off() {
    let on = app(None).oneshot(me()).await.unwrap();
    assert_eq!(on.status(), StatusCode::UNAUTHORIZED);
    let timing = on.headers()["server-timing"].to_str().unwrap();
    assert!(timing.starts_with("gateway;dur="), "{timing}");

    let off = app(Some("false")).oneshot(me()).await.unwrap();
    assert_eq!(off.status(), StatusCode::UNAUTHORIZED);
    assert!(off.headers().get("server-timing").is_none());
    assert!(
        off.headers().get("x-trace-id").is_some(),
        "the trace id is not part of the switch"
    );
}
