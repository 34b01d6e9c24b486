//! Till controls: what a cashier may not do alone at a live till (api.md, "Approvals").
//! A line priced other than the catalog's (`price_override`) and a discount beyond the
//! store's limit (`discount`) need a manager: their own token, or an approval presented
//! with the request. Offline batches are not checked here: their goods are already gone,
//! and their prices are kept and flagged.

use serde::{Deserialize, Serialize};
use tillstream_kernel::{Decimal, Money, Tender};

use super::pricing::Payment;
use super::sale::{ResolvedLine, SaleRecord};

/// Something a cashier needs a manager for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    PriceOverride,
    Discount,
    Return,
    Void,
    RefundTender,
    CashDifference,
}

impl Action {
    /// The action's name in the contract (`price_override`).
    pub fn name(self) -> &'static str {
        match self {
            Action::PriceOverride => "price_override",
            Action::Discount => "discount",
            Action::Return => "return",
            Action::Void => "void",
            Action::RefundTender => "refund_tender",
            Action::CashDifference => "cash_difference",
        }
    }

    /// The action an approval token names, if sales knows it.
    pub fn from_name(name: &str) -> Option<Action> {
        [
            Action::PriceOverride,
            Action::Discount,
            Action::Return,
            Action::Void,
            Action::RefundTender,
            Action::CashDifference,
        ]
        .into_iter()
        .find(|action| action.name() == name)
    }
}

/// A manager's approval presented with a request, and recorded on what it approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub action: Action,
    pub approver_id: String,
    pub approval_id: String,
}

/// What the person ringing up may do alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    /// A manager (or an admin) acting with their own token needs no approval.
    pub manager: bool,
    /// The approvals presented with this request.
    pub approved: Vec<Approval>,
    /// The largest discount a cashier may give alone, as a percentage of the subtotal
    /// (`TILLSTREAM_DISCOUNT_LIMIT_PERCENT`).
    pub discount_limit_percent: Decimal,
    /// Where they may take returns and void.
    pub locations: Locations,
}

/// The locations someone may sell, take returns and void at: their token's list, or every
/// location when it is empty (api.md, "Auth and roles"). No approval widens it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locations(Vec<String>);

impl Locations {
    /// Every location.
    pub fn every() -> Locations {
        Locations(Vec::new())
    }

    /// Only these; an empty list is every location.
    pub fn only(ids: Vec<String>) -> Locations {
        Locations(ids)
    }

    /// `Ok` when `location_id` is among them.
    pub fn check(&self, location_id: &str) -> Result<(), LocationNotAllowed> {
        if self.0.is_empty() || self.0.iter().any(|id| id == location_id) {
            Ok(())
        } else {
            Err(LocationNotAllowed {
                location_id: location_id.to_owned(),
            })
        }
    }
}

/// Someone acting at a location outside their own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("you may not sell or take returns at location `{location_id}`")]
pub struct LocationNotAllowed {
    pub location_id: String,
}

impl Authority {
    /// Whether the action needs no approval, or has one; the approval to record, if any.
    pub(crate) fn allows(&self, action: Action) -> Result<Option<Approval>, ()> {
        if self.manager {
            return Ok(None);
        }
        match self.approved.iter().find(|a| a.action == action) {
            Some(approval) => Ok(Some(approval.clone())),
            None => Err(()),
        }
    }
}

/// A request that needs a manager for `action`; `field` is what needs it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a manager's `{}` approval is required", .action.name())]
pub struct ApprovalRequired {
    pub action: Action,
    pub field: Option<String>,
}

/// A live sale, priced: a line at another price than the catalog's needs `price_override`;
/// a discount over the limit needs `discount`. The approvals the sale uses, to record on it
/// (only those it needed: another presented with it stays unused).
pub fn check_sale(
    authority: &Authority,
    lines: &[ResolvedLine],
    subtotal: Money,
    discount_total: Money,
) -> Result<Vec<Approval>, ApprovalRequired> {
    let mut used = Vec::new();
    if let Some(index) = lines.iter().position(|l| l.catalog_price.is_some()) {
        let field = format!("lines[{index}].unit_price");
        used.extend(needs(authority, Action::PriceOverride, field)?);
    }
    if over_limit(authority, subtotal, discount_total) {
        used.extend(needs(authority, Action::Discount, "discount".into())?);
    }
    Ok(used)
}

fn needs(
    authority: &Authority,
    action: Action,
    field: String,
) -> Result<Option<Approval>, ApprovalRequired> {
    authority.allows(action).map_err(|()| ApprovalRequired {
        action,
        field: Some(field).filter(|f| !f.is_empty()),
    })
}

/// `discount_total > subtotal × limit / 100`, the allowance rounded to the currency's minor
/// units as a discount of that percentage is (20 % of 12.99 is a 2.60 discount, within the
/// limit); a figure too large to compute is over any limit.
fn over_limit(authority: &Authority, subtotal: Money, discount_total: Money) -> bool {
    let allowed = authority
        .discount_limit_percent
        .checked_div(Decimal::ONE_HUNDRED)
        .and_then(|share| subtotal.checked_mul(share).ok());
    match allowed {
        Some(allowed) => discount_total.amount() > allowed.amount(),
        None => true,
    }
}

/// A return by a cashier needs `return`; refunds that do not follow the sale's tenders need
/// `refund_tender` (api.md, "Sales"): per method, everything refunded on the sale, this
/// return's refunds included, may not exceed what the sale took in it (cash net of change).
pub fn check_return(
    authority: &Authority,
    sale: &SaleRecord,
    refunded_before: &[Payment],
    refunds: &[Payment],
) -> Result<Vec<Approval>, ControlError> {
    authority.locations.check(&sale.location_id)?;
    let mut used = Vec::new();
    used.extend(needs(authority, Action::Return, String::new())?);
    if !follows_tenders(sale, refunded_before, refunds)
        || !follows_cards(sale, refunded_before, refunds)
    {
        used.extend(needs(authority, Action::RefundTender, "refunds".into())?);
    }
    Ok(used)
}

/// A void by a cashier needs `void`.
pub fn check_void(authority: &Authority, sale: &SaleRecord) -> Result<Vec<Approval>, ControlError> {
    authority.locations.check(&sale.location_id)?;
    Ok(needs(authority, Action::Void, String::new())?
        .into_iter()
        .collect())
}

/// Why a control refused a return or a void.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    ApprovalRequired(#[from] ApprovalRequired),
    #[error(transparent)]
    LocationNotAllowed(#[from] LocationNotAllowed),
}

fn follows_tenders(sale: &SaleRecord, refunded_before: &[Payment], refunds: &[Payment]) -> bool {
    let currency = sale.total.currency();
    // Store credit to the sale's customer is always allowed (the contract's rule).
    Tender::ALL
        .into_iter()
        .filter(|tender| *tender != Tender::StoreCredit)
        .all(|tender| {
            let of = |payments: &[Payment]| {
                Money::sum(
                    currency,
                    payments
                        .iter()
                        .filter(|p| p.method == tender)
                        .map(|p| p.amount),
                )
            };
            let taken = of(&sale.payments).and_then(|taken| {
                if tender == Tender::Cash {
                    taken.checked_sub(sale.change)
                } else {
                    Ok(taken)
                }
            });
            let refunded = of(refunded_before)
                .and_then(|before| of(refunds).and_then(|now| before.checked_add(now)));
            match (taken, refunded) {
                (Ok(taken), Ok(refunded)) => refunded.amount() <= taken.amount(),
                _ => false,
            }
        })
}

/// Refunds to gift cards go back to the cards the sale was paid with, each at most what it
/// paid: a refund onto another card is another tender.
fn follows_cards(sale: &SaleRecord, refunded_before: &[Payment], refunds: &[Payment]) -> bool {
    let currency = sale.total.currency();
    let on = |payments: &[Payment], code: &str| {
        Money::sum(
            currency,
            payments
                .iter()
                .filter(|p| p.method == Tender::GiftCard && p.reference.as_deref() == Some(code))
                .map(|p| p.amount),
        )
    };
    refunds
        .iter()
        .filter(|r| r.method == Tender::GiftCard)
        .filter_map(|r| r.reference.as_deref())
        .all(|code| {
            let taken = on(&sale.payments, code);
            let refunded = on(refunded_before, code)
                .and_then(|before| on(refunds, code).and_then(|now| before.checked_add(now)));
            match (taken, refunded) {
                (Ok(taken), Ok(refunded)) => refunded.amount() <= taken.amount(),
                _ => false,
            }
        })
}
