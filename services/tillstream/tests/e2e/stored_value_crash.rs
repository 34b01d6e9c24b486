//! Sales (which owns the stored value) killed with SIGKILL while tills pay with one gift card
//! and one customer's account: every sale that exists drew exactly once, no draw exists
//! without its sale, and a sale retried with its id is recorded once.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tillstream_test_support::eventually;

use crate::api::Api;
use crate::customers::{sale_body, shop};
use crate::purchasing::books_show;
use crate::system::System;

const TILLS: usize = 8;
const SALES_PER_TILL: usize = 6;

/// Rings up `body` with its own id until it is answered: the id makes every retry the same
/// sale. `None` when it was refused (a balance ran out).
async fn ring_until_answered(api: &Api, token: &str, body: Value) -> Option<String> {
    let id = body["id"].as_str().unwrap_or_default().to_owned();
    for _ in 0..300 {
        let answer = api.post("/api/v1/sales", token, &body).await;
        match answer.status {
            StatusCode::CREATED | StatusCode::OK => return Some(id),
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert_eq!(
                    answer.body["error"]["details"][0]["field"], "payments[0].amount",
                    "{}",
                    answer.body
                );
                return None;
            }
            status => assert!(
                status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS,
                "{status} {}",
                answer.body
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("sale {id} never answered");
}

#[tokio::test]
async fn a_killed_sales_leaves_no_draw_without_its_sale_and_no_sale_without_its_draw() {
    let mut system = System::up_with_env(
        &[],
        &[
            ("TILLSTREAM_RATE_LIMIT_USER_RPS", "0"),
            ("TILLSTREAM_RATE_LIMIT_ADDR_RPS", "0"),
        ],
    )
    .await;
    let api = Api::new(&system.url);
    let (admin, location, product) = shop(&system, &api, "K9").await;
    // Room for fewer sales than the tills ring up: the balances run out on the way.
    let card = api
        .create(
            "/api/v1/gift-cards",
            &admin,
            &json!({"amount": "200.00", "payments": [{"method": "card", "amount": "200.00"}]}),
        )
        .await;
    let code = card["code"].as_str().unwrap().to_owned();
    let card_id = card["id"].as_str().unwrap().to_owned();
    let customer = api
        .create(
            "/api/v1/customers",
            &admin,
            &json!({"name": "Kill Test Ltd", "credit_limit": "150.00"}),
        )
        .await;
    let customer_id = customer["id"].as_str().unwrap().to_owned();

    let tills = (0..TILLS).map(|till| {
        let api = Api::new(&system.url);
        let admin = admin.clone();
        let (location, product, code, customer_id) = (
            location.clone(),
            product.clone(),
            code.clone(),
            customer_id.clone(),
        );
        tokio::spawn(async move {
            let mut recorded = Vec::new();
            for n in 0..SALES_PER_TILL {
                let (payment, customer) = if (till + n) % 2 == 0 {
                    (
                        json!({"method": "gift_card", "amount": "10.00", "reference": code}),
                        None,
                    )
                } else {
                    (
                        json!({"method": "on_account", "amount": "10.00"}),
                        Some(customer_id.as_str()),
                    )
                };
                let mut body = sale_body(&location, &product, json!([payment]), customer);
                body["id"] = json!(tillstream_kernel::Ulid::generate().to_string());
                if let Some(id) = ring_until_answered(&api, &admin, body).await {
                    recorded.push(id);
                }
            }
            recorded
        })
    });
    let tills: Vec<_> = tills.collect();
    // Two kills while the tills ring up.
    for wait in [300, 700] {
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let pid = system.pids["sales"];
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        system.wait_for_line("started sales ").await;
    }
    let mut answered = BTreeSet::new();
    for till in tills {
        answered.extend(till.await.unwrap());
    }

    // What the sales database holds: each sale paid with stored value, and each draw.
    let sales_db = system.database("sales").await;
    let drawn: Vec<(String, String)> = sqlx::query_as(
        "SELECT stream_id, payload->>'sale_id' FROM events \
         WHERE event_type IN ('GiftCardRedeemed') \
         UNION ALL SELECT stream_id, payload->>'source_id' FROM events \
         WHERE event_type = 'AccountMoved' AND payload->>'movement' = 'charge'",
    )
    .fetch_all(&sales_db)
    .await
    .unwrap();
    let drawn_sales: BTreeSet<String> = drawn.iter().map(|(_, sale)| sale.clone()).collect();
    assert_eq!(
        drawn_sales.len(),
        drawn.len(),
        "a sale drawn twice: {drawn:?}"
    );
    let recorded: BTreeSet<String> = sqlx::query_scalar(
        "SELECT id FROM sales WHERE document->'payments' @> '[{\"method\": \"gift_card\"}]' \
         OR document->'payments' @> '[{\"method\": \"on_account\"}]'",
    )
    .fetch_all(&sales_db)
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(
        drawn_sales, recorded,
        "every draw has its sale and every sale its draw"
    );
    assert_eq!(
        recorded, answered,
        "exactly the sales the tills were told about"
    );
    assert!(
        drawn
            .iter()
            .any(|(stream, _)| stream == &format!("giftcard-{card_id}")),
        "the card was drawn"
    );

    let on_card = drawn
        .iter()
        .filter(|(s, _)| s.starts_with("giftcard-"))
        .count();
    let on_account = drawn.len() - on_card;
    let card_left = 200 - 10 * on_card as i64;
    let owed = 10 * on_account as i64;
    assert!(card_left >= 0 && owed <= 150, "{card_left} {owed}");
    // The last restart of sales may still be starting when the tills are done.
    let read = eventually("sales answers again", || async {
        let read = api.get(&format!("/api/v1/gift-cards/{code}"), &admin).await;
        (read.status != StatusCode::SERVICE_UNAVAILABLE).then_some(read)
    })
    .await;
    assert_eq!(
        read.body["balance"],
        format!("{card_left}.00"),
        "{}",
        read.body
    );
    let account = api
        .get(&format!("/api/v1/customers/{customer_id}/account"), &admin)
        .await;
    assert_eq!(
        account.body["balance"],
        format!("{owed}.00"),
        "{}",
        account.body
    );
    eprintln!(
        "{on_card} sales on the card, {on_account} on account, {} answered",
        answered.len()
    );
    books_show(
        &system,
        &api,
        &admin,
        &[
            // A liability's balance is a credit: negative, or 0.00 when spent.
            ("2200", &format!("{}.00", -card_left)),
            ("1100", &format!("{owed}.00")),
        ],
    )
    .await;
    system.stop().await;
}
