//! The register without its gateway: stopped (connections refused) and paused (connections
//! accepted, never answered). Sales go on from the browser's copy of the catalog, wait in
//! its queue, and reach the API exactly once when the gateway is back.

use std::collections::HashMap;

use super::gateway::OwnGateway;
use super::till::scan_tea;
use super::webdriver::{Browser, ENTER};
use super::{Store, screenshot_path};

/// One tea for 5.00 cash; the register cannot send it, so its receipt is a queued sale's,
/// naming the client id the sale will keep. That id.
async fn ring_queued_sale(browser: &Browser, queued: usize) -> String {
    scan_tea(browser, "1").await;
    browser
        .fill("Amount tendered", &format!("5.00{ENTER}"))
        .await;
    browser.wait_text("#due", |due| due == "Change: 1.50").await;
    browser.press("Complete sale").await;
    // A paused gateway holds the request for the register's 5 s before it gives up.
    let heading = browser
        .wait_text(".receipt h2", |h| h.starts_with("Queued sale"))
        .await;
    let id = heading.trim_start_matches("Queued sale").trim().to_owned();
    assert_eq!(id.len(), 26, "a client ULID: {heading:?}");
    browser
        .wait_text("#queued", |text| text == format!("Queued sales: {queued}"))
        .await;
    assert_eq!(browser.text_of("#connection").await, "Offline");
    browser.press("New sale").await;
    id
}

/// Once the gateway answers again the queue empties, and each sale is in the API's list
/// exactly once, with the client's id and the register's session.
async fn sent_exactly_once(browser: &Browser, store: &Store, ids: &[String]) {
    browser
        .wait_text("#queued", |text| text == "Queued sales: 0")
        .await;
    browser
        .wait_text("#connection", |text| text == "Online")
        .await;
    let sales = store.sales().await;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for sale in &sales {
        *seen.entry(sale["id"].as_str().unwrap()).or_default() += 1;
    }
    for id in ids {
        assert_eq!(seen.get(id.as_str()), Some(&1), "sale {id} listed once");
        let sale = store.sale(id).await;
        assert_eq!(
            (&sale["total"], &sale["status"]),
            (&serde_json::json!("3.50"), &serde_json::json!("completed")),
            "{sale}"
        );
        assert_eq!(sale["location_id"], store.location.as_str());
        assert_eq!(sale["lines"][0]["product_id"], store.tea.as_str());
    }
}

pub async fn three_sales_with_the_gateway_stopped(
    browser: &Browser,
    store: &Store,
    gateway: &mut OwnGateway,
) {
    gateway.kill().await;
    let mut ids = Vec::new();
    for queued in 1..=3 {
        ids.push(ring_queued_sale(browser, queued).await);
    }
    // The shell comes from the service worker and the catalog from IndexedDB: the register
    // opens again with the gateway still gone, its queue intact.
    let url = gateway.url.clone();
    browser.goto(&url).await;
    browser.field("Scan or search").await;
    browser
        .wait_text("#queued", |text| text == "Queued sales: 3")
        .await;
    browser
        .wait_text("#connection", |text| text == "Offline")
        .await;
    browser
        .screenshot(&screenshot_path("register-offline.png"))
        .await;

    gateway.run().await;
    sent_exactly_once(browser, store, &ids).await;
}

pub async fn three_sales_with_the_gateway_paused(
    browser: &Browser,
    store: &Store,
    gateway: &OwnGateway,
) {
    gateway.pause();
    let mut ids = Vec::new();
    for queued in 1..=3 {
        ids.push(ring_queued_sale(browser, queued).await);
    }
    gateway.unpause().await;
    sent_exactly_once(browser, store, &ids).await;
}
