//! The services behind the gateway: one lazily connected gRPC channel each (a service
//! that is down answers `Unavailable` at once rather than hanging a request), the metadata
//! every call carries, and each service's readiness.

use std::time::Duration;
use tillstream_process::addrs::HostPort;

use axum::http::{self, StatusCode};
use tonic::transport::{Channel, Endpoint};
use tower::ServiceExt;

use crate::access::OnBehalf;
pub use crate::replicas::{Replica, Replicas};
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

/// Where each service's replicas are reached (one address each, usually).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamAddrs {
    pub catalog: Vec<HostPort>,
    pub inventory: Vec<HostPort>,
    pub sales: Vec<HostPort>,
    pub ledger: Vec<HostPort>,
    pub auth: Vec<HostPort>,
    pub webhooks: Vec<HostPort>,
}

impl UpstreamAddrs {
    /// Every service at one address (tests: nothing there, say).
    pub fn all_at(addr: &HostPort) -> Self {
        let one = || vec![addr.clone()];
        UpstreamAddrs {
            catalog: one(),
            inventory: one(),
            sales: one(),
            ledger: one(),
            auth: one(),
            webhooks: one(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Upstreams {
    pub catalog: Replicas,
    pub inventory: Replicas,
    pub sales: Replicas,
    /// Sales again, for uploads of many sales, which take longer than one call should.
    pub sales_bulk: Replicas,
    pub ledger: Replicas,
    pub auth: Replicas,
    pub webhooks: Replicas,
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
        let replicas = |addrs: &[HostPort], timeout: Duration| {
            Replicas::new(addrs.iter().map(|addr| with_timeout(addr, timeout)))
        };
        let sales = replicas(&addrs.sales, CALL_TIMEOUT);
        let sales_bulk = sales.sharing_health(
            addrs
                .sales
                .iter()
                .map(|addr| with_timeout(addr, BULK_TIMEOUT)),
        );
        Upstreams {
            catalog: replicas(&addrs.catalog, CALL_TIMEOUT),
            inventory: replicas(&addrs.inventory, CALL_TIMEOUT),
            sales,
            sales_bulk,
            ledger: replicas(&addrs.ledger, CALL_TIMEOUT),
            auth: replicas(&addrs.auth, CALL_TIMEOUT),
            webhooks: replicas(&addrs.webhooks, CALL_TIMEOUT),
        }
    }

    fn all(&self) -> [(&'static str, &Replicas); 6] {
        [
            (SERVICES[0], &self.catalog),
            (SERVICES[1], &self.inventory),
            (SERVICES[2], &self.sales),
            (SERVICES[3], &self.ledger),
            (SERVICES[4], &self.auth),
            (SERVICES[5], &self.webhooks),
        ]
    }

    /// Each service's readiness, asked of every replica over its own channel (services
    /// serve `/readyz` on the port they serve gRPC on): ready when one replica is. Each
    /// replica is marked down or up by its answer, so calls avoid one that is not ready.
    pub async fn readiness(&self) -> Vec<(&'static str, Result<(), String>)> {
        let checks = self.all().map(|(name, replicas)| async move {
            let answers = futures::future::join_all(replicas.all().iter().map(|replica| async {
                let answer = ready(replica.channel().clone()).await;
                replica.set_down(answer.is_err());
                answer
            }))
            .await;
            let outcome = if answers.iter().any(Result::is_ok) {
                Ok(())
            } else {
                answers
                    .into_iter()
                    .find_map(Result::err)
                    .map_or(Ok(()), Err)
            };
            (name, outcome)
        });
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
