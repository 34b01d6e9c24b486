//! Sales' errors: the shared vocabulary (`tillstream_service::AppError`), and how the
//! domain's refusals map into it.

pub use tillstream_service::AppError;

use crate::domain::controls::LocationNotAllowed;
use crate::domain::customer::{CustomerError, Invalid};
use crate::domain::repair::RepairError;
use crate::domain::sale::SaleError;
use crate::domain::session::SessionError;
use crate::privacy::PrivacyError;

impl From<SaleError> for AppError {
    fn from(error: SaleError) -> Self {
        match error {
            SaleError::AlreadyCompleted | SaleError::Voided | SaleError::HasReturns => {
                AppError::Refused(error.to_string())
            }
            SaleError::NotCompleted => AppError::NotFound(error.to_string()),
            SaleError::NoReason => AppError::invalid("reason", error.to_string()),
            SaleError::RepairPartsStay => AppError::invalid("restock", error.to_string()),
            SaleError::CustomerRequired { .. } => {
                AppError::invalid("customer_id", error.to_string())
            }
            SaleError::GiftCardCode { ref field } => AppError::invalid(field, error.to_string()),
            SaleError::Pricing(pricing) => AppError::invalid(pricing.field(), pricing.to_string()),
            SaleError::Return(refused) => AppError::invalid(refused.field(), refused.to_string()),
            SaleError::ApprovalRequired(needed) => {
                AppError::approval_required(needed.action.name(), needed.field.as_deref())
            }
            SaleError::LocationNotAllowed(refused) => location_not_allowed(&refused),
        }
    }
}

impl From<SessionError> for AppError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::Invalid { field, message } => AppError::invalid(field, message),
            SessionError::RegisterExists => AppError::Conflict(error.to_string()),
            SessionError::NotFound => AppError::NotFound(error.to_string()),
            SessionError::AlreadyOpen => session_open(),
            SessionError::Closed => session_closed(),
            SessionError::ApprovalRequired(needed) => {
                AppError::approval_required(needed.action.name(), needed.field.as_deref())
            }
            SessionError::LocationNotAllowed(refused) => location_not_allowed(&refused),
            SessionError::Overflow => AppError::Refused(error.to_string()),
        }
    }
}

/// 409 `session_open`: the register has an open session.
pub fn session_open() -> AppError {
    AppError::ConflictOf {
        reason: "session_open",
        message: "the register has an open session; close it first".into(),
    }
}

/// 409 `session_closed`: the session takes nothing more.
pub fn session_closed() -> AppError {
    AppError::ConflictOf {
        reason: "session_closed",
        message: "the session is closed".into(),
    }
}

/// 403 `location_not_allowed`, naming `location_id`.
pub fn location_not_allowed(refused: &LocationNotAllowed) -> AppError {
    AppError::Denied {
        reason: "location_not_allowed",
        field: Some("location_id".into()),
        message: refused.to_string(),
    }
}

impl From<CustomerError> for AppError {
    fn from(error: CustomerError) -> Self {
        match error {
            CustomerError::NotFound => AppError::NotFound("no such customer".into()),
            CustomerError::Exists => AppError::Conflict(error.to_string()),
            CustomerError::Erased => AppError::Refused("the customer was erased".into()),
            CustomerError::CreditLimit(message) => AppError::invalid("credit_limit", message),
        }
    }
}

impl From<Invalid> for AppError {
    fn from(error: Invalid) -> Self {
        AppError::invalid(error.field, error.message)
    }
}

impl From<PrivacyError> for AppError {
    fn from(error: PrivacyError) -> Self {
        match error {
            PrivacyError::Database(error) => {
                AppError::Store(tillstream_eventstore::StoreError::from(error))
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<RepairError> for AppError {
    fn from(error: RepairError) -> Self {
        match error {
            RepairError::NotFound => AppError::NotFound(error.to_string()),
            RepairError::Exists => AppError::Conflict(error.to_string()),
            RepairError::InvalidTransition { .. } => invalid_transition(error.to_string()),
            RepairError::Closed(_) => AppError::ConflictOf {
                reason: "repair_closed",
                message: error.to_string(),
            },
            RepairError::Invalid { field, message } => AppError::invalid(field, message),
        }
    }
}

/// 409 `invalid_transition`: the repair cannot make that move from where it is.
pub fn invalid_transition(message: String) -> AppError {
    AppError::ConflictOf {
        reason: "invalid_transition",
        message,
    }
}
