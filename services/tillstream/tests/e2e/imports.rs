//! CSV imports over HTTP: a nasty file with exact counts and row errors, a retry with the
//! corrected file, upsert mode, and a catalog killed mid-import that resumes without
//! creating a product twice.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use tillstream_test_support::NASTY_CSV;

use crate::api::Api;
use crate::system::System;

async fn upload(api: &Api, token: &str, csv: &str, query: &str) -> Value {
    let answer = raw(api, token, &format!("/api/v1/products/imports{query}"), csv).await;
    assert_eq!(answer.0, StatusCode::ACCEPTED, "{}", answer.1);
    answer.1
}

async fn raw(api: &Api, token: &str, path: &str, csv: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", api.base()))
        .bearer_auth(token)
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Polls the job until it is finished.
async fn finished(api: &Api, token: &str, id: &str) -> Value {
    for _ in 0..600 {
        let job = api
            .get(&format!("/api/v1/products/imports/{id}"), token)
            .await
            .body;
        if job["status"]
            .as_str()
            .is_some_and(|s| s.starts_with("completed"))
        {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("import {id} never finished");
}

fn error_rows(job: &Value) -> Vec<(u64, String, String)> {
    job["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["sku"].as_str().unwrap().to_owned(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_nasty_file_imports_row_by_row_and_a_corrected_file_finishes_it() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;

    let queued = upload(&api, &admin, NASTY_CSV, "").await;
    assert_eq!(queued["status"], "queued");
    let job = finished(&api, &admin, queued["id"].as_str().unwrap()).await;
    assert_eq!(
        (
            &job["status"],
            &job["total_rows"],
            &job["succeeded"],
            &job["failed"]
        ),
        (
            &"completed_with_errors".into(),
            &7.into(),
            &3.into(),
            &4.into()
        )
    );
    assert_eq!(
        error_rows(&job),
        [
            (4, "NEG-1".into(), "price".into()),
            (5, "COF-1".into(), "sku".into()),
            (6, "EMP-1".into(), "name".into()),
            (7, "SHT-1".into(), "row".into()),
        ]
    );
    let coffee = api
        .get("/api/v1/products/lookup?sku=COF-1", &admin)
        .await
        .body;
    assert_eq!(
        (&coffee["name"], &coffee["price"]),
        (&"Café \"Crème\"; 1 kg".into(), &"12.50".into())
    );

    // The corrected file: the failed rows fixed in place (row numbers stay).
    let corrected = NASTY_CSV
        .replace("NEG-1;Refund voucher;-5.00", "NEG-1;Refund voucher;5.00")
        .replace("COF-1;Duplicate coffee", "COF-2;Second coffee")
        .replace("EMP-1;;1.00", "EMP-1;Named now;1.00")
        .replace("SHT-1;Short row;1.00", "SHT-1;Short row;1.00;0;;");
    let id = queued["id"].as_str().unwrap();
    let (status, _) = raw(
        &api,
        &admin,
        &format!("/api/v1/products/imports/{id}/retry"),
        &corrected,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let job = finished(&api, &admin, id).await;
    assert_eq!(
        (&job["status"], &job["succeeded"], &job["failed"]),
        (&"completed".into(), &7.into(), &0.into())
    );
    let all = api.get("/api/v1/products?limit=200", &admin).await.body;
    assert_eq!(all["meta"]["total"], 7, "every row once, none twice");

    // Against the catalog: a SKU that exists is a row error, unless upserting.
    let again = "sku,name,price,tax_rate,barcode,category\nTEA-1,Green tea,3.90,0.08,,Tea\n";
    let job = finished(
        &api,
        &admin,
        upload(&api, &admin, again, "").await["id"]
            .as_str()
            .unwrap(),
    )
    .await;
    assert_eq!(error_rows(&job), [(2, "TEA-1".into(), "sku".into())]);
    let job = finished(
        &api,
        &admin,
        upload(&api, &admin, again, "?mode=upsert").await["id"]
            .as_str()
            .unwrap(),
    )
    .await;
    assert_eq!(job["status"], "completed");
    let tea = api
        .get("/api/v1/products/lookup?sku=TEA-1", &admin)
        .await
        .body;
    assert_eq!(tea["price"], "3.90");

    // Not CSV, or a bad header: refused whole.
    let json_body = api
        .post("/api/v1/products/imports", &admin, &serde_json::json!({}))
        .await;
    assert_eq!(json_body.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, body) = raw(
        &api,
        &admin,
        "/api/v1/products/imports",
        "code,title\nA,B\n",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"][0]["field"], "file");

    system.stop().await;
}

#[tokio::test]
async fn a_catalog_killed_mid_import_resumes_and_creates_nothing_twice() {
    let mut system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let mut csv = String::from("sku,name,price,tax_rate,barcode,category\n");
    for i in 0..3_000 {
        csv.push_str(&format!(
            "BULK-{i:05},Bulk item {i},1.{:02},0.08,,Bulk\n",
            i % 100
        ));
    }
    let id = upload(&api, &admin, &csv, "").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Wait until some chunks are in, then kill the catalog where it stands.
    for _ in 0..600 {
        let job = api
            .get(&format!("/api/v1/products/imports/{id}"), &admin)
            .await
            .body;
        if job["succeeded"].as_i64().unwrap_or(0) >= 500 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let catalog = system.pids["catalog"];
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(catalog),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    system.wait_for_line("started catalog").await;
    let job = loop {
        if let Some(job) = try_get(&api, &admin, &id).await
            && job["status"] == "completed"
        {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        (&job["succeeded"], &job["failed"]),
        (&3_000.into(), &0.into())
    );
    let listed = api
        .get("/api/v1/products?category=Bulk&limit=1", &admin)
        .await
        .body;
    assert_eq!(
        listed["meta"]["total"], 3_000,
        "each row became exactly one product"
    );

    system.stop().await;
}

async fn try_get(api: &Api, token: &str, id: &str) -> Option<Value> {
    let answer = api
        .get(&format!("/api/v1/products/imports/{id}"), token)
        .await;
    (answer.status == StatusCode::OK).then_some(answer.body)
}
