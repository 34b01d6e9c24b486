//! `Idempotency-Key` requests in flight: a repeat that arrives while the first is still
//! being answered gets 409 `idempotency_in_progress` with `Retry-After`, instead of waiting
//! on the service (or, where a service keeps no key, doing the work twice). Once the first
//! has its answer, a repeat is answered by the service from the stored response.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::ApiError;

/// The keys of the POSTs being answered, each scoped to its caller and route.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<Mutex<HashSet<String>>>);

impl InFlight {
    fn claim(&self, scope: String) -> Option<Release> {
        let mut keys = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        keys.insert(scope.clone()).then(|| Release {
            keys: self.clone(),
            scope,
        })
    }
}

/// Gives the key back when the request is answered or abandoned.
struct Release {
    keys: InFlight,
    scope: String,
}

impl Drop for Release {
    fn drop(&mut self) {
        self.keys
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.scope);
    }
}

/// The middleware: POSTs with an `Idempotency-Key` pass one at a time per caller and route.
pub async fn guard(
    State(in_flight): State<InFlight>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let key = request
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok());
    let (true, Some(key)) = (request.method() == Method::POST, key) else {
        return Ok(next.run(request).await);
    };
    let caller = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let scope = format!("{caller}\n{}\n{key}", request.uri().path());
    let Some(_release) = in_flight.claim(scope) else {
        let mut error = ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_in_progress",
            "a request with this Idempotency-Key is still being answered; try again shortly",
        );
        error.retry_after = Some(1);
        return Err(error);
    };
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use std::sync::Arc;

    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use tokio::sync::Notify;
    use tower::ServiceExt;

    use super::*;

    async fn call(app: Router, key: &'static str) -> Response {
        let request = Request::post("/api/v1/sales")
            .header("idempotency-key", key)
            .header("authorization", "Bearer t")
            .body(Body::empty())
            .unwrap();
        app.oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn a_repeat_while_the_first_is_in_flight_is_409_with_retry_after() {
        let release = Arc::new(Notify::new());
        let started = Arc::new(Notify::new());
        let (wait, tell) = (release.clone(), started.clone());
        let app = Router::new()
            .route(
                "/api/v1/sales",
                post(move || {
                    let (wait, tell) = (wait.clone(), tell.clone());
                    async move {
                        tell.notify_one();
                        wait.notified().await;
                        StatusCode::CREATED
                    }
                }),
            )
            .layer(axum::middleware::from_fn_with_state(
                InFlight::default(),
                guard,
            ));

        let first = tokio::spawn(call(app.clone(), "k1"));
        started.notified().await;
        let repeat = call(app.clone(), "k1").await;
        assert_eq!(repeat.status(), StatusCode::CONFLICT);
        assert_eq!(repeat.headers()[header::RETRY_AFTER], "1");
        let body = axum::body::to_bytes(repeat.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "idempotency_in_progress");

        release.notify_one();
        assert_eq!(first.await.unwrap().status(), StatusCode::CREATED);
        // Answered: the key is free again (the service answers a repeat from its record).
        let again = tokio::spawn(call(app.clone(), "k1"));
        started.notified().await;
        release.notify_one();
        assert_eq!(again.await.unwrap().status(), StatusCode::CREATED);
    }
}
