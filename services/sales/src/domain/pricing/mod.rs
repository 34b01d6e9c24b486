//! The pricing rules, exactly as the API contract states them (rules version
//! [`RULES_VERSION`]):
//!
//! 1. `gross = unit_price × quantity`, rounded to minor units half away from zero.
//! 2. A line discount (a percent of gross, rounded, or an amount) gives `line_discount`. The
//!    sale-level discount is spread over the lines in proportion to `gross − line_discount`
//!    in whole minor units, largest remainders first ([`spread`]).
//! 3. `net = gross − discount`; `tax = round(net × rate)`, or with tax-inclusive prices
//!    `tax = net − round(net / (1 + rate))`.
//! 4. `line_total = net + tax` (exclusive) or `net` (inclusive); the sale's figures are sums.
//! 5. Payments: non-cash may not exceed what is left to pay; cash may overpay and the
//!    difference is change ([`payments`]).
//!
//! Every computed amount is returned, so the sale event stores them and nobody recomputes.

mod error;
mod payments;
mod spread;
#[cfg(test)]
mod tests;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tillstream_kernel::{Currency, Money, Quantity};

pub use error::PricingError;
pub use payments::{Payment, settle};
pub use spread::spread;
pub use tillstream_kernel::Tender;

/// Stored with every sale: the rules its amounts were computed by.
pub const RULES_VERSION: u32 = 1;

/// A discount as a client gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discount {
    /// Percent of the amount, `0..=100`.
    Percent(Decimal),
    Amount(Money),
}

/// One line to price: the unit price and tax rate come from the catalog (or, for an offline
/// sale, from what the till charged).
#[derive(Debug, Clone, PartialEq)]
pub struct LineToPrice {
    pub unit_price: Money,
    pub quantity: Quantity,
    /// A fraction, `0 ≤ rate < 1`.
    pub tax_rate: Decimal,
    pub discount: Option<Discount>,
}

/// What the store's configuration decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricingPolicy {
    pub currency: Currency,
    pub prices_include_tax: bool,
}

/// A priced line; every figure in the currency's minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    pub gross: Money,
    pub line_discount: Money,
    /// This line's part of the sale-level discount.
    pub sale_discount_share: Money,
    /// `line_discount + sale_discount_share`.
    pub discount: Money,
    pub net: Money,
    pub tax: Money,
    pub line_total: Money,
    /// `line_total − tax`: what the ledger books as sales revenue.
    pub revenue: Money,
}

/// The priced lines and the sale's sums.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedSale {
    pub lines: Vec<PricedLine>,
    pub subtotal: Money,
    pub discount_total: Money,
    pub tax_total: Money,
    pub total: Money,
    pub rules_version: u32,
}

/// Prices the lines and spreads the sale-level discount (rules 1–4).
pub fn price(
    policy: PricingPolicy,
    lines: &[LineToPrice],
    sale_discount: Option<Discount>,
) -> Result<PricedSale, PricingError> {
    if lines.is_empty() {
        return Err(PricingError::NoLines);
    }
    let currency = policy.currency;
    let mut grosses = Vec::with_capacity(lines.len());
    let mut line_discounts = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        validate_line(index, line, currency)?;
        let gross = line
            .unit_price
            .checked_mul(line.quantity.value())?
            .within_range()
            .map_err(|_| PricingError::LineAboveRange { line: index })?;
        let line_discount = match line.discount {
            None => Money::zero(currency),
            Some(discount) => discount_amount(discount, gross, || {
                PricingError::DiscountAboveLine { line: index }
            })
            .map_err(|e| e.at_line(index))?,
        };
        grosses.push(gross);
        line_discounts.push(line_discount);
    }

    let bases = grosses
        .iter()
        .zip(&line_discounts)
        .map(|(gross, discount)| gross.checked_sub(*discount))
        .collect::<Result<Vec<_>, _>>()?;
    let base_total = Money::sum(currency, bases.iter().copied())?;
    let sale_discount = match sale_discount {
        None => Money::zero(currency),
        Some(discount) => discount_amount(discount, base_total, || PricingError::DiscountAboveSale)
            .map_err(PricingError::at_sale)?,
    };
    let shares = spread(sale_discount, &bases)?;

    let mut priced = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let discount = line_discounts[index].checked_add(shares[index])?;
        let net = grosses[index].checked_sub(discount)?;
        let (tax, line_total) = if policy.prices_include_tax {
            let excluding = Money::new(net.amount() / (Decimal::ONE + line.tax_rate), currency);
            (net.checked_sub(excluding)?, net)
        } else {
            let tax = net.checked_mul(line.tax_rate)?;
            (tax, net.checked_add(tax)?)
        };
        priced.push(PricedLine {
            gross: grosses[index],
            line_discount: line_discounts[index],
            sale_discount_share: shares[index],
            discount,
            net,
            tax,
            revenue: line_total.checked_sub(tax)?,
            line_total,
        });
    }
    let subtotal = Money::sum(currency, priced.iter().map(|l| l.gross))?
        .within_range()
        .map_err(|_| PricingError::TotalAboveRange)?;
    Ok(PricedSale {
        subtotal,
        discount_total: Money::sum(currency, priced.iter().map(|l| l.discount))?,
        tax_total: Money::sum(currency, priced.iter().map(|l| l.tax))?,
        total: Money::sum(currency, priced.iter().map(|l| l.line_total))?
            .within_range()
            .map_err(|_| PricingError::TotalAboveRange)?,
        lines: priced,
        rules_version: RULES_VERSION,
    })
}

fn validate_line(index: usize, line: &LineToPrice, currency: Currency) -> Result<(), PricingError> {
    if !line.quantity.is_positive() {
        return Err(PricingError::QuantityNotPositive { line: index });
    }
    if line.unit_price.currency() != currency {
        return Err(PricingError::WrongCurrency {
            field: format!("lines[{index}].unit_price"),
        });
    }
    if line.unit_price.is_negative() {
        return Err(PricingError::NegativePrice { line: index });
    }
    if line.tax_rate < Decimal::ZERO || line.tax_rate >= Decimal::ONE {
        return Err(PricingError::TaxRateOutOfRange { line: index });
    }
    Ok(())
}

/// A discount's amount against `base`, refused above it. `above` builds the error.
fn discount_amount(
    discount: Discount,
    base: Money,
    above: impl Fn() -> PricingError,
) -> Result<Money, PricingError> {
    let amount = match discount {
        Discount::Percent(percent) => {
            if percent < Decimal::ZERO || percent > Decimal::ONE_HUNDRED {
                return Err(PricingError::PercentOutOfRange {
                    field: String::new(),
                });
            }
            base.checked_mul(percent / Decimal::ONE_HUNDRED)?
        }
        Discount::Amount(amount) => {
            if amount.currency() != base.currency() {
                return Err(PricingError::WrongCurrency {
                    field: String::new(),
                });
            }
            if amount.is_negative() {
                return Err(PricingError::NegativeDiscount {
                    field: String::new(),
                });
            }
            amount
        }
    };
    if amount.amount() > base.amount() {
        return Err(above());
    }
    Ok(amount)
}
