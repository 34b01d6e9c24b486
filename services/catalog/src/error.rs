//! The catalog's errors: the shared vocabulary (`tillstream_service::AppError`), and how
//! the domain's refusals map into it.

pub use tillstream_service::AppError;

use crate::domain::product::ProductError;

impl From<ProductError> for AppError {
    fn from(error: ProductError) -> Self {
        match error {
            ProductError::AlreadyExists => AppError::Refused("the product already exists".into()),
            ProductError::NotFound => AppError::NotFound("no such product".into()),
            ProductError::Invalid { field, message } => AppError::Invalid { field, message },
        }
    }
}
