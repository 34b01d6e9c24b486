//! Repairs end to end through the gateway: a device from intake to collection with its part
//! taken from stock at once and its cost moving 1200 → 1250 → 5000, a cancellation that
//! puts the parts back at the cost they left with, every illegal move refused, and a
//! collection while the ledger is stopped that posts once when it returns.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api::{Answer, Api, refused};
use crate::customers::shop;
use crate::purchasing::{books_show, on_hand};
use crate::system::System;

/// A customer and a part in stock: `quantity` received at `unit_cost`, priced at 10.00.
pub(crate) struct Bench {
    pub admin: String,
    pub location: String,
    pub customer: String,
    pub part: String,
}

pub(crate) async fn bench(system: &System, api: &Api, code: &str, stock: &[(&str, &str)]) -> Bench {
    let (admin, location, _) = shop(system, api, code).await;
    let customer = api
        .create(
            "/api/v1/customers",
            &admin,
            &json!({"name": "Ada Lovelace", "phone": "+1 555 0100"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let part = api
        .create_product(&admin, &format!("{code}-SCREEN"), "10.00", "0")
        .await;
    for (quantity, unit_cost) in stock {
        receive(api, &admin, &location, &part, quantity, unit_cost).await;
    }
    Bench {
        admin,
        location,
        customer,
        part,
    }
}

async fn receive(api: &Api, token: &str, location: &str, part: &str, quantity: &str, cost: &str) {
    api.receive_stock(
        token,
        &json!({"location_id": location,
                "lines": [{"product_id": part, "quantity": quantity, "unit_cost": cost}]}),
    )
    .await;
}

pub(crate) async fn open_repair(api: &Api, bench: &Bench) -> Value {
    api.create(
        "/api/v1/repairs",
        &bench.admin,
        &json!({"customer_id": bench.customer, "location_id": bench.location,
                "device": "Phone X", "serial": "SN-0001", "problem": "cracked screen",
                "estimate": "60.00"}),
    )
    .await
}

pub(crate) async fn move_to(api: &Api, token: &str, id: &str, status: &str) -> Answer {
    api.post(
        &format!("/api/v1/repairs/{id}/status"),
        token,
        &json!({"status": status, "note": format!("now {status}")}),
    )
    .await
}

pub(crate) async fn walk(api: &Api, token: &str, id: &str, path: &[&str]) {
    for status in path {
        let moved = move_to(api, token, id, status).await;
        assert_eq!(moved.status, StatusCode::OK, "{status}: {}", moved.body);
        assert_eq!(moved.body["status"], *status);
    }
}

pub(crate) async fn fit(api: &Api, token: &str, id: &str, part: &str, quantity: &str) -> Answer {
    api.post(
        &format!("/api/v1/repairs/{id}/parts"),
        token,
        &json!({"product_id": part, "quantity": quantity}),
    )
    .await
}

/// Waits until the part's level at the location is `expected`.
async fn stock_is(api: &Api, token: &str, part: &str, location: &str, expected: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let level = on_hand(api, token, part, location).await;
        if level == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "on hand {level}, want {expected}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every movement of the item, oldest first: `(kind, signed quantity, reference)`; and the
/// check that the level is their fold.
async fn movements_fold(api: &Api, token: &str, part: &str, location: &str) -> Vec<Value> {
    let listed = api
        .get(
            &format!("/api/v1/stock/movements?product_id={part}&location_id={location}&limit=200"),
            token,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let mut rows = listed.body["data"].as_array().unwrap().clone();
    rows.reverse();
    let fold: rust_decimal::Decimal = rows
        .iter()
        .map(|m| {
            m["quantity"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    let level: rust_decimal::Decimal = on_hand(api, token, part, location).await.parse().unwrap();
    assert_eq!(fold, level, "stock is the fold of its movements: {rows:?}");
    rows
}

pub(crate) fn conflict(answer: &Answer, code: &str) {
    refused(answer, StatusCode::CONFLICT, None);
    assert_eq!(answer.body["error"]["code"], code, "{}", answer.body);
}

#[tokio::test]
async fn a_repair_from_intake_to_collection_takes_its_part_once_and_moves_its_cost_to_5000() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let bench = bench(&system, &api, "RP1", &[("5", "4.00")]).await;
    let admin = &bench.admin;

    let repair = open_repair(&api, &bench).await;
    let id = repair["id"].as_str().unwrap().to_owned();
    let number = repair["number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("R-RP1-"), "{repair}");
    assert_eq!(repair["status"], "received");
    assert_eq!(repair["estimate"], "60.00");
    assert_eq!(repair["parts"], json!([]));
    assert_eq!(repair["history"].as_array().unwrap().len(), 1, "{repair}");
    assert!(
        repair["history"][0]["by"]
            .as_str()
            .is_some_and(|by| !by.is_empty())
    );

    walk(&api, admin, &id, &["diagnosed", "in_repair"]).await;
    // The part leaves stock at once: a `repair` movement whose reference is the number.
    let fitted = fit(&api, admin, &id, &bench.part, "2").await;
    assert_eq!(fitted.status, StatusCode::CREATED, "{}", fitted.body);
    assert_eq!(fitted.body["parts"][0]["quantity"], "2", "{}", fitted.body);
    stock_is(&api, admin, &bench.part, &bench.location, "3").await;
    let moves = movements_fold(&api, admin, &bench.part, &bench.location).await;
    let last = moves.last().unwrap();
    assert_eq!(
        (&last["kind"], &last["reference"]),
        (&json!("repair"), &json!(number)),
        "{moves:?}"
    );
    books_show(&system, &api, admin, &[("1200", "12.00"), ("1250", "8.00")]).await;

    // By its number, as the workshop reads it off the ticket.
    let labor = api
        .post(
            &format!("/api/v1/repairs/{number}/labor"),
            admin,
            &json!({"description": "Fit screen", "amount": "45.00"}),
        )
        .await;
    assert_eq!(labor.status, StatusCode::CREATED, "{}", labor.body);
    assert_eq!(labor.body["id"], id.as_str());
    assert_eq!(labor.body["labor"][0]["amount"], "45.00");

    // Not ready yet: neither collected by status nor by collection.
    conflict(
        &move_to(&api, admin, &id, "collected").await,
        "invalid_transition",
    );
    let early = api
        .post(
            &format!("/api/v1/repairs/{id}/collect"),
            admin,
            &json!({"payments": [{"method": "cash", "amount": "65.00"}]}),
        )
        .await;
    conflict(&early, "invalid_transition");

    // awaiting_parts ⇄ in_repair, then ready.
    walk(&api, admin, &id, &["awaiting_parts", "in_repair", "ready"]).await;
    // Collected by status without payments: the sale asks for them, nothing is written.
    let unpaid = move_to(&api, admin, &id, "collected").await;
    refused(&unpaid, StatusCode::UNPROCESSABLE_ENTITY, Some("payments"));

    let collected = api
        .post(
            &format!("/api/v1/repairs/{id}/collect"),
            admin,
            &json!({"payments": [{"method": "cash", "amount": "70.00"}]}),
        )
        .await;
    assert_eq!(collected.status, StatusCode::OK, "{}", collected.body);
    let sale = &collected.body["sale"];
    assert_eq!(collected.body["repair"]["status"], "collected");
    assert_eq!(collected.body["repair"]["sale_id"], sale["id"]);
    assert_eq!(sale["total"], "65.00", "{sale}");
    assert_eq!(sale["change"], "5.00");
    assert_eq!(sale["repair_id"], id.as_str());
    assert_eq!(sale["customer_id"], bench.customer.as_str());
    let lines = sale["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{sale}");
    assert_eq!(
        (&lines[0]["product_id"], &lines[0]["line_total"]),
        (&json!(bench.part), &json!("20.00"))
    );
    assert_eq!(
        (&lines[1]["product_id"], &lines[1]["name"], &lines[1]["tax"]),
        (&Value::Null, &json!("Fit screen"), &json!("0.00"))
    );

    // Collecting twice is refused, and so is any move after.
    let again = api
        .post(
            &format!("/api/v1/repairs/{id}/collect"),
            admin,
            &json!({"payments": [{"method": "cash", "amount": "65.00"}]}),
        )
        .await;
    conflict(&again, "invalid_transition");
    conflict(
        &move_to(&api, admin, &id, "cancelled").await,
        "invalid_transition",
    );
    conflict(
        &fit(&api, admin, &id, &bench.part, "1").await,
        "repair_closed",
    );

    // The parts were not taken a second time; the cost went 1250 → 5000 with the sale.
    // The shop's first sale (10.00 cash of a product without cost) is in the books too.
    books_show(
        &system,
        &api,
        admin,
        &[
            ("1000", "75.00"),
            ("4000", "-75.00"),
            ("1200", "12.00"),
            ("1250", "0.00"),
            ("5000", "8.00"),
            ("2000", "-20.00"),
        ],
    )
    .await;
    assert_eq!(
        on_hand(&api, admin, &bench.part, &bench.location).await,
        "3"
    );
    let moves = movements_fold(&api, admin, &bench.part, &bench.location).await;
    assert_eq!(moves.len(), 2, "received and fitted only: {moves:?}");

    // The workshop's lists and the customer's.
    let read = api.get(&format!("/api/v1/repairs/{id}"), admin).await;
    let statuses: Vec<&str> = read.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "received",
            "diagnosed",
            "in_repair",
            "awaiting_parts",
            "in_repair",
            "ready",
            "collected"
        ]
    );
    assert_eq!(read.body["history"][1]["note"], "now diagnosed");
    let board = api
        .get(
            &format!(
                "/api/v1/repairs?status=collected&location_id={}",
                bench.location
            ),
            admin,
        )
        .await;
    assert_eq!(board.body["meta"]["total"], 1, "{}", board.body);
    assert_eq!(board.body["data"][0]["id"], id.as_str());
    let none = api.get("/api/v1/repairs?status=ready", admin).await;
    assert_eq!(none.body["meta"]["total"], 0, "{}", none.body);
    let theirs = api
        .get(
            &format!("/api/v1/customers/{}/repairs", bench.customer),
            admin,
        )
        .await;
    assert_eq!(theirs.body["meta"]["total"], 1, "{}", theirs.body);
    system.stop().await;
}

#[tokio::test]
async fn a_cancelled_repair_puts_each_part_back_at_the_cost_it_left_with() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let bench = bench(&system, &api, "RP2", &[("2", "4.00")]).await;
    let admin = &bench.admin;
    let repair = open_repair(&api, &bench).await;
    let id = repair["id"].as_str().unwrap().to_owned();
    walk(&api, admin, &id, &["diagnosed", "in_repair"]).await;
    let first = fit(&api, admin, &id, &bench.part, "1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    stock_is(&api, admin, &bench.part, &bench.location, "1").await;
    // More arrives dearer: the average moves to (1 × 4 + 2 × 7) / 3 = 6.00.
    receive(&api, admin, &bench.location, &bench.part, "2", "7.00").await;
    let second = fit(&api, admin, &id, &bench.part, "1").await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_eq!(second.body["parts"][1]["part_no"], 2);
    stock_is(&api, admin, &bench.part, &bench.location, "2").await;
    books_show(
        &system,
        &api,
        admin,
        &[("1250", "10.00"), ("1200", "12.00")],
    )
    .await;

    let cancelled = move_to(&api, admin, &id, "cancelled").await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    stock_is(&api, admin, &bench.part, &bench.location, "4").await;
    books_show(
        &system,
        &api,
        admin,
        &[("1250", "0.00"), ("1200", "22.00"), ("2000", "-22.00")],
    )
    .await;
    let moves = movements_fold(&api, admin, &bench.part, &bench.location).await;
    let returned: Vec<(&Value, &Value)> = moves
        .iter()
        .filter(|m| m["kind"] == "repair" && !m["quantity"].as_str().unwrap().starts_with('-'))
        .map(|m| (&m["quantity"], &m["unit_cost"]))
        .collect();
    assert_eq!(returned.len(), 2, "{moves:?}");

    // A cancelled repair takes nothing more and goes nowhere.
    conflict(
        &fit(&api, admin, &id, &bench.part, "1").await,
        "repair_closed",
    );
    let labor = api
        .post(
            &format!("/api/v1/repairs/{id}/labor"),
            admin,
            &json!({"description": "x", "amount": "1.00"}),
        )
        .await;
    conflict(&labor, "repair_closed");
    for status in [
        "received",
        "diagnosed",
        "in_repair",
        "ready",
        "collected",
        "cancelled",
    ] {
        conflict(
            &move_to(&api, admin, &id, status).await,
            "invalid_transition",
        );
    }
    system.stop().await;
}

#[tokio::test]
async fn a_repair_collected_twice_at_once_while_the_ledger_is_stopped_posts_once_when_it_returns() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let system = System::up().await;
    let api = Api::new(&system.url);
    let bench = bench(&system, &api, "RP4", &[("3", "5.00")]).await;
    let admin = &bench.admin;
    let id = open_repair(&api, &bench).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    walk(&api, admin, &id, &["diagnosed", "in_repair"]).await;
    let fitted = fit(&api, admin, &id, &bench.part, "1").await;
    assert_eq!(fitted.status, StatusCode::CREATED, "{}", fitted.body);
    walk(&api, admin, &id, &["ready"]).await;
    books_show(&system, &api, admin, &[("1250", "5.00")]).await;

    let ledger = Pid::from_raw(system.pids["ledger"]);
    kill(ledger, Signal::SIGSTOP).unwrap();
    // Two tills collect it at the same moment: one sale, and a 409 for the other.
    let path = format!("/api/v1/repairs/{id}/collect");
    let body = json!({"payments": [{"method": "card", "amount": "10.00"}]});
    let (first, second) =
        tokio::join!(api.post(&path, admin, &body), api.post(&path, admin, &body));
    // Nothing posted while it is stopped; then it comes back.
    tokio::time::sleep(Duration::from_secs(2)).await;
    kill(ledger, Signal::SIGCONT).unwrap();
    let (collected, lost) = if first.status == StatusCode::OK {
        (first, second)
    } else {
        (second, first)
    };
    assert_eq!(collected.status, StatusCode::OK, "{}", collected.body);
    conflict(&lost, "invalid_transition");
    let sale_id = collected.body["sale"]["id"].as_str().unwrap().to_owned();

    books_show(
        &system,
        &api,
        admin,
        &[
            ("1010", "10.00"),
            ("1250", "0.00"),
            ("5000", "5.00"),
            ("1200", "10.00"),
        ],
    )
    .await;
    for source in [&sale_id, &id] {
        let entries = api
            .get(&format!("/api/v1/ledger/entries?source_id={source}"), admin)
            .await;
        assert_eq!(
            entries.body["meta"]["total"], 1,
            "{source}: {}",
            entries.body
        );
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let sale = api.get(&format!("/api/v1/sales/{sale_id}"), admin).await;
        if sale.body["ledger_status"] == "posted" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{}", sale.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    system.stop().await;
}
