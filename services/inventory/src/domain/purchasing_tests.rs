//! Purchase orders and suppliers given/when/then: the status machine, partial deliveries,
//! the three-way match, and every refusal naming its field.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tillstream_kernel::{Decider, Quantity, given};

use super::purchase_order::{
    Command, Event, MatchStatus, NewLine, PurchaseError, PurchaseOrder, PurchaseOrderId,
    ReceivedLine, Status,
};
use super::supplier::{self, Details, PaymentMethod, Supplier, SupplierId};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn q(s: &str) -> Quantity {
    s.parse().unwrap()
}

fn at() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

fn id() -> PurchaseOrderId {
    "01JD5W2N8Q3V6R1T4Y7V0K9M2P".parse().unwrap()
}

fn drafted() -> Event {
    Event::PurchaseOrderDrafted {
        id: id(),
        number: "PO-000001".into(),
        supplier_id: "S".into(),
        location_id: "L".into(),
        expected_at: None,
        lines: vec![
            NewLine {
                product_id: "A".into(),
                quantity: d("10"),
                unit_cost: d("2.00"),
            },
            NewLine {
                product_id: "B".into(),
                quantity: d("4"),
                unit_cost: d("5.00"),
            },
        ],
        at: at(),
    }
}

fn receipt(lines: &[(u32, &str, &str)], status: Status) -> Event {
    Event::PurchaseOrderReceived {
        receipt_id: "R".into(),
        reference: None,
        lines: lines
            .iter()
            .map(|(line_no, quantity, product)| ReceivedLine {
                line_no: *line_no,
                product_id: (*product).into(),
                quantity: d(quantity),
                unit_cost: if *product == "A" {
                    d("2.00")
                } else {
                    d("5.00")
                },
            })
            .collect(),
        status,
        at: at(),
    }
}

fn receive(lines: &[(u32, &str)]) -> Command {
    Command::Receive {
        receipt_id: "R".into(),
        reference: None,
        lines: lines.iter().map(|(n, qty)| (*n, q(qty))).collect(),
        at: at(),
    }
}

fn invoice(lines: &[(u32, &str, &str)]) -> Command {
    Command::Invoice {
        invoice_id: "I".into(),
        number: "INV-1".into(),
        lines: lines.iter().map(|(n, qty, c)| (*n, q(qty), d(c))).collect(),
        minor_units: 2,
        at: at(),
    }
}

fn field_of(error: PurchaseError) -> String {
    match error {
        PurchaseError::Invalid { field, .. } => field,
        other => panic!("not a field error: {other:?}"),
    }
}

#[test]
fn a_delivery_short_of_the_order_leaves_it_partially_received_and_the_rest_completes_it() {
    given::<PurchaseOrder>(vec![drafted(), Event::PurchaseOrderSubmitted])
        .when(receive(&[(1, "6")]))
        .then(vec![receipt(&[(1, "6", "A")], Status::PartiallyReceived)]);
    given::<PurchaseOrder>(vec![
        drafted(),
        Event::PurchaseOrderSubmitted,
        receipt(&[(1, "6", "A")], Status::PartiallyReceived),
    ])
    .when(receive(&[(1, "4"), (2, "4")]))
    .then(vec![receipt(
        &[(1, "4", "A"), (2, "4", "B")],
        Status::Received,
    )]);
}

#[test]
fn more_than_is_still_expected_is_refused_naming_the_line() {
    let outcome = given::<PurchaseOrder>(vec![
        drafted(),
        Event::PurchaseOrderSubmitted,
        receipt(&[(1, "6", "A")], Status::PartiallyReceived),
    ])
    .when(receive(&[(2, "1"), (1, "5")]))
    .outcome()
    .unwrap_err();
    assert_eq!(field_of(outcome), "lines[1].quantity");
    let unknown = given::<PurchaseOrder>(vec![drafted(), Event::PurchaseOrderSubmitted])
        .when(receive(&[(3, "1")]))
        .outcome()
        .unwrap_err();
    assert_eq!(field_of(unknown), "lines[0].line_no");
}

#[test]
fn only_an_order_sent_and_not_finished_receives_goods() {
    let refused = |history: Vec<Event>, status: Status| {
        given::<PurchaseOrder>(history)
            .when(receive(&[(1, "1")]))
            .then_error(PurchaseError::WrongStatus {
                status,
                action: "received against",
            });
    };
    refused(vec![drafted()], Status::Draft);
    refused(
        vec![drafted(), Event::PurchaseOrderCancelled],
        Status::Cancelled,
    );
    refused(
        vec![
            drafted(),
            Event::PurchaseOrderSubmitted,
            Event::PurchaseOrderClosed {
                reason: "short".into(),
            },
        ],
        Status::Closed,
    );
}

#[test]
fn a_cancellation_after_a_receipt_is_refused_and_a_short_close_is_not() {
    let partly = vec![
        drafted(),
        Event::PurchaseOrderSubmitted,
        receipt(&[(1, "6", "A")], Status::PartiallyReceived),
    ];
    given::<PurchaseOrder>(partly.clone())
        .when(Command::Cancel)
        .then_error(PurchaseError::WrongStatus {
            status: Status::PartiallyReceived,
            action: "cancelled",
        });
    given::<PurchaseOrder>(partly)
        .when(Command::Close {
            reason: " supplier out of B ".into(),
        })
        .then(vec![Event::PurchaseOrderClosed {
            reason: "supplier out of B".into(),
        }]);
    given::<PurchaseOrder>(vec![drafted(), Event::PurchaseOrderSubmitted])
        .when(Command::Cancel)
        .then(vec![Event::PurchaseOrderCancelled]);
}

#[test]
fn only_a_draft_is_changed_or_submitted() {
    let submitted = vec![drafted(), Event::PurchaseOrderSubmitted];
    given::<PurchaseOrder>(submitted.clone())
        .when(Command::Submit)
        .then_error(PurchaseError::WrongStatus {
            status: Status::Ordered,
            action: "submitted",
        });
    given::<PurchaseOrder>(submitted)
        .when(Command::Revise {
            expected_at: None,
            lines: None,
        })
        .then_error(PurchaseError::WrongStatus {
            status: Status::Ordered,
            action: "changed",
        });
    given::<PurchaseOrder>(vec![])
        .when(Command::Submit)
        .then_error(PurchaseError::NotFound);
}

#[test]
fn an_invoice_at_another_price_is_a_price_variance_with_both_values() {
    let history = vec![
        drafted(),
        Event::PurchaseOrderSubmitted,
        receipt(&[(1, "10", "A")], Status::PartiallyReceived),
    ];
    let events = given::<PurchaseOrder>(history)
        .when(invoice(&[(1, "10", "2.15")]))
        .outcome()
        .unwrap();
    let Event::PurchaseInvoiceRecorded {
        total,
        received_value,
        status,
        lines,
        ..
    } = &events[0]
    else {
        panic!("{events:?}");
    };
    assert_eq!((*total, *received_value), (d("21.50"), d("20.00")));
    assert_eq!(*status, MatchStatus::PriceVariance);
    assert_eq!(
        (lines[0].ordered, lines[0].received, lines[0].invoiced),
        (d("10"), d("10"), d("10"))
    );
}

#[test]
fn invoicing_more_than_was_received_is_refused_and_a_partial_one_is_a_quantity_variance() {
    let history = vec![
        drafted(),
        Event::PurchaseOrderSubmitted,
        receipt(&[(2, "3", "B")], Status::PartiallyReceived),
    ];
    let refused = given::<PurchaseOrder>(history.clone())
        .when(invoice(&[(2, "4", "5.00")]))
        .outcome()
        .unwrap_err();
    assert_eq!(field_of(refused), "lines[0].quantity");
    let events = given::<PurchaseOrder>(history)
        .when(invoice(&[(2, "3", "5.00")]))
        .outcome()
        .unwrap();
    assert!(matches!(
        events[0],
        Event::PurchaseInvoiceRecorded {
            status: MatchStatus::QuantityVariance,
            ..
        }
    ));
}

#[test]
fn an_order_refuses_bad_lines_naming_the_field() {
    let draft = |lines: Vec<(&str, &str, &str)>| {
        given::<PurchaseOrder>(vec![])
            .when(Command::Draft {
                id: id(),
                number: "PO-1".into(),
                supplier_id: "S".into(),
                location_id: "L".into(),
                expected_at: None,
                lines: lines
                    .into_iter()
                    .map(|(p, qty, c)| (p.to_owned(), q(qty), d(c)))
                    .collect(),
                at: at(),
            })
            .outcome()
    };
    assert_eq!(field_of(draft(vec![]).unwrap_err()), "lines");
    assert_eq!(
        field_of(draft(vec![("A", "1", "1"), ("A", "2", "1")]).unwrap_err()),
        "lines[1].product_id"
    );
    assert_eq!(
        field_of(draft(vec![("A", "0", "1")]).unwrap_err()),
        "lines[0].quantity"
    );
    assert_eq!(
        field_of(draft(vec![("A", "1", "-0.01")]).unwrap_err()),
        "lines[0].unit_cost"
    );
    // A million units at a billion each is past the money range.
    assert_eq!(
        field_of(draft(vec![("A", "1000000", "1000000000")]).unwrap_err()),
        "lines[0].quantity"
    );
    assert!(draft(vec![("A", "1.5", "0")]).is_ok());
}

#[test]
fn a_supplier_registers_changes_only_what_differs_and_is_paid_within_range() {
    let id: SupplierId = "01JD5W2N8Q3V6R1T4Y7V0K9M2P".parse().unwrap();
    let details = Details {
        name: "Tea Traders".into(),
        email: Some("orders@tea.example".into()),
        phone: None,
        lead_time_days: 5,
    };
    let registered = supplier::Event::SupplierRegistered {
        id,
        code: "TEA".into(),
        details: details.clone(),
    };
    given::<Supplier>(vec![])
        .when(supplier::Command::Register {
            id,
            code: " TEA ".into(),
            details: Details {
                name: " Tea Traders ".into(),
                ..details.clone()
            },
        })
        .then(vec![registered.clone()]);
    given::<Supplier>(vec![registered.clone()])
        .when(supplier::Command::Change {
            name: Some("Tea Traders".into()),
            email: None,
            phone: None,
            lead_time_days: None,
        })
        .then(vec![]);
    given::<Supplier>(vec![registered.clone()])
        .when(supplier::Command::Change {
            name: None,
            email: None,
            phone: None,
            lead_time_days: Some(366),
        })
        .then_error(supplier::SupplierError::Invalid {
            field: "lead_time_days",
            message: "a lead time is 0 to 365 days".into(),
        });
    let pay = |amount: &str| {
        given::<Supplier>(vec![registered.clone()])
            .when(supplier::Command::Pay {
                payment_id: "P".into(),
                amount: d(amount),
                method: PaymentMethod::Bank,
                reference: None,
            })
            .outcome()
    };
    assert!(pay("0").is_err());
    assert!(pay("10000000000.01").is_err());
    assert_eq!(pay("120.50").unwrap().len(), 1);
}

#[test]
fn the_fold_keeps_received_and_invoiced_per_line() {
    let state = PurchaseOrder::fold(&[
        drafted(),
        Event::PurchaseOrderSubmitted,
        receipt(&[(1, "6", "A")], Status::PartiallyReceived),
    ]);
    assert_eq!(state.lines[0].received, d("6"));
    assert_eq!(state.open(&state.lines[0]), d("4"));
    assert_eq!(state.total(), Some(d("40.00")));
    assert_eq!(state.status, Status::PartiallyReceived);
}

#[test]
fn a_received_order_refuses_more_as_a_quantity_and_an_invoice_number_is_used_once() {
    let received = vec![
        drafted(),
        Event::PurchaseOrderSubmitted,
        receipt(&[(1, "10", "A"), (2, "4", "B")], Status::Received),
    ];
    let more = given::<PurchaseOrder>(received.clone())
        .when(receive(&[(1, "1")]))
        .outcome()
        .unwrap_err();
    assert_eq!(field_of(more), "lines[0].quantity");
    let first = given::<PurchaseOrder>(received.clone())
        .when(invoice(&[(1, "10", "2.00")]))
        .outcome()
        .unwrap();
    let mut history = received;
    history.extend(first);
    given::<PurchaseOrder>(history)
        .when(invoice(&[(2, "4", "5.00")]))
        .then_error(PurchaseError::DuplicateInvoice);
    // Nothing received: invoicing anything is a quantity refused, not a status.
    let none = given::<PurchaseOrder>(vec![drafted()])
        .when(invoice(&[(1, "1", "2.00")]))
        .outcome()
        .unwrap_err();
    assert_eq!(field_of(none), "lines[0].quantity");
}

#[test]
fn the_received_value_is_each_line_rounded_as_its_receipt_was_booked() {
    let order = Event::PurchaseOrderDrafted {
        id: id(),
        number: "PO-000002".into(),
        supplier_id: "S".into(),
        location_id: "L".into(),
        expected_at: None,
        lines: vec![NewLine {
            product_id: "A".into(),
            quantity: d("1000"),
            unit_cost: d("0.125"),
        }],
        at: at(),
    };
    let delivered = Event::PurchaseOrderReceived {
        receipt_id: "R".into(),
        reference: None,
        lines: vec![ReceivedLine {
            line_no: 1,
            product_id: "A".into(),
            quantity: d("1000"),
            unit_cost: d("0.125"),
        }],
        status: Status::Received,
        at: at(),
    };
    let events = given::<PurchaseOrder>(vec![order, Event::PurchaseOrderSubmitted, delivered])
        .when(invoice(&[(1, "1000", "0.125")]))
        .outcome()
        .unwrap();
    let Event::PurchaseInvoiceRecorded {
        received_value,
        total,
        status,
        ..
    } = &events[0]
    else {
        panic!("{events:?}");
    };
    // 1,000 × 0.125 = 125.00, as the receipt's movement was booked.
    assert_eq!((*received_value, *total), (d("125.00"), d("125.00")));
    assert_eq!(*status, MatchStatus::Matched);
}
