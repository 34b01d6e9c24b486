//! Inventory's errors: the shared vocabulary (`tillstream_service::AppError`), and how the
//! domain's refusals map into it.

pub use tillstream_service::AppError;

use crate::domain::location::LocationError;

impl From<LocationError> for AppError {
    fn from(error: LocationError) -> Self {
        match error {
            LocationError::AlreadyExists => AppError::Refused(error.to_string()),
            LocationError::Invalid { field, message } => AppError::invalid(field, message),
        }
    }
}
