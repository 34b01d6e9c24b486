//! The ledger over HTTP: manual entries, reversals linked both ways, account balances, the
//! trial balance at a past moment, entries filtered and paged, and what is refused.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api::Api;
use crate::system::System;

#[tokio::test]
async fn a_manager_posts_and_reverses_entries_and_reads_the_books_at_any_moment() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let opening = json!({"memo": "Opening float", "lines": [
        {"account": "1000", "debit": "500.00"},
        {"account": "3000", "credit": "500"}]});
    let post = |body: serde_json::Value, key: &'static str| {
        let api = &api;
        let admin = &admin;
        async move {
            api.call(
                Method::POST,
                "/api/v1/ledger/entries",
                Some(admin),
                Some(&body),
                &[("idempotency-key", key)],
            )
            .await
        }
    };
    let first = post(opening.clone(), "opening-1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["source_type"], "manual");
    assert_eq!(first.body["lines"][1]["credit"], "500.00");
    let again = post(opening.clone(), "opening-1").await;
    assert_eq!(
        again.body["id"], first.body["id"],
        "a retried post is the same entry"
    );
    let id = first.body["id"].as_str().unwrap().to_owned();
    let posted_at = first.body["posted_at"].as_str().unwrap().to_owned();

    let refusals = [
        (
            json!({"memo": "x", "lines": [{"account": "1000", "debit": "1.00"}, {"account": "3000", "credit": "2.00"}]}),
            "lines",
        ),
        (
            json!({"memo": "x", "lines": [{"account": "9999", "debit": "1.00"}, {"account": "3000", "credit": "1.00"}]}),
            "lines[0].account",
        ),
        (
            json!({"memo": "x", "lines": [{"account": "1000", "debit": 1}, {"account": "3000", "credit": "1.00"}]}),
            "lines[0].debit",
        ),
        (
            json!({"memo": "x", "lines": [{"account": "1000", "debit": "1.00", "credit": "1.00"}, {"account": "3000", "credit": "0"}]}),
            "lines[0]",
        ),
        (
            json!({"memo": " ", "lines": [{"account": "1000", "debit": "1.00"}, {"account": "3000", "credit": "1.00"}]}),
            "memo",
        ),
    ];
    for (body, field) in refusals {
        let answer = api.post("/api/v1/ledger/entries", &admin, &body).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            answer.body
        );
        assert_eq!(
            answer.body["error"]["details"][0]["field"], field,
            "{}",
            answer.body
        );
    }

    let reverse = |entry: String| {
        let api = &api;
        let admin = &admin;
        async move {
            api.post(
                &format!("/api/v1/ledger/entries/{entry}/reverse"),
                admin,
                &json!({"reason": "counted twice"}),
            )
            .await
        }
    };
    let reversal = reverse(id.clone()).await;
    assert_eq!(reversal.status, StatusCode::CREATED, "{}", reversal.body);
    assert_eq!(reversal.body["reverses"], id.as_str());
    assert_eq!(reversal.body["lines"][0]["credit"], "500.00");
    let original = api
        .get(&format!("/api/v1/ledger/entries/{id}"), &admin)
        .await;
    assert_eq!(
        original.body["reversed_by"], reversal.body["id"],
        "linked both ways"
    );
    assert_eq!(
        reverse(id.clone()).await.status,
        StatusCode::CONFLICT,
        "once"
    );
    let reversal_id = reversal.body["id"].as_str().unwrap().to_owned();
    assert_eq!(reverse(reversal_id).await.status, StatusCode::CONFLICT);
    assert_eq!(
        reverse("01JD0000000000000000000000".into()).await.status,
        StatusCode::NOT_FOUND
    );
    for method in [Method::PATCH, Method::DELETE] {
        let answer = api
            .call(
                method,
                &format!("/api/v1/ledger/entries/{id}"),
                Some(&admin),
                None,
                &[],
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "entries are immutable"
        );
    }

    let then = api
        .get(
            &format!(
                "/api/v1/ledger/trial-balance?as_of={}",
                posted_at.replace('+', "%2B")
            ),
            &admin,
        )
        .await;
    let cash = |body: &serde_json::Value| {
        body["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == "1000")
            .map(|a| a["balance"].clone())
            .unwrap()
    };
    assert_eq!(cash(&then.body), "500.00", "{}", then.body);
    let now = api.get("/api/v1/ledger/trial-balance", &admin).await;
    assert_eq!(cash(&now.body), "0.00");
    assert_eq!(now.body["total_debits"], now.body["total_credits"]);
    let accounts = api.get("/api/v1/ledger/accounts", &admin).await;
    assert_eq!(accounts.status, StatusCode::OK);
    assert_eq!(
        accounts.body.as_array().unwrap().len(),
        21,
        "the fixed chart (cash in transit, over and short, and paid-outs since the registers; bank, goods received not invoiced and price variance since purchasing; receivables, gift cards and store credit since customers; repairs in progress since repairs)"
    );

    let listed = api
        .get("/api/v1/ledger/entries?account=3000&limit=1", &admin)
        .await;
    assert_eq!(
        (&listed.body["meta"]["total"], &listed.body["meta"]["pages"]),
        (&json!(2), &json!(2))
    );
    let today = &posted_at[..10];
    let by_day = api
        .get(
            &format!("/api/v1/ledger/entries?from={today}&to={today}"),
            &admin,
        )
        .await;
    assert_eq!(by_day.body["meta"]["total"], 2);
    let bad = api
        .get("/api/v1/ledger/trial-balance?as_of=noon", &admin)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
