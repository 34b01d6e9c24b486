//! The services behind the gateway: one lazily connected gRPC channel each (a service
//! that is down answers `Unavailable` at once rather than hanging a request), the metadata
//! every call carries, and each service's readiness.

use std::time::Duration;
use tillstream_process::addrs::HostPort;

use axum::http::{self, StatusCode};
use tonic::transport::{Channel, Endpoint};
use tower::ServiceExt;

use crate::access::OnBehalf;
use crate::trace::{child_traceparent, current_client_addr, current_trace_id};

/// How long a connection attempt may take before the service counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one call may take before the client gets a 504.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an offline till's upload (up to 1,000 sales) may take.
const BULK_TIMEOUT: Duration = Duration::from_secs(120);

/// The services' names, in the order of `Upstreams::all`.
pub const SERVICES: [&str; 6] = [
    "catalog",
    "inventory",
    "sales",
    "ledger",
    "auth",
    "webhooks",
];

/// Where each service is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamAddrs {
    pub catalog: HostPort,
    pub inventory: HostPort,
    pub sales: HostPort,
    pub ledger: HostPort,
    pub auth: HostPort,
    pub webhooks: HostPort,
}

impl UpstreamAddrs {
    /// Every service at one address (tests: nothing there, say).
    pub fn all_at(addr: &HostPort) -> Self {
        UpstreamAddrs {
            catalog: addr.clone(),
            inventory: addr.clone(),
            sales: addr.clone(),
            ledger: addr.clone(),
            auth: addr.clone(),
            webhooks: addr.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Upstreams {
    pub catalog: Channel,
    pub inventory: Channel,
    pub sales: Channel,
    /// Sales again, for uploads of many sales, which take longer than one call should.
    pub sales_bulk: Channel,
    pub ledger: Channel,
    pub auth: Channel,
    pub webhooks: Channel,
}

impl Upstreams {
    pub fn connect_lazy(addrs: &UpstreamAddrs) -> Self {
        let with_timeout = |addr: &HostPort, timeout: Duration| {
            let uri = format!("http://{addr}");
            // `from_shared` only fails on a malformed URI; a checked host:port never is one.
            Endpoint::from_shared(uri)
                .unwrap_or_else(|_| Endpoint::from_static("http://127.0.0.1:1"))
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(timeout)
                .tcp_nodelay(true)
                .connect_lazy()
        };
        let channel = |addr: &HostPort| with_timeout(addr, CALL_TIMEOUT);
        Upstreams {
            catalog: channel(&addrs.catalog),
            inventory: channel(&addrs.inventory),
            sales: channel(&addrs.sales),
            sales_bulk: with_timeout(&addrs.sales, BULK_TIMEOUT),
            ledger: channel(&addrs.ledger),
            auth: channel(&addrs.auth),
            webhooks: channel(&addrs.webhooks),
        }
    }

    fn all(&self) -> [(&'static str, &Channel); 6] {
        [
            (SERVICES[0], &self.catalog),
            (SERVICES[1], &self.inventory),
            (SERVICES[2], &self.sales),
            (SERVICES[3], &self.ledger),
            (SERVICES[4], &self.auth),
            (SERVICES[5], &self.webhooks),
        ]
    }

    /// Each service's readiness, asked over its own channel: services serve `/readyz` on
    /// the port they serve gRPC on.
    pub async fn readiness(&self) -> Vec<(&'static str, Result<(), String>)> {
        let checks = self
            .all()
            .map(|(name, channel)| async move { (name, ready(channel.clone()).await) });
        futures::future::join_all(checks).await
    }
}

async fn ready(channel: Channel) -> Result<(), String> {
    let request = http::Request::get("/readyz")
        .body(tonic::body::Body::empty())
        .map_err(|e| e.to_string())?;
    let response = channel
        .oneshot(request)
        .await
        .map_err(|e| format!("unreachable: {e}"))?;
    match response.status() {
        StatusCode::OK => Ok(()),
        status => Err(format!("answers {status}")),
    }
}

/// `request` with the approvals the client sent (`X-Approval`), which the service verifies
/// and spends itself.
pub fn with_approvals<T>(
    mut request: tonic::Request<T>,
    headers: &axum::http::HeaderMap,
) -> tonic::Request<T> {
    if let Some(value) = headers
        .get(crate::routes::approvals::APPROVAL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
    {
        request
            .metadata_mut()
            .insert(crate::routes::approvals::APPROVAL_HEADER, value);
    }
    request
}

/// A request to a service on behalf of `caller`: the trace context, the correlation id
/// (the trace id) and the caller's token go along as metadata, and the client's address
/// when the gateway knows it.
pub fn request<T>(message: T, caller: Option<OnBehalf<'_>>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let metadata = request.metadata_mut();
    if let Some(value) = child_traceparent().and_then(|v| v.parse().ok()) {
        metadata.insert("traceparent", value);
    }
    if let Ok(value) = current_trace_id().parse() {
        metadata.insert("x-correlation-id", value);
    }
    if let Some(caller) = caller {
        // Who acts is in the token, which the service verifies itself; nothing else says so.
        if let Ok(value) = format!("Bearer {}", caller.token).parse() {
            metadata.insert("authorization", value);
        }
    }
    if let Some(value) = current_client_addr().and_then(|addr| addr.parse().ok()) {
        metadata.insert("x-client-addr", value);
    }
    request
}
