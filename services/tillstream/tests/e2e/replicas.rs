//! `tillstream up --replicas 2`: two of every service behind the gateway, one leader each.
//! A replica killed under load is dropped by the gateway and started again by `up`, and no
//! sale is lost or doubled.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tillstream_test_support::eventually;

use crate::api::Api;
use crate::system::System;

/// Sessions holding the leader's lock in `service`'s database.
async fn leaders(system: &System, service: &str) -> i64 {
    let pool = system.database(service).await;
    let count = sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
           AND classid = 1414089804 AND objid = 1 \
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    count
}

/// Whether sales' copies have heard of `location` and `product`: the leader's consumers
/// start after it wins the lock, which on a loaded machine can take longer than a sale's
/// patience with a miss.
async fn sales_knows(system: &System, location: &str, product: &str) -> bool {
    let pool = system.database("sales").await;
    let known: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM known_locations WHERE id = $1) \
            AND EXISTS (SELECT 1 FROM catalog_products WHERE id = $2)",
    )
    .bind(location)
    .bind(product)
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    known
}

#[tokio::test]
async fn two_replicas_of_every_service_one_leader_each_and_a_killed_one_is_dropped() {
    let mut system = System::up_with(&["--replicas", "2"]).await;
    for service in tillstream_service::addrs::SERVICES {
        let second = format!("{service}-2");
        assert!(system.pids.contains_key(service), "{:?}", system.pids);
        assert!(system.pids.contains_key(&second), "{:?}", system.pids);
        eventually("one leader", || async {
            (leaders(&system, service).await == 1).then_some(())
        })
        .await;
    }
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let location = api.create_location(&admin, "R1").await;
    let product = api.create_product(&admin, "REP-1", "2.00", "0").await;
    eventually("sales has the location and the product", || async {
        sales_knows(&system, &location, &product)
            .await
            .then_some(())
    })
    .await;
    let body = json!({"location_id": location, "lines": [{"product_id": product, "quantity": 1}],
                      "payments": [{"method": "cash", "amount": "2.00"}]});
    // A till's retry: the same key until it gets an answer other than 503.
    let ring = |n: usize| {
        let (api, admin, body) = (&api, &admin, &body);
        async move {
            let key = format!("rep-{n}");
            let mut unavailable = 0;
            loop {
                let answer = api
                    .call(
                        Method::POST,
                        "/api/v1/sales",
                        Some(admin),
                        Some(body),
                        &[("Idempotency-Key", &key)],
                    )
                    .await;
                if answer.status != StatusCode::SERVICE_UNAVAILABLE {
                    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
                    return (answer.body["id"].as_str().unwrap().to_owned(), unavailable);
                }
                unavailable += 1;
                assert!(unavailable < 20, "sale {n} never answered");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let mut sales = Vec::new();
    for n in 0..10 {
        sales.push(ring(n).await.0);
    }
    // Kill one sales replica and one ledger replica; the sales go on.
    for name in ["sales", "ledger-2"] {
        let pid = system.pids[name];
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
    }
    let mut unavailable = 0;
    for n in 10..40 {
        let (id, retries) = ring(n).await;
        sales.push(id);
        unavailable += retries;
    }
    assert!(
        unavailable <= 3,
        "the dead replica is dropped: {unavailable} answers of 503"
    );
    system.wait_for_line("started sales ").await;
    let mut distinct = sales.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 40, "no sale doubled");
    // Every sale posted once by whichever ledger replica leads (what the killed ones had
    // taken but not acknowledged comes again after the consumers' ack wait).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let pending = api.get("/api/v1/sales?ledger_status=pending", &admin).await;
        if pending.body["meta"]["total"] == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not posted: {}",
            pending.body
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let listed = api.get("/api/v1/sales?limit=200", &admin).await;
    assert_eq!(listed.body["meta"]["total"], 40);
    for service in ["sales", "ledger"] {
        eventually("one leader again", || async {
            (leaders(&system, service).await == 1).then_some(())
        })
        .await;
    }
}
