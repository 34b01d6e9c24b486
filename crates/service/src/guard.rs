//! Every service checks the caller itself, not only the gateway: the `authorization`
//! metadata must carry an access token that verifies against auth's key set, with a role the
//! matrix (`tillstream_access::matrix::GRPC_RULES`) allows for the method. A method missing
//! from the matrix is refused. Keys come from auth (`GetJwks` at `TILLSTREAM_AUTH_ADDR`,
//! fetched when a token names a key not seen yet, at most every few seconds), are pinned by
//! `TILLSTREAM_JWKS`, or — in auth itself — are read from its own store. The verified claims
//! go into the request's extensions, where handlers find who is calling.

use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tillstream_access::KeySet;
use tillstream_access::matrix::{self, Access};
use tonic::Status;
use tonic::transport::Endpoint;
use tracing::Instrument;

use crate::{FetchKeys, RefreshingKeys, VerifyError, fetch_from_auth};
use crate::{ServiceSettings, StartError};

/// Wraps a service's gRPC routes so that every call is authenticated and authorized, with
/// keys from `TILLSTREAM_JWKS` or else from auth at `TILLSTREAM_AUTH_ADDR`.
pub fn guard(grpc: Router, settings: &ServiceSettings) -> Result<Router, StartError> {
    let keys = match &settings.jwks {
        Some(jwks) => RefreshingKeys::pinned(
            KeySet::from_jwks(jwks)
                .map_err(|e| StartError::Setup(format!("TILLSTREAM_JWKS: {e}")))?,
        ),
        None => {
            let endpoint = Endpoint::from_shared(format!("http://{}", settings.auth_addr))
                .map_err(|e| StartError::Setup(format!("TILLSTREAM_AUTH_ADDR: {e}")))?
                .connect_timeout(Duration::from_secs(1))
                .timeout(Duration::from_secs(5));
            RefreshingKeys::fetching(fetch_from_auth(endpoint.connect_lazy()))
        }
    };
    Ok(grpc.layer(axum::middleware::from_fn_with_state(keys, check)))
}

/// The same guard with keys from `fetch` (auth reads its own store).
pub fn guard_with(grpc: Router, fetch: FetchKeys) -> Router {
    grpc.layer(axum::middleware::from_fn_with_state(
        RefreshingKeys::fetching(fetch),
        check,
    ))
}

/// Every call in a `grpc` span carrying the caller's trace id (from `traceparent`), so each
/// log line of it has the id, and counted and timed per method and status code.
/// The metrics label of every gRPC method not in the role matrix.
pub const UNKNOWN_METHOD: &str = "unknown";

async fn check(State(keys): State<RefreshingKeys>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    // Methods the matrix does not know (anything a client makes up) share one label, so a
    // scan of made-up paths cannot grow the metrics without bound.
    let method_label = if matrix::grpc_access(&path).is_some() {
        path.clone()
    } else {
        UNKNOWN_METHOD.to_owned()
    };
    let trace_id = request
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(tillstream_kernel::trace_id_of)
        .unwrap_or("")
        .to_owned();
    let span = tracing::info_span!(
        "grpc",
        method = %path,
        trace_id = %trace_id,
        span_id = tracing::field::Empty
    );
    let _ = tillstream_telemetry::continue_trace(
        &span,
        request
            .headers()
            .get("traceparent")
            .and_then(|v| v.to_str().ok()),
    );
    let started = std::time::Instant::now();
    let response = authorize(keys, request, next).instrument(span).await;
    // Errors travel as trailers-only responses, with the status among the headers.
    let code = response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("0")
        .to_owned();
    metrics::counter!("grpc_server_requests_total", "method" => method_label.clone(), "code" => code)
        .increment(1);
    metrics::histogram!("grpc_server_request_duration_seconds", "method" => method_label)
        .record(started.elapsed().as_secs_f64());
    response
}

async fn authorize(keys: RefreshingKeys, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let required = match matrix::grpc_access(&path) {
        Some(Access::Public) => return next.run(request).await,
        Some(Access::AtLeast(role)) => role,
        None => {
            tracing::error!(%path, "gRPC method missing from the role matrix");
            return Status::permission_denied("this method has no access rule").into_http();
        }
    };
    let token = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let Some(token) = token else {
        return Status::unauthenticated("an access token is required").into_http();
    };
    match keys.verify(&token).await {
        Ok(claims) if claims.role.allows(required) => {
            request.extensions_mut().insert(claims);
            // For the handler to verify approvals the call presents with the same keys.
            request.extensions_mut().insert(keys);
            next.run(request).await
        }
        Ok(claims) => Status::permission_denied(format!(
            "this needs the {required} role or above; the caller is {}",
            claims.role
        ))
        .into_http(),
        Err(VerifyError::KeysUnavailable(_)) => {
            Status::unavailable("auth's key set is unavailable").into_http()
        }
        Err(VerifyError::Token(error)) => {
            Status::unauthenticated(format!("access token: {error}")).into_http()
        }
    }
}
