//! Spreading a sale-level discount over the lines in whole minor units, so the parts add
//! up to the discount exactly (the largest-remainder method of the contract's rule 2).

use rust_decimal::Decimal;
use tillstream_kernel::Money;

use super::PricingError;

/// Splits `discount` over lines in proportion to `bases` (each line's `gross −
/// line_discount`): `share_i = ⌊D·b_i / B⌋` in minor units, then the units left over go
/// one each to the lines with the largest remainder `D·b_i mod B`, ties to the earlier line.
/// The shares sum to `discount` exactly and none exceeds its base.
pub fn spread(discount: Money, bases: &[Money]) -> Result<Vec<Money>, PricingError> {
    let currency = discount.currency();
    let minor = |m: Money| -> Result<i128, PricingError> { to_minor_units(m) };
    let total_discount = minor(discount)?;
    let units: Vec<i128> = bases.iter().map(|b| minor(*b)).collect::<Result<_, _>>()?;
    let base_total: i128 = units.iter().sum();
    if total_discount == 0 || base_total == 0 {
        if total_discount > base_total {
            return Err(PricingError::DiscountAboveSale);
        }
        return Ok(vec![Money::zero(currency); bases.len()]);
    }
    let mut shares: Vec<i128> = units
        .iter()
        .map(|b| total_discount * b / base_total)
        .collect();
    let left_over = total_discount - shares.iter().sum::<i128>();
    let mut by_remainder: Vec<(usize, i128)> = units
        .iter()
        .map(|b| total_discount * b % base_total)
        .enumerate()
        .collect();
    // Largest remainder first; the stable sort keeps earlier lines first among equals.
    by_remainder.sort_by_key(|&(_, remainder)| std::cmp::Reverse(remainder));
    for (index, _) in by_remainder
        .into_iter()
        .take(usize::try_from(left_over).unwrap_or(0))
    {
        shares[index] += 1;
    }
    shares
        .into_iter()
        .map(|units| from_minor_units(units, discount))
        .collect()
}

fn to_minor_units(money: Money) -> Result<i128, PricingError> {
    let scale = Decimal::from(10i64.pow(money.currency().minor_units()));
    let units = money.amount() * scale;
    i128::try_from(units.trunc())
        .map_err(|_| PricingError::Money(tillstream_kernel::MoneyError::Overflow))
}

fn from_minor_units(units: i128, like: Money) -> Result<Money, PricingError> {
    let amount = Decimal::try_from_i128_with_scale(units, like.currency().minor_units())
        .map_err(|_| PricingError::Money(tillstream_kernel::MoneyError::Overflow))?;
    Ok(Money::new(amount, like.currency()))
}
