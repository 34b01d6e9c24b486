//! Money: a `Decimal` amount in an ISO 4217 currency. Never a float, never a silent sum of
//! two currencies, always rounded to the currency's minor units half away from zero.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Errors from parsing or combining money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency code `{0}`")]
    UnknownCurrency(String),
    #[error("`{0}` is not a decimal amount")]
    NotDecimal(String),
    #[error("`{amount}` has more decimal places than {currency} allows ({minor_units})")]
    TooPrecise {
        amount: String,
        currency: Currency,
        minor_units: u32,
    },
    #[error("cannot combine {left} with {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("`{amount}` has more than {max_scale} decimal places")]
    TooManyPlaces { amount: String, max_scale: u32 },
    #[error("`{amount}` is out of range: at most {MAX_AMOUNT} either way")]
    OutOfRange { amount: String },
    #[error("amount overflow")]
    Overflow,
}

/// The largest amount a client may send or a figure may reach: ten billion in major units.
/// More is a typo or an attack, never a store's sale. The bound keeps a line's price ×
/// [`crate::quantity::MAX_QUANTITY`] (10^16) and the sum of a billion such lines far inside
/// `Decimal`'s 7.9 × 10^28, so arithmetic on parsed values cannot overflow.
pub const MAX_AMOUNT: Decimal = rust_decimal::dec!(10_000_000_000);

/// An ISO 4217 currency with its number of minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u32,
}

/// Currencies we know the minor units of. Most have two; listing the exceptions
/// explicitly beats guessing for a till that must be right to the cent.
const CURRENCIES: &[(&str, u32)] = &[
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("CHF", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("NZD", 2),
    ("SEK", 2),
    ("NOK", 2),
    ("DKK", 2),
    ("PLN", 2),
    ("CZK", 2),
    ("HUF", 2),
    ("MXN", 2),
    ("BRL", 2),
    ("INR", 2),
    ("CNY", 2),
    ("HKD", 2),
    ("SGD", 2),
    ("ZAR", 2),
    ("TRY", 2),
    ("ILS", 2),
    ("AED", 2),
    ("SAR", 2),
    ("THB", 2),
    ("MYR", 2),
    ("PHP", 2),
    ("RON", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("ISK", 0),
    ("CLP", 0),
    ("VND", 0),
    ("XOF", 0),
    ("XAF", 0),
    ("KWD", 3),
    ("BHD", 3),
    ("JOD", 3),
    ("OMR", 3),
    ("TND", 3),
    ("IQD", 3),
    ("LYD", 3),
];

impl Currency {
    pub const USD: Currency = Currency {
        code: *b"USD",
        minor_units: 2,
    };
    pub const EUR: Currency = Currency {
        code: *b"EUR",
        minor_units: 2,
    };
    pub const JPY: Currency = Currency {
        code: *b"JPY",
        minor_units: 0,
    };

    /// The three-letter code, e.g. `USD`.
    pub fn code(&self) -> &str {
        // The code is built only from the ASCII table above.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Decimal places of the currency's minor unit (2 for cents).
    pub fn minor_units(&self) -> u32 {
        self.minor_units
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(code, _)| *code == upper)
            .and_then(|(code, minor_units)| {
                let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
                Some(Currency {
                    code: bytes,
                    minor_units: *minor_units,
                })
            })
            .ok_or(MoneyError::UnknownCurrency(s.to_owned()))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        code.parse().map_err(de::Error::custom)
    }
}

/// An amount of money in a currency, always held at exactly the currency's minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    #[serde(with = "decimal_string")]
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Rounds `amount` to the currency's minor units, half away from zero.
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money {
            amount: round_minor(amount, currency),
            currency,
        }
    }

    pub fn zero(currency: Currency) -> Self {
        Money::new(Decimal::ZERO, currency)
    }

    /// Parses client input: a decimal string with at most the currency's minor units and
    /// at most [`MAX_AMOUNT`] either way. `"12.5"` is fine, `"12.505"` is refused rather
    /// than rounded, since the client meant something we cannot represent.
    pub fn parse(input: &str, currency: Currency) -> Result<Self, MoneyError> {
        let amount = Decimal::from_str_exact(input.trim())
            .map_err(|_| MoneyError::NotDecimal(shorten(input)))?;
        if amount.abs() > MAX_AMOUNT {
            return Err(MoneyError::OutOfRange {
                amount: shorten(input),
            });
        }
        if amount.normalize().scale() > currency.minor_units {
            return Err(MoneyError::TooPrecise {
                amount: shorten(input),
                currency,
                minor_units: currency.minor_units,
            });
        }
        Ok(Money::new(amount, currency))
    }

    /// This amount if it lies within [`MAX_AMOUNT`] either way: a computed figure (a
    /// line's total, a sale's) checked before it is recorded.
    pub fn within_range(self) -> Result<Money, MoneyError> {
        if self.amount.abs() > MAX_AMOUNT {
            Err(MoneyError::OutOfRange {
                amount: self.amount.to_string(),
            })
        } else {
            Ok(self)
        }
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let sum = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(sum, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let diff = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(diff, self.currency))
    }

    /// Multiplies by a factor (a quantity, a rate) and rounds to minor units.
    pub fn checked_mul(self, factor: Decimal) -> Result<Money, MoneyError> {
        let product = self
            .amount
            .checked_mul(factor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(product, self.currency))
    }

    pub fn negate(self) -> Money {
        Money::new(-self.amount, self.currency)
    }

    /// Sums amounts that must all share `currency`; an empty sum is zero.
    pub fn sum<I: IntoIterator<Item = Money>>(
        currency: Currency,
        items: I,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }

    fn same_currency(&self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

/// Formats the amount with exactly the currency's minor units: `12.50`, `0.00`, `-3.10`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.amount)
    }
}

/// A unit cost as a client sends it: at most [`MAX_AMOUNT`] either way and at most
/// `max_scale` places (an average cost needs more than cents, so this is not a `Money`).
pub fn parse_unit_cost(input: &str, max_scale: u32) -> Result<Decimal, MoneyError> {
    let amount = Decimal::from_str_exact(input.trim())
        .map_err(|_| MoneyError::NotDecimal(shorten(input)))?;
    if amount.abs() > MAX_AMOUNT {
        return Err(MoneyError::OutOfRange {
            amount: shorten(input),
        });
    }
    if amount.normalize().scale() > max_scale {
        return Err(MoneyError::TooManyPlaces {
            amount: shorten(input),
            max_scale,
        });
    }
    Ok(amount)
}

/// Client text as an error message quotes it: at most 40 characters, so a megabyte of
/// digits does not come back in the answer.
pub(crate) fn shorten(input: &str) -> String {
    const MAX_CHARS: usize = 40;
    match input.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &input[..cut]),
        None => input.to_owned(),
    }
}

fn round_minor(amount: Decimal, currency: Currency) -> Decimal {
    let mut rounded =
        amount.round_dp_with_strategy(currency.minor_units, RoundingStrategy::MidpointAwayFromZero);
    // round_dp never adds trailing zeros; rescale so "12.5" prints as "12.50".
    rounded.rescale(currency.minor_units);
    if rounded.is_zero() {
        rounded.set_sign_positive(true);
    }
    rounded
}

/// Serde for a `Decimal` as a JSON string. JSON numbers are refused: they pass through
/// binary floating point in most clients, which is how cents go missing.
pub mod decimal_string {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        deserializer.deserialize_any(DecimalStringVisitor)
    }

    struct DecimalStringVisitor;

    impl Visitor<'_> for DecimalStringVisitor {
        type Value = Decimal;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal amount as a string, such as \"12.50\"")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            Decimal::from_str_exact(v.trim())
                .map_err(|_| E::custom(format!("`{v}` is not a decimal amount")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::dec;

    fn usd(s: &str) -> Money {
        Money::parse(s, Currency::USD).unwrap()
    }

    #[test]
    fn amounts_print_with_exactly_the_minor_units() {
        assert_eq!(usd("12.5").to_string(), "12.50");
        assert_eq!(usd("0").to_string(), "0.00");
        assert_eq!(Money::new(dec!(-0.001), Currency::USD).to_string(), "0.00");
        assert_eq!(Money::new(dec!(1234), Currency::JPY).to_string(), "1234");
        assert_eq!(
            Money::new(dec!(1.5), "KWD".parse().unwrap()).to_string(),
            "1.500"
        );
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(Money::new(dec!(2.345), Currency::USD).to_string(), "2.35");
        assert_eq!(Money::new(dec!(-2.345), Currency::USD).to_string(), "-2.35");
        assert_eq!(Money::new(dec!(2.3449), Currency::USD).to_string(), "2.34");
        assert_eq!(Money::new(dec!(0.5), Currency::JPY).to_string(), "1");
    }

    #[test]
    fn input_with_more_than_the_minor_units_is_refused() {
        assert!(matches!(
            Money::parse("12.505", Currency::USD),
            Err(MoneyError::TooPrecise { .. })
        ));
        // Trailing zeros carry no extra precision.
        assert_eq!(usd("12.500").to_string(), "12.50");
        assert!(matches!(
            Money::parse("abc", Currency::USD),
            Err(MoneyError::NotDecimal(_))
        ));
        assert!(matches!(
            Money::parse("1e3", Currency::USD),
            Err(MoneyError::NotDecimal(_))
        ));
    }

    #[test]
    fn amounts_beyond_ten_billion_are_refused() {
        assert_eq!(usd("10000000000").to_string(), "10000000000.00");
        assert_eq!(usd("-10000000000.00").to_string(), "-10000000000.00");
        for text in [
            "10000000000.01",
            "-10000000000.01",
            "79228162514264337593543950335",
            "1000000000000000000000000000",
        ] {
            assert!(
                matches!(
                    Money::parse(text, Currency::USD),
                    Err(MoneyError::OutOfRange { .. })
                ),
                "{text}"
            );
        }
        for text in [
            "NaN",
            "inf",
            "-Infinity",
            "1e10",
            "0x10",
            "",
            " ",
            "1.2.3",
            "١٢",
        ] {
            assert!(
                matches!(
                    Money::parse(text, Currency::USD),
                    Err(MoneyError::NotDecimal(_))
                ),
                "{text}"
            );
        }
        // Beyond Decimal's own range: not a decimal we can hold at all.
        assert!(Money::parse(&"9".repeat(40), Currency::USD).is_err());
        assert!(
            Money::parse(&"9".repeat(100_000), Currency::USD)
                .unwrap_err()
                .to_string()
                .len()
                < 200
        );
    }

    #[test]
    fn computed_figures_are_checked_against_the_range() {
        let max = Money::new(MAX_AMOUNT, Currency::USD);
        assert_eq!(max.within_range(), Ok(max));
        let over = max.checked_add(usd("0.01")).unwrap();
        assert!(matches!(
            over.within_range(),
            Err(MoneyError::OutOfRange { .. })
        ));
    }

    #[test]
    fn mixing_currencies_is_an_error() {
        let euros = Money::parse("1", Currency::EUR).unwrap();
        assert!(matches!(
            usd("1").checked_add(euros),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
        assert!(Money::sum(Currency::USD, [usd("1"), euros]).is_err());
    }

    #[test]
    fn serde_uses_strings_and_refuses_numbers() {
        let json = serde_json::to_string(&usd("3.1")).unwrap();
        assert_eq!(json, r#"{"amount":"3.10","currency":"USD"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, usd("3.10"));
        assert!(serde_json::from_str::<Money>(r#"{"amount":3.1,"currency":"USD"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":3,"currency":"USD"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"3","currency":"XYZ"}"#).is_err());
    }

    #[test]
    fn unknown_currencies_are_refused() {
        assert!("usd".parse::<Currency>().is_ok());
        assert!(matches!(
            "ABC".parse::<Currency>(),
            Err(MoneyError::UnknownCurrency(_))
        ));
    }

    proptest! {
        #[test]
        fn addition_is_exact_in_cents(a in -10_000_000i64..10_000_000, b in -10_000_000i64..10_000_000) {
            let ma = Money::new(Decimal::new(a, 2), Currency::USD);
            let mb = Money::new(Decimal::new(b, 2), Currency::USD);
            let sum = ma.checked_add(mb).unwrap();
            prop_assert_eq!(sum.amount(), Decimal::new(a + b, 2));
            prop_assert_eq!(sum.checked_sub(mb).unwrap(), ma);
        }

        #[test]
        fn display_round_trips_through_parse(cents in -1_000_000_000i64..1_000_000_000) {
            let m = Money::new(Decimal::new(cents, 2), Currency::USD);
            prop_assert_eq!(usd(&m.to_string()), m);
        }

        #[test]
        fn rounding_moves_at_most_half_a_cent(units in -1_000_000_000i64..1_000_000_000, scale in 0u32..6) {
            let raw = Decimal::new(units, scale);
            let rounded = Money::new(raw, Currency::USD).amount();
            prop_assert!((rounded - raw).abs() <= dec!(0.005));
            prop_assert!(rounded.scale() == 2);
        }
    }
}
