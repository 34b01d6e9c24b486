//! The role matrix over every route of the gateway, table-driven from
//! `tillstream_access::matrix::RULES`: without a token a protected route is 401, below its
//! role 403, at or above it neither, whatever the body. The services are not running; the
//! access decision happens before any of them would be called.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tillstream_access::Role;
use tillstream_access::matrix::{Access, RULES};
use tillstream_access::testing::TestSigner;
use tillstream_gateway::access::KeyCache;
use tillstream_gateway::limits::RateLimits;
use tillstream_gateway::upstream::{UpstreamAddrs, Upstreams};
use tillstream_gateway::{AppState, router};
use tower::ServiceExt;

const SIGNER: TestSigner = TestSigner::new("test-key", [9; 32]);

/// Routes the gateway must serve by now; the test fails if any of them is missing.
const SERVED_NOW: &[&str] = &[
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/pin-login",
    "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/logout",
    "GET /api/v1/auth/me",
    "GET /.well-known/jwks.json",
    "POST /api/v1/users",
    "GET /api/v1/users",
    "PATCH /api/v1/users/{id}",
    "POST /api/v1/users/{id}/pin",
    "POST /api/v1/products",
    "GET /api/v1/products",
    "GET /api/v1/products/lookup",
    "POST /api/v1/products/imports",
    "GET /api/v1/products/imports/{id}",
    "POST /api/v1/products/imports/{id}/retry",
    "GET /api/v1/products/{id}",
    "PATCH /api/v1/products/{id}",
    "POST /api/v1/products/{id}/discontinue",
    "POST /api/v1/products/{id}/reactivate",
    "POST /api/v1/locations",
    "GET /api/v1/locations",
    "POST /api/v1/stock/receipts",
    "POST /api/v1/stock/adjustments",
    "POST /api/v1/stock/counts",
    "POST /api/v1/stock/transfers",
    "GET /api/v1/stock",
    "GET /api/v1/stock/movements",
    "POST /api/v1/suppliers",
    "GET /api/v1/suppliers",
    "GET /api/v1/suppliers/{id}",
    "PATCH /api/v1/suppliers/{id}",
    "POST /api/v1/suppliers/{id}/payments",
    "POST /api/v1/purchase-orders",
    "GET /api/v1/purchase-orders",
    "GET /api/v1/purchase-orders/{id}",
    "PATCH /api/v1/purchase-orders/{id}",
    "POST /api/v1/purchase-orders/{id}/submit",
    "POST /api/v1/purchase-orders/{id}/receipts",
    "POST /api/v1/purchase-orders/{id}/invoices",
    "POST /api/v1/purchase-orders/{id}/close",
    "POST /api/v1/purchase-orders/{id}/cancel",
    "GET /api/v1/purchasing/suggestions",
    "POST /api/v1/sales",
    "GET /api/v1/sales",
    "GET /api/v1/sales/{id}",
    "GET /api/v1/sales/{id}/receipt",
    "POST /api/v1/sales/batch",
    "POST /api/v1/sales/{id}/returns",
    "POST /api/v1/sales/{id}/void",
    "POST /api/v1/customers",
    "GET /api/v1/customers",
    "GET /api/v1/customers/{id}",
    "PATCH /api/v1/customers/{id}",
    "GET /api/v1/customers/{id}/sales",
    "POST /api/v1/customers/{id}/erase",
    "GET /api/v1/customers/{id}/account",
    "POST /api/v1/customers/{id}/account/payments",
    "POST /api/v1/gift-cards",
    "GET /api/v1/gift-cards/{code}",
    "POST /api/v1/repairs",
    "GET /api/v1/repairs",
    "GET /api/v1/repairs/{id}",
    "POST /api/v1/repairs/{id}/status",
    "POST /api/v1/repairs/{id}/parts",
    "POST /api/v1/repairs/{id}/labor",
    "POST /api/v1/repairs/{id}/collect",
    "GET /api/v1/customers/{id}/repairs",
    "GET /api/v1/ledger/entries",
    "POST /api/v1/ledger/entries",
    "GET /api/v1/ledger/entries/{id}",
    "POST /api/v1/ledger/entries/{id}/reverse",
    "GET /api/v1/ledger/accounts",
    "GET /api/v1/reports/daily",
    "GET /api/v1/ledger/trial-balance",
    "POST /api/v1/webhooks",
    "GET /api/v1/webhooks",
    "GET /api/v1/webhooks/{id}",
    "DELETE /api/v1/webhooks/{id}",
    "GET /api/v1/webhooks/{id}/deliveries",
    "POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
    "GET /api/v1/openapi.json",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "GET /",
    "GET /admin",
    "GET /sw.js",
];

fn app() -> axum::Router {
    // Nothing listens on port 1: a call that got past the access check would be a 503.
    let nowhere: tillstream_process::addrs::HostPort = "127.0.0.1:1".parse().unwrap();
    let upstreams = Upstreams::connect_lazy(&UpstreamAddrs::all_at(&nowhere));
    let keys = KeyCache::pinned(SIGNER.key_set());
    router(AppState {
        upstreams,
        keys,
        cors_origins: Vec::new(),
        limits: std::sync::Arc::new(RateLimits::off()),
        in_flight: Default::default(),
        server_timing: true,
    })
}

async fn status(method: &str, path: &str, role: Option<Role>) -> StatusCode {
    let path = path.replace("{id}", "01JD0000000000000000000000");
    let mut request = Request::builder().method(method).uri(path);
    if let Some(role) = role {
        request = request.header("authorization", format!("Bearer {}", SIGNER.token(role)));
    }
    let body = if matches!(method, "POST" | "PATCH") {
        request = request.header("content-type", "application/json");
        Body::from("{}")
    } else {
        Body::empty()
    };
    app()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn every_route_admits_exactly_the_roles_the_matrix_gives_it() {
    let mut served = BTreeSet::new();
    for rule in RULES {
        let name = format!("{} {}", rule.method, rule.path);
        let anonymous = status(rule.method, rule.path, None).await;
        let unrouted =
            |s: StatusCode| s == StatusCode::NOT_FOUND || s == StatusCode::METHOD_NOT_ALLOWED;
        if unrouted(anonymous) && unrouted(status(rule.method, rule.path, Some(Role::Admin)).await)
        {
            continue; // not served yet
        }
        served.insert(name.clone());
        match rule.access {
            Access::Public => {
                assert!(
                    anonymous != StatusCode::UNAUTHORIZED && anonymous != StatusCode::FORBIDDEN,
                    "{name} is public but answered {anonymous} without a token"
                );
            }
            Access::AtLeast(required) => {
                assert_eq!(
                    anonymous,
                    StatusCode::UNAUTHORIZED,
                    "{name} without a token"
                );
                for role in Role::ALL {
                    let got = status(rule.method, rule.path, Some(role)).await;
                    if role.allows(required) {
                        assert!(
                            got != StatusCode::UNAUTHORIZED && got != StatusCode::FORBIDDEN,
                            "{name} as {role} answered {got}"
                        );
                    } else {
                        assert_eq!(got, StatusCode::FORBIDDEN, "{name} as {role}");
                    }
                }
            }
        }
    }
    for route in SERVED_NOW {
        assert!(served.contains(*route), "{route} is not served");
    }
}

#[tokio::test]
async fn a_token_from_another_key_or_mangled_is_401() {
    let stranger = TestSigner::new("test-key", [8; 32]);
    for token in [
        stranger.token(Role::Admin),
        "not.a.token".to_owned(),
        String::new(),
    ] {
        let request = Request::get("/api/v1/auth/me")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let status = app().oneshot(request).await.unwrap().status();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
