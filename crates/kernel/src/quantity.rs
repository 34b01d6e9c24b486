//! Quantities: counts or measures (`2`, `"0.350"` kg), decimal, never floats.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The finest measure a till records: grams of a kilo, millilitres of a litre.
pub const MAX_SCALE: u32 = 3;

/// At most a million units on one line, receipt, adjustment or count: more is a typo, not
/// a sale (and keeps quantity × price, at most 10^16, inside `Decimal` with room for sums
/// over years).
pub const MAX_QUANTITY: Decimal = rust_decimal::dec!(1_000_000);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("`{0}` is not a decimal quantity")]
    NotDecimal(String),
    #[error("`{0}` has more than {MAX_SCALE} decimal places")]
    TooPrecise(String),
    #[error("`{0}` is out of range: at most {MAX_QUANTITY} either way")]
    OutOfRange(String),
}

/// A signed decimal quantity with at most three decimal places. Whether zero or negative
/// is allowed is a domain rule (a sale line must be positive, an adjustment may not be).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity(Decimal);

impl Quantity {
    pub const ZERO: Quantity = Quantity(Decimal::ZERO);

    pub fn new(value: Decimal) -> Result<Self, QuantityError> {
        let normalized = value.normalize();
        if normalized.scale() > MAX_SCALE {
            return Err(QuantityError::TooPrecise(value.to_string()));
        }
        Ok(Quantity(normalized))
    }

    /// Parses client input: a decimal string with at most [`MAX_SCALE`] places and at most
    /// [`MAX_QUANTITY`] either way. Whether zero or negative is allowed is the domain's rule.
    pub fn parse(text: &str) -> Result<Self, QuantityError> {
        let value = Decimal::from_str_exact(text.trim())
            .map_err(|_| QuantityError::NotDecimal(crate::money::shorten(text)))?;
        if value.abs() > MAX_QUANTITY {
            return Err(QuantityError::OutOfRange(crate::money::shorten(text)));
        }
        Quantity::new(value)
    }

    pub fn from_units(units: i64) -> Self {
        Quantity(Decimal::from(units))
    }

    pub fn value(&self) -> Decimal {
        self.0
    }

    pub fn is_positive(&self) -> bool {
        self.0 > Decimal::ZERO
    }

    pub fn checked_add(self, other: Quantity) -> Option<Quantity> {
        self.0.checked_add(other.0).map(|v| Quantity(v.normalize()))
    }

    pub fn checked_sub(self, other: Quantity) -> Option<Quantity> {
        self.0.checked_sub(other.0).map(|v| Quantity(v.normalize()))
    }

    pub fn negate(self) -> Quantity {
        Quantity(-self.0)
    }
}

/// The bounded parse of client input, [`Quantity::parse`].
impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// Accepts a decimal string or a JSON integer; a JSON number with a fraction is refused
/// because it has already been through a float. No range is checked here: this reads what
/// was stored, and an event once appended must stay readable; client input goes through
/// [`Quantity::parse`].
impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

struct QuantityVisitor;

impl Visitor<'_> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a quantity as a decimal string or an integer")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
        let value = Decimal::from_str_exact(v.trim())
            .map_err(|_| E::custom(QuantityError::NotDecimal(crate::money::shorten(v))))?;
        Quantity::new(value).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
        Ok(Quantity::from_units(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
        i64::try_from(v)
            .map(Quantity::from_units)
            .map_err(|_| E::custom("quantity out of range"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_integers_are_accepted() {
        let q: Quantity = serde_json::from_str(r#""0.350""#).unwrap();
        assert_eq!(q.to_string(), "0.35");
        let q: Quantity = serde_json::from_str("2").unwrap();
        assert_eq!(serde_json::to_string(&q).unwrap(), r#""2""#);
    }

    #[test]
    fn floats_and_excess_precision_are_refused() {
        assert!(serde_json::from_str::<Quantity>("2.5").is_err());
        assert!(serde_json::from_str::<Quantity>(r#""0.0001""#).is_err());
        assert!(serde_json::from_str::<Quantity>(r#""two""#).is_err());
    }

    #[test]
    fn client_quantities_beyond_a_million_are_refused() {
        assert_eq!(Quantity::parse("1000000").unwrap().to_string(), "1000000");
        assert_eq!(
            Quantity::parse("-1000000.000").unwrap().to_string(),
            "-1000000"
        );
        for text in [
            "1000000.001",
            "-1000001",
            "79228162514264337593543950335",
            "1e7",
        ] {
            assert!(Quantity::parse(text).is_err(), "{text}");
        }
        assert!(matches!(
            Quantity::parse("1000000.001"),
            Err(QuantityError::OutOfRange(_))
        ));
        assert!(matches!(
            Quantity::parse("NaN"),
            Err(QuantityError::NotDecimal(_))
        ));
    }

    #[test]
    fn stored_quantities_stay_readable_beyond_the_range() {
        let q: Quantity = serde_json::from_str(r#""79228162514264337593543950""#).unwrap();
        assert_eq!(q.to_string(), "79228162514264337593543950");
    }

    #[test]
    fn arithmetic_stays_exact() {
        let a: Quantity = "0.1".parse().unwrap();
        let b: Quantity = "0.2".parse().unwrap();
        assert_eq!(a.checked_add(b).unwrap(), "0.3".parse().unwrap());
        assert!(!Quantity::ZERO.is_positive());
    }
}
