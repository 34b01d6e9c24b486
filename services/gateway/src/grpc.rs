//! The gateway's gRPC side on `TILLSTREAM_GRPC_ADDR`: every service's operations under
//! their own names (`tillstream.<service>.v1.<Name>Service`), passed through to the service
//! as they are — the `authorization` metadata included, which the service verifies against
//! the same role matrix — plus server reflection (v1 and v1alpha, so grpcurl and older
//! clients both list and describe the API) and the standard health service, whose status
//! per service follows that service's readiness.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, Response};
use axum::middleware::Next;
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::{Service, ServiceExt};

use crate::AppState;
use crate::trace::{child_traceparent, current_client_addr};
use crate::upstream::{Replicas, Upstreams};

/// Each service as the gateway mirrors it: its gRPC name and its replicas.
fn services(upstreams: &Upstreams) -> [(&'static str, &'static str, Replicas); 11] {
    [
        (
            "auth",
            "tillstream.auth.v1.AuthService",
            upstreams.auth.clone(),
        ),
        (
            "catalog",
            "tillstream.catalog.v1.CatalogService",
            upstreams.catalog.clone(),
        ),
        (
            "inventory",
            "tillstream.inventory.v1.InventoryService",
            upstreams.inventory.clone(),
        ),
        (
            "inventory",
            "tillstream.inventory.v1.PurchasingService",
            upstreams.inventory.clone(),
        ),
        (
            "sales",
            "tillstream.sales.v1.SalesService",
            upstreams.sales.clone(),
        ),
        (
            "sales",
            "tillstream.sales.v1.RegisterService",
            upstreams.sales.clone(),
        ),
        (
            "sales",
            "tillstream.sales.v1.CustomerService",
            upstreams.sales.clone(),
        ),
        (
            "sales",
            "tillstream.sales.v1.GiftCardService",
            upstreams.sales.clone(),
        ),
        (
            "sales",
            "tillstream.sales.v1.RepairService",
            upstreams.sales.clone(),
        ),
        (
            "ledger",
            "tillstream.ledger.v1.LedgerService",
            upstreams.ledger.clone(),
        ),
        (
            "webhooks",
            "tillstream.webhooks.v1.WebhooksService",
            upstreams.webhooks.clone(),
        ),
    ]
}

/// How often the health statuses follow the services' readiness.
const HEALTH_EVERY: Duration = Duration::from_secs(5);
/// How often while some service is not ready.
const HEALTH_SOON: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum GrpcError {
    #[error("server reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// The gRPC router, and the task keeping the health statuses current until `shutdown`.
pub fn router(state: &AppState, shutdown: CancellationToken) -> Result<Router, GrpcError> {
    let upstreams = &state.upstreams;
    // Reflection describes the health service beside ours, so a client that knows only
    // reflection (grpcurl) can call the health check.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(tillstream_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;
    let (reporter, health) = tonic_health::server::health_reporter();
    tokio::spawn(follow_readiness(upstreams.clone(), reporter, shutdown));

    let mut router = tonic::service::Routes::new(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .into_axum_router();
    for (name, grpc_name, replicas) in services(upstreams) {
        router = router.route_service(
            &format!("/{grpc_name}/{{method}}"),
            PassThrough {
                service: name,
                replicas,
            },
        );
    }
    Ok(router
        .layer(axum::middleware::from_fn_with_state(state.clone(), limited))
        .layer(axum::middleware::from_fn_with_state(
            state.server_timing,
            crate::trace::traced,
        )))
}

/// The REST side's rate limits on the mirror too: the client address's first, then, when
/// the call's token verifies, its user's (the service checks the token and role itself).
/// Over either, `RESOURCE_EXHAUSTED` with `retry-after` in seconds.
async fn limited(
    State(state): State<AppState>,
    request: Request<Body>,
    next: Next,
) -> Response<Body> {
    let mut checked = match current_client_addr() {
        Some(addr) => state.limits.check_addr(&addr),
        None => Ok(()),
    };
    if checked.is_ok()
        && let Some(token) = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        && let Ok(claims) = crate::access::verify(&state.keys, token.trim()).await
    {
        checked = state.limits.check_user(&claims.sub);
    }
    match checked {
        Ok(()) => next.run(request).await,
        Err(limited) => {
            let mut status = tonic::Status::resource_exhausted(limited.message);
            if let Some(seconds) = limited.retry_after
                && let Ok(value) = seconds.to_string().parse()
            {
                status.metadata_mut().insert("retry-after", value);
            }
            status.into_http::<Body>()
        }
    }
}

/// Sets each service's health (and the overall one, `""`) from its readiness.
async fn follow_readiness(
    upstreams: Upstreams,
    reporter: HealthReporter,
    shutdown: CancellationToken,
) {
    loop {
        let readiness = upstreams.readiness().await;
        let mut all_up = true;
        for (name, grpc_name, _) in services(&upstreams) {
            let up = readiness
                .iter()
                .any(|(service, outcome)| *service == name && outcome.is_ok());
            all_up &= up;
            reporter.set_service_status(grpc_name, serving(up)).await;
        }
        reporter.set_service_status("", serving(all_up)).await;
        // Until everything is up (a stack starting), look again soon: a client checking
        // health right after start should not wait a whole period for the good news.
        let wait = if all_up { HEALTH_EVERY } else { HEALTH_SOON };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

fn serving(up: bool) -> ServingStatus {
    if up {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    }
}

/// Metadata only the gateway may set, removed from what a client sends.
const CLIENT_CANNOT_SET: [&str; 3] = ["x-actor", "x-client-addr", "x-forwarded-for"];

/// Passes a call to a service unchanged (path, metadata, body), adding the gateway's
/// `traceparent` when the client sent none. A service that cannot be reached answers
/// `UNAVAILABLE` naming it, at once; a call outliving the channel's timeout
/// `DEADLINE_EXCEEDED`.
#[derive(Debug, Clone)]
struct PassThrough {
    service: &'static str,
    replicas: Replicas,
}

impl Service<Request<Body>> for PassThrough {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let (service, channel) = (self.service, self.replicas.pick());
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            // A client says nothing about who it is or where it is: the service reads the
            // caller from the verified token and the address from here.
            for header in CLIENT_CANNOT_SET {
                parts.headers.remove(header);
            }
            if let Some(addr) = current_client_addr()
                && let Ok(value) = HeaderValue::from_str(&addr)
            {
                parts.headers.insert("x-client-addr", value);
            }
            if !parts.headers.contains_key("traceparent")
                && let Some(traceparent) = child_traceparent()
                && let Ok(value) = HeaderValue::from_str(&traceparent)
            {
                parts.headers.insert("traceparent", value);
            }
            let request = Request::from_parts(parts, tonic::body::Body::new(body));
            let answer = match channel.oneshot(request).await {
                Ok(response) => response.map(Body::new),
                Err(error) => {
                    let status = if crate::replicas::timed_out(&error) {
                        tonic::Status::deadline_exceeded(format!(
                            "the {service} service did not answer in time"
                        ))
                    } else {
                        tracing::warn!(service, %error, "upstream unavailable");
                        tonic::Status::unavailable(format!("the {service} service is unavailable"))
                    };
                    status.into_http::<Body>()
                }
            };
            Ok(answer)
        })
    }
}
