//! Inventory's errors: the shared vocabulary (`tillstream_service::AppError`), and how the
//! domain's refusals map into it.

pub use tillstream_service::AppError;

use crate::domain::location::LocationError;
use crate::domain::purchase_order::PurchaseError;
use crate::domain::supplier::SupplierError;

impl From<LocationError> for AppError {
    fn from(error: LocationError) -> Self {
        match error {
            LocationError::AlreadyExists => AppError::Refused(error.to_string()),
            LocationError::Invalid { field, message } => AppError::invalid(field, message),
        }
    }
}

impl From<PurchaseError> for AppError {
    fn from(error: PurchaseError) -> Self {
        match error {
            PurchaseError::NotFound => AppError::NotFound(error.to_string()),
            PurchaseError::AlreadyExists | PurchaseError::WrongStatus { .. } => {
                AppError::Refused(error.to_string())
            }
            PurchaseError::DuplicateInvoice => AppError::Duplicate {
                field: "number".into(),
                message: error.to_string(),
            },
            PurchaseError::Invalid { field, message } => AppError::invalid(field, message),
        }
    }
}

impl From<SupplierError> for AppError {
    fn from(error: SupplierError) -> Self {
        match error {
            SupplierError::NotFound => AppError::NotFound(error.to_string()),
            SupplierError::AlreadyExists => AppError::Refused(error.to_string()),
            SupplierError::Invalid { field, message } => AppError::invalid(field, message),
        }
    }
}
