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

    let missing = get("/docs/../../etc/passwd").await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let unknown = get("/docs/nothing.js").await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    system.stop().await;
}
