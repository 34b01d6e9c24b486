use tillstream_kernel::{Currency, given};

use super::*;

fn usd(s: &str) -> Money {
    Money::parse(s, Currency::USD).unwrap()
}

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn intake() -> Intake {
    Intake {
        id: RepairId::generate(),
        number: "R-MAIN-000001".into(),
        customer_id: "c1".into(),
        location_id: "l1".into(),
        device: "Phone X".into(),
        serial: Some("SN1".into()),
        problem: "cracked screen".into(),
        estimate: Some(usd("80.00")),
        at: at(),
        by: "u1".into(),
    }
}

fn received() -> Event {
    Event::RepairReceived {
        repair: Box::new(intake()),
    }
}

fn moved(from: Status, to: Status) -> Event {
    Event::RepairStatusChanged {
        location_id: "l1".into(),
        number: "R-MAIN-000001".into(),
        from,
        to,
        note: None,
        at: at(),
        by: "u1".into(),
    }
}

fn move_to(to: Status) -> Command {
    Command::Move {
        to,
        note: None,
        at: at(),
        by: "u1".into(),
    }
}

fn part(part_no: u32) -> Part {
    Part {
        part_no,
        product_id: "p1".into(),
        sku: "SCR-1".into(),
        name: "Screen".into(),
        quantity: Quantity::from_units(1),
        fitted_at: at(),
        fitted_by: "u2".into(),
    }
}

fn fit() -> Command {
    Command::FitPart {
        product_id: "p1".into(),
        sku: "SCR-1".into(),
        name: "Screen".into(),
        quantity: Quantity::from_units(1),
        at: at(),
        by: "u2".into(),
    }
}

fn collect() -> Command {
    Command::Collect {
        sale_id: Some("s1".into()),
        sale_number: Some("MAIN-20261130-0001".into()),
        at: at(),
        by: "u3".into(),
    }
}

/// The events that bring a repair to `status` along the contract's path.
fn history_to(status: Status) -> Vec<Event> {
    use Status::*;
    let path: &[Status] = match status {
        Received => &[],
        Diagnosed => &[Diagnosed],
        AwaitingParts => &[Diagnosed, AwaitingParts],
        InRepair => &[Diagnosed, InRepair],
        Ready => &[Diagnosed, InRepair, Ready],
        Collected | Cancelled => &[Diagnosed, InRepair, Ready],
    };
    let mut events = vec![received()];
    let mut from = Received;
    for to in path {
        events.push(moved(from, *to));
        from = *to;
    }
    match status {
        Collected => events.extend(Repair::decide(&fold(&events), &collect()).unwrap()),
        Cancelled => events.extend(Repair::decide(&fold(&events), &move_to(Cancelled)).unwrap()),
        _ => {}
    }
    events
}

fn fold(events: &[Event]) -> Repair {
    events.iter().fold(Repair::default(), Repair::evolve)
}

#[test]
fn a_repair_is_received_with_its_texts_trimmed_and_bounded() {
    let mut messy = intake();
    messy.device = "  Phone X ".into();
    messy.serial = Some("   ".into());
    let Event::RepairReceived { repair } = &Repair::decide(
        &Repair::default(),
        &Command::Receive(Box::new(messy.clone())),
    )
    .unwrap()[0] else {
        panic!("not received")
    };
    assert_eq!(repair.device, "Phone X");
    assert_eq!(repair.serial, None);
    let field = |intake: Intake| match Repair::decide(
        &Repair::default(),
        &Command::Receive(Box::new(intake)),
    ) {
        Err(RepairError::Invalid { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(Intake {
            device: " ".into(),
            ..intake()
        }),
        "device"
    );
    assert_eq!(
        field(Intake {
            problem: "é".repeat(PROBLEM_MAX + 1),
            ..intake()
        }),
        "problem"
    );
    assert_eq!(
        field(Intake {
            serial: Some("x".repeat(SERIAL_MAX + 1)),
            ..intake()
        }),
        "serial"
    );
    assert_eq!(
        field(Intake {
            estimate: Some(usd("-1.00")),
            ..intake()
        }),
        "estimate"
    );
    given::<Repair>(vec![received()])
        .when(Command::Receive(Box::new(intake())))
        .then_error(RepairError::Exists);
}

#[test]
fn every_move_the_contract_allows_is_taken_and_every_other_is_refused() {
    use Status::*;
    let allowed = [
        (Received, Diagnosed),
        (Received, Cancelled),
        (Diagnosed, AwaitingParts),
        (Diagnosed, InRepair),
        (Diagnosed, Cancelled),
        (AwaitingParts, InRepair),
        (AwaitingParts, Cancelled),
        (InRepair, AwaitingParts),
        (InRepair, Ready),
        (InRepair, Cancelled),
        (Ready, Cancelled),
    ];
    for from in Status::ALL {
        for to in Status::ALL {
            let outcome = given::<Repair>(history_to(from))
                .when(move_to(to))
                .outcome();
            if allowed.contains(&(from, to)) {
                let events = outcome.unwrap_or_else(|e| panic!("{from:?} → {to:?}: {e}"));
                let state = fold(&[history_to(from), events].concat());
                let record = state.record.unwrap();
                assert_eq!(record.status, to);
                assert_eq!(record.history.last().unwrap().status, to);
            } else {
                assert_eq!(
                    outcome,
                    Err(RepairError::InvalidTransition { from, to }),
                    "{from:?} → {to:?}"
                );
            }
        }
    }
}

#[test]
fn parts_and_labor_are_numbered_and_only_taken_while_the_repair_is_open() {
    given::<Repair>(history_to(Status::InRepair))
        .when(fit())
        .then(vec![Event::RepairPartFitted {
            location_id: "l1".into(),
            number: "R-MAIN-000001".into(),
            part: part(1),
        }]);
    let mut events = history_to(Status::InRepair);
    events.push(Event::RepairPartFitted {
        location_id: "l1".into(),
        number: "R-MAIN-000001".into(),
        part: part(1),
    });
    let second = Repair::decide(&fold(&events), &fit()).unwrap();
    assert!(matches!(&second[0], Event::RepairPartFitted { part, .. } if part.part_no == 2));
    let labor = Repair::decide(
        &fold(&events),
        &Command::AddLabor {
            description: " Fit screen ".into(),
            amount: usd("45.00"),
            at: at(),
            by: "u2".into(),
        },
    )
    .unwrap();
    assert!(
        matches!(&labor[0], Event::RepairLaborAdded { labor, .. } if labor.labor_no == 1 && labor.description == "Fit screen")
    );
    for closed in [Status::Collected, Status::Cancelled] {
        given::<Repair>(history_to(closed))
            .when(fit())
            .then_error(RepairError::Closed(closed));
    }
    given::<Repair>(vec![])
        .when(fit())
        .then_error(RepairError::NotFound);
    let zero = Command::FitPart {
        product_id: "p1".into(),
        sku: "SCR-1".into(),
        name: "Screen".into(),
        quantity: Quantity::from_units(0),
        at: at(),
        by: "u2".into(),
    };
    assert!(matches!(
        Repair::decide(&fold(&events), &zero),
        Err(RepairError::Invalid {
            field: "quantity",
            ..
        })
    ));
    let negative = Command::AddLabor {
        description: "x".into(),
        amount: usd("-0.01"),
        at: at(),
        by: "u2".into(),
    };
    assert!(matches!(
        Repair::decide(&fold(&events), &negative),
        Err(RepairError::Invalid {
            field: "amount",
            ..
        })
    ));
}

#[test]
fn a_cancelled_repair_names_every_part_it_took_and_collection_needs_ready() {
    let mut events = history_to(Status::InRepair);
    events.push(Event::RepairPartFitted {
        location_id: "l1".into(),
        number: "R-MAIN-000001".into(),
        part: part(1),
    });
    let cancelled = Repair::decide(&fold(&events), &move_to(Status::Cancelled)).unwrap();
    assert!(
        matches!(&cancelled[0], Event::RepairCancelled { parts, .. } if parts == &vec![part(1)])
    );
    for status in [Status::Received, Status::InRepair, Status::Cancelled] {
        given::<Repair>(history_to(status))
            .when(collect())
            .then_error(RepairError::InvalidTransition {
                from: status,
                to: Status::Collected,
            });
    }
    // Collecting twice: the second finds it collected.
    given::<Repair>(history_to(Status::Collected))
        .when(collect())
        .then_error(RepairError::InvalidTransition {
            from: Status::Collected,
            to: Status::Collected,
        });
    let collected = fold(&history_to(Status::Collected)).record.unwrap();
    assert_eq!(collected.status, Status::Collected);
    assert_eq!(collected.sale_id.as_deref(), Some("s1"));
    assert_eq!(collected.history.len(), 5);
}
