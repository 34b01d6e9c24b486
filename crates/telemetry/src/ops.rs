//! `/healthz`, `/readyz` and `/metrics`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Upper bounds of the latency histograms, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
use serde::Serialize;

/// One dependency's state as the probe saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// `postgres`, `nats`, an upstream service, or `consumer <name>`.
    pub name: std::borrow::Cow<'static, str>,
    pub up: bool,
    /// Whether the process is unready while this one is down. NATS is not: commands still
    /// succeed and the relay catches up.
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Looks at the dependencies; called on every `/healthz` and `/readyz`.
pub type Probe =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Vec<Dependency>> + Send>> + Send + Sync>;

#[derive(Clone)]
struct OpsState {
    service: &'static str,
    probe: Probe,
    metrics: PrometheusHandle,
}

#[derive(Serialize)]
struct HealthBody {
    service: &'static str,
    status: &'static str,
    dependencies: Vec<Dependency>,
}

/// The process-wide Prometheus recorder; the first call installs it.
pub fn install_metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            // Latencies as histograms (buckets from 0.5 ms to 10 s), so Prometheus can
            // aggregate them across instances; the exporter's default would be summaries.
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), LATENCY_BUCKETS)
                // Only an empty bucket list is refused.
                .unwrap_or_else(|_| PrometheusBuilder::new())
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (a test harness); ours still renders
            // what is recorded through it.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The three operations routes.
pub fn ops_router(service: &'static str, probe: Probe, metrics: PrometheusHandle) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .with_state(OpsState {
            service,
            probe,
            metrics,
        })
}

async fn healthz(State(state): State<OpsState>) -> Response {
    let dependencies = (state.probe)().await;
    let body = HealthBody {
        service: state.service,
        status: "alive",
        dependencies,
    };
    (StatusCode::OK, axum::Json(body)).into_response()
}

async fn readyz(State(state): State<OpsState>) -> Response {
    let dependencies = (state.probe)().await;
    let ready = dependencies.iter().all(|d| d.up || !d.required);
    let (status, word) = if ready {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unready")
    };
    (
        status,
        axum::Json(HealthBody {
            service: state.service,
            status: word,
            dependencies,
        }),
    )
        .into_response()
}

async fn render_metrics(State(state): State<OpsState>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    fn probe(database_up: bool) -> Probe {
        Arc::new(move || {
            Box::pin(async move {
                vec![
                    Dependency {
                        name: "postgres".into(),
                        up: database_up,
                        required: true,
                        detail: None,
                    },
                    Dependency {
                        name: "nats".into(),
                        up: false,
                        required: false,
                        detail: Some("down".into()),
                    },
                ]
            })
        })
    }

    async fn get_status(router: Router, path: &str) -> (StatusCode, serde_json::Value) {
        let response = router
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    #[tokio::test]
    async fn nats_down_does_not_make_a_service_unready_but_its_database_does() {
        let metrics = install_metrics();
        let (status, body) = get_status(
            ops_router("catalog", probe(true), metrics.clone()),
            "/readyz",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["dependencies"][1]["up"], false);
        let (status, _) = get_status(
            ops_router("catalog", probe(false), metrics.clone()),
            "/readyz",
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let (status, body) =
            get_status(ops_router("catalog", probe(false), metrics), "/healthz").await;
        assert_eq!(
            (status, body["status"].as_str()),
            (StatusCode::OK, Some("alive"))
        );
    }

    #[tokio::test]
    async fn metrics_render_in_prometheus_text() {
        let handle = install_metrics();
        metrics::counter!("tillstream_test_total").increment(1);
        let response = ops_router("catalog", probe(true), handle)
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let text = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&text).contains("tillstream_test_total"));
    }
}
