//! Sales' errors: the shared vocabulary (`tillstream_service::AppError`), and how the
//! domain's refusals map into it.

pub use tillstream_service::AppError;

use crate::domain::sale::SaleError;

impl From<SaleError> for AppError {
    fn from(error: SaleError) -> Self {
        match error {
            SaleError::AlreadyCompleted | SaleError::Voided | SaleError::HasReturns => {
                AppError::Refused(error.to_string())
            }
            SaleError::NotCompleted => AppError::NotFound(error.to_string()),
            SaleError::NoReason => AppError::invalid("reason", error.to_string()),
            SaleError::Pricing(pricing) => AppError::invalid(pricing.field(), pricing.to_string()),
            SaleError::Return(refused) => AppError::invalid(refused.field(), refused.to_string()),
            SaleError::ApprovalRequired(needed) => {
                AppError::approval_required(needed.action.name(), needed.field.as_deref())
            }
            SaleError::LocationNotAllowed(refused) => AppError::Denied {
                reason: "location_not_allowed",
                field: Some("location_id".into()),
                message: refused.to_string(),
            },
        }
    }
}
