//! One error type for the auth edge, mapped to gRPC once.

use std::time::Duration;

use tillstream_eventstore::StoreError;
use tillstream_service::grpc::{status_with_field, store_status};
use tonic::{Code, Status};

use crate::domain::user::UserError;

/// The metadata entry of a lockout answer: seconds until a login may succeed again.
pub const RETRY_AFTER_METADATA: &str = "retry-after";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// Bad credentials, a bad token: one message whatever was wrong.
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("too many failed logins; try again in {} s", .retry_after.as_secs())]
    LockedOut { retry_after: Duration },
    #[error("{0}")]
    Conflict(String),
    #[error("internal: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    pub const BAD_CREDENTIALS: AppError =
        AppError::Unauthenticated("unknown user or wrong password");
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::Store(error.into())
    }
}

impl From<UserError> for AppError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::AlreadyExists => AppError::Conflict(error.to_string()),
            UserError::NotFound => AppError::NotFound(error.to_string()),
            UserError::Forbidden { .. } => AppError::Forbidden(error.to_string()),
            UserError::Invalid { field, message } => AppError::Invalid {
                field: field.to_owned(),
                message: message.to_owned(),
            },
        }
    }
}

impl From<AppError> for Status {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid { field, message } => {
                status_with_field(Code::InvalidArgument, Some(&field), message)
            }
            AppError::Unauthenticated(message) => Status::unauthenticated(message),
            AppError::Forbidden(message) => Status::permission_denied(message),
            AppError::NotFound(message) => Status::not_found(message),
            AppError::LockedOut { retry_after } => {
                let seconds = retry_after.as_secs().max(1);
                let mut status = Status::resource_exhausted(format!(
                    "too many failed logins; try again in {seconds} s"
                ));
                if let Ok(value) = seconds.to_string().parse() {
                    status.metadata_mut().insert(RETRY_AFTER_METADATA, value);
                }
                status
            }
            AppError::Conflict(message) => Status::already_exists(message),
            AppError::Internal(message) => {
                tracing::error!(error = %message, "internal error");
                Status::internal("internal error")
            }
            AppError::Store(error) => store_status(error, str::to_owned),
        }
    }
}
