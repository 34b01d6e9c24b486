//! Customers and stored value end to end through the gateway: gift cards and accounts
//! raced by ten tills at once, refunds onto a card and to store credit, the books after,
//! and a customer erased, checked by dumping every database and reading every stream.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tillstream_messaging::Naming;

use crate::api::{Api, refused};
use crate::purchasing::books_show;
use crate::system::System;

/// A shop with one product at 10.00 (no tax) that sales already knows of; the admin's
/// token, the location and the product.
pub async fn shop(system: &System, api: &Api, code: &str) -> (String, String, String) {
    let admin = api.login("admin", &system.admin_password).await;
    let location = api.create_location(&admin, code).await;
    let product = api
        .create_product(&admin, &format!("{code}-TEN"), "10.00", "0")
        .await;
    // Until sales has heard of both, a sale is a 422: ring one up in cash until it passes.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let sale = api
            .post(
                "/api/v1/sales",
                &admin,
                &sale_body(
                    &location,
                    &product,
                    json!([{"method": "cash", "amount": "10.00"}]),
                    None,
                ),
            )
            .await;
        if sale.status == StatusCode::CREATED {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{}", sale.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    (admin, location, product)
}

pub fn sale_body(location: &str, product: &str, payments: Value, customer: Option<&str>) -> Value {
    let mut body = json!({
        "location_id": location,
        "lines": [{"product_id": product, "quantity": "1"}],
        "payments": payments,
    });
    if let Some(customer) = customer {
        body["customer_id"] = json!(customer);
    }
    body
}

/// Rings up `tills` sales at once, each paid by `payment`; the answers.
async fn race(api: &Api, token: &str, body: Value, tills: usize) -> Vec<crate::api::Answer> {
    let calls = (0..tills).map(|_| api.post("/api/v1/sales", token, &body));
    futures::future::join_all(calls).await
}

#[tokio::test]
async fn ten_tills_on_one_gift_card_draw_exactly_its_balance_and_a_refund_puts_it_back() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let (admin, location, product) = shop(&system, &api, "G1").await;

    let card = api
        .create(
            "/api/v1/gift-cards",
            &admin,
            &json!({"amount": "35.00", "payments": [{"method": "cash", "amount": "40.00"}]}),
        )
        .await;
    let code = card["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 16, "{card}");
    assert_eq!(card["balance"], "35.00");
    assert_eq!(card["status"], "active");

    let pay = json!([{"method": "gift_card", "amount": "10.00", "reference": code}]);
    let answers = race(&api, &admin, sale_body(&location, &product, pay, None), 10).await;
    let sold: Vec<&crate::api::Answer> = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .collect();
    assert_eq!(sold.len(), 3, "{answers:?}");
    for refusal in answers.iter().filter(|a| a.status != StatusCode::CREATED) {
        refused(
            refusal,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("payments[0].amount"),
        );
    }
    // The code leaves the service masked.
    let shown = sold[0].body["payments"][0]["reference"].as_str().unwrap();
    assert!(
        shown.starts_with("************") && code.ends_with(&shown[12..]),
        "{shown}"
    );
    let read = api.get(&format!("/api/v1/gift-cards/{code}"), &admin).await;
    assert_eq!(read.body["balance"], "5.00", "{}", read.body);

    // An unknown code, a code with a wrong check digit, and no code at all.
    let mut wrong = code.clone().into_bytes();
    wrong[15] = if wrong[15] == b'9' {
        b'0'
    } else {
        wrong[15] + 1
    };
    let wrong = String::from_utf8(wrong).unwrap();
    for reference in [json!(wrong), json!("4000000000000002"), Value::Null] {
        let pay = json!([{"method": "gift_card", "amount": "1.00", "reference": reference},
                         {"method": "cash", "amount": "9.00"}]);
        let answer = api
            .post(
                "/api/v1/sales",
                &admin,
                &sale_body(&location, &product, pay, None),
            )
            .await;
        refused(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("payments[0].reference"),
        );
    }
    let unknown = api.get("/api/v1/gift-cards/4000000000000002", &admin).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // A return refunded onto the card puts the money back on it.
    let sale_id = sold[0].body["id"].as_str().unwrap();
    let returned = api
        .post(
            &format!("/api/v1/sales/{sale_id}/returns"),
            &admin,
            &json!({"lines": [{"line_no": 1, "quantity": "1"}],
                    "refunds": [{"method": "gift_card", "amount": "10.00", "reference": code}]}),
        )
        .await;
    assert_eq!(returned.status, StatusCode::CREATED, "{}", returned.body);
    let read = api.get(&format!("/api/v1/gift-cards/{code}"), &admin).await;
    assert_eq!(read.body["balance"], "15.00", "{}", read.body);
    // A void gives a card its payment back.
    let void = api
        .post(
            &format!(
                "/api/v1/sales/{}/void",
                sold[1].body["id"].as_str().unwrap()
            ),
            &admin,
            &json!({"reason": "rang up twice"}),
        )
        .await;
    assert_eq!(void.status, StatusCode::OK, "{}", void.body);
    let read = api.get(&format!("/api/v1/gift-cards/{code}"), &admin).await;
    assert_eq!(read.body["balance"], "25.00", "{}", read.body);

    // Sold for 35.00 (cash 40.00 less 5.00 change): 2200 owes 35.00, less 30.00 spent,
    // plus 10.00 refunded and 10.00 voided back: 25.00 owed on the card.
    books_show(
        &system,
        &api,
        &admin,
        &[
            ("2200", "-25.00"),
            ("1000", "45.00"),
            ("4000", "-30.00"),
            ("4100", "10.00"),
        ],
    )
    .await;
    system.stop().await;
}

#[tokio::test]
async fn ten_tills_on_one_account_stay_within_its_limit_and_store_credit_never_goes_below_zero() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let (admin, location, product) = shop(&system, &api, "A1").await;

    api.create(
        "/api/v1/users",
        &admin,
        &json!({"username": "casey", "password": "cashier-pass-1", "role": "cashier"}),
    )
    .await;
    let cashier = api.login("casey", "cashier-pass-1").await;
    let limited = api
        .post(
            "/api/v1/customers",
            &cashier,
            &json!({"name": "Bo", "credit_limit": "10.00"}),
        )
        .await;
    refused(&limited, StatusCode::FORBIDDEN, None);

    let customer = api
        .create(
            "/api/v1/customers",
            &admin,
            &json!({"name": "Builder Bob Ltd", "credit_limit": "25.00"}),
        )
        .await;
    let id = customer["id"].as_str().unwrap().to_owned();
    assert!(
        customer["number"].as_str().unwrap().starts_with("C-"),
        "{customer}"
    );

    let on_account = json!([{"method": "on_account", "amount": "10.00"}]);
    let without = api
        .post(
            "/api/v1/sales",
            &admin,
            &sale_body(&location, &product, on_account.clone(), None),
        )
        .await;
    refused(
        &without,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("customer_id"),
    );

    let answers = race(
        &api,
        &admin,
        sale_body(&location, &product, on_account, Some(&id)),
        10,
    )
    .await;
    let charged = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    assert_eq!(charged, 2, "{answers:?}");
    for refusal in answers.iter().filter(|a| a.status != StatusCode::CREATED) {
        refused(
            refusal,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("payments[0].amount"),
        );
    }
    let account = api
        .get(&format!("/api/v1/customers/{id}/account"), &admin)
        .await;
    assert_eq!(account.body["balance"], "20.00", "{}", account.body);

    let too_much = api
        .post(
            &format!("/api/v1/customers/{id}/account/payments"),
            &admin,
            &json!({"amount": "20.01", "method": "cash"}),
        )
        .await;
    refused(&too_much, StatusCode::UNPROCESSABLE_ENTITY, Some("amount"));
    let paid = api
        .post(
            &format!("/api/v1/customers/{id}/account/payments"),
            &admin,
            &json!({"amount": "20.00", "method": "card"}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    assert_eq!(paid.body["balance"], "0.00");

    // A return to store credit, then that credit spent once by two tills at once.
    let cash_sale = api
        .post(
            "/api/v1/sales",
            &admin,
            &sale_body(
                &location,
                &product,
                json!([{"method": "cash", "amount": "10.00"}]),
                Some(&id),
            ),
        )
        .await;
    let sale_id = cash_sale.body["id"].as_str().unwrap();
    let returned = api
        .post(
            &format!("/api/v1/sales/{sale_id}/returns"),
            &admin,
            &json!({"lines": [{"line_no": 1, "quantity": "1"}],
                    "refunds": [{"method": "store_credit", "amount": "10.00"}]}),
        )
        .await;
    assert_eq!(returned.status, StatusCode::CREATED, "{}", returned.body);
    let credit = json!([{"method": "store_credit", "amount": "10.00"}]);
    let answers = race(
        &api,
        &admin,
        sale_body(&location, &product, credit, Some(&id)),
        5,
    )
    .await;
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.status == StatusCode::CREATED)
            .count(),
        1,
        "{answers:?}"
    );
    let account = api
        .get(&format!("/api/v1/customers/{id}/account"), &admin)
        .await;
    assert_eq!(account.body["store_credit"], "0.00", "{}", account.body);
    assert_eq!(account.body["balance"], "0.00", "{}", account.body);
    let history = api
        .get(&format!("/api/v1/customers/{id}/sales"), &admin)
        .await;
    assert_eq!(history.body["meta"]["total"], 4, "{}", history.body);

    books_show(
        &system,
        &api,
        &admin,
        &[("1100", "0.00"), ("2210", "0.00"), ("1010", "20.00")],
    )
    .await;
    system.stop().await;
}

/// Every row of every database of `system`, as `pg_dump` writes it.
fn dump_everything(system: &System) -> String {
    let mut all = String::new();
    for service in [
        "auth",
        "catalog",
        "inventory",
        "sales",
        "ledger",
        "webhooks",
    ] {
        let url = format!(
            "{}/{}_{service}",
            tillstream_test_support::database_server_url(),
            system.db_prefix
        );
        // Another test's stack may hold every connection for a moment: try again then.
        let mut tries = 0;
        let out = loop {
            let out = std::process::Command::new("pg_dump")
                .args(["--data-only", "--dbname", &url])
                .output()
                .unwrap();
            let busy = String::from_utf8_lossy(&out.stderr).contains("too many clients");
            if out.status.success() || !busy || tries == 50 {
                break out;
            }
            tries += 1;
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        all.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    all
}

/// Every message in every stream of `system`, as bytes.
async fn read_every_stream(system: &System) -> Vec<u8> {
    let client = async_nats::connect(tillstream_test_support::nats_url())
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client);
    let naming = Naming::new(system.subject_prefix.clone()).unwrap();
    let mut all = Vec::new();
    for service in [
        "auth",
        "catalog",
        "inventory",
        "sales",
        "ledger",
        "webhooks",
    ] {
        let Ok(mut stream) = js.get_stream(naming.service_stream(service)).await else {
            continue;
        };
        let info = stream.info().await.unwrap().state.clone();
        for seq in info.first_sequence..=info.last_sequence {
            if let Ok(message) = stream.get_raw_message(seq).await {
                all.extend_from_slice(&message.payload);
                all.extend_from_slice(format!("{:?}", message.headers).as_bytes());
            }
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

#[tokio::test]
async fn an_erased_customer_is_in_no_dump_and_no_stream_and_the_numbers_stay() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let (admin, location, product) = shop(&system, &api, "E1").await;

    let email = "zoe.forgotten@example.org";
    let phone = "+44 20 7946 0958";
    let zoe = api
        .create(
            "/api/v1/customers",
            &admin,
            &json!({"name": "Zoë Núñez-Forgotten", "email": email, "phone": phone,
                    "credit_limit": "50.00"}),
        )
        .await;
    let zoe_id = zoe["id"].as_str().unwrap().to_owned();
    let other = api
        .create(
            "/api/v1/customers",
            &admin,
            &json!({"name": "Ada Remembered", "email": "ada@example.org"}),
        )
        .await;
    for (q, expected) in [
        ("ZOE.Forgotten@Example.ORG", 1usize),
        (email, 1),
        ("442079460958", 1),
        ("zoe nunez", 1),
        ("NÚÑEZ", 1),
        ("zoe ada", 0),
        (zoe["number"].as_str().unwrap(), 1),
    ] {
        let found = api
            .get(&format!("/api/v1/customers?q={}", urlencode(q)), &admin)
            .await;
        let total = found.body["meta"]["total"].as_u64().unwrap_or(99) as usize;
        assert_eq!(total, expected, "{q}: {}", found.body);
    }
    // A sale on account, and one with the old free-text customer.
    let on_account = json!([{"method": "on_account", "amount": "10.00"}]);
    let sale = api
        .post(
            "/api/v1/sales",
            &admin,
            &sale_body(&location, &product, on_account, Some(&zoe_id)),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.body);
    assert_eq!(sale.body["customer_id"], zoe_id.as_str());
    let mut free_text = sale_body(
        &location,
        &product,
        json!([{"method": "cash", "amount": "10.00"}]),
        None,
    );
    free_text["customer"] = json!({"name": "Walk In", "email": "walk.in.secret@example.net"});
    let sale = api.post("/api/v1/sales", &admin, &free_text).await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.body);

    let erased = api
        .post(
            &format!("/api/v1/customers/{zoe_id}/erase"),
            &admin,
            &json!({}),
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);
    assert_eq!(erased.body["erased"], true);
    let read = api
        .get(&format!("/api/v1/customers/{zoe_id}"), &admin)
        .await;
    assert_eq!(read.body["name"], "erased", "{}", read.body);
    assert_eq!(read.body["email"], Value::Null);
    assert_eq!(read.body["phone"], Value::Null);
    let found = api
        .get(&format!("/api/v1/customers?q={}", urlencode(email)), &admin)
        .await;
    assert_eq!(found.body["meta"]["total"], 0, "{}", found.body);
    let found = api.get("/api/v1/customers?q=ada", &admin).await;
    assert_eq!(found.body["meta"]["total"], 1, "{}", found.body);
    assert_eq!(found.body["data"][0]["id"], other["id"]);
    let account = api
        .get(&format!("/api/v1/customers/{zoe_id}/account"), &admin)
        .await;
    assert_eq!(account.body["balance"], "10.00", "{}", account.body);

    system.consumers_settled().await;
    let dump = dump_everything(&system);
    let streams = read_every_stream(&system).await;
    for secret in [email, "79460958", "walk.in.secret@example.net", "Forgotten"] {
        assert!(
            !contains(dump.as_bytes(), secret),
            "`{secret}` in a database dump"
        );
        assert!(!contains(&streams, secret), "`{secret}` in a stream");
    }
    assert!(
        contains(&streams, &zoe_id),
        "the streams carry the customer's id"
    );
    books_show(&system, &api, &admin, &[("1100", "10.00")]).await;
    system.stop().await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
