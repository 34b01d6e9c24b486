//! A shift from the float to the count, every figure against hand-worked sums.

use reqwest::StatusCode;
use serde_json::json;

use super::{Shop, code, created, journal};
use crate::system::System;

#[tokio::test]
async fn a_shift_from_float_to_count_adds_up_to_the_cent_and_its_journal_verifies() {
    let system = System::up().await;
    let shop = Shop::open(&system).await;
    let api = &shop.api;

    // Registers: a manager's, one code per location whatever its case.
    let again = json!({"location_id": shop.location, "code": "t1", "name": "Again"});
    assert_eq!(
        api.post("/api/v1/registers", &shop.manager, &again)
            .await
            .status,
        StatusCode::CONFLICT
    );
    let by_cashier = api.post("/api/v1/registers", &shop.cashier, &again).await;
    assert_eq!(by_cashier.status, StatusCode::FORBIDDEN);

    // Two opens at once: one session.
    let (first, second) = tokio::join!(
        shop.open_session(&shop.cashier, "100.00"),
        shop.open_session(&shop.cashier, "100.00")
    );
    let mut answers = [first, second];
    answers.sort_by_key(|a| a.status);
    assert_eq!(
        answers[0].status,
        StatusCode::CREATED,
        "{}",
        answers[0].body
    );
    assert_eq!(
        code(&answers[1]),
        (StatusCode::CONFLICT, "session_open".into())
    );
    let session = created(&answers[0]);
    let listed = api
        .get(
            &format!("/api/v1/registers?location_id={}", shop.location),
            &shop.cashier,
        )
        .await;
    assert_eq!(listed.body["data"][0]["open_session_id"], json!(session));

    // Cash with change, a split, a sale voided, a cash return, a paid-in and a paid-out.
    let cash = api
        .post(
            "/api/v1/sales",
            &shop.cashier,
            &shop.sale(Some(&session), &[("cash", "20.00")]),
        )
        .await;
    let cash_id = created(&cash);
    assert_eq!(cash.body["register_id"], json!(shop.register));
    assert_eq!(
        cash.body["receipt_no"], 2,
        "the session's opening is entry 1"
    );
    let split = shop.sale(Some(&session), &[("card", "10.00"), ("cash", "2.99")]);
    let split_id = created(&api.post("/api/v1/sales", &shop.cashier, &split).await);
    let voided = shop.sale(Some(&session), &[("cash", "12.99")]);
    let voided_id = created(&api.post("/api/v1/sales", &shop.cashier, &voided).await);
    let void = api
        .post(
            &format!("/api/v1/sales/{voided_id}/void"),
            &shop.manager,
            &json!({"reason": "rung twice"}),
        )
        .await;
    assert_eq!(void.status, StatusCode::OK, "{}", void.body);
    let back = json!({"lines": [{"line_no": 1, "quantity": "1"}],
                      "refunds": [{"method": "cash", "amount": "12.99"}],
                      "session_id": session});
    let returned = api
        .post(
            &format!("/api/v1/sales/{cash_id}/returns"),
            &shop.manager,
            &back,
        )
        .await;
    assert_eq!(returned.status, StatusCode::CREATED, "{}", returned.body);
    let movements = format!("/api/v1/sessions/{session}/cash-movements");
    for (kind, amount, reason) in [
        ("paid_in", "20.00", "change from the safe"),
        ("paid_out", "5.50", "milk"),
    ] {
        let body = json!({"kind": kind, "amount": amount, "reason": reason});
        let moved = api.post(&movements, &shop.cashier, &body).await;
        assert_eq!(moved.status, StatusCode::CREATED, "{}", moved.body);
        assert_eq!(moved.body["by"], cash.body["cashier_id"]);
    }
    let no_reason = json!({"kind": "paid_out", "amount": "1.00", "reason": " "});
    let refused = api.post(&movements, &shop.cashier, &no_reason).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["error"]["details"][0]["field"], "reason");

    // The X report, by hand: sales 12.99 (cash, 7.01 change) and 12.99 (10.00 card, 2.99
    // cash); the void leaves nothing; 12.99 refunded in cash;
    // expected = 100.00 + 15.98 − 12.99 + 20.00 − 5.50 = 117.49.
    let x = api
        .get(&format!("/api/v1/sessions/{session}/report"), &shop.cashier)
        .await;
    let expected_x = json!({
        "kind": "x", "z_number": null, "sales_count": 2, "voids_count": 1, "returns_count": 1,
        "gross": "25.98", "discounts": "0.00", "net": "25.98", "tax": "0.00", "returns": "12.99",
        "total": "25.98", "by_tender": {"card": "10.00", "cash": "15.98"},
        "refunds_by_tender": {"cash": "12.99"}, "opening_float": "100.00", "paid_in": "20.00",
        "paid_out": "5.50", "cash_sales": "15.98", "other_cash_in": "0.00",
        "cash_refunds": "12.99", "expected_cash": "117.49", "counted_cash": null,
        "difference": null, "grand_total": "12.99"
    });
    for (field, value) in expected_x.as_object().unwrap() {
        assert_eq!(&x.body[field], value, "X report `{field}`: {}", x.body);
    }

    // The count matches: closed, Z number 1; a second close is refused; so is a live sale
    // in it and a void of its sale. A batch sale naming it is kept, late, outside the Z.
    let close = format!("/api/v1/sessions/{session}/close");
    let closed = api
        .post(&close, &shop.cashier, &json!({"counted_cash": "117.49"}))
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(
        (
            &closed.body["status"],
            &closed.body["z_number"],
            &closed.body["difference"]
        ),
        (&json!("closed"), &json!(1), &json!("0.00"))
    );
    assert_eq!(closed.body["report"]["kind"], "z");
    let twice = api
        .post(&close, &shop.cashier, &json!({"counted_cash": "117.49"}))
        .await;
    assert_eq!(
        code(&twice),
        (StatusCode::CONFLICT, "session_closed".into())
    );
    let live = api
        .post(
            "/api/v1/sales",
            &shop.cashier,
            &shop.sale(Some(&session), &[("cash", "12.99")]),
        )
        .await;
    assert_eq!(code(&live), (StatusCode::CONFLICT, "session_closed".into()));
    let void = api
        .post(
            &format!("/api/v1/sales/{split_id}/void"),
            &shop.manager,
            &json!({"reason": "too late"}),
        )
        .await;
    assert_eq!(code(&void), (StatusCode::CONFLICT, "session_closed".into()));
    let mut late = shop.sale(Some(&session), &[("cash", "12.99")]);
    late["id"] = json!("01JD5W2N8Q3V6R1T4Y7Z0A9B2E");
    late["captured_at"] = json!(closed.body["opened_at"]);
    let batch = api
        .post(
            "/api/v1/sales/batch",
            &shop.cashier,
            &json!({"sales": [late]}),
        )
        .await;
    assert_eq!(
        batch.body["results"][0]["status"], "created",
        "{}",
        batch.body
    );
    assert_eq!(batch.body["results"][0]["sale"]["late"], true);
    let z = api
        .get(&format!("/api/v1/sessions/{session}/report"), &shop.cashier)
        .await;
    assert_eq!(z.body, closed.body["report"], "the Z is final");

    journal::audit(&system, &shop, &cash_id).await;
    system.stop().await;
}
