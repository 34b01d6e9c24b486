//! The sale aggregate: completing a sale prices it by the contract's rules, checks the
//! payments and records every computed amount in `SaleCompleted`. A completed sale can then
//! take returns (see `returns`) until it is voided, and be voided once, before any return.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tillstream_kernel::DomainEvent;
use tillstream_kernel::time::{DateTime, Utc};
use tillstream_kernel::{Decider, Money, Quantity};

use super::controls::{
    Approval, ApprovalRequired, Authority, ControlError, LocationNotAllowed, Locations,
    check_return, check_sale, check_void,
};
use super::pricing::{
    Discount, LineToPrice, Payment, PricedLine, PricingError, PricingPolicy, price, settle,
};
use super::returns::{ReturnError, ReturnRecord, ReturnSale, price_return};
use super::stored_value::gift_card;
use crate::privacy::Sealed;

tillstream_kernel::typed_id!(
    /// A sale's id; a till may choose it (offline sales, idempotent retries).
    SaleId,
    stream = "sale"
);

/// A line with its product resolved from the catalog copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedLine {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub unit_price: Money,
    pub tax_rate: Decimal,
    pub quantity: Quantity,
    pub discount: Option<Discount>,
    /// The catalog's price when an offline till charged another (`unit_price`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_price: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteSale {
    pub id: SaleId,
    pub sale_number: String,
    pub location_id: String,
    pub cashier_id: String,
    pub completed_at: DateTime<Utc>,
    pub policy: PricingPolicy,
    pub lines: Vec<ResolvedLine>,
    pub discount: Option<Discount>,
    pub payments: Vec<Payment>,
    /// The registered customer.
    pub customer_id: Option<String>,
    /// The free-text customer (`{name, email}`), sealed under the sale's own key.
    pub customer: Option<Sealed>,
    pub notes: Option<String>,
    /// What the person ringing up may do alone; `None` for an offline sale, which is
    /// recorded as the till rang it.
    pub controls: Option<Authority>,
    /// Where the person ringing up may sell, live or offline.
    pub locations: Locations,
    /// The register session it is rung up in, its receipt number drawn.
    pub session: Option<SaleSession>,
    /// The repair it collects: its product lines are parts already taken from stock.
    pub repair_id: Option<String>,
}

/// Where a sale was rung up: a register's session, and its entry in that register's fiscal
/// journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleSession {
    pub session_id: String,
    pub register_id: String,
    /// The `seq` of its journal entry.
    pub receipt_no: i64,
    /// It arrived (in a batch) after its session closed: on the journal, not in the Z.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub late: bool,
}

/// One line as sold: what was asked for and every amount computed for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoldLine {
    pub line_no: u32,
    #[serde(flatten)]
    pub line: ResolvedLine,
    pub amounts: PricedLine,
}

/// A completed sale, as stored in its event and answered to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleRecord {
    pub id: SaleId,
    pub sale_number: String,
    pub location_id: String,
    pub cashier_id: String,
    #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
    pub completed_at: DateTime<Utc>,
    pub prices_include_tax: bool,
    pub rules_version: u32,
    pub lines: Vec<SoldLine>,
    pub subtotal: Money,
    pub discount_total: Money,
    pub tax_total: Money,
    pub total: Money,
    pub payments: Vec<Payment>,
    pub change: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The free-text customer, sealed (never in clear in an event or a read model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Sealed>,
    pub notes: Option<String>,
    /// The managers' approvals the sale used (a cashier's price override, a discount over
    /// the limit), each with its approver.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<Approval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SaleSession>,
    /// The repair this sale collected (its parts left stock when they were fitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    SaleCompleted {
        sale: Box<SaleRecord>,
    },
    SaleReturned {
        location_id: String,
        #[serde(rename = "return")]
        returned: Box<ReturnRecord>,
    },
    SaleVoided {
        location_id: String,
        reason: String,
        #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
        voided_at: DateTime<Utc>,
        /// The manager's approval a cashier's void used.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        approvals: Vec<Approval>,
        /// The repair the voided sale collected: its parts stay in the device.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        repair_id: Option<String>,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::SaleCompleted { .. } => "SaleCompleted",
            Event::SaleReturned { .. } => "SaleReturned",
            Event::SaleVoided { .. } => "SaleVoided",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Complete(Box<CompleteSale>),
    Return(ReturnSale),
    Void {
        reason: String,
        voided_at: DateTime<Utc>,
        /// What the person voiding may do alone; `None` where no one is to be checked.
        controls: Option<Authority>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaleError {
    #[error("the sale is already completed")]
    AlreadyCompleted,
    #[error("no such sale")]
    NotCompleted,
    #[error("the sale is voided")]
    Voided,
    #[error("the sale has returns; return the rest instead of voiding it")]
    HasReturns,
    #[error("a void needs a reason")]
    NoReason,
    #[error("a repair's parts stay in the device: return it with `restock: false`")]
    RepairPartsStay,
    #[error("{tender} needs the sale's customer_id")]
    CustomerRequired { tender: &'static str },
    #[error("{field}: a gift card's code is 16 digits with a valid check digit")]
    GiftCardCode { field: String },
    #[error(transparent)]
    Pricing(#[from] PricingError),
    #[error(transparent)]
    Return(#[from] ReturnError),
    #[error(transparent)]
    ApprovalRequired(#[from] ApprovalRequired),
    #[error(transparent)]
    LocationNotAllowed(#[from] LocationNotAllowed),
}

impl From<ControlError> for SaleError {
    fn from(error: ControlError) -> Self {
        match error {
            ControlError::ApprovalRequired(needed) => SaleError::ApprovalRequired(needed),
            ControlError::LocationNotAllowed(refused) => SaleError::LocationNotAllowed(refused),
        }
    }
}

/// A sale's state: the record, what of each line went back, whether it was voided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sale {
    pub record: Option<Box<SaleRecord>>,
    /// Returned quantity per line, by position.
    pub returned: Vec<Quantity>,
    pub returns: usize,
    pub voided: bool,
    /// Every refund of the sale's returns so far, which later ones may not exceed per tender.
    #[serde(default)]
    pub refunded: Vec<Payment>,
}

impl Decider for Sale {
    type State = Sale;
    type Command = Command;
    type Event = Event;
    type Error = SaleError;

    fn decide(state: &Sale, command: &Command) -> Result<Vec<Event>, SaleError> {
        match command {
            Command::Complete(complete) => complete_sale(state, complete),
            Command::Return(request) => {
                let record = state.record.as_ref().ok_or(SaleError::NotCompleted)?;
                if state.voided {
                    return Err(SaleError::Voided);
                }
                check_tenders("refunds", &request.refunds, record.customer_id.as_deref())?;
                if request.restock && record.repair_id.is_some() {
                    return Err(SaleError::RepairPartsStay);
                }
                let mut returned = price_return(record, &state.returned, request)?;
                if let Some(authority) = &request.controls {
                    returned.approvals =
                        check_return(authority, record, &state.refunded, &request.refunds)?;
                }
                Ok(vec![Event::SaleReturned {
                    location_id: record.location_id.clone(),
                    returned: Box::new(returned),
                }])
            }
            Command::Void {
                reason,
                voided_at,
                controls,
            } => {
                let record = state.record.as_ref().ok_or(SaleError::NotCompleted)?;
                if state.voided {
                    return Err(SaleError::Voided);
                }
                if state.returns > 0 {
                    return Err(SaleError::HasReturns);
                }
                if reason.trim().is_empty() {
                    return Err(SaleError::NoReason);
                }
                let approvals = match controls {
                    Some(authority) => check_void(authority, record)?,
                    None => Vec::new(),
                };
                Ok(vec![Event::SaleVoided {
                    location_id: record.location_id.clone(),
                    reason: reason.trim().to_owned(),
                    voided_at: *voided_at,
                    approvals,
                    repair_id: record.repair_id.clone(),
                }])
            }
        }
    }

    fn evolve(mut state: Sale, event: &Event) -> Sale {
        match event {
            Event::SaleCompleted { sale } => {
                state.returned = vec![Quantity::from_units(0); sale.lines.len()];
                state.record = Some(sale.clone());
            }
            Event::SaleReturned { returned, .. } => {
                for line in &returned.lines {
                    let position = usize::try_from(line.line_no).unwrap_or(0).saturating_sub(1);
                    if let Some(sum) = state.returned.get_mut(position) {
                        *sum = sum.checked_add(line.quantity).unwrap_or(*sum);
                    }
                }
                state.refunded.extend(returned.refunds.iter().cloned());
                state.returns += 1;
            }
            Event::SaleVoided { .. } => state.voided = true,
        }
        state
    }
}

/// Stored-value tenders name what they draw on: a gift card its code, store credit and an
/// account the sale's customer.
pub fn check_tenders(
    list: &str,
    payments: &[Payment],
    customer_id: Option<&str>,
) -> Result<(), SaleError> {
    for (index, payment) in payments.iter().enumerate() {
        if payment.method.needs_customer() && customer_id.is_none() {
            return Err(SaleError::CustomerRequired {
                tender: payment.method.as_str(),
            });
        }
        if payment.method == tillstream_kernel::Tender::GiftCard
            && !payment
                .reference
                .as_deref()
                .is_some_and(gift_card::is_valid_code)
        {
            return Err(SaleError::GiftCardCode {
                field: format!("{list}[{index}].reference"),
            });
        }
    }
    Ok(())
}

fn complete_sale(state: &Sale, command: &CompleteSale) -> Result<Vec<Event>, SaleError> {
    {
        if state.record.is_some() {
            return Err(SaleError::AlreadyCompleted);
        }
        command.locations.check(&command.location_id)?;
        let to_price: Vec<LineToPrice> = command
            .lines
            .iter()
            .map(|l| LineToPrice {
                unit_price: l.unit_price,
                quantity: l.quantity,
                tax_rate: l.tax_rate,
                discount: l.discount,
            })
            .collect();
        let priced = price(command.policy, &to_price, command.discount)?;
        check_tenders(
            "payments",
            &command.payments,
            command.customer_id.as_deref(),
        )?;
        let approvals = match &command.controls {
            Some(authority) => check_sale(
                authority,
                &command.lines,
                priced.subtotal,
                priced.discount_total,
            )?,
            None => Vec::new(),
        };
        let change = settle(priced.total, &command.payments)?;
        let lines = command
            .lines
            .iter()
            .zip(priced.lines)
            .zip(1u32..)
            .map(|((line, amounts), line_no)| SoldLine {
                line_no,
                line: line.clone(),
                amounts,
            })
            .collect();
        let record = SaleRecord {
            id: command.id,
            sale_number: command.sale_number.clone(),
            location_id: command.location_id.clone(),
            cashier_id: command.cashier_id.clone(),
            completed_at: command.completed_at,
            prices_include_tax: command.policy.prices_include_tax,
            rules_version: priced.rules_version,
            lines,
            subtotal: priced.subtotal,
            discount_total: priced.discount_total,
            tax_total: priced.tax_total,
            total: priced.total,
            payments: command.payments.clone(),
            change,
            customer_id: command.customer_id.clone(),
            customer: command.customer.clone(),
            notes: command.notes.clone(),
            approvals,
            session: command.session.clone(),
            repair_id: command.repair_id.clone(),
        };
        Ok(vec![Event::SaleCompleted {
            sale: Box::new(record),
        }])
    }
}

#[cfg(test)]
#[path = "sale_tests.rs"]
mod tests;
