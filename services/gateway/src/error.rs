//! The one error body of the contract, and the one mapping of upstream gRPC statuses to it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tillstream_process::field::{LOCK_CYCLE, field_of, reason_of};
use tonic::Code;

use crate::trace::current_trace_id;

/// One thing wrong with a request, naming the field (`lines[0].quantity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Detail {
    pub field: String,
    pub message: String,
}

/// An answer other than success: a status, a stable snake_case code, a message for people
/// and, for validation, the fields at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<Detail>,
    pub retry_after: Option<u64>,
}

/// The reasons a service gives for a 403 or a 409, answered as the error's `code` (api.md).
const REASONS: [&str; 8] = [
    "approval_required",
    "approval_used",
    "approver_not_allowed",
    "location_not_allowed",
    "session_open",
    "session_closed",
    "invalid_transition",
    "repair_closed",
];

fn known_reason(reason: &str) -> Option<&'static str> {
    REASONS.iter().copied().find(|known| *known == reason)
}

/// What tonic's client says when a call outlives the channel's timeout.
const TONIC_TIMEOUT: &str = "Timeout expired";
/// What tonic answers when the HTTP/2 connection fails under a call.
const TRANSPORT_ERROR: &str = "transport error";

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    /// A 422 naming `field`.
    /// 503 naming the service, to be retried in a second.
    fn unavailable(service: &str) -> Self {
        let mut error = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            format!("the {service} service is unavailable"),
        );
        error.retry_after = Some(1);
        error
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            details: vec![Detail {
                field: field.into(),
                message: message.clone(),
            }],
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message,
            )
        }
    }

    /// A 400 naming the part of the request that could not be read.
    pub fn malformed(field: Option<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            details: field
                .map(|field| Detail {
                    field,
                    message: message.clone(),
                })
                .into_iter()
                .collect(),
            ..ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", message)
        }
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// What a service answered, as the client should see it. `service` names the upstream
    /// for a 503, so an operator knows which one is down.
    pub fn from_status(service: &str, status: &tonic::Status) -> Self {
        let message = status.message().to_owned();
        match status.code() {
            Code::InvalidArgument | Code::OutOfRange => match field_of(status) {
                Some(field) => ApiError::invalid(field, message),
                None => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    message,
                ),
            },
            Code::NotFound => ApiError::not_found(message),
            Code::AlreadyExists => {
                let mut error = ApiError::new(StatusCode::CONFLICT, "conflict", message.clone());
                if let Some(field) = field_of(status) {
                    if field == "idempotency_key" {
                        error.code = "idempotency_key_reused";
                    } else {
                        error.code = "duplicate";
                    }
                    error.details.push(Detail {
                        field: field.to_owned(),
                        message,
                    });
                }
                error
            }
            Code::Aborted | Code::FailedPrecondition => {
                let reason = reason_of(status).and_then(known_reason);
                ApiError::new(StatusCode::CONFLICT, reason.unwrap_or("conflict"), message)
            }
            // Stored data out of today's bounds (written before them, or around the API):
            // the request is fine, the state it reads cannot be shown as it is.
            Code::DataLoss => {
                tracing::warn!(service, error = %message, "stored value out of range");
                ApiError::new(StatusCode::CONFLICT, "stored_value_out_of_range", message)
            }
            Code::Unauthenticated => ApiError::unauthenticated(message),
            Code::PermissionDenied => {
                let mut error = ApiError::forbidden(message.clone());
                if let Some(reason) = reason_of(status).and_then(known_reason) {
                    error.code = reason;
                }
                if let Some(field) = field_of(status) {
                    error.details.push(Detail {
                        field: field.to_owned(),
                        message,
                    });
                }
                error
            }
            Code::ResourceExhausted => {
                let mut error =
                    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
                error.retry_after = Some(
                    status
                        .metadata()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1),
                );
                error
            }
            // The channel's own call timeout comes back as CANCELLED with tonic's message.
            Code::Cancelled if message == TONIC_TIMEOUT => ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                format!("the {service} service did not answer in time"),
            ),
            Code::DeadlineExceeded => ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                format!("the {service} service did not answer in time"),
            ),
            // The connection to the service broke mid-call (it crashed or restarted): as
            // unavailable as a service that cannot be reached, and as safe to retry with the
            // same idempotency key.
            Code::Unknown if message.starts_with(TRANSPORT_ERROR) => {
                tracing::warn!(service, error = %message, "upstream connection lost");
                ApiError::unavailable(service)
            }
            // Nothing was kept; the same request may well succeed at once.
            Code::Unavailable if reason_of(status) == Some(LOCK_CYCLE) => {
                tracing::warn!(service, "upstream rolled back to break a lock cycle");
                let mut error = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                    "a concurrent change got in the way and nothing was recorded; send it again",
                );
                error.retry_after = Some(1);
                error
            }
            Code::Unavailable | Code::Cancelled => {
                tracing::warn!(service, error = %message, "upstream unavailable");
                ApiError::unavailable(service)
            }
            _ => {
                tracing::error!(service, code = ?status.code(), error = %message, "upstream failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; the trace id identifies it",
                )
            }
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: BodyError<'a>,
}

#[derive(Serialize)]
struct BodyError<'a> {
    code: &'a str,
    message: &'a str,
    details: &'a [Detail],
    trace_id: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: BodyError {
                code: self.code,
                message: &self.message,
                details: &self.details,
                trace_id: current_trace_id(),
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use tillstream_process::field::{lock_cycle, status_with_field};

    use super::*;

    #[test]
    fn upstream_statuses_map_to_the_contracts_classes() {
        let invalid = status_with_field(Code::InvalidArgument, Some("lines[0].quantity"), "zero");
        let error = ApiError::from_status("sales", &invalid);
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error.details[0].field, "lines[0].quantity");

        let duplicate = status_with_field(Code::AlreadyExists, Some("sku"), "taken");
        assert_eq!(
            ApiError::from_status("catalog", &duplicate).code,
            "duplicate"
        );

        let down = tonic::Status::unavailable("tcp connect error");
        let error = ApiError::from_status("ledger", &down);
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(error.message.contains("ledger"));

        let cycle = lock_cycle();
        let error = ApiError::from_status("sales", &cycle);
        assert!(error.message.contains("send it again"), "{}", error.message);
        assert_eq!(
            (error.status, error.code, error.retry_after),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                Some(1)
            ),
            "a rollback to break a lock cycle is a retry, not a service down"
        );
        // Told by its reason, not its words: a service down that happened to say the same
        // is still a service down.
        let down = tonic::Status::unavailable(cycle.message());
        assert!(
            ApiError::from_status("sales", &down)
                .message
                .contains("sales")
        );

        let slow = tonic::Status::cancelled("Timeout expired");
        assert_eq!(
            ApiError::from_status("sales", &slow).status,
            StatusCode::GATEWAY_TIMEOUT,
            "the call timeout is a 504, not a 503"
        );

        let crashed = tonic::Status::unknown("transport error");
        assert_eq!(
            ApiError::from_status("sales", &crashed).status,
            StatusCode::SERVICE_UNAVAILABLE,
            "a service that died mid-call is unavailable, not a bug"
        );

        let bug = tonic::Status::internal("boom");
        let error = ApiError::from_status("sales", &bug);
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!error.message.contains("boom"), "internals are not shown");
    }
}
