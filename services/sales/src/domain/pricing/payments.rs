//! Tenders: what the customer paid with, and the change.

use serde::{Deserialize, Serialize};
use tillstream_kernel::{Money, Tender};

use super::PricingError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub method: Tender,
    pub amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Checks the payments against `total` and returns the change (rule 5). Only cash may
/// overpay: the non-cash payments together may not exceed the total, so the change is never
/// more than the cash handed over.
pub fn settle(total: Money, payments: &[Payment]) -> Result<Money, PricingError> {
    if payments.is_empty() {
        return Err(PricingError::NoPayments);
    }
    let currency = total.currency();
    let mut paid = Money::zero(currency);
    let mut non_cash = Money::zero(currency);
    for (index, payment) in payments.iter().enumerate() {
        if payment.amount.currency() != currency {
            return Err(PricingError::WrongCurrency {
                field: format!("payments[{index}].amount"),
            });
        }
        if payment.amount.is_negative() || payment.amount.is_zero() {
            return Err(PricingError::PaymentNotPositive { payment: index });
        }
        paid = paid.checked_add(payment.amount)?;
        if payment.method != Tender::Cash {
            non_cash = non_cash.checked_add(payment.amount)?;
            if non_cash.amount() > total.amount() {
                return Err(PricingError::NonCashExceedsRemaining { payment: index });
            }
        }
    }
    if paid.amount() < total.amount() {
        return Err(PricingError::Underpaid { total, paid });
    }
    Ok(paid.checked_sub(total)?)
}
