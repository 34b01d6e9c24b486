//! One error type for the catalog's edge, mapped to gRPC once.

use tillstream_eventstore::StoreError;
use tillstream_service::grpc::{status_with_field, store_status};
use tonic::{Code, Status};

use crate::domain::product::ProductError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{message}")]
    AlreadyExists { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
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

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::Store(error.into())
    }
}

impl From<ProductError> for AppError {
    fn from(error: ProductError) -> Self {
        match error {
            ProductError::AlreadyExists => AppError::Conflict("the product already exists".into()),
            ProductError::NotFound => AppError::NotFound("no such product".into()),
            ProductError::Invalid { field, message } => AppError::Invalid { field, message },
        }
    }
}

impl From<AppError> for Status {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid { field, message } => {
                status_with_field(Code::InvalidArgument, Some(&field), message)
            }
            AppError::AlreadyExists { field, message } => {
                status_with_field(Code::AlreadyExists, Some(&field), message)
            }
            AppError::NotFound(message) => Status::not_found(message),
            AppError::Conflict(message) => Status::aborted(message),
            AppError::Store(error) => store_status(error, |claim| match claim {
                "barcode" => "barcodes".to_owned(),
                other => other.to_owned(),
            }),
        }
    }
}
