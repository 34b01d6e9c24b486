//! Webhooks through `tillstream up`, against receivers on loopback: signed CloudEvents, a
//! receiver that fails and gets the event again, filtering by type, removal, a receiver that
//! never answers beside one that does, and a kill -9 of the delivering process mid-retry.

mod bounds;
mod receiver;

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use tillstream_test_support::within;

use crate::api::Api;
use crate::system::{System, pid_in};
use receiver::{Behaviour, Received, Receiver};

const SALE_COMPLETED: &str = "tillstream.sales.v1.SaleCompleted";
const PRODUCT_CREATED: &str = "tillstream.catalog.v1.ProductCreated";

async fn subscribe(api: &Api, admin: &str, url: &str, types: &[&str]) -> Value {
    api.create(
        "/api/v1/webhooks",
        admin,
        &json!({"url": url, "event_types": types, "description": "a test receiver"}),
    )
    .await
}

async fn subscription_id(api: &Api, admin: &str, url: &str, types: &[&str]) -> String {
    subscribe(api, admin, url, types).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Products `<prefix>-<n>` for each `n` of `numbers`; their ids.
async fn make_products(
    api: &Api,
    admin: &str,
    prefix: &str,
    numbers: std::ops::Range<usize>,
) -> Vec<String> {
    let mut ids = Vec::new();
    for n in numbers {
        ids.push(
            api.create_product(admin, &format!("{prefix}-{n}"), "1.00", "0")
                .await,
        );
    }
    ids
}

/// `POST …/deliveries/{delivery}/retry`.
async fn retry(api: &Api, admin: &str, subscription: &str, delivery: &str) -> crate::api::Answer {
    api.call(
        Method::POST,
        &format!("/api/v1/webhooks/{subscription}/deliveries/{delivery}/retry"),
        Some(admin),
        None,
        &[],
    )
    .await
}

/// `v1,` + base64(HMAC-SHA256(secret bytes, "id.timestamp.body")), computed here.
fn signature_by_hand(secret: &str, request: &Received) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    let key = engine
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", request.id, request.timestamp).as_bytes());
    mac.update(&request.body);
    format!("v1,{}", engine.encode(mac.finalize().into_bytes()))
}

/// Verifies `request` with PyPI's `standardwebhooks`; the payload id it read.
fn verified_by_the_reference_library(secret: &str, request: &Received) -> String {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/e2e/webhooks/verify_signature.py"
    );
    let input = json!({
        "id": request.id,
        "timestamp": request.timestamp,
        "signature": request.signature,
        "body": String::from_utf8(request.body.to_vec()).unwrap(),
    });
    let mut child = std::process::Command::new("python3")
        .args([script, secret])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'standardwebhooks'"),
        "this test needs PyPI's standardwebhooks: pip install standardwebhooks"
    );
    assert!(
        output.status.success(),
        "the signature does not verify: {stderr}"
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

async fn deliveries(api: &Api, admin: &str, subscription: &str, query: &str) -> Value {
    let answer = try_deliveries(api, admin, subscription, query).await;
    answer.unwrap_or_else(|| panic!("no delivery log of {subscription}"))
}

/// The log, or `None` while the webhooks service is unavailable (restarting).
async fn try_deliveries(api: &Api, admin: &str, subscription: &str, query: &str) -> Option<Value> {
    let answer = api
        .get(
            &format!("/api/v1/webhooks/{subscription}/deliveries{query}"),
            admin,
        )
        .await;
    (answer.status == StatusCode::OK).then_some(answer.body)
}

async fn ring_a_sale(api: &Api, admin: &str, location_id: &str, product_id: &str) -> String {
    let sale = api
        .create(
            "/api/v1/sales",
            admin,
            &json!({"location_id": location_id,
                "lines": [{"product_id": product_id, "quantity": 1}],
                "payments": [{"method": "cash", "amount": "5.00"}]}),
        )
        .await;
    sale["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_receiver_that_fails_first_gets_the_event_again_signed_and_only_what_it_asked_for() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    // Before any subscription: never delivered.
    let location_id = api.create_location(&admin, "W1").await;

    let sales_receiver = Receiver::start(Behaviour::FailFirst(1)).await;
    let products_receiver = Receiver::start(Behaviour::FailFirst(0)).await;
    let sales = subscribe(&api, &admin, &sales_receiver.url, &[SALE_COMPLETED]).await;
    let products = subscribe(&api, &admin, &products_receiver.url, &[PRODUCT_CREATED]).await;
    let secret = sales["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{sales}");
    assert_eq!(sales["status"], "active");
    assert_eq!(sales["event_types"], json!([SALE_COMPLETED]));
    let sales_id = sales["id"].as_str().unwrap().to_owned();
    let shown = api
        .get(&format!("/api/v1/webhooks/{sales_id}"), &admin)
        .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(
        shown.body.get("secret").is_none(),
        "the secret is shown once: {}",
        shown.body
    );

    let product_id = api.create_product(&admin, "HOOK-1", "5.00", "0").await;
    let sale_id = ring_a_sale(&api, &admin, &location_id, &product_id).await;

    // The first attempt is answered 503; the retry, 5 s on, 204.
    let attempts = within(
        "the sale's webhook is retried and delivered",
        Duration::from_secs(40),
        || async {
            let received = sales_receiver.received();
            (received.len() >= 2).then_some(received)
        },
    )
    .await;
    let (first, second) = (&attempts[0], &attempts[1]);
    assert_eq!((first.answered, second.answered), (Some(503), Some(204)));
    assert_eq!(first.id, second.id, "the same webhook-id on every attempt");
    assert_eq!(first.body, second.body, "the same body on every attempt");
    assert_eq!(second.content_type, "application/cloudevents+json");
    let event = second.json();
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["type"], SALE_COMPLETED);
    assert_eq!(event["id"], second.id);
    assert_eq!(event["source"], "/tillstream/sales");
    assert_eq!(event["datacontenttype"], "application/json");
    assert_eq!(event["data"]["sale"]["id"], sale_id, "{event}");
    assert!(
        event["traceparent"]
            .as_str()
            .is_some_and(|t| t.starts_with("00-"))
    );
    for attempt in [first, second] {
        assert_eq!(attempt.signature, signature_by_hand(&secret, attempt));
        assert_eq!(
            verified_by_the_reference_library(&secret, attempt),
            attempt.id
        );
    }
    // Only the types asked for, and nothing from before the subscriptions.
    assert!(
        sales_receiver
            .received()
            .iter()
            .all(|r| r.json()["type"] == SALE_COMPLETED)
    );
    let created = within(
        "the product's webhook arrives",
        Duration::from_secs(20),
        || async {
            let created = products_receiver.of_type(PRODUCT_CREATED);
            (!created.is_empty()).then_some(created)
        },
    )
    .await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].json()["data"]["productId"], product_id);
    assert!(
        products_receiver
            .received()
            .iter()
            .all(|r| r.json()["type"] == PRODUCT_CREATED)
    );

    // The delivery log.
    let log = deliveries(&api, &admin, &sales_id, "").await;
    assert_eq!(log["meta"]["total"], 1, "{log}");
    let delivery = &log["data"][0];
    assert_eq!(
        (
            &delivery["status"],
            &delivery["attempts"],
            &delivery["last_status_code"]
        ),
        (&json!("delivered"), &json!(2), &json!(204)),
        "{delivery}"
    );
    assert_eq!(delivery["event_id"], first.id);
    assert_eq!(delivery["next_attempt_at"], Value::Null);
    assert_eq!(
        deliveries(&api, &admin, &sales_id, "?status=pending").await["meta"]["total"],
        0
    );
    let bad = api
        .get(
            &format!("/api/v1/webhooks/{sales_id}/deliveries?status=lost"),
            &admin,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);

    // A manual retry sends it again, with the same webhook-id.
    let delivery_id = delivery["id"].as_str().unwrap();
    let retried = retry(&api, &admin, &sales_id, delivery_id).await;
    assert_eq!(retried.status, StatusCode::ACCEPTED, "{}", retried.body);
    let again = within(
        "the manual retry arrives",
        Duration::from_secs(20),
        || async { sales_receiver.received().get(2).cloned() },
    )
    .await;
    assert_eq!(again.id, first.id);
    let unknown = retry(&api, &admin, &sales_id, "01JD0000000000000000000000").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // A removed subscription gets nothing more; another one with the same types does.
    let watcher = Receiver::start(Behaviour::FailFirst(0)).await;
    subscribe(&api, &admin, &watcher.url, &[PRODUCT_CREATED]).await;
    let products_id = products["id"].as_str().unwrap();
    let removed = api
        .call(
            Method::DELETE,
            &format!("/api/v1/webhooks/{products_id}"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let gone = api
        .get(&format!("/api/v1/webhooks/{products_id}"), &admin)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let twice = api
        .call(
            Method::DELETE,
            &format!("/api/v1/webhooks/{products_id}"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND);
    let later = api.create_product(&admin, "HOOK-2", "6.00", "0").await;
    within(
        "the watcher gets the later product",
        Duration::from_secs(20),
        || async {
            watcher
                .of_type(PRODUCT_CREATED)
                .iter()
                .any(|r| r.json()["data"]["productId"] == later)
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        products_receiver.received().len(),
        1,
        "nothing after the removal"
    );
    let listed = api.get("/api/v1/webhooks", &admin).await;
    assert_eq!(listed.body["meta"]["total"], 2, "{}", listed.body);
    assert!(
        listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w.get("secret").is_none())
    );
}

#[tokio::test]
async fn a_receiver_that_never_answers_does_not_hold_up_another() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let silent = Receiver::start(Behaviour::Hang).await;
    let prompt = Receiver::start(Behaviour::FailFirst(0)).await;
    let silent_id = subscription_id(&api, &admin, &silent.url, &["*"]).await;
    subscribe(&api, &admin, &prompt.url, &["*"]).await;
    let products = make_products(&api, &admin, "HANG", 0..12).await;
    // Were the senders held by the silent receiver, each of its attempts would take 10 s
    // before the next event moved.
    within(
        "the prompt receiver has every product",
        Duration::from_secs(30),
        || async {
            let got = prompt.of_type(PRODUCT_CREATED).len();
            (got >= products.len()).then_some(())
        },
    )
    .await;
    let held = silent.received();
    assert!(held.iter().all(|r| r.answered.is_none()));
    assert!(
        held.len() <= 4,
        "at most four attempts to one receiver at once: {}",
        held.len()
    );
    // Nothing for the silent one is lost: it waits its turn in the log.
    let waiting = deliveries(&api, &admin, &silent_id, "?status=pending").await;
    assert!(
        waiting["meta"]["total"].as_u64().unwrap() >= 12,
        "{waiting}"
    );

    // A manual retry of an attempt still in flight does not send it a second time at once:
    // it is due again when the attempt in flight ends (here: times out after 10 s), and goes
    // in its turn behind what was due before it for that receiver (four at a time).
    let in_flight = held[0].id.clone();
    let log = deliveries(&api, &admin, &silent_id, "?limit=200").await;
    let delivery = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["event_id"] == in_flight)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        let retried = retry(&api, &admin, &silent_id, &delivery).await;
        assert_eq!(retried.status, StatusCode::ACCEPTED, "{}", retried.body);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sent = |id: &str| silent.received().iter().filter(|r| r.id == id).count();
    assert_eq!(
        sent(&in_flight),
        1,
        "no second attempt while the first is in flight"
    );
    within(
        "the retried delivery goes again after its attempt",
        Duration::from_secs(90),
        || async { (sent(&in_flight) == 2).then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        sent(&in_flight),
        2,
        "three retries of one attempt in flight are one"
    );
}

#[tokio::test]
async fn a_kill_of_the_delivering_process_mid_retry_loses_no_delivery() {
    let mut system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let receiver = Receiver::start(Behaviour::FailFirst(3)).await;
    let id = subscription_id(&api, &admin, &receiver.url, &[PRODUCT_CREATED]).await;
    let mut products = make_products(&api, &admin, "KILL", 0..3).await;
    // Each first attempt has failed and waits for its retry.
    within(
        "three deliveries wait for a retry",
        Duration::from_secs(20),
        || async {
            let log = deliveries(&api, &admin, &id, "?status=pending").await;
            let waiting = log["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["attempts"] == 1)
                .count();
            (waiting == 3).then_some(())
        },
    )
    .await;
    let pid = system.pids["webhooks"];
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    // Made while the process is down or starting: queued when it is back.
    products.extend(make_products(&api, &admin, "KILL", 3..5).await);
    let restarted = system.wait_for_line("started webhooks").await;
    assert_ne!(pid_in(&restarted), pid);
    within(
        "every product's webhook is delivered",
        Duration::from_secs(60),
        || async {
            let log = try_deliveries(&api, &admin, &id, "?status=delivered").await?;
            (log["meta"]["total"] == 5).then_some(())
        },
    )
    .await;
    for product in &products {
        assert!(
            receiver
                .received()
                .iter()
                .any(|r| r.answered == Some(204) && r.json()["data"]["productId"] == *product),
            "{product} was delivered"
        );
    }
}
