//! CORS from `TILLSTREAM_CORS_ORIGINS`: a web register's preflight is answered before
//! routing and authentication; other origins get no grant; the trace id is readable.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tillstream_gateway::{AppState, GatewaySettings, router};
use tower::ServiceExt;

fn app() -> axum::Router {
    let settings = GatewaySettings::from_lookup(|name| match name {
        "TILLSTREAM_CORS_ORIGINS" => Some("https://till.example.com".into()),
        name if name.ends_with("_ADDR") && name != "TILLSTREAM_HTTP_ADDR" => {
            Some("127.0.0.1:1".into())
        }
        _ => None,
    })
    .unwrap();
    router(AppState::new(&settings))
}

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method("OPTIONS")
        .uri("/api/v1/sales")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type,idempotency-key",
        )
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn an_allowed_origin_is_granted_and_others_are_not() {
    let answer = app()
        .oneshot(preflight("https://till.example.com"))
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        StatusCode::OK,
        "no token needed for a preflight"
    );
    let headers = answer.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://till.example.com"
    );
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(
        methods.contains("POST") && methods.contains("PATCH"),
        "{methods}"
    );
    let allowed = headers["access-control-allow-headers"].to_str().unwrap();
    assert!(allowed.contains("idempotency-key"), "{allowed}");

    let stranger = app()
        .oneshot(preflight("https://evil.example.com"))
        .await
        .unwrap();
    assert!(
        stranger
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let read = Request::builder()
        .uri("/healthz")
        .header("origin", "https://till.example.com")
        .body(Body::empty())
        .unwrap();
    let answer = app().oneshot(read).await.unwrap();
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "https://till.example.com"
    );
    let exposed = answer.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(exposed.contains("x-trace-id"), "{exposed}");
}
