//! Deliveries against an order while inventory (which owns purchasing) is killed with
//! SIGKILL: every delivery either happened whole (its receipt, its stock and its books) or
//! not at all, and a delivery retried with its key is booked once.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api::Api;
use crate::system::System;

/// Enough lines that a delivery's transaction takes a while: the kill lands inside it.
const LINES: usize = 150;
const DELIVERIES: usize = 6;
const KILLED_AT: [usize; 2] = [2, 4];

#[tokio::test]
async fn a_killed_inventory_leaves_no_receipt_without_its_stock_and_no_stock_twice() {
    // A back office creating 150 products at once is faster than a user's rate limit.
    let mut system = System::up_with_env(
        &[],
        &[
            ("TILLSTREAM_RATE_LIMIT_USER_RPS", "0"),
            ("TILLSTREAM_RATE_LIMIT_ADDR_RPS", "0"),
        ],
    )
    .await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let location = api.create_location(&admin, "K1").await;
    let mut products = Vec::new();
    for n in 0..LINES {
        products.push(
            api.create_product(&admin, &format!("KP-{n}"), "3.00", "0")
                .await,
        );
    }
    let supplier = api
        .create(
            "/api/v1/suppliers",
            &admin,
            &json!({"code": "K", "name": "Killer Supplies"}),
        )
        .await;
    let lines: Vec<_> = products
        .iter()
        .map(|p| json!({"product_id": p, "quantity": DELIVERIES.to_string(), "unit_cost": "1.25"}))
        .collect();
    let order = api
        .create(
            "/api/v1/purchase-orders",
            &admin,
            &json!({"supplier_id": supplier["id"], "location_id": location, "lines": lines}),
        )
        .await;
    let id = order["id"].as_str().unwrap().to_owned();
    let number = order["number"].as_str().unwrap().to_owned();
    let submitted = api
        .post(
            &format!("/api/v1/purchase-orders/{id}/submit"),
            &admin,
            &json!({}),
        )
        .await;
    assert_eq!(submitted.status, StatusCode::OK, "{}", submitted.body);

    // Each delivery brings one of every line; its key is retried until it is answered.
    let one_of_each: Vec<_> = (1..=LINES)
        .map(|n| json!({"line_no": n, "quantity": "1"}))
        .collect();
    let body = json!({"lines": one_of_each});
    let mut receipts = Vec::new();
    for delivery in 0..DELIVERIES {
        // Killed while the delivery is on its way: it commits or it does not.
        if KILLED_AT.contains(&delivery) {
            let pid = system.pids["inventory"];
            let wait = Duration::from_millis(10 * delivery as u64);
            tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                )
                .unwrap();
            });
        }
        let key = format!("kill-{delivery}");
        let started = std::time::Instant::now();
        let mut attempts = 0;
        loop {
            let answer = api
                .call(
                    Method::POST,
                    &format!("/api/v1/purchase-orders/{id}/receipts"),
                    Some(&admin),
                    Some(&body),
                    &[("Idempotency-Key", &key)],
                )
                .await;
            if answer.status == StatusCode::CREATED {
                receipts.push(answer.body["id"].as_str().unwrap().to_owned());
                eprintln!(
                    "delivery {delivery}: received after {attempts} failed attempts in {:?}",
                    started.elapsed()
                );
                break;
            }
            attempts += 1;
            assert!(
                attempts < 200 && answer.status.is_server_error(),
                "delivery {delivery}: {} {}",
                answer.status,
                answer.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if KILLED_AT.contains(&delivery) {
            system.wait_for_line("started inventory ").await;
        }
    }
    receipts.dedup();
    assert_eq!(receipts.len(), DELIVERIES, "one receipt per delivery");

    let got = api
        .get(&format!("/api/v1/purchase-orders/{id}"), &admin)
        .await;
    assert_eq!(got.body["status"], "received", "{}", got.body);
    assert_eq!(
        got.body["receipts"].as_array().unwrap().len(),
        DELIVERIES,
        "{}",
        got.body
    );
    for product in &products {
        let stock = api
            .get(
                &format!("/api/v1/stock?product_id={product}&location_id={location}"),
                &admin,
            )
            .await;
        assert_eq!(
            stock.body["data"][0]["on_hand"],
            DELIVERIES.to_string(),
            "{}",
            stock.body
        );
        let movements = api
            .get(
                &format!("/api/v1/stock/movements?product_id={product}&location_id={location}"),
                &admin,
            )
            .await;
        let all = movements.body["data"].as_array().unwrap();
        assert_eq!(all.len(), DELIVERIES, "{}", movements.body);
        assert!(all.iter().all(|m| m["reference"] == number.as_str()));
    }
    // The books: every unit once, at the order's cost, owed as received not invoiced.
    let expected = format!("-{:.2}", 1.25 * (LINES * DELIVERIES) as f64);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let accounts = api.get("/api/v1/ledger/accounts", &admin).await;
        let grni = accounts
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == "2050")
            .map(|a| a["balance"].as_str().unwrap().to_owned());
        if grni.as_deref() == Some(expected.as_str()) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "2050 is {grni:?}, want {expected}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
