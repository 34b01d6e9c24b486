//! Rate limits through the router: per user once the token is verified, per client address
//! before anything else; over either, the contract's 429 with `Retry-After`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use tillstream_access::Role;
use tillstream_access::testing::TestSigner;
use tillstream_gateway::access::KeyCache;
use tillstream_gateway::limits::RateLimits;
use tillstream_gateway::upstream::{UpstreamAddrs, Upstreams};
use tillstream_gateway::{AppState, router};
use tower::ServiceExt;

const SIGNER: TestSigner = TestSigner::new("test-key", [7; 32]);

fn app(limits: RateLimits) -> axum::Router {
    let nowhere: tillstream_process::addrs::HostPort = "127.0.0.1:1".parse().unwrap();
    let upstreams = Upstreams::connect_lazy(&UpstreamAddrs::all_at(&nowhere));
    router(AppState {
        upstreams,
        keys: KeyCache::pinned(SIGNER.key_set()),
        cors_origins: Vec::new(),
        limits: Arc::new(limits),
        in_flight: Default::default(),
        server_timing: true,
    })
}

/// `GET /api/v1/auth/me` (answered from the token alone) from `addr` as `role`'s user.
fn me(addr: &str, token: &str) -> Request<Body> {
    let mut request = Request::builder()
        .uri("/api/v1/auth/me")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let addr: SocketAddr = addr.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    request
}

#[tokio::test]
async fn a_user_over_their_rate_gets_429_with_retry_after_and_others_do_not() {
    let app = app(RateLimits::new(3, 0));
    let cashier = SIGNER.token(Role::Cashier);
    for _ in 0..3 {
        let answer = app
            .clone()
            .oneshot(me("10.0.0.1:4000", &cashier))
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let refused = app
        .clone()
        .oneshot(me("10.0.0.1:4000", &cashier))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body = axum::body::to_bytes(refused.into_body(), 1 << 16)
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    let manager = SIGNER.token(Role::Manager);
    let other = app.oneshot(me("10.0.0.1:4000", &manager)).await.unwrap();
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "another user has their own rate"
    );
}

#[tokio::test]
async fn an_address_over_its_rate_is_held_back_before_authentication() {
    let app = app(RateLimits::new(0, 2));
    let token = SIGNER.token(Role::Cashier);
    for port in [4000, 4001] {
        let answer = app
            .clone()
            .oneshot(me(&format!("10.0.0.2:{port}"), &token))
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let bad_token = app
        .clone()
        .oneshot(me("10.0.0.2:4002", "junk"))
        .await
        .unwrap();
    assert_eq!(
        bad_token.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "one client however many connections, token or not"
    );
    let elsewhere = app.oneshot(me("10.0.0.3:4000", &token)).await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_grpc_mirror_is_held_to_the_same_address_limit() {
    let nowhere: tillstream_process::addrs::HostPort = "127.0.0.1:1".parse().unwrap();
    let state = AppState {
        upstreams: Upstreams::connect_lazy(&UpstreamAddrs::all_at(&nowhere)),
        keys: KeyCache::pinned(SIGNER.key_set()),
        cors_origins: Vec::new(),
        limits: Arc::new(RateLimits::new(0, 2)),
        in_flight: Default::default(),
        server_timing: true,
    };
    let stop = tokio_util::sync::CancellationToken::new();
    let grpc = tillstream_gateway::grpc::router(&state, stop.clone()).unwrap();
    let call = || {
        let mut request = Request::builder()
            .method("POST")
            .uri("/tillstream.catalog.v1.CatalogService/GetProduct")
            .header("content-type", "application/grpc")
            .body(Body::empty())
            .unwrap();
        let addr: SocketAddr = "10.0.0.9:4000".parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(addr));
        request
    };
    let mut codes = Vec::new();
    for _ in 0..3 {
        let answer = grpc.clone().oneshot(call()).await.unwrap();
        let code = answer
            .headers()
            .get("grpc-status")
            .map(|v| v.to_str().unwrap().to_owned());
        let retry_after = answer.headers().get("retry-after").is_some();
        codes.push((code, retry_after));
    }
    stop.cancel();
    // Two through (to an upstream that is not there), the third held back.
    assert_ne!(codes[0].0.as_deref(), Some("8"), "{codes:?}");
    assert_eq!(codes[2], (Some("8".to_owned()), true), "{codes:?}");
}
