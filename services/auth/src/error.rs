//! Auth's errors: the shared vocabulary (`tillstream_service::AppError`), and how the
//! domain's refusals map into it.

pub use tillstream_service::{AppError, RETRY_AFTER_METADATA};

use crate::domain::user::UserError;

impl From<UserError> for AppError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::AlreadyExists => AppError::Refused(error.to_string()),
            UserError::NotFound => AppError::NotFound(error.to_string()),
            UserError::Forbidden { .. } => AppError::Forbidden(error.to_string()),
            UserError::Invalid { field, message } => AppError::invalid(field, message),
        }
    }
}

/// Bad credentials: one message whatever was wrong, so a caller learns nothing of which.
pub const BAD_CREDENTIALS: AppError = AppError::Unauthenticated("unknown user or wrong password");
