//! Posting rules with exact amounts, entry validation, and the trial balance under random
//! mixes of every flow.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rust_decimal::Decimal;
use tillstream_kernel::{Currency, Money, Tender};

use super::accounts::Account;
use super::entry::{EntryError, EntryLine, Lines};
use super::posting::*;

const USD: Currency = Currency::USD;

fn usd(s: &str) -> Money {
    Money::parse(s, USD).unwrap()
}

/// `(code, debit, credit)` per line, for readable assertions.
fn table(lines: &Lines) -> Vec<(&'static str, String, String)> {
    lines
        .as_slice()
        .iter()
        .map(|l| (l.account.code(), l.debit.to_string(), l.credit.to_string()))
        .collect()
}

fn row(code: &'static str, debit: &str, credit: &str) -> (&'static str, String, String) {
    (code, debit.to_owned(), credit.to_owned())
}

#[test]
fn a_split_tender_sale_debits_each_tender_and_credits_revenue_and_tax() {
    let sale = SaleMoney {
        payments: vec![(Tender::Cash, usd("20.00")), (Tender::Card, usd("5.37"))],
        change: usd("0"),
        revenue: usd("23.49"),
        tax: usd("1.88"),
    };
    assert_eq!(
        table(&sale_entry(USD, &sale).unwrap()),
        vec![
            row("1000", "20.00", "0.00"),
            row("1010", "5.37", "0.00"),
            row("4000", "0.00", "23.49"),
            row("2100", "0.00", "1.88")
        ]
    );
}

#[test]
fn change_is_netted_against_the_cash_taken() {
    let sale = SaleMoney {
        payments: vec![(Tender::Card, usd("5.00")), (Tender::Cash, usd("30.00"))],
        change: usd("9.63"),
        revenue: usd("23.49"),
        tax: usd("1.88"),
    };
    let entry = sale_entry(USD, &sale).unwrap();
    assert_eq!(
        table(&entry),
        vec![
            row("1000", "20.37", "0.00"),
            row("1010", "5.00", "0.00"),
            row("4000", "0.00", "23.49"),
            row("2100", "0.00", "1.88")
        ]
    );
    assert_eq!(entry.total_debits(), usd("25.37"));
}

#[test]
fn a_sale_without_tax_has_no_tax_line_and_vouchers_share_an_account() {
    let sale = SaleMoney {
        payments: vec![(Tender::Voucher, usd("3.00")), (Tender::Other, usd("2.00"))],
        change: usd("0"),
        revenue: usd("5.00"),
        tax: usd("0"),
    };
    assert_eq!(
        table(&sale_entry(USD, &sale).unwrap()),
        vec![row("1020", "5.00", "0.00"), row("4000", "0.00", "5.00")]
    );
}

#[test]
fn a_return_debits_returns_and_tax_and_credits_the_refund() {
    let ret = ReturnMoney {
        revenue: usd("4.24"),
        tax: usd("0.34"),
        refunds: vec![(Tender::Cash, usd("4.58"))],
    };
    assert_eq!(
        table(&return_entry(USD, &ret).unwrap()),
        vec![
            row("4100", "4.24", "0.00"),
            row("2100", "0.34", "0.00"),
            row("1000", "0.00", "4.58")
        ]
    );
    let short = ReturnMoney {
        refunds: vec![(Tender::Cash, usd("4.00"))],
        ..ret
    };
    assert!(matches!(
        return_entry(USD, &short),
        Err(EntryError::Unbalanced { .. })
    ));
}

#[test]
fn a_void_is_the_exact_reverse_of_the_sale() {
    let sale = SaleMoney {
        payments: vec![(Tender::Cash, usd("10.80"))],
        change: usd("0"),
        revenue: usd("10.00"),
        tax: usd("0.80"),
    };
    let entry = sale_entry(USD, &sale).unwrap();
    assert_eq!(
        table(&void_entry(&entry)),
        vec![
            row("1000", "0.00", "10.80"),
            row("4000", "10.00", "0.00"),
            row("2100", "0.80", "0.00")
        ]
    );
}

#[test]
fn stock_movements_post_at_their_recorded_cost_and_transfers_post_nothing() {
    let cost = usd("7.35");
    let entry = |m| table(&stock_entry(USD, m).unwrap().unwrap());
    assert_eq!(
        entry(StockCost::Sold(cost)),
        vec![row("5000", "7.35", "0.00"), row("1200", "0.00", "7.35")]
    );
    assert_eq!(
        entry(StockCost::ReturnedToStock(cost)),
        vec![row("1200", "7.35", "0.00"), row("5000", "0.00", "7.35")]
    );
    assert_eq!(
        entry(StockCost::VoidReversed(cost)),
        vec![row("1200", "7.35", "0.00"), row("5000", "0.00", "7.35")]
    );
    assert_eq!(
        entry(StockCost::Received(cost)),
        vec![row("1200", "7.35", "0.00"), row("2000", "0.00", "7.35")]
    );
    assert_eq!(
        entry(StockCost::Lost(cost)),
        vec![row("5100", "7.35", "0.00"), row("1200", "0.00", "7.35")]
    );
    assert_eq!(
        entry(StockCost::Gained(cost)),
        vec![row("1200", "7.35", "0.00"), row("5100", "0.00", "7.35")]
    );
    assert_eq!(stock_entry(USD, StockCost::Transferred).unwrap(), None);
    assert_eq!(stock_entry(USD, StockCost::Sold(usd("0"))).unwrap(), None);
}

#[test]
fn a_repairs_parts_go_1200_to_1250_then_to_5000_or_back() {
    let cost = usd("8.00");
    let entry = |m| table(&stock_entry(USD, m).unwrap().unwrap());
    assert_eq!(
        entry(StockCost::FittedToRepair(cost)),
        vec![row("1250", "8.00", "0.00"), row("1200", "0.00", "8.00")]
    );
    assert_eq!(
        entry(StockCost::RepairCollected(cost)),
        vec![row("5000", "8.00", "0.00"), row("1250", "0.00", "8.00")]
    );
    assert_eq!(
        entry(StockCost::ReturnedFromRepair(cost)),
        vec![row("1200", "8.00", "0.00"), row("1250", "0.00", "8.00")]
    );
    // A repair with no parts (labor only) moves nothing at collection.
    assert_eq!(
        stock_entry(USD, StockCost::RepairCollected(usd("0"))).unwrap(),
        None
    );
    assert_eq!(Account::from_code("1250"), Some(Account::RepairsInProgress));
}

#[test]
fn manual_entries_must_balance_and_keep_one_side_per_line() {
    let line = |account, debit: &str, credit: &str| EntryLine {
        account,
        debit: usd(debit),
        credit: usd(credit),
    };
    let ok = Lines::new(
        USD,
        vec![
            line(Account::Cash, "100", "0"),
            line(Account::OpeningBalanceEquity, "0", "100"),
        ],
    );
    assert!(ok.is_ok());
    let unbalanced = Lines::new(
        USD,
        vec![
            line(Account::Cash, "100", "0"),
            line(Account::OpeningBalanceEquity, "0", "99.99"),
        ],
    );
    assert_eq!(unbalanced.unwrap_err().field(), "lines");
    let both = Lines::new(
        USD,
        vec![
            line(Account::Cash, "1", "1"),
            line(Account::Inventory, "0", "0"),
        ],
    );
    assert_eq!(both.unwrap_err(), EntryError::BothSides { line: 0 });
    let negative = Lines::new(
        USD,
        vec![
            line(Account::Cash, "-1", "0"),
            line(Account::Inventory, "0", "-1"),
        ],
    );
    assert_eq!(negative.unwrap_err().field(), "lines[0]");
    let zero = Lines::new(
        USD,
        vec![
            line(Account::Cash, "1", "0"),
            line(Account::Inventory, "0", "1"),
            line(Account::Cash, "0", "0"),
        ],
    );
    assert_eq!(zero.unwrap_err(), EntryError::ZeroLine { line: 2 });
    assert_eq!(
        Lines::new(USD, vec![line(Account::Cash, "0", "0")]).unwrap_err(),
        EntryError::TooFewLines
    );
}

#[test]
fn accounts_are_known_by_their_fixed_codes() {
    assert_eq!(Account::from_code("4000"), Some(Account::SalesRevenue));
    assert_eq!(Account::from_code("9999"), None);
    assert!(serde_json::from_str::<Account>("\"4100\"").is_ok());
    assert!(serde_json::from_str::<Account>("\"9999\"").is_err());
    assert_eq!(
        serde_json::to_string(&Account::CardClearing).unwrap(),
        "\"1010\""
    );
}

/// One source event of any flow, generated consistently (payments cover the total, change
/// only from cash, refunds equal the returned amount).
#[derive(Debug, Clone)]
enum Flow {
    Sale {
        revenue: i64,
        tax: i64,
        card: i64,
        cash_extra: i64,
        void: bool,
    },
    Return {
        revenue: i64,
        tax: i64,
        by_card: bool,
    },
    Stock(u8, i64),
}

fn cents(c: i64) -> Money {
    Money::new(Decimal::new(c, 2), USD)
}

fn arb_flow() -> impl Strategy<Value = Flow> {
    prop_oneof![
        (
            0i64..100_000,
            0i64..10_000,
            0i64..=100,
            0i64..5_000,
            any::<bool>()
        )
            .prop_map(|(revenue, tax, card_pct, cash_extra, void)| {
                let total = revenue + tax;
                Flow::Sale {
                    revenue,
                    tax,
                    card: total * card_pct / 100,
                    cash_extra,
                    void,
                }
            }),
        (1i64..50_000, 0i64..5_000, any::<bool>()).prop_map(|(revenue, tax, by_card)| {
            Flow::Return {
                revenue,
                tax,
                by_card,
            }
        }),
        (0u8..10, 0i64..100_000).prop_map(|(kind, cost)| Flow::Stock(kind, cost)),
    ]
}

fn entries_for(flow: &Flow) -> Vec<Lines> {
    match *flow {
        Flow::Sale {
            revenue,
            tax,
            card,
            cash_extra,
            void,
        } => {
            let total = revenue + tax;
            let cash = total - card + cash_extra;
            let mut payments = Vec::new();
            if card > 0 {
                payments.push((Tender::Card, cents(card)));
            }
            if cash > 0 {
                payments.push((Tender::Cash, cents(cash)));
            }
            let sale = SaleMoney {
                payments,
                change: cents(cash_extra),
                revenue: cents(revenue),
                tax: cents(tax),
            };
            match sale_entry(USD, &sale) {
                Ok(entry) if void => vec![void_entry(&entry), entry],
                Ok(entry) => vec![entry],
                // A free sale with nothing paid has nothing to book.
                Err(EntryError::TooFewLines) => vec![],
                Err(e) => panic!("{e}"),
            }
        }
        Flow::Return {
            revenue,
            tax,
            by_card,
        } => {
            let tender = if by_card { Tender::Card } else { Tender::Cash };
            let ret = ReturnMoney {
                revenue: cents(revenue),
                tax: cents(tax),
                refunds: vec![(tender, cents(revenue + tax))],
            };
            vec![return_entry(USD, &ret).unwrap()]
        }
        Flow::Stock(kind, cost) => {
            let movement = match kind {
                0 => StockCost::Sold(cents(cost)),
                1 => StockCost::ReturnedToStock(cents(cost)),
                2 => StockCost::VoidReversed(cents(cost)),
                3 => StockCost::Received(cents(cost)),
                4 => StockCost::Gained(cents(cost)),
                5 => StockCost::Lost(cents(cost)),
                6 => StockCost::FittedToRepair(cents(cost)),
                7 => StockCost::ReturnedFromRepair(cents(cost)),
                8 => StockCost::RepairCollected(cents(cost)),
                _ => StockCost::Transferred,
            };
            stock_entry(USD, movement).unwrap().into_iter().collect()
        }
    }
}

proptest! {
    #[test]
    fn random_mixes_of_every_flow_keep_the_trial_balance_at_zero(flows in prop::collection::vec(arb_flow(), 1..60)) {
        let mut balances: BTreeMap<Account, Money> = BTreeMap::new();
        let (mut debits, mut credits) = (Money::zero(USD), Money::zero(USD));
        let mut expected_cash = Money::zero(USD);
        for flow in &flows {
            match *flow {
                Flow::Sale { revenue, tax, card, void: false, .. } => {
                    expected_cash = expected_cash.checked_add(cents(revenue + tax - card)).unwrap();
                }
                Flow::Return { revenue, tax, by_card: false } => {
                    expected_cash = expected_cash.checked_sub(cents(revenue + tax)).unwrap();
                }
                _ => {}
            }
            for entry in entries_for(flow) {
                prop_assert_eq!(
                    Money::sum(USD, entry.as_slice().iter().map(|l| l.debit)).unwrap(),
                    Money::sum(USD, entry.as_slice().iter().map(|l| l.credit)).unwrap(),
                    "every entry balances"
                );
                for line in entry.as_slice() {
                    prop_assert!(!line.debit.is_negative() && !line.credit.is_negative());
                    prop_assert!(line.debit.is_zero() != line.credit.is_zero(), "one side per line");
                    debits = debits.checked_add(line.debit).unwrap();
                    credits = credits.checked_add(line.credit).unwrap();
                    let balance = balances.entry(line.account).or_insert(Money::zero(USD));
                    *balance = balance.checked_add(line.debit).unwrap().checked_sub(line.credit).unwrap();
                }
            }
        }
        prop_assert_eq!(debits, credits, "the trial balance is zero");
        let sum_of_balances = Money::sum(USD, balances.values().copied()).unwrap();
        prop_assert!(sum_of_balances.is_zero());
        let cash = balances.get(&Account::Cash).copied().unwrap_or(Money::zero(USD));
        prop_assert_eq!(cash, expected_cash, "cash is what was kept less cash refunds");
    }
}
