//! The races a store has: sales against a close, two closes, and a crash mid-close.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tillstream_test_support::eventually;

use super::{Shop, code, created};
use crate::api::Api;
use crate::system::System;

#[tokio::test]
async fn sales_racing_a_close_are_in_its_z_or_refused_and_two_closes_make_one() {
    let system = System::up().await;
    let shop = Shop::open(&system).await;
    let session = created(&shop.open_session(&shop.cashier, "0.00").await);
    // Each request on a task of its own, so they race for real.
    let post = |path: String, body: Value| {
        let (base, token) = (system.url.clone(), shop.cashier.clone());
        tokio::spawn(async move { Api::new(&base).post(&path, &token, &body).await })
    };
    let sale = shop.sale(Some(&session), &[("card", "12.99")]);
    let close = format!("/api/v1/sessions/{session}/close");
    let mut sales = Vec::new();
    let mut closes = Vec::new();
    for i in 0..20 {
        sales.push(post("/api/v1/sales".into(), sale.clone()));
        if i == 10 || i == 11 {
            closes.push(post(close.clone(), json!({"counted_cash": "0.00"})));
        }
    }
    let mut accepted = 0u32;
    for task in sales {
        let answer = task.await.unwrap();
        if answer.status == StatusCode::CREATED {
            accepted += 1;
        } else {
            assert_eq!(
                code(&answer),
                (StatusCode::CONFLICT, "session_closed".into())
            );
        }
    }
    let mut done = Vec::new();
    for task in closes {
        let answer = task.await.unwrap();
        if answer.status == StatusCode::OK {
            done.push(answer);
        } else {
            assert_eq!(
                code(&answer),
                (StatusCode::CONFLICT, "session_closed".into())
            );
        }
    }
    assert_eq!(done.len(), 1, "one close of two");
    let z = &done[0].body["report"];
    assert_eq!(
        z["sales_count"], accepted,
        "every accepted sale is in the Z: {z}"
    );
    let taken = rust_decimal::Decimal::new(1299, 2) * rust_decimal::Decimal::from(accepted);
    assert_eq!(z["total"], json!(format!("{taken:.2}")));
    system.stop().await;
}

#[tokio::test]
async fn a_close_killed_midway_leaves_the_session_open_or_closed_and_the_journal_whole() {
    let mut system = System::up().await;
    let shop = Shop::open(&system).await;
    let api = &shop.api;
    let session = created(&shop.open_session(&shop.cashier, "100.00").await);
    for _ in 0..5 {
        let sale = shop.sale(Some(&session), &[("cash", "20.00")]);
        created(&api.post("/api/v1/sales", &shop.cashier, &sale).await);
    }
    let report = api
        .get(&format!("/api/v1/sessions/{session}/report"), &shop.cashier)
        .await;
    let count = json!({"counted_cash": report.body["expected_cash"]});
    let close = format!("/api/v1/sessions/{session}/close");

    // The close is sent and sales is killed while it is under way.
    let in_flight = {
        let (base, token, path, body) = (
            system.url.clone(),
            shop.cashier.clone(),
            close.clone(),
            count.clone(),
        );
        tokio::spawn(async move { Api::new(&base).post(&path, &token, &body).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(system.pids["sales"]),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    system.wait_for_line("started sales").await;
    let first = in_flight.await.unwrap();

    // Either it closed or nothing of it happened: then the till closes again.
    let status = eventually("sales answers again", || async {
        let found = api
            .get(&format!("/api/v1/sessions/{session}"), &shop.cashier)
            .await;
        (found.status == StatusCode::OK).then(|| found.body["status"].as_str().unwrap().to_owned())
    })
    .await;
    assert!(
        status == "closed" || first.status != StatusCode::OK,
        "a close answered 200 must have happened: {}",
        first.body
    );
    if status == "open" {
        let again = api.post(&close, &shop.cashier, &count).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    }
    let closed = api
        .get(&format!("/api/v1/sessions/{session}"), &shop.cashier)
        .await;
    assert_eq!(
        (&closed.body["status"], &closed.body["z_number"]),
        (&json!("closed"), &json!(1))
    );
    let verified = api
        .get(
            &format!("/api/v1/registers/{}/journal/verify", shop.register),
            &shop.manager,
        )
        .await;
    assert_eq!(
        (&verified.body["valid"], &verified.body["entries"]),
        (&json!(true), &json!(7)),
        "opened, five sales, one close: {}",
        verified.body
    );
    system.stop().await;
}
