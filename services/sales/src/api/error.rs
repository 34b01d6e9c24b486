//! One error type for the sales edge, mapped to gRPC once.

use tillstream_eventstore::StoreError;
use tillstream_service::grpc::{status_with_field, store_status};
use tonic::{Code, Status};

use crate::domain::sale::SaleError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    Invalid { field: String, message: String },
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

impl From<SaleError> for AppError {
    fn from(error: SaleError) -> Self {
        match error {
            SaleError::AlreadyCompleted | SaleError::Voided | SaleError::HasReturns => {
                AppError::Conflict(error.to_string())
            }
            SaleError::NotCompleted => AppError::NotFound(error.to_string()),
            SaleError::NoReason => AppError::invalid("reason", error.to_string()),
            SaleError::Pricing(pricing) => AppError::invalid(pricing.field(), pricing.to_string()),
            SaleError::Return(refused) => AppError::invalid(refused.field(), refused.to_string()),
        }
    }
}

impl From<AppError> for Status {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid { field, message } => {
                status_with_field(Code::InvalidArgument, Some(&field), message)
            }
            AppError::NotFound(message) => Status::not_found(message),
            AppError::Conflict(message) => Status::already_exists(message),
            AppError::Store(error) => store_status(error, str::to_owned),
        }
    }
}
