//! The sale aggregate's given/when/then tests.

use tillstream_kernel::{Currency, Tender, given};

use super::super::controls::Action;
use super::*;

fn usd(s: &str) -> Money {
    Money::parse(s, Currency::USD).unwrap()
}

fn command() -> CompleteSale {
    let line = |sku: &str, price: &str, qty: i64| ResolvedLine {
        product_id: format!("p-{sku}"),
        sku: sku.into(),
        name: sku.into(),
        unit_price: usd(price),
        tax_rate: "0.08".parse().unwrap(),
        quantity: Quantity::from_units(qty),
        discount: None,
        catalog_price: None,
    };
    CompleteSale {
        id: SaleId::generate(),
        sale_number: "S12-20261124-000001".into(),
        location_id: "loc".into(),
        cashier_id: "cashier".into(),
        completed_at: "2026-11-24T12:00:00Z".parse().unwrap(),
        policy: PricingPolicy {
            currency: Currency::USD,
            prices_include_tax: false,
        },
        lines: vec![line("A", "3.50", 2), line("B", "10.00", 1)],
        discount: None,
        payments: vec![
            Payment {
                method: Tender::Card,
                amount: usd("10.00"),
                reference: Some("AUTH1".into()),
            },
            Payment {
                method: Tender::Cash,
                amount: usd("10.00"),
                reference: None,
            },
        ],
        customer_id: None,
        customer: None,
        notes: None,
        controls: Some(cashier()),
        locations: Locations::every(),
        session: None,
        repair_id: None,
    }
}

fn cashier() -> Authority {
    Authority {
        manager: false,
        approved: Vec::new(),
        discount_limit_percent: "20".parse().unwrap(),
        locations: Locations::every(),
    }
}

#[test]
fn nobody_sells_outside_their_locations_live_or_offline_approved_or_not() {
    let elsewhere = Locations::only(vec!["other".into()]);
    let live = CompleteSale {
        locations: elsewhere.clone(),
        ..command()
    };
    let offline = CompleteSale {
        controls: None,
        ..live.clone()
    };
    let manager = CompleteSale {
        controls: Some(Authority {
            manager: true,
            ..cashier()
        }),
        ..live.clone()
    };
    for sale in [live, offline, manager] {
        assert_eq!(
            refused(sale),
            SaleError::LocationNotAllowed(LocationNotAllowed {
                location_id: "loc".into()
            })
        );
    }
    let here = CompleteSale {
        locations: Locations::only(vec!["other".into(), "loc".into()]),
        ..command()
    };
    given::<Sale>(vec![])
        .when(Command::Complete(Box::new(here)))
        .outcome()
        .unwrap();
}

fn approval(action: Action) -> Approval {
    Approval {
        action,
        approver_id: "maya".into(),
        approval_id: "A1".into(),
    }
}

fn refused(command: CompleteSale) -> SaleError {
    given::<Sale>(vec![])
        .when(Command::Complete(Box::new(command)))
        .outcome()
        .unwrap_err()
}

#[test]
fn a_cashier_needs_a_manager_to_sell_below_the_catalog_price() {
    let mut cheap = command();
    cheap.lines[1].catalog_price = Some(cheap.lines[1].unit_price);
    cheap.lines[1].unit_price = usd("0.01");
    cheap.payments.remove(0);
    assert_eq!(
        refused(cheap.clone()),
        SaleError::ApprovalRequired(ApprovalRequired {
            action: Action::PriceOverride,
            field: Some("lines[1].unit_price".into()),
        })
    );
    for authority in [
        Authority {
            manager: true,
            ..cashier()
        },
        Authority {
            approved: vec![approval(Action::PriceOverride)],
            ..cashier()
        },
    ] {
        let recorded = if authority.manager {
            Vec::new()
        } else {
            authority.approved.clone()
        };
        let approved = CompleteSale {
            controls: Some(authority),
            ..cheap.clone()
        };
        let events = given::<Sale>(vec![])
            .when(Command::Complete(Box::new(approved)))
            .outcome()
            .unwrap();
        let Event::SaleCompleted { sale } = &events[0] else {
            panic!("a sale completes");
        };
        assert_eq!(
            sale.approvals, recorded,
            "the approval used, with its approver"
        );
    }
    let offline = CompleteSale {
        controls: None,
        ..cheap
    };
    given::<Sale>(vec![])
        .when(Command::Complete(Box::new(offline)))
        .outcome()
        .unwrap();
}

#[test]
fn a_percentage_discount_at_the_limit_is_within_it_once_rounded() {
    // 20 % of 17.00 is 3.40 exactly; of 12.99, 2.598, a 2.60 discount.
    let mut odd = command();
    odd.lines.truncate(1);
    odd.lines[0].unit_price = usd("12.99");
    odd.lines[0].quantity = Quantity::from_units(1);
    odd.discount = Some(Discount::Percent("20".parse().unwrap()));
    given::<Sale>(vec![])
        .when(Command::Complete(Box::new(odd)))
        .outcome()
        .unwrap();
}

#[test]
fn a_discount_over_the_limit_needs_a_manager_and_one_at_it_does_not() {
    // 17.00 of goods: 3.40 is 20 %, 3.41 is over.
    let discounted = |amount: &str| CompleteSale {
        discount: Some(Discount::Amount(usd(amount))),
        ..command()
    };
    given::<Sale>(vec![])
        .when(Command::Complete(Box::new(discounted("3.40"))))
        .outcome()
        .unwrap();
    assert_eq!(
        refused(discounted("3.41")),
        SaleError::ApprovalRequired(ApprovalRequired {
            action: Action::Discount,
            field: Some("discount".into()),
        })
    );
    let approved = CompleteSale {
        controls: Some(Authority {
            approved: vec![approval(Action::Discount)],
            ..cashier()
        }),
        ..discounted("3.41")
    };
    given::<Sale>(vec![])
        .when(Command::Complete(Box::new(approved)))
        .outcome()
        .unwrap();
}

#[test]
fn a_completed_sale_records_every_amount_and_the_change() {
    let events = given::<Sale>(vec![])
        .when(Command::Complete(Box::new(command())))
        .outcome()
        .unwrap();
    let Event::SaleCompleted { sale } = &events[0] else {
        panic!("a sale completes");
    };
    // 7.00 + 0.56 and 10.00 + 0.80.
    assert_eq!(
        (sale.subtotal, sale.tax_total, sale.total),
        (usd("17.00"), usd("1.36"), usd("18.36"))
    );
    assert_eq!(sale.change, usd("1.64"));
    assert_eq!(sale.lines[1].line_no, 2);
    assert_eq!(sale.lines[0].amounts.line_total, usd("7.56"));
}

#[test]
fn a_sale_completes_once_and_underpayment_is_refused() {
    let done = given::<Sale>(vec![])
        .when(Command::Complete(Box::new(command())))
        .outcome()
        .unwrap();
    given::<Sale>(done)
        .when(Command::Complete(Box::new(command())))
        .then_error(SaleError::AlreadyCompleted);
    let mut short = command();
    short.payments.truncate(1);
    let refused = given::<Sale>(vec![])
        .when(Command::Complete(Box::new(short)))
        .outcome()
        .unwrap_err();
    assert!(matches!(
        refused,
        SaleError::Pricing(PricingError::Underpaid { .. })
    ));
}
