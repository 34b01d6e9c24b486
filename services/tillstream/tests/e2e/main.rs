//! End to end through `tillstream up`: the bootstrap admin sets up a store, a cashier rings
//! up a split-tender sale over HTTP, and stock, the ledger and the sale's ledger status all
//! follow. Every figure is computed by hand from the contract's pricing rules.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod api;
mod auth;
mod batches;
mod bounds;
mod bounds_values;
mod browser;
mod catalog;
mod customers;
mod customers_refusals;
mod docs;
mod grpc;
mod imports;
mod ledger;
mod metrics;
mod poison;
mod projection;
mod purchasing;
mod purchasing_crash;
mod read_url;
mod registers;
mod repairs;
mod repairs_refusals;
mod replicas;
mod returns;
mod sales;
mod seed;
mod stock;
mod stored_value_crash;
mod system;
mod till_controls;
mod webhooks;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tillstream_test_support::eventually;

use crate::api::Api;
use crate::system::{System, alive};

#[tokio::test]
async fn a_sale_rung_up_over_http_moves_stock_and_posts_a_balanced_entry() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;

    let cashier = api
        .create(
            "/api/v1/users",
            &admin,
            &json!({"username": "carol", "password": "till-pass-123", "role": "cashier"}),
        )
        .await;
    assert_eq!(cashier["role"], "cashier");
    let location = api
        .create(
            "/api/v1/locations",
            &admin,
            &json!({"code": "S12", "name": "Main Street"}),
        )
        .await;
    let location_id = location["id"].as_str().unwrap();
    let tea = api
        .create(
            "/api/v1/products",
            &admin,
            &json!({"sku": "TEA-100", "name": "Green tea", "price": "3.5", "tax_rate": "0.08", "barcodes": ["4006381333931"]}),
        )
        .await;
    assert_eq!(
        (&tea["price"], &tea["status"], &tea["version"]),
        (&json!("3.50"), &json!("active"), &json!(1))
    );
    let tea_id = tea["id"].as_str().unwrap();
    let coffee = api
        .create(
            "/api/v1/products",
            &admin,
            &json!({"sku": "COF-1KG", "name": "Coffee beans 1 kg", "price": "12.99", "tax_rate": "0.08"}),
        )
        .await;
    let coffee_id = coffee["id"].as_str().unwrap();
    api.receive_stock(
        &admin,
        &json!({"location_id": location_id, "supplier": "Leaf & Bean", "lines": [
            {"product_id": tea_id, "quantity": 10, "unit_cost": "1.20"},
            {"product_id": coffee_id, "quantity": "5", "unit_cost": "8.00"}]}),
    )
    .await;

    let till = api.login("carol", "till-pass-123").await;
    let sale_request = json!({
        "location_id": location_id,
        "lines": [
            {"product_id": tea_id, "quantity": "2"},
            {"sku": "COF-1KG", "quantity": 1, "discount": {"percent": "10"}},
            {"barcode": "4006381333931", "quantity": "1", "discount": {"amount": "0.50"}}
        ],
        "discount": {"amount": "1.00"},
        "payments": [
            {"method": "card", "amount": "10.00", "reference": "AUTH123"},
            {"method": "cash", "amount": "20.00"}
        ]
    });
    let rung_up = api
        .call(
            Method::POST,
            "/api/v1/sales",
            Some(&till),
            Some(&sale_request),
            &[("Idempotency-Key", "till-7-0001")],
        )
        .await;
    assert_eq!(rung_up.status, StatusCode::CREATED, "{}", rung_up.body);
    let sale = rung_up.body;
    assert_sale_figures(&sale);
    assert_eq!(sale["ledger_status"], "pending");
    let sale_id = sale["id"].as_str().unwrap();

    // The till retries after a timeout: the same sale, not a second one.
    let retried = api
        .call(
            Method::POST,
            "/api/v1/sales",
            Some(&till),
            Some(&sale_request),
            &[("Idempotency-Key", "till-7-0001")],
        )
        .await;
    assert_eq!(retried.body["id"], sale["id"], "{}", retried.body);

    // Stock has dropped: 10 − 2 − 1 tea, 5 − 1 coffee.
    eventually("the stock levels drop", || async {
        let levels = api
            .get(&format!("/api/v1/stock?location_id={location_id}"), &till)
            .await
            .body;
        let on_hand = |id: &str| {
            levels["data"]
                .as_array()?
                .iter()
                .find(|l| l["product_id"] == id)
                .map(|l| l["on_hand"].clone())
        };
        (on_hand(tea_id)? == "7" && on_hand(coffee_id)? == "4").then_some(())
    })
    .await;

    // The sale's money entry, balanced, and the sale shows it as posted.
    let entry = eventually("the sale is posted", || async {
        let entries = api
            .get(
                &format!("/api/v1/ledger/entries?source_id={sale_id}"),
                &admin,
            )
            .await
            .body;
        entries["data"].as_array()?.first().cloned()
    })
    .await;
    assert_eq!(
        lines_of(&entry),
        vec![
            ("1000".into(), "12.34".into(), "0.00".into()),
            ("1010".into(), "10.00".into(), "0.00".into()),
            ("2100".into(), "0.00".into(), "1.65".into()),
            ("4000".into(), "0.00".into(), "20.69".into()),
        ]
    );
    let posted = eventually("the sale shows ledger_status posted", || async {
        let sale = api
            .get(&format!("/api/v1/sales/{sale_id}"), &till)
            .await
            .body;
        (sale["ledger_status"] == "posted").then_some(sale)
    })
    .await;
    assert_eq!(posted["ledger_entry_ids"], json!([entry["id"]]));
    let by_number = api
        .get(
            &format!("/api/v1/sales/{}", sale["sale_number"].as_str().unwrap()),
            &till,
        )
        .await;
    assert_eq!(by_number.body["id"], sale["id"]);

    // With the cost side posted too, the books balance: receipts 12.00 + 40.00 against
    // payables, cost of goods 3 × 1.20 + 8.00.
    let balance = eventually("the cost of goods is posted", || async {
        let balance = api.get("/api/v1/ledger/trial-balance", &admin).await.body;
        (account(&balance, "5000")? == "11.60").then_some(balance)
    })
    .await;
    assert_eq!(balance["total_debits"], balance["total_credits"]);
    for (code, expected) in [
        ("1000", "12.34"),
        ("1010", "10.00"),
        ("1200", "40.40"),
        ("2000", "-52.00"),
        ("2100", "-1.65"),
        ("4000", "-20.69"),
        ("5000", "11.60"),
    ] {
        assert_eq!(
            account(&balance, code).as_deref(),
            Some(expected),
            "account {code}"
        );
    }

    system.stop().await;
}

/// The contract's pricing rules by hand. Lines b = 7.00, 11.69 (12.99 − 10 % = 1.30),
/// 3.00 (3.50 − 0.50); B = 21.69. The 1.00 sale discount in cents: ⌊100·700/2169⌋ = 32
/// (rem 592), ⌊100·1169/2169⌋ = 53 (rem 1943), ⌊100·300/2169⌋ = 13 (rem 1803); the two
/// cents left go to lines 2 and 3: shares 0.32, 0.54, 0.14.
fn assert_sale_figures(sale: &Value) {
    let expected = [
        // quantity, unit price, gross, discount, net, tax, line total
        ["2", "3.50", "7.00", "0.32", "6.68", "0.53", "7.21"],
        ["1", "12.99", "12.99", "1.84", "11.15", "0.89", "12.04"],
        ["1", "3.50", "3.50", "0.64", "2.86", "0.23", "3.09"],
    ];
    let lines = sale["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    for (line, want) in lines.iter().zip(expected) {
        let got = [
            "quantity",
            "unit_price",
            "gross",
            "discount",
            "net",
            "tax",
            "line_total",
        ]
        .map(|field| line[field].as_str().unwrap().to_owned());
        assert_eq!(got, want.map(str::to_owned), "line {}", line["line_no"]);
    }
    for (field, want) in [
        ("subtotal", "23.49"),
        ("discount_total", "2.80"),
        ("tax_total", "1.65"),
        ("total", "22.34"),
        ("change", "7.66"),
        ("status", "completed"),
    ] {
        assert_eq!(sale[field], want, "{field}");
    }
    assert_eq!(sale["payments"][0]["reference"], "AUTH123");
    assert!(
        sale["sale_number"].as_str().unwrap().starts_with("S12-"),
        "{}",
        sale["sale_number"]
    );
}

fn lines_of(entry: &Value) -> Vec<(String, String, String)> {
    let mut lines: Vec<_> = entry["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let text = |f: &str| l[f].as_str().unwrap().to_owned();
            (text("account"), text("debit"), text("credit"))
        })
        .collect();
    lines.sort();
    lines
}

fn account(balance: &Value, code: &str) -> Option<String> {
    balance["accounts"]
        .as_array()?
        .iter()
        .find(|a| a["code"] == code)
        .and_then(|a| a["balance"].as_str())
        .map(str::to_owned)
}

#[tokio::test]
async fn clients_get_json_errors_and_up_restarts_a_process_that_dies() {
    let mut system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;

    let no_token = api
        .call(Method::GET, "/api/v1/locations", None, None, &[])
        .await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_token.body["error"]["code"], "unauthenticated");
    assert_eq!(
        no_token.body["error"]["trace_id"].as_str(),
        no_token.trace_id.as_deref(),
        "the body and the header carry the same trace id"
    );
    let bad = api
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(&json!({"username": "admin", "password": "nope"})),
            &[],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);

    let number = api
        .post(
            "/api/v1/products",
            &admin,
            &json!({"sku": "X", "name": "X", "price": 12.5, "tax_rate": "0.08"}),
        )
        .await;
    assert_eq!(number.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(number.body["error"]["details"][0]["field"], "price");
    let cents = api
        .post(
            "/api/v1/products",
            &admin,
            &json!({"sku": "X", "name": "X", "price": "12.505", "tax_rate": "0.08"}),
        )
        .await;
    assert_eq!(
        cents.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        cents.body
    );
    assert_eq!(cents.body["error"]["details"][0]["field"], "price");
    let malformed = api
        .call(
            Method::POST,
            "/api/v1/locations",
            Some(&admin),
            None,
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let unknown = api.get("/api/v1/nowhere", &admin).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["error"]["code"], "not_found");
    let wrong_method = api
        .call(Method::DELETE, "/api/v1/sales", Some(&admin), None, &[])
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    let missing = api
        .get("/api/v1/sales/01JD0000000000000000000000", &admin)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    api.create(
        "/api/v1/users",
        &admin,
        &json!({"username": "dave", "password": "till-pass-456", "role": "cashier"}),
    )
    .await;
    let till = api.login("dave", "till-pass-456").await;
    // The role is checked before the body: a cashier gets 403 even for a bad body.
    let forbidden = api.post("/api/v1/products", &till, &json!({})).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let me = api.get("/api/v1/auth/me", &till).await;
    assert_eq!(
        (&me.body["username"], &me.body["role"]),
        (&json!("dave"), &json!("cashier"))
    );

    // kill -9 the ledger: `up` starts it again and the system becomes ready again.
    let ledger = system.pids["ledger"];
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(ledger),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let restarted = system.wait_for_line("started ledger").await;
    assert_ne!(system::pid_in(&restarted), ledger);
    eventually("the gateway is ready again", || async {
        let ready = api.call(Method::GET, "/readyz", None, None, &[]).await;
        (ready.status == StatusCode::OK).then_some(())
    })
    .await;

    let pids: Vec<i32> = system.pids.values().copied().collect();
    system.stop().await;
    // Every child stopped with it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for pid in pids {
        assert!(!alive(pid), "process {pid} outlived `up`");
    }
}
