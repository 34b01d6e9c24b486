//! The interactive API docs: served by the gateway from its own binary, over its own
//! OpenAPI document, without a token and without the internet.

use reqwest::StatusCode;

use crate::system::System;

#[tokio::test]
async fn the_docs_page_and_its_assets_come_from_the_gateway() {
    let system = System::up().await;
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", system.url)).send();

    let page = get("/docs").await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/init.js",
    ] {
        assert!(html.contains(asset), "the page loads {asset}");
    }
    assert!(!html.contains("https://"), "nothing from a CDN");

    let bundle = get("/docs/swagger-ui-bundle.js").await.unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
    assert!(
        bundle.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    assert!(bundle.bytes().await.unwrap().len() > 1_000_000);
    let init = get("/docs/init.js").await.unwrap().text().await.unwrap();
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
    let css = get("/docs/swagger-ui.css").await.unwrap();
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );

    let asyncapi: serde_json::Value = get("/api/v1/asyncapi.json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(asyncapi["asyncapi"], "3.0.0");
    assert_eq!(
        asyncapi["channels"]["sales.sale.SaleCompleted"]["address"],
        "{prefix}.sales.sale.SaleCompleted"
    );

    let missing = get("/docs/../../etc/passwd").await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let unknown = get("/docs/nothing.js").await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    system.stop().await;
}

/// A client generated from the served document by openapi-python-client (from PyPI) rings a
/// sale up; CI installs the generator and runs this as a step of its own.
#[tokio::test]
#[ignore = "needs openapi-python-client from PyPI; .ci/run runs it as its own step"]
async fn a_client_generated_from_the_document_rings_up_a_sale() {
    let system = System::up().await;
    let document = reqwest::get(format!("{}/api/v1/openapi.json", system.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let work = std::env::temp_dir().join(tillstream_test_support::unique_name("openapi-client"));
    std::fs::create_dir_all(&work).unwrap();
    let openapi = work.join("openapi.json");
    std::fs::write(&openapi, document).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.ci/generated_client.py");
    let output = tokio::process::Command::new("python3")
        .arg(script)
        .arg(&openapi)
        .arg(&system.url)
        .arg(&system.admin_password)
        .arg(&work)
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!("{said}{}", String::from_utf8_lossy(&output.stderr));
    let _ = std::fs::remove_dir_all(&work);
    assert!(output.status.success() && said.ends_with("ok\n"), "{said}");
    system.stop().await;
}
