//! One error type for inventory's edge, mapped to gRPC once.

use tillstream_eventstore::StoreError;
use tillstream_service::grpc::{status_with_field, store_status};
use tonic::{Code, Status};

use crate::domain::location::LocationError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
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
}

impl From<LocationError> for AppError {
    fn from(error: LocationError) -> Self {
        match error {
            LocationError::AlreadyExists => AppError::Conflict(error.to_string()),
            LocationError::Invalid { field, message } => AppError::invalid(field, message),
        }
    }
}

impl From<AppError> for Status {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid { field, message } => {
                status_with_field(Code::InvalidArgument, Some(&field), message)
            }
            AppError::Conflict(message) => Status::aborted(message),
            AppError::Store(error) => store_status(error, |claim| match claim {
                "location_code" => "code".to_owned(),
                other => other.to_owned(),
            }),
        }
    }
}
