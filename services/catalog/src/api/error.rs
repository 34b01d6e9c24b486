//! One error type for the catalog's edge, mapped to gRPC once. The field at fault travels
//! in the `tillstream-field` metadata entry so the gateway can name it in its JSON error.

use tillstream_eventstore::StoreError;
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

/// The metadata key that names the request field an error is about.
pub const FIELD_METADATA: &str = "tillstream-field";

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<ProductError> for AppError {
    fn from(error: ProductError) -> Self {
        match error {
            ProductError::AlreadyExists => AppError::Conflict("the product already exists".into()),
            ProductError::Invalid { field, message } => AppError::Invalid { field, message },
        }
    }
}

impl From<AppError> for Status {
    fn from(error: AppError) -> Self {
        let (code, field, message) = match error {
            AppError::Invalid { field, message } => (Code::InvalidArgument, Some(field), message),
            AppError::AlreadyExists { field, message } => {
                (Code::AlreadyExists, Some(field), message)
            }
            AppError::NotFound(message) => (Code::NotFound, None, message),
            AppError::Conflict(message) => (Code::Aborted, None, message),
            AppError::Store(StoreError::Duplicate { claim, value }) => {
                let field = if claim == "barcode" {
                    "barcodes"
                } else {
                    claim.as_str()
                }
                .to_owned();
                (
                    Code::AlreadyExists,
                    Some(field),
                    format!("{claim} `{value}` is already taken"),
                )
            }
            AppError::Store(StoreError::IdempotencyMismatch { .. }) => (
                Code::AlreadyExists,
                Some("idempotency_key".to_owned()),
                "the idempotency key was used with a different request".to_owned(),
            ),
            AppError::Store(StoreError::Conflict { .. }) => (
                Code::Aborted,
                None,
                "the product changed meanwhile; retry".to_owned(),
            ),
            AppError::Store(other) => {
                tracing::error!(error = %other, "internal error");
                (Code::Internal, None, "internal error".to_owned())
            }
        };
        let mut status = Status::new(code, message);
        if let Some(field) = field
            && let Ok(value) = field.parse()
        {
            status.metadata_mut().insert(FIELD_METADATA, value);
        }
        status
    }
}
