//! Every request gets a trace id: the one in its W3C `traceparent` when it carries one,
//! else a new one. It names the request's span, goes to the services in `traceparent`,
//! comes back in `x-trace-id` and in every error body. `Server-Timing` answers how long the
//! gateway took and on what.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tillstream_telemetry::timing::{self, Timing};
use tracing::Instrument;

tokio::task_local! {
    static TRACE_ID: String;
    static SPAN_ID: String;
    static CLIENT_ADDR: Option<String>;
}

/// The address of the client of the request being handled (for per-address lockout).
pub fn current_client_addr() -> Option<String> {
    CLIENT_ADDR.try_with(Clone::clone).ok().flatten()
}

/// The trace id of the request being handled, or `""` outside one.
pub fn current_trace_id() -> String {
    TRACE_ID.try_with(Clone::clone).unwrap_or_default()
}

/// A `traceparent` for a call made on behalf of the current request: the current span's
/// id when spans are exported (so the service's span hangs under the gateway's), else a new
/// one.
pub fn child_traceparent() -> Option<String> {
    let trace_id = current_trace_id();
    if trace_id.is_empty() {
        return None;
    }
    let span_id = SPAN_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| random_hex::<8>());
    Some(format!("00-{trace_id}-{span_id}-01"))
}

/// The middleware: trace id, span, `x-trace-id`, the request metrics and, unless
/// `server_timing` is off, `Server-Timing`.
pub async fn traced(State(server_timing): State<bool>, request: Request, next: Next) -> Response {
    let trace_id = request
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(trace_id_of)
        .unwrap_or_else(random_hex::<16>);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let span = tracing::info_span!(
        "http",
        %method,
        %route,
        trace_id = %trace_id,
        span_id = tracing::field::Empty,
        status = tracing::field::Empty
    );
    // The exported trace takes the same id as `x-trace-id` and the logs: the client's
    // `traceparent` when it sent one, else one rooted on the id chosen here.
    let parent = request
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("00-{trace_id}-{}-01", random_hex::<8>()));
    let span_id = tillstream_telemetry::continue_trace(&span, Some(&parent));
    let client_addr = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_string());
    let started = Instant::now();
    let (mut response, stages) = timing::timed(TRACE_ID.scope(
        trace_id.clone(),
        SPAN_ID.scope(span_id, CLIENT_ADDR.scope(client_addr, next.run(request))),
    ))
    .instrument(span.clone())
    .await;
    let status = response.status().as_u16();
    span.record("status", status);
    let labels = [
        ("method", method),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2])
        .record(started.elapsed().as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&trace_id) {
        response.headers_mut().insert("x-trace-id", value);
    }
    if server_timing {
        // The whole request first, then its stages (the token's check, a service's call
        // and that service's own stages).
        let mut timing = Timing::default();
        timing.push("gateway", started.elapsed());
        timing.extend(stages);
        if let Ok(value) = HeaderValue::from_str(&timing.header_value()) {
            response.headers_mut().insert(timing::HEADER, value);
        }
    }
    response
}

/// The trace id of a version-00 `traceparent`, when it is well formed and not all zeros.
fn trace_id_of(traceparent: &str) -> Option<String> {
    tillstream_kernel::trace_id_of(traceparent).map(str::to_owned)
}

fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    if getrandom::getrandom(&mut bytes).is_err() {
        // Without the OS's randomness a trace id need only be unlikely to repeat.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for (byte, source) in bytes.iter_mut().zip(nanos.to_le_bytes().iter().cycle()) {
            *byte = *source;
        }
    }
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparents_trace_id_is_kept_and_a_bad_one_ignored() {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(
            trace_id_of(&format!("00-{id}-00f067aa0ba902b7-01")).as_deref(),
            Some(id)
        );
        assert_eq!(
            trace_id_of("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(trace_id_of("garbage"), None);
        assert_eq!(random_hex::<16>().len(), 32);
    }
}
