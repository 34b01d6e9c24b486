//! The values no numeric field of the API accepts: each kind's bound and beyond, and the
//! malformed spellings of a number, for the bounds test.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

/// What a field holds, and so its bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// At most 1,000,000, three places.
    Quantity,
    /// At most 10,000,000,000.00, two places.
    Money,
    /// A unit cost: as money, with four places.
    Cost,
    /// A tax rate: `0 ≤ r < 1`.
    Rate,
    /// A discount percent: `0 ≤ p ≤ 100`.
    Percent,
}

/// Values no field of `kind` accepts, whatever the domain's other rules.
pub fn beyond(kind: Kind) -> Vec<Value> {
    let mut values: Vec<Value> = [
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "1e3",
        "1E-2",
        "0x10",
        "",
        " ",
        "1,5",
        "1.2.3",
        "١٢",
        "+-1",
        "12abc",
        "0.00000000000000000000000000001",
    ]
    .into_iter()
    .map(Value::from)
    .collect();
    let above = match kind {
        Kind::Quantity => 7,
        Kind::Money | Kind::Cost => 11,
        Kind::Rate => 0,
        Kind::Percent => 3,
    };
    for k in above..=28 {
        values.push(Value::from(format!("1{}", "0".repeat(k))));
        values.push(Value::from(format!("-1{}", "0".repeat(k))));
    }
    values.push(Value::from("79228162514264337593543950335"));
    values.push(Value::from("79228162514264337593543950336"));
    values.push(Value::from("9".repeat(100)));
    values.push(Value::from(match kind {
        Kind::Quantity => "1000000.001",
        Kind::Money | Kind::Cost => "10000000000.01",
        Kind::Rate => "1",
        Kind::Percent => "100.0001",
    }));
    values.push(Value::from(match kind {
        Kind::Quantity => "0.0001",
        Kind::Money => "0.001",
        Kind::Cost => "0.00001",
        Kind::Rate => "0.0000001",
        Kind::Percent => "0.00001",
    }));
    // A JSON number where money is expected is refused; quantities take integers, but not
    // beyond the bound nor past u64.
    values.push(json!(100_000_000_000_000_000_u64));
    values.push(serde_json::from_str("100000000000000000000000000000").unwrap());
    values.push(json!(1.5));
    values
}

/// A few hundred more, drawn at random: long digit strings and far too many places.
pub fn random_beyond(kind: Kind) -> Vec<Value> {
    let digits = match kind {
        Kind::Quantity => 8..30usize,
        Kind::Money | Kind::Cost => 12..30usize,
        Kind::Rate | Kind::Percent => 4..30usize,
    };
    let strategy = (digits, 1u8..10, any::<bool>(), 0usize..20).prop_map(
        |(length, lead, negative, places)| {
            let sign = if negative { "-" } else { "" };
            let fraction = if places == 0 {
                String::new()
            } else {
                format!(".{}", "7".repeat(places))
            };
            format!("{sign}{lead}{}{fraction}", "3".repeat(length))
        },
    );
    let mut runner = TestRunner::new(Config::with_cases(20));
    (0..20)
        .map(|_| Value::from(strategy.new_tree(&mut runner).unwrap().current()))
        .collect()
}
