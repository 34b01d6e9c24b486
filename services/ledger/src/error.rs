//! The ledger's errors: the shared vocabulary (`tillstream_service::AppError`), and how the
//! domain's refusals map into it.

pub use tillstream_service::AppError;

use crate::domain::entry::EntryError;

impl From<EntryError> for AppError {
    fn from(error: EntryError) -> Self {
        AppError::invalid(error.field(), error.to_string())
    }
}
