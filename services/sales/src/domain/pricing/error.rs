//! Why a sale cannot be priced or paid; each error names the request field at fault.

use tillstream_kernel::{Money, MoneyError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("a sale needs at least one line")]
    NoLines,
    #[error("quantity must be greater than zero")]
    QuantityNotPositive { line: usize },
    #[error("the unit price cannot be negative")]
    NegativePrice { line: usize },
    #[error("the tax rate must be at least 0 and below 1")]
    TaxRateOutOfRange { line: usize },
    #[error("the discount is more than the line")]
    DiscountAboveLine { line: usize },
    #[error("the discount is more than the sale")]
    DiscountAboveSale,
    #[error("a percent must be between 0 and 100")]
    PercentOutOfRange { field: String },
    #[error("a discount cannot be negative")]
    NegativeDiscount { field: String },
    #[error("the amount is not in the store's currency")]
    WrongCurrency { field: String },
    #[error("the line's amount is more than {max} (quantity × unit price)", max = tillstream_kernel::MAX_AMOUNT)]
    LineAboveRange { line: usize },
    #[error("the sale's total is more than {max}", max = tillstream_kernel::MAX_AMOUNT)]
    TotalAboveRange,
    #[error("a sale needs at least one payment")]
    NoPayments,
    #[error("a payment must be more than zero")]
    PaymentNotPositive { payment: usize },
    #[error("a non-cash payment cannot be more than what is left to pay")]
    NonCashExceedsRemaining { payment: usize },
    #[error("the payments ({paid}) are less than the total ({total})")]
    Underpaid { total: Money, paid: Money },
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl PricingError {
    /// The request field at fault, as the API's error details name it.
    pub fn field(&self) -> String {
        match self {
            PricingError::NoLines | PricingError::Money(_) => "lines".to_owned(),
            PricingError::QuantityNotPositive { line } | PricingError::LineAboveRange { line } => {
                format!("lines[{line}].quantity")
            }
            PricingError::TotalAboveRange => "lines".to_owned(),
            PricingError::NegativePrice { line } => format!("lines[{line}].unit_price"),
            PricingError::TaxRateOutOfRange { line } => format!("lines[{line}].tax_rate"),
            PricingError::DiscountAboveLine { line } => format!("lines[{line}].discount"),
            PricingError::DiscountAboveSale => "discount".to_owned(),
            PricingError::PercentOutOfRange { field }
            | PricingError::NegativeDiscount { field }
            | PricingError::WrongCurrency { field } => field.clone(),
            PricingError::NoPayments | PricingError::Underpaid { .. } => "payments".to_owned(),
            PricingError::PaymentNotPositive { payment }
            | PricingError::NonCashExceedsRemaining { payment } => {
                format!("payments[{payment}].amount")
            }
        }
    }

    /// Names a line's discount as the field of a discount error that has none yet.
    pub(super) fn at_line(self, line: usize) -> Self {
        self.with_default_field(format!("lines[{line}].discount"))
    }

    /// Names the sale's discount as the field of a discount error that has none yet.
    pub(super) fn at_sale(self) -> Self {
        self.with_default_field("discount".to_owned())
    }

    fn with_default_field(self, default: String) -> Self {
        match self {
            PricingError::PercentOutOfRange { field } if field.is_empty() => {
                PricingError::PercentOutOfRange { field: default }
            }
            PricingError::NegativeDiscount { field } if field.is_empty() => {
                PricingError::NegativeDiscount { field: default }
            }
            PricingError::WrongCurrency { field } if field.is_empty() => {
                PricingError::WrongCurrency { field: default }
            }
            other => other,
        }
    }
}
