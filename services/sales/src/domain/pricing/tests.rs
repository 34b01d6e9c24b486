//! The contract's pricing rules with worked examples, and properties over random sales.

use proptest::prelude::*;
use rust_decimal::Decimal;
use tillstream_kernel::{Currency, Money, Quantity};

use super::*;

fn usd(s: &str) -> Money {
    Money::parse(s, Currency::USD).unwrap()
}

fn rate(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn line(price: &str, quantity: &str, tax_rate: &str, discount: Option<Discount>) -> LineToPrice {
    LineToPrice {
        unit_price: usd(price),
        quantity: quantity.parse().unwrap(),
        tax_rate: rate(tax_rate),
        discount,
    }
}

const EXCLUSIVE: PricingPolicy = PricingPolicy {
    currency: Currency::USD,
    prices_include_tax: false,
};
const INCLUSIVE: PricingPolicy = PricingPolicy {
    currency: Currency::USD,
    prices_include_tax: true,
};

fn amounts(line: &PricedLine) -> [String; 6] {
    [
        line.gross,
        line.discount,
        line.net,
        line.tax,
        line.line_total,
        line.revenue,
    ]
    .map(|m| m.to_string())
}

#[test]
fn the_contracts_example_line_prices_as_shown() {
    let sale = price(EXCLUSIVE, &[line("3.50", "2", "0.08", None)], None).unwrap();
    assert_eq!(
        amounts(&sale.lines[0]),
        ["7.00", "0.00", "7.00", "0.56", "7.56", "7.00"]
    );
    assert_eq!(sale.total, usd("7.56"));
    assert_eq!(sale.rules_version, RULES_VERSION);
}

#[test]
fn a_sale_discount_is_spread_by_largest_remainder_and_sums_exactly() {
    // Bases 10.00, 4.50, 3.00 (B = 17.50); D = 1.00 → 57 + 25 + 17 = 99 cents, and the
    // last cent goes to line 1, whose remainder (1250) is the largest.
    let lines = [
        line("10.00", "1", "0.08", None),
        line("5.00", "1", "0.08", Some(Discount::Percent(rate("10")))),
        line("3.33", "1", "0", Some(Discount::Amount(usd("0.33")))),
    ];
    let sale = price(EXCLUSIVE, &lines, Some(Discount::Amount(usd("1.00")))).unwrap();
    let shares: Vec<String> = sale
        .lines
        .iter()
        .map(|l| l.sale_discount_share.to_string())
        .collect();
    assert_eq!(shares, ["0.57", "0.26", "0.17"]);
    assert_eq!(
        amounts(&sale.lines[0]),
        ["10.00", "0.57", "9.43", "0.75", "10.18", "9.43"]
    );
    assert_eq!(
        amounts(&sale.lines[1]),
        ["5.00", "0.76", "4.24", "0.34", "4.58", "4.24"]
    );
    assert_eq!(
        amounts(&sale.lines[2]),
        ["3.33", "0.50", "2.83", "0.00", "2.83", "2.83"]
    );
    assert_eq!(
        [
            sale.subtotal,
            sale.discount_total,
            sale.tax_total,
            sale.total
        ]
        .map(|m| m.to_string()),
        ["18.33", "1.83", "1.09", "17.59"]
    );
}

#[test]
fn equal_remainders_give_the_left_over_cent_to_the_earlier_line() {
    let shares = spread(usd("0.01"), &[usd("1.00"), usd("1.00")]).unwrap();
    assert_eq!(shares, vec![usd("0.01"), usd("0.00")]);
}

#[test]
fn rounding_is_half_away_from_zero_at_every_step() {
    // 0.25 × 0.5 = 0.125 → 0.13; tax 0.13 × 0.08 = 0.0104 → 0.01.
    let sale = price(EXCLUSIVE, &[line("0.25", "0.5", "0.08", None)], None).unwrap();
    assert_eq!(
        amounts(&sale.lines[0]),
        ["0.13", "0.00", "0.13", "0.01", "0.14", "0.13"]
    );
    // A 12.5% discount of 1.00 is 0.125 → 0.13.
    let sale = price(
        EXCLUSIVE,
        &[line(
            "1.00",
            "1",
            "0",
            Some(Discount::Percent(rate("12.5"))),
        )],
        None,
    )
    .unwrap();
    assert_eq!(sale.lines[0].discount, usd("0.13"));
}

#[test]
fn tax_inclusive_prices_take_the_tax_out_of_the_net() {
    let sale = price(
        INCLUSIVE,
        &[
            line("10.80", "1", "0.08", None),
            line("1.00", "1", "0.08", None),
        ],
        None,
    )
    .unwrap();
    // 10.80 / 1.08 = 10.00 → tax 0.80; 1.00 / 1.08 = 0.9259… → 0.93 → tax 0.07.
    assert_eq!(
        amounts(&sale.lines[0]),
        ["10.80", "0.00", "10.80", "0.80", "10.80", "10.00"]
    );
    assert_eq!(
        amounts(&sale.lines[1]),
        ["1.00", "0.00", "1.00", "0.07", "1.00", "0.93"]
    );
    assert_eq!(sale.total, usd("11.80"));
    assert_eq!(sale.tax_total, usd("0.87"));
}

#[test]
fn split_tender_returns_change_only_from_cash() {
    let pay = |method, amount: &str| Payment {
        method,
        amount: usd(amount),
        reference: None,
    };
    let total = usd("25.37");
    assert_eq!(
        settle(
            total,
            &[pay(Tender::Cash, "20.00"), pay(Tender::Card, "5.37")]
        )
        .unwrap(),
        usd("0")
    );
    assert_eq!(
        settle(
            total,
            &[pay(Tender::Card, "5.00"), pay(Tender::Cash, "30.00")]
        )
        .unwrap(),
        usd("9.63")
    );
    assert_eq!(
        settle(total, &[pay(Tender::Card, "30.00")]),
        Err(PricingError::NonCashExceedsRemaining { payment: 0 })
    );
    assert_eq!(
        settle(
            total,
            &[pay(Tender::Voucher, "20.00"), pay(Tender::Card, "10.00")]
        )
        .unwrap_err()
        .field(),
        "payments[1].amount"
    );
    let under = settle(
        total,
        &[pay(Tender::Card, "20.00"), pay(Tender::Cash, "5.00")],
    )
    .unwrap_err();
    assert_eq!(
        under,
        PricingError::Underpaid {
            total,
            paid: usd("25.00")
        }
    );
    assert_eq!(under.field(), "payments");
    assert_eq!(settle(total, &[]).unwrap_err().field(), "payments");
    assert_eq!(
        settle(total, &[pay(Tender::Cash, "0")])
            .unwrap_err()
            .field(),
        "payments[0].amount"
    );
    let euros = Payment {
        method: Tender::Cash,
        amount: Money::parse("30", Currency::EUR).unwrap(),
        reference: None,
    };
    assert_eq!(
        settle(total, &[euros]).unwrap_err().field(),
        "payments[0].amount"
    );
}

#[test]
fn invalid_lines_name_the_field_at_fault() {
    let field = |lines: &[LineToPrice], sale: Option<Discount>| {
        price(EXCLUSIVE, lines, sale).unwrap_err().field()
    };
    assert_eq!(field(&[], None), "lines");
    assert_eq!(
        field(
            &[line("1.00", "1", "0", None), line("1.00", "0", "0", None)],
            None
        ),
        "lines[1].quantity"
    );
    assert_eq!(
        field(&[line("1.00", "-2", "0", None)], None),
        "lines[0].quantity"
    );
    assert_eq!(
        field(&[line("-1.00", "1", "0", None)], None),
        "lines[0].unit_price"
    );
    assert_eq!(
        field(&[line("1.00", "1", "1", None)], None),
        "lines[0].tax_rate"
    );
    let over = Some(Discount::Amount(usd("5.01")));
    assert_eq!(
        field(&[line("5.00", "1", "0", over)], None),
        "lines[0].discount"
    );
    let percent = Some(Discount::Percent(rate("150")));
    assert_eq!(
        field(&[line("5.00", "1", "0", percent)], None),
        "lines[0].discount"
    );
    let negative = Some(Discount::Amount(usd("-1")));
    assert_eq!(
        field(&[line("5.00", "1", "0", negative)], None),
        "lines[0].discount"
    );
    assert_eq!(
        field(
            &[line("5.00", "1", "0", None)],
            Some(Discount::Amount(usd("5.01")))
        ),
        "discount"
    );
    assert_eq!(
        field(
            &[line("5.00", "1", "0", None)],
            Some(Discount::Percent(rate("-1")))
        ),
        "discount"
    );
}

#[test]
fn a_whole_line_discounted_away_still_prices() {
    let sale = price(
        EXCLUSIVE,
        &[line(
            "5.00",
            "1",
            "0.08",
            Some(Discount::Percent(rate("100"))),
        )],
        None,
    )
    .unwrap();
    assert_eq!(
        amounts(&sale.lines[0]),
        ["5.00", "5.00", "0.00", "0.00", "0.00", "0.00"]
    );
    let free = price(
        EXCLUSIVE,
        &[line("5.00", "1", "0", None)],
        Some(Discount::Amount(usd("5.00"))),
    )
    .unwrap();
    assert_eq!(free.total, usd("0"));
}

fn arb_discount(max_cents: i64) -> impl Strategy<Value = Option<Discount>> {
    prop_oneof![
        Just(None),
        (0i64..=10_000).prop_map(|p| Some(Discount::Percent(Decimal::new(p, 2)))),
        (0..=max_cents).prop_map(|c| Some(Discount::Amount(Money::new(
            Decimal::new(c, 2),
            Currency::USD
        )))),
    ]
}

fn arb_line() -> impl Strategy<Value = LineToPrice> {
    let rates = prop_oneof![
        Just("0"),
        Just("0.05"),
        Just("0.08"),
        Just("0.1925"),
        Just("0.2")
    ];
    (0i64..50_000, 1i64..5_000, rates).prop_flat_map(|(cents, milli_qty, tax)| {
        let unit_price = Money::new(Decimal::new(cents, 2), Currency::USD);
        let quantity = Quantity::new(Decimal::new(milli_qty, 3)).unwrap();
        let gross_cents = (unit_price.checked_mul(quantity.value()).unwrap().amount()
            * Decimal::ONE_HUNDRED)
            .trunc()
            .try_into()
            .unwrap_or(0i64);
        arb_discount(gross_cents).prop_map(move |discount| LineToPrice {
            unit_price,
            quantity,
            tax_rate: tax.parse().unwrap(),
            discount,
        })
    })
}

proptest! {
    #[test]
    fn every_priced_sale_adds_up_to_the_cent(
        lines in prop::collection::vec(arb_line(), 1..8),
        inclusive in any::<bool>(),
        sale_discount_permille in 0i64..=1000,
    ) {
        let policy = PricingPolicy { currency: Currency::USD, prices_include_tax: inclusive };
        let undiscounted = price(policy, &lines, None).unwrap();
        let base = undiscounted.subtotal.checked_sub(undiscounted.discount_total).unwrap();
        let discount = base.checked_mul(Decimal::new(sale_discount_permille, 3)).unwrap();
        let sale = price(policy, &lines, Some(Discount::Amount(discount))).unwrap();

        let shares = Money::sum(Currency::USD, sale.lines.iter().map(|l| l.sale_discount_share)).unwrap();
        prop_assert_eq!(shares, discount, "the shares sum to the sale discount exactly");
        for l in &sale.lines {
            prop_assert!(l.discount.amount() <= l.gross.amount());
            prop_assert!(!l.net.is_negative() && !l.tax.is_negative());
            prop_assert_eq!(l.revenue.checked_add(l.tax).unwrap(), l.line_total);
            prop_assert_eq!(l.gross.checked_sub(l.discount).unwrap(), l.net);
            for m in [l.gross, l.discount, l.net, l.tax, l.line_total] {
                prop_assert_eq!(m.amount().scale(), 2);
            }
        }
        let expected_total = if inclusive {
            sale.subtotal.checked_sub(sale.discount_total).unwrap()
        } else {
            sale.subtotal.checked_sub(sale.discount_total).unwrap().checked_add(sale.tax_total).unwrap()
        };
        prop_assert_eq!(sale.total, expected_total);
    }

    #[test]
    fn cash_overpayment_is_returned_as_change_and_never_more(
        total_cents in 0i64..1_000_000,
        card_permille in 0i64..=1000,
        extra_cents in 0i64..10_000,
    ) {
        let total = Money::new(Decimal::new(total_cents, 2), Currency::USD);
        let card = total.checked_mul(Decimal::new(card_permille, 3)).unwrap();
        let cash = total.checked_sub(card).unwrap().checked_add(Money::new(Decimal::new(extra_cents, 2), Currency::USD)).unwrap();
        let mut payments = Vec::new();
        if !card.is_zero() { payments.push(Payment { method: Tender::Card, amount: card, reference: None }); }
        if !cash.is_zero() { payments.push(Payment { method: Tender::Cash, amount: cash, reference: None }); }
        prop_assume!(!payments.is_empty());
        let change = settle(total, &payments).unwrap();
        prop_assert_eq!(change, Money::new(Decimal::new(extra_cents, 2), Currency::USD));
        prop_assert!(change.amount() <= cash.amount());
    }
}
