//! Rates and percents as clients send them: a tax rate is a fraction below one, a discount
//! a percent of at most a hundred. Each has a bounded number of places, so that a rate
//! times a bounded amount stays exact and far inside `Decimal`.

use rust_decimal::Decimal;

use crate::money::shorten;

/// Places a tax rate may have: `0.08875` (New York City's) needs five.
pub const MAX_RATE_SCALE: u32 = 6;

/// Places a discount percent may have: `12.5` and `33.3333` are fine.
pub const MAX_PERCENT_SCALE: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("`{0}` is not a decimal number")]
    NotDecimal(String),
    #[error("`{text}` has more than {max_scale} decimal places")]
    TooPrecise { text: String, max_scale: u32 },
    #[error("`{text}` is out of range: {range}")]
    OutOfRange { text: String, range: &'static str },
}

/// A tax rate: a fraction with `0 ≤ rate < 1` (`"0.08"`).
pub fn parse_tax_rate(text: &str) -> Result<Decimal, RateError> {
    let rate = parse_scaled(text, MAX_RATE_SCALE)?;
    if rate < Decimal::ZERO || rate >= Decimal::ONE {
        return Err(RateError::OutOfRange {
            text: shorten(text),
            range: "a fraction from 0 up to, not including, 1",
        });
    }
    Ok(rate)
}

/// A percent with `0 ≤ percent ≤ 100` (`"10"`, `"12.5"`).
pub fn parse_percent(text: &str) -> Result<Decimal, RateError> {
    let percent = parse_scaled(text, MAX_PERCENT_SCALE)?;
    if percent < Decimal::ZERO || percent > Decimal::ONE_HUNDRED {
        return Err(RateError::OutOfRange {
            text: shorten(text),
            range: "a percent from 0 to 100",
        });
    }
    Ok(percent)
}

fn parse_scaled(text: &str, max_scale: u32) -> Result<Decimal, RateError> {
    let value = Decimal::from_str_exact(text.trim())
        .map_err(|_| RateError::NotDecimal(shorten(text)))?
        .normalize();
    if value.scale() > max_scale {
        return Err(RateError::TooPrecise {
            text: shorten(text),
            max_scale,
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_rates_are_fractions_below_one() {
        assert_eq!(parse_tax_rate("0.08").unwrap().to_string(), "0.08");
        assert_eq!(parse_tax_rate("0").unwrap(), Decimal::ZERO);
        assert_eq!(parse_tax_rate("0.08875").unwrap().to_string(), "0.08875");
        for text in ["1", "-0.01", "8", "1e-2", "0.0000001", "NaN", ""] {
            assert!(parse_tax_rate(text).is_err(), "{text}");
        }
    }

    #[test]
    fn percents_lie_between_zero_and_a_hundred() {
        assert_eq!(parse_percent("100").unwrap(), Decimal::ONE_HUNDRED);
        assert_eq!(parse_percent("12.5").unwrap().to_string(), "12.5");
        for text in [
            "100.01",
            "-1",
            "1e2",
            "0.00001",
            "79228162514264337593543950335",
        ] {
            assert!(parse_percent(text).is_err(), "{text}");
        }
    }
}
