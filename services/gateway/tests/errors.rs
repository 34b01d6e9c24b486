//! Every class of error the gateway answers by itself, with its status and the contract's
//! body: `{"error": {code, message, details, trace_id}}`, `x-trace-id` equal to the body's
//! trace id, and `Retry-After` where the contract puts one. The services are not running
//! (nothing listens on port 1): a call that reaches one is the 503 naming it.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tillstream_access::Role;
use tillstream_access::testing::TestSigner;
use tillstream_gateway::access::KeyCache;
use tillstream_gateway::limits::RateLimits;
use tillstream_gateway::upstream::{UpstreamAddrs, Upstreams};
use tillstream_gateway::{AppState, router};
use tower::ServiceExt;

const SIGNER: TestSigner = TestSigner::new("test-key", [9; 32]);

fn app() -> axum::Router {
    let nowhere: tillstream_process::addrs::HostPort = "127.0.0.1:1".parse().unwrap();
    let upstreams = Upstreams::connect_lazy(&UpstreamAddrs::all_at(&nowhere));
    router(AppState {
        upstreams,
        keys: KeyCache::pinned(SIGNER.key_set()),
        cors_origins: Vec::new(),
        limits: std::sync::Arc::new(RateLimits::off()),
        in_flight: Default::default(),
        server_timing: true,
    })
}

struct Answer {
    status: StatusCode,
    error: Value,
    retry_after: Option<String>,
}

async fn send(
    method: &str,
    path: &str,
    role: Option<Role>,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(role) = role {
        request = request.header("authorization", format!("Bearer {}", SIGNER.token(role)));
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = app()
        .oneshot(request.body(body.into()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (trace_header, retry_after) = (header("x-trace-id"), header("retry-after"));
    // The contract's body, never the web framework's plain text.
    assert_eq!(
        header("content-type").as_deref(),
        Some("application/json"),
        "{method} {path} answered {status}"
    );
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    let error = body["error"].clone();
    // The shape every error has.
    assert!(error["code"].is_string(), "{body}");
    assert!(error["message"].is_string(), "{body}");
    assert!(error["details"].is_array(), "{body}");
    let trace_id = error["trace_id"].as_str().unwrap();
    assert_eq!(trace_id.len(), 32, "{body}");
    assert_eq!(trace_header.as_deref(), Some(trace_id));
    Answer {
        status,
        error,
        retry_after,
    }
}

fn json(text: &str) -> Body {
    Body::from(text.to_owned())
}

#[tokio::test]
async fn each_error_class_has_its_status_code_and_body() {
    let manager = Some(Role::Manager);
    let json_type = Some("application/json");
    let cases = [
        (
            send(
                "POST",
                "/api/v1/sales",
                manager,
                json_type,
                json("{\"location_id\": "),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "malformed_request",
        ),
        (
            send(
                "GET",
                "/api/v1/stock?as_of=yesterday",
                manager,
                None,
                Body::empty(),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "malformed_request",
        ),
        (
            send("GET", "/api/v1/products", None, None, Body::empty()).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            send(
                "POST",
                "/api/v1/users",
                Some(Role::Cashier),
                json_type,
                json("{}"),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            send("GET", "/api/v1/no-such-thing", manager, None, Body::empty()).await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            send(
                "DELETE",
                "/api/v1/ledger/entries/01JD0000000000000000000000",
                manager,
                None,
                Body::empty(),
            )
            .await,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            send(
                "POST",
                "/api/v1/sales",
                manager,
                json_type,
                vec![b' '; 3 << 20],
            )
            .await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            send(
                "POST",
                "/api/v1/sales",
                manager,
                Some("text/plain"),
                json("{}"),
            )
            .await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            send(
                "POST",
                "/api/v1/products/imports",
                manager,
                json_type,
                json("{}"),
            )
            .await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            send(
                "POST",
                "/api/v1/sales",
                manager,
                json_type,
                json(r#"{"location_id": 7, "lines": []}"#),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            send(
                "GET",
                "/api/v1/products/lookup?sku=TEA",
                manager,
                None,
                Body::empty(),
            )
            .await,
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
        ),
    ];
    for (answer, status, code) in cases {
        assert_eq!(
            (answer.status, answer.error["code"].as_str().unwrap()),
            (status, code)
        );
    }
}

#[tokio::test]
async fn a_field_error_names_the_field_and_a_stopped_service_is_named_at_once() {
    let manager = Some(Role::Manager);
    let wrong_type = send(
        "POST",
        "/api/v1/sales",
        manager,
        Some("application/json"),
        json(r#"{"location_id": "L", "lines": [{"sku": "TEA", "quantity": "1"}], "payments": [{"method": "cash", "amount": 5}]}"#),
    )
    .await;
    assert_eq!(
        wrong_type.error["details"][0]["field"],
        "payments[0].amount"
    );

    let started = std::time::Instant::now();
    let down = send("GET", "/api/v1/sales/S-1", manager, None, Body::empty()).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.error["message"], "the sales service is unavailable");
    assert_eq!(down.retry_after.as_deref(), Some("1"));
    // "At once": a refused connection, not a hang until some timeout.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    // A body over 2 MiB is 413; a CSV import takes up to 20 MiB (then the service is asked).
    let csv = vec![b'a'; 3 << 20];
    let import = send(
        "POST",
        "/api/v1/products/imports",
        manager,
        Some("text/csv"),
        csv,
    )
    .await;
    assert_eq!(import.status, StatusCode::SERVICE_UNAVAILABLE);
}

/// Every GET operation of the document with its path filled in and its query parameters,
/// as (path, parameter names).
fn queried_operations() -> Vec<(String, Vec<String>)> {
    let document: Value = serde_json::from_str(&tillstream_gateway::openapi::document()).unwrap();
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let Some(parameters) = item["get"]["parameters"].as_array() else {
            continue;
        };
        let names: Vec<String> = parameters
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        if names.is_empty() {
            continue;
        }
        // Any `{name}` of the path becomes an id; the route only has to be matched.
        let mut filled = String::new();
        for segment in path.split('/').skip(1) {
            filled.push('/');
            if segment.starts_with('{') {
                filled.push_str("01JD0000000000000000000000");
            } else {
                filled.push_str(segment);
            }
        }
        operations.push((filled, names));
    }
    operations
}

/// A query string the gateway cannot read is the contract's JSON error on every route, not
/// the web framework's plain-text one: a parameter given twice (`?page=x&page=x`, which a
/// fuzzer sends) and a badly encoded one (`%ZZ`). `send` checks the content type and the
/// body's shape.
#[tokio::test]
async fn every_query_parameter_is_read_into_the_contracts_error_body() {
    let operations = queried_operations();
    assert!(operations.len() > 20, "{operations:?}");
    for (path, names) in operations {
        for name in names {
            for query in [format!("{name}=x&{name}=x"), format!("{name}=%ZZ")] {
                let uri = format!("{path}?{query}");
                let answer = send("GET", &uri, Some(Role::Admin), None, Body::empty()).await;
                assert!(
                    answer.status.is_client_error() || answer.status.is_server_error(),
                    "GET {uri} answered {}",
                    answer.status
                );
            }
        }
    }
}

/// A path parameter that is not UTF-8 once decoded is a 400 naming the path, in the
/// contract's body (axum's own refusal is plain text), as an encoded NUL is.
#[tokio::test]
async fn a_path_that_does_not_decode_to_utf8_is_a_json_400() {
    for path in [
        "/api/v1/sales/%FF%FE",
        "/api/v1/products/%C3",
        "/api/v1/sales/S%00",
    ] {
        let answer = send("GET", path, Some(Role::Admin), None, Body::empty()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(answer.error["code"], "malformed_request", "{path}");
        assert_eq!(answer.error["details"][0]["field"], "path", "{path}");
    }
}
