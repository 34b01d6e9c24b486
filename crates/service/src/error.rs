//! The one error vocabulary of every service's use cases, and its one mapping to gRPC.
//!
//! A service's `src/error.rs` re-exports [`AppError`] and says how its domain's refusals
//! map into it; `commands/` return it and `api/` converts it with `Status::from`. The
//! gateway maps the gRPC code alone to HTTP (docs/api.md):
//!
//! | kind | gRPC | HTTP |
//! |---|---|---|
//! | `Invalid` (validation, a value out of range) | `INVALID_ARGUMENT` + field | 422 |
//! | `Duplicate` (a unique claim taken) | `ALREADY_EXISTS` + field | 409 `duplicate` |
//! | `NotFound` | `NOT_FOUND` | 404 |
//! | `Conflict` (changed meanwhile, a stale version) | `ABORTED` | 409 `conflict` |
//! | `Refused` (a rule forbids it in this state) | `FAILED_PRECONDITION` | 409 `conflict` |
//! | `Unauthenticated` | `UNAUTHENTICATED` | 401 |
//! | `Forbidden` | `PERMISSION_DENIED` | 403 |
//! | `LockedOut` | `RESOURCE_EXHAUSTED` + `retry-after` | 429 |
//! | `Store` | by [`store_status`] (duplicate, conflict, unavailable, out of range) | |
//! | `Internal` | `INTERNAL`, opaque, logged once | 500 |

use std::time::Duration;

use tillstream_eventstore::{RunError, StoreError};
use tonic::{Code, Status};

use crate::grpc::{status_with_field, status_with_reason, store_status};

/// The metadata entry of a lockout answer: seconds until a login may succeed again.
pub const RETRY_AFTER_METADATA: &str = "retry-after";

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{message}")]
    Duplicate { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Refused(String),
    /// Bad credentials, a bad token: one message whatever was wrong.
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(String),
    /// Changed meanwhile for a reason the client can act on (`approval_used`).
    #[error("{message}")]
    ConflictOf {
        reason: &'static str,
        message: String,
    },
    /// Forbidden for a reason the client can act on (`approval_required`), naming the field
    /// that needs it where there is one.
    #[error("{message}")]
    Denied {
        reason: &'static str,
        field: Option<String>,
        message: String,
    },
    #[error("too many failed attempts; try again in {} s", .retry_after.as_secs())]
    LockedOut { retry_after: Duration },
    #[error("internal: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A cashier's request that needs a manager's approval for `action` (api.md,
    /// "Approvals"), `field` being what needs it.
    pub fn approval_required(action: &str, field: Option<&str>) -> Self {
        AppError::Denied {
            reason: "approval_required",
            field: field.map(str::to_owned),
            message: format!("a manager's `{action}` approval is required"),
        }
    }

    /// An approval presented a second time (api.md: 409 `approval_used`).
    pub fn approval_used() -> Self {
        AppError::ConflictOf {
            reason: "approval_used",
            message: "the approval was used already; ask for another".into(),
        }
    }

    pub fn duplicate(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Duplicate {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl RunError for AppError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            AppError::Store(error) => Some(error),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::Store(error.into())
    }
}

impl From<AppError> for Status {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid { field, message } => {
                status_with_field(Code::InvalidArgument, Some(&field), message)
            }
            AppError::Duplicate { field, message } => {
                status_with_field(Code::AlreadyExists, Some(&field), message)
            }
            AppError::NotFound(message) => Status::not_found(message),
            AppError::Conflict(message) => Status::aborted(message),
            AppError::Refused(message) => Status::failed_precondition(message),
            AppError::Unauthenticated(message) => Status::unauthenticated(message),
            AppError::Forbidden(message) => Status::permission_denied(message),
            AppError::ConflictOf { reason, message } => {
                status_with_reason(Code::Aborted, reason, None, message)
            }
            AppError::Denied {
                reason,
                field,
                message,
            } => status_with_reason(Code::PermissionDenied, reason, field.as_deref(), message),
            AppError::LockedOut { retry_after } => {
                let seconds = retry_after.as_secs().max(1);
                let mut status = Status::resource_exhausted(format!(
                    "too many failed attempts; try again in {seconds} s"
                ));
                if let Ok(value) = seconds.to_string().parse() {
                    status.metadata_mut().insert(RETRY_AFTER_METADATA, value);
                }
                status
            }
            AppError::Internal(message) => {
                tracing::error!(error = %message, "internal error");
                Status::internal("internal error")
            }
            AppError::Store(error) => store_status(error, claim_field),
        }
    }
}

/// The request field of a unique claim: most claims are named as their field; these two
/// are not (a barcode is one of a product's `barcodes`, a location's code its `code`).
fn claim_field(claim: &str) -> String {
    match claim {
        "barcode" => "barcodes".to_owned(),
        "location_code" => "code".to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_code() {
        let cases = [
            (AppError::invalid("price", "no"), Code::InvalidArgument),
            (AppError::duplicate("sku", "taken"), Code::AlreadyExists),
            (AppError::NotFound("gone".into()), Code::NotFound),
            (AppError::Conflict("changed".into()), Code::Aborted),
            (AppError::Refused("voided".into()), Code::FailedPrecondition),
            (AppError::Unauthenticated("who"), Code::Unauthenticated),
            (AppError::Forbidden("no".into()), Code::PermissionDenied),
            (
                AppError::LockedOut {
                    retry_after: Duration::from_secs(3),
                },
                Code::ResourceExhausted,
            ),
            (AppError::Internal("bug".into()), Code::Internal),
        ];
        for (error, code) in cases {
            assert_eq!(Status::from(error).code(), code);
        }
        let denied = Status::from(AppError::approval_required(
            "price_override",
            Some("lines[0].unit_price"),
        ));
        assert_eq!(denied.code(), Code::PermissionDenied);
        assert_eq!(
            tillstream_process::field::reason_of(&denied),
            Some("approval_required")
        );
        assert_eq!(
            tillstream_process::field::field_of(&denied),
            Some("lines[0].unit_price")
        );
        assert_eq!(claim_field("barcode"), "barcodes");
        assert_eq!(claim_field("username"), "username");
    }
}
