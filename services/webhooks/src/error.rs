//! The webhooks service's errors: the shared vocabulary (`tillstream_service::AppError`), and
//! how the domain's refusals map into it.

pub use tillstream_service::AppError;

use crate::domain::address::UrlError;
use crate::domain::subscription::SubscriptionError;

impl From<SubscriptionError> for AppError {
    fn from(error: SubscriptionError) -> Self {
        match error {
            SubscriptionError::AlreadyExists => AppError::Refused(error.to_string()),
            SubscriptionError::NotFound => AppError::NotFound(error.to_string()),
            SubscriptionError::Invalid { field, message } => AppError::invalid(field, message),
        }
    }
}

impl From<UrlError> for AppError {
    fn from(error: UrlError) -> Self {
        AppError::invalid("url", error.to_string())
    }
}
