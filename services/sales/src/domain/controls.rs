//! Till controls: what a cashier may not do alone at a live till (api.md, "Approvals").
//! A line priced other than the catalog's (`price_override`) and a discount beyond the
//! store's limit (`discount`) need a manager: their own token, or an approval presented
//! with the request. Offline batches are not checked here: their goods are already gone,
//! and their prices are kept and flagged.

use tillstream_kernel::{Decimal, Money};

use super::sale::ResolvedLine;

/// Something a cashier needs a manager for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    PriceOverride,
    Discount,
}

impl Action {
    /// The action's name in the contract (`price_override`).
    pub fn name(self) -> &'static str {
        match self {
            Action::PriceOverride => "price_override",
            Action::Discount => "discount",
        }
    }
}

/// What the person ringing up may do alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    /// A manager (or an admin) acting with their own token needs no approval.
    pub manager: bool,
    /// The actions approved for this request.
    pub approved: Vec<Action>,
    /// The largest discount a cashier may give alone, as a percentage of the subtotal
    /// (`TILLSTREAM_DISCOUNT_LIMIT_PERCENT`).
    pub discount_limit_percent: Decimal,
}

impl Authority {
    pub fn may(&self, action: Action) -> bool {
        self.manager || self.approved.contains(&action)
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
/// a discount over the limit needs `discount`.
pub fn check_sale(
    authority: &Authority,
    lines: &[ResolvedLine],
    subtotal: Money,
    discount_total: Money,
) -> Result<(), ApprovalRequired> {
    if !authority.may(Action::PriceOverride)
        && let Some(index) = lines.iter().position(|l| l.catalog_price.is_some())
    {
        return Err(ApprovalRequired {
            action: Action::PriceOverride,
            field: Some(format!("lines[{index}].unit_price")),
        });
    }
    if !authority.may(Action::Discount) && over_limit(authority, subtotal, discount_total) {
        return Err(ApprovalRequired {
            action: Action::Discount,
            field: Some("discount".into()),
        });
    }
    Ok(())
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
