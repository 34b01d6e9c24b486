//! Stock items given/when/then, and the level as the fold of random movements.

use proptest::prelude::*;
use rust_decimal::Decimal;
use tillstream_kernel::{Decider, Quantity, given};

use super::stock_item::{Command, Event, RepairRef, StockError, StockItem};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn q(s: &str) -> Quantity {
    s.parse().unwrap()
}

fn received(q: &str, c: &str) -> Event {
    Event::StockReceived {
        quantity: d(q),
        unit_cost: d(c),
        purchase_order_id: None,
    }
}

#[test]
fn receipts_move_the_weighted_average_cost() {
    let state = StockItem::fold(&[received("10", "2.00"), received("5", "3.50")]);
    // (10 × 2.00 + 5 × 3.50) / 15 = 2.5
    assert_eq!(state.avg_cost, d("2.5"));
    assert_eq!(state.on_hand, d("15"));
    let third = StockItem::fold(&[received("3", "1.00"), received("0.5", "1.01")]);
    // 3.505 / 3.5 = 1.0014285… → 1.0014
    assert_eq!(third.avg_cost, d("1.0014"));
}

fn repair() -> RepairRef {
    RepairRef {
        repair_id: "r1".into(),
        repair_number: "R-MAIN-000001".into(),
    }
}

#[test]
fn a_part_fitted_leaves_at_the_average_and_comes_back_at_the_cost_it_left_with() {
    given::<StockItem>(vec![received("2", "4.00"), received("2", "8.00")])
        .when(Command::FitToRepair {
            quantity: q("1"),
            repair: repair(),
        })
        .then(vec![Event::StockFittedToRepair {
            quantity: d("1"),
            unit_cost: d("6"),
            repair: repair(),
        }]);
    let fitted = Event::StockFittedToRepair {
        quantity: d("1"),
        unit_cost: d("6"),
        repair: repair(),
    };
    // More arrives dearer; the part still comes back at 6, and the average does not move.
    let history = vec![received("2", "4.00"), fitted, received("3", "10.00")];
    given::<StockItem>(history.clone())
        .when(Command::ReturnFromRepair {
            quantity: q("1"),
            unit_cost: d("6"),
            repair: repair(),
        })
        .then(vec![Event::StockReturnedFromRepair {
            quantity: d("1"),
            unit_cost: d("6"),
            repair: repair(),
        }]);
    let state = StockItem::fold(&history);
    assert_eq!(state.on_hand, d("4"));
    // As stored: the repair's fields beside the movement's.
    let stored = serde_json::to_value(&history[1]).unwrap();
    assert_eq!(stored["repair_number"], "R-MAIN-000001");
    assert_eq!(serde_json::from_value::<Event>(stored).unwrap(), history[1]);
    assert_eq!(
        Event::StockFittedToRepair {
            quantity: d("1"),
            unit_cost: d("6"),
            repair: repair()
        }
        .movement_kind(),
        Some("repair")
    );
    given::<StockItem>(vec![])
        .when(Command::FitToRepair {
            quantity: q("0"),
            repair: repair(),
        })
        .then_error(StockError::QuantityNotPositive);
}

#[test]
fn a_receipt_that_would_take_the_level_past_its_range_is_refused() {
    given::<StockItem>(vec![received("999999999999", "2.00")])
        .when(Command::Receive {
            quantity: q("2"),
            unit_cost: d("2.00"),
            purchase_order_id: None,
        })
        .then_error(StockError::LevelOutOfRange);
    given::<StockItem>(vec![received("999999999999", "2.00")])
        .when(Command::Receive {
            quantity: q("1"),
            unit_cost: d("2.00"),
            purchase_order_id: None,
        })
        .then(vec![received("1", "2.00")]);
}

#[test]
fn a_stored_movement_that_overflows_marks_the_item_and_refuses_commands_without_a_panic() {
    let huge = Decimal::MAX;
    let poisoned = StockItem::fold(&[received("3", "2.00"), received(&huge.to_string(), "7")]);
    assert!(poisoned.out_of_range);
    let history = vec![
        received("3", "2.00"),
        received(&huge.to_string(), &huge.to_string()),
        received("1", "2.00"),
    ];
    assert!(StockItem::fold(&history).out_of_range);
    given::<StockItem>(history)
        .when(Command::Sell { quantity: q("1") })
        .then_error(StockError::StoredOutOfRange);
}

#[test]
fn a_sale_records_the_unit_cost_at_that_moment() {
    given::<StockItem>(vec![received("10", "2.00"), received("10", "3.00")])
        .when(Command::Sell { quantity: q("3") })
        .then(vec![Event::StockSold {
            quantity: d("3"),
            unit_cost: d("2.5"),
        }]);
}

#[test]
fn selling_below_zero_is_recorded_with_an_alert_not_refused() {
    given::<StockItem>(vec![received("1", "2.00")])
        .when(Command::Sell { quantity: q("3") })
        .then(vec![
            Event::StockSold {
                quantity: d("3"),
                unit_cost: d("2.00"),
            },
            Event::StockWentNegative { on_hand: d("-2") },
        ]);
    // Already negative: no second alert.
    given::<StockItem>(vec![
        received("1", "2.00"),
        Event::StockSold {
            quantity: d("3"),
            unit_cost: d("2"),
        },
    ])
    .when(Command::Sell { quantity: q("1") })
    .then(vec![Event::StockSold {
        quantity: d("1"),
        unit_cost: d("2.00"),
    }]);
}

#[test]
fn crossing_the_reorder_point_raises_low_stock_once() {
    let history = vec![
        Event::ReorderPointChanged {
            reorder_point: Some(d("5")),
        },
        received("6", "1"),
    ];
    given::<StockItem>(history.clone())
        .when(Command::Sell { quantity: q("1") })
        .then(vec![
            Event::StockSold {
                quantity: d("1"),
                unit_cost: d("1"),
            },
            Event::LowStock {
                on_hand: d("5"),
                reorder_point: d("5"),
            },
        ]);
    let mut below = history;
    below.push(Event::StockSold {
        quantity: d("2"),
        unit_cost: d("1"),
    });
    given::<StockItem>(below)
        .when(Command::Sell { quantity: q("1") })
        .then(vec![Event::StockSold {
            quantity: d("1"),
            unit_cost: d("1"),
        }]);
}

#[test]
fn a_count_applies_to_the_level_at_its_moment_so_concurrent_sales_are_kept() {
    // The counter saw 10 on the shelf and counted 8; meanwhile a sale of 1 was rung up.
    let history = vec![
        received("10", "1"),
        Event::StockSold {
            quantity: d("1"),
            unit_cost: d("1"),
        },
    ];
    let events = given::<StockItem>(history.clone())
        .when(Command::Count {
            counted: q("8"),
            expected: d("10"),
        })
        .outcome()
        .unwrap();
    assert_eq!(
        events,
        vec![Event::StockCounted {
            counted: d("8"),
            delta: d("-2"),
            unit_cost: d("1")
        }]
    );
    let mut all = history;
    all.extend(events);
    assert_eq!(
        StockItem::fold(&all).on_hand,
        d("7"),
        "the count's loss of 2 and the sale of 1"
    );
}

#[test]
fn bad_movements_are_refused_with_the_field() {
    let refuse = |command| {
        given::<StockItem>(vec![])
            .when(command)
            .outcome()
            .unwrap_err()
    };
    assert_eq!(
        refuse(Command::Receive {
            quantity: q("0"),
            unit_cost: d("1"),
            purchase_order_id: None,
        })
        .field(),
        "quantity"
    );
    assert_eq!(
        refuse(Command::Receive {
            quantity: q("1"),
            unit_cost: d("-1"),
            purchase_order_id: None,
        })
        .field(),
        "unit_cost"
    );
    assert_eq!(
        refuse(Command::Sell { quantity: q("-1") }),
        StockError::QuantityNotPositive
    );
    assert_eq!(
        refuse(Command::Adjust {
            delta: q("0"),
            reason: String::new()
        })
        .field(),
        "delta"
    );
    assert_eq!(
        refuse(Command::Count {
            counted: q("-1"),
            expected: d("0")
        })
        .field(),
        "counted"
    );
}

fn arb_command() -> impl Strategy<Value = Command> {
    let qty = (1i64..10_000).prop_map(|m| Quantity::new(Decimal::new(m, 3)).unwrap());
    let cost = (0i64..100_000).prop_map(|c| Decimal::new(c, 2));
    prop_oneof![
        (qty.clone(), cost.clone()).prop_map(|(quantity, unit_cost)| Command::Receive {
            quantity,
            unit_cost,
            purchase_order_id: None,
        }),
        qty.clone().prop_map(|quantity| Command::Sell { quantity }),
        (qty.clone(), cost.clone()).prop_map(|(quantity, unit_cost)| Command::Restock {
            quantity,
            unit_cost
        }),
        (qty.clone(), cost.clone()).prop_map(|(quantity, unit_cost)| Command::ReverseSale {
            quantity,
            unit_cost
        }),
        (-5_000i64..5_000)
            .prop_filter("non-zero", |n| *n != 0)
            .prop_map(|n| Command::Adjust {
                delta: Quantity::new(Decimal::new(n, 3)).unwrap(),
                reason: "found".into(),
            }),
        qty.clone()
            .prop_map(|quantity| Command::TransferOut { quantity }),
        (qty, cost).prop_map(|(quantity, unit_cost)| Command::TransferIn {
            quantity,
            unit_cost
        }),
        (0i64..50).prop_map(|n| Command::SetReorderPoint {
            reorder_point: Some(Decimal::from(n))
        }),
    ]
}

proptest! {
    #[test]
    fn the_level_is_the_fold_of_the_movements(commands in prop::collection::vec(arb_command(), 1..80)) {
        let mut history: Vec<Event> = Vec::new();
        let (mut received, mut sold, mut returned, mut adjusted, mut transferred) =
            (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for command in &commands {
            let state = StockItem::fold(&history);
            let events = StockItem::decide(&state, command).unwrap();
            for event in &events {
                match event {
                    Event::StockReceived { quantity, .. } => received += quantity,
                    Event::StockSold { quantity, unit_cost } => {
                        sold += quantity;
                        prop_assert_eq!(*unit_cost, state.avg_cost, "sold at the average cost");
                    }
                    Event::StockReturned { quantity, .. } | Event::StockVoidReversed { quantity, .. } => returned += quantity,
                    Event::StockAdjusted { delta, .. } | Event::StockCounted { delta, .. } => adjusted += delta,
                    Event::StockTransferredOut { quantity, .. } => transferred -= quantity,
                    Event::StockTransferredIn { quantity, .. } => transferred += quantity,
                    _ => {}
                }
            }
            history.extend(events);
        }
        let state = StockItem::fold(&history);
        prop_assert_eq!(state.on_hand, received - sold + returned + adjusted + transferred);
        prop_assert!(state.avg_cost >= Decimal::ZERO);
        prop_assert!(state.avg_cost.scale() <= 4);
    }
}
