//! Listing sales and printing receipts over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tillstream_test_support::eventually;

use crate::api::Api;
use crate::system::System;

#[tokio::test]
async fn sales_are_listed_newest_first_and_print_on_40_columns() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let shop = api
        .create(
            "/api/v1/locations",
            &admin,
            &json!({"code": "S7", "name": "Shop"}),
        )
        .await;
    let shop = shop["id"].as_str().unwrap().to_owned();
    let tea = api
        .create(
            "/api/v1/products",
            &admin,
            &json!({"sku": "TEA", "name": "Thé <vert> & jasmin, feuilles entières, grand sachet",
                    "price": "3.50", "tax_rate": "0.08"}),
        )
        .await;
    let sale = |cash: &str| {
        json!({"location_id": shop, "lines": [{"sku": "TEA", "quantity": 2}],
               "payments": [{"method": "cash", "amount": cash}]})
    };
    let first: Value = eventually("sales knows the tea", || async {
        let answer = api.post("/api/v1/sales", &admin, &sale("10.00")).await;
        (answer.status == StatusCode::CREATED).then_some(answer.body)
    })
    .await;
    let second = api.create("/api/v1/sales", &admin, &sale("7.56")).await;

    let today = &first["created_at"].as_str().unwrap()[..10];
    let listed = api
        .get(
            &format!("/api/v1/sales?location_id={shop}&from={today}&to={today}&limit=1"),
            &admin,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(
        (&listed.body["meta"]["total"], &listed.body["meta"]["pages"]),
        (&json!(2), &json!(2))
    );
    assert_eq!(listed.body["data"][0]["id"], second["id"], "newest first");
    let nothing = api
        .get("/api/v1/sales?from=2001-01-01&to=2001-01-02", &admin)
        .await;
    assert_eq!(nothing.body["meta"]["total"], 0);
    eventually("both sales are posted", || async {
        let posted = api.get("/api/v1/sales?ledger_status=posted", &admin).await;
        (posted.body["meta"]["total"] == 2).then_some(())
    })
    .await;
    for bad in ["from=yesterday", "ledger_status=maybe", "page=0"] {
        let answer = api.get(&format!("/api/v1/sales?{bad}"), &admin).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            answer.body
        );
    }

    let number = first["sale_number"].as_str().unwrap();
    let text = reqwest::Client::new()
        .get(format!("{}/api/v1/sales/{number}/receipt", system.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), StatusCode::OK);
    assert!(
        text.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let body = text.text().await.unwrap();
    assert!(body.lines().all(|l| l.chars().count() <= 40), "{body}");
    assert!(body.contains(number), "{body}");
    assert!(
        body.lines()
            .any(|l| l.starts_with("TOTAL") && l.ends_with("USD 7.56")),
        "{body}"
    );
    assert!(
        body.lines()
            .any(|l| l.starts_with("Change") && l.ends_with("2.44")),
        "{body}"
    );

    let html = api
        .call(
            Method::GET,
            &format!("/api/v1/sales/{number}/receipt"),
            Some(&admin),
            None,
            &[("accept", "text/html,application/xhtml+xml")],
        )
        .await;
    assert_eq!(html.status, StatusCode::OK);
    let page = reqwest::Client::new()
        .get(format!("{}/api/v1/sales/{number}/receipt", system.url))
        .bearer_auth(&admin)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Thé &lt;vert&gt; &amp; jasmin"), "{page}");
    let missing = api
        .get("/api/v1/sales/S7-20010101-000001/receipt", &admin)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Where a sale's time went: the gateway's stages, then the sales service's own (all of
    // them on the usual path, which a sale whose lines name products by id takes).
    let timed = reqwest::Client::new()
        .post(format!("{}/api/v1/sales", system.url))
        .bearer_auth(&admin)
        .json(
            &json!({"location_id": shop, "lines": [{"product_id": tea["id"], "quantity": 1}],
                      "payments": [{"method": "cash", "amount": "5.00"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(timed.status(), StatusCode::CREATED);
    let server_timing = timed.headers()["server-timing"].to_str().unwrap();
    let stages: Vec<String> = tillstream_telemetry::timing::parse(server_timing)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    for stage in [
        "gateway",
        "auth",
        "sales",
        "sales.start",
        "sales.append",
        "sales.handler",
    ] {
        assert!(
            stages.iter().any(|s| s == stage),
            "{stage} in {server_timing}"
        );
    }
    // A sale outside a session needs no transaction: read, then appended with its number.
    assert!(
        !stages
            .iter()
            .any(|s| s == "sales.begin" || s == "sales.commit"),
        "no transaction in {server_timing}"
    );
}

/// A till that timed out sends its sale again while the first copy is still in flight:
/// every copy, under the same key or with the same sale id, answers the one sale.
#[tokio::test]
async fn a_sale_sent_eight_times_at_once_is_recorded_once() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let location = api.create_location(&admin, "D1").await;
    let product = api.create_product(&admin, "DUP-1", "2.00", "0").await;
    let sale = |id: &str| {
        json!({"id": id, "location_id": location,
               "lines": [{"product_id": product, "quantity": 1}],
               "payments": [{"method": "cash", "amount": "2.00"}]})
    };
    eventually("sales knows the product", || async {
        let first = api
            .post("/api/v1/sales", &admin, &sale("01KD0000000000000000000001"))
            .await;
        (first.status == StatusCode::CREATED).then_some(())
    })
    .await;
    for (id, key) in [
        ("01KD0000000000000000000002", Some("dup-2")),
        ("01KD0000000000000000000003", None),
    ] {
        let body = sale(id);
        let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
        // A till sends the same copy again on a 409 whose key is still being answered and
        // on a 503 (sixteen copies at once may wait past the pool's timeout on a busy
        // machine).
        let copies = (0..8).map(|_| {
            let (api, admin, body, headers) = (&api, &admin, &body, &headers);
            async move {
                loop {
                    let answer = api
                        .call(
                            Method::POST,
                            "/api/v1/sales",
                            Some(admin),
                            Some(body),
                            headers,
                        )
                        .await;
                    let again = answer.status == StatusCode::SERVICE_UNAVAILABLE
                        || answer.body["error"]["code"] == "idempotency_in_progress";
                    if !again {
                        return answer;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
        });
        let answers = futures::future::join_all(copies).await;
        let mut numbers = Vec::new();
        for answer in &answers {
            assert!(
                answer.status == StatusCode::CREATED || answer.status == StatusCode::OK,
                "{} {}",
                answer.status,
                answer.body
            );
            assert_eq!(answer.body["id"], id, "{}", answer.body);
            numbers.push(answer.body["sale_number"].clone());
        }
        numbers.dedup();
        assert_eq!(numbers.len(), 1, "one number for every copy: {numbers:?}");
    }
    let listed = api
        .get(&format!("/api/v1/sales?location_id={location}"), &admin)
        .await;
    assert_eq!(listed.body["meta"]["total"], 3, "{}", listed.body);
    // The numbers the copies rolled back are drawn again: no gap.
    let mut numbers: Vec<String> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sale| {
            let number = sale["sale_number"].as_str().unwrap();
            number.rsplit('-').next().unwrap().to_owned()
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, ["000001", "000002", "000003"]);
}
