//! Auth's errors: the shared vocabulary (`tillstream_service::AppError`), and how the
//! domain's refusals map into it.

pub use tillstream_service::{AppError, RETRY_AFTER_METADATA};

use crate::domain::user::UserError;
use crate::keys::KeyError;

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

/// A database that cannot be reached is the store's (503 with Retry-After); a key that
/// cannot be made or read is a fault of ours.
impl From<KeyError> for AppError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Database(error) => {
                AppError::Store(tillstream_eventstore::StoreError::from(error))
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// Bad credentials: one message whatever was wrong, so a caller learns nothing of which.
pub const BAD_CREDENTIALS: AppError = AppError::Unauthenticated("unknown user or wrong password");

#[cfg(test)]
mod tests {
    use tonic::{Code, Status};

    use super::*;

    #[test]
    fn a_key_the_database_cannot_give_is_unavailable_and_a_damaged_one_internal() {
        let unreachable = AppError::from(KeyError::Database(sqlx::Error::PoolTimedOut));
        assert_eq!(Status::from(unreachable).code(), Code::Unavailable);
        let damaged = AppError::from(KeyError::Damaged("seed".into()));
        assert_eq!(Status::from(damaged).code(), Code::Internal);
    }
}
