//! One error type for the auth edge, mapped to gRPC once.

use tillstream_eventstore::StoreError;
use tillstream_service::grpc::{status_with_field, store_status};
use tonic::{Code, Status};

use crate::domain::user::UserError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("bad credentials")]
    Unauthenticated,
    #[error("{0}")]
    Conflict(String),
    #[error("internal: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UserError> for AppError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::AlreadyExists => AppError::Conflict(error.to_string()),
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
            AppError::Unauthenticated => Status::unauthenticated("unknown user or wrong password"),
            AppError::Conflict(message) => Status::already_exists(message),
            AppError::Internal(message) => {
                tracing::error!(error = %message, "internal error");
                Status::internal("internal error")
            }
            AppError::Store(error) => store_status(error, str::to_owned),
        }
    }
}
