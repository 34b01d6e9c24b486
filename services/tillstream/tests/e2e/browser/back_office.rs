//! The back office in the browser: the manager's dashboard and each section by name.

use serde_json::json;

use super::webdriver::Browser;
use super::{Store, screenshot_path};

/// The manager's dashboard counts the day's sales as the API does, and the back office's
/// sections are there by name.
pub async fn the_dashboard_shows_the_days_sales(browser: &Browser, store: &Store, url: &str) {
    browser.press("Log out").await;
    browser.field("Username").await;
    browser.goto(&format!("{url}/admin")).await;
    browser.fill("Username", "admin").await;
    browser.fill("Password", &store.admin_password).await;
    browser.press("Log in").await;
    let from = browser
        .script(
            "const d = new Date(); return new Date(d.getFullYear(), d.getMonth(), d.getDate()).toISOString();",
            json!([]),
        )
        .await;
    let from = from.as_str().unwrap().to_owned();
    let counted = store
        .api
        .get(&format!("/api/v1/sales?from={from}&limit=1"), &store.admin)
        .await
        .body;
    let today = counted["meta"]["total"].as_u64().unwrap();
    browser
        .wait_text("#sales-today", |text| {
            text == format!("Sales today: {today}")
        })
        .await;
    // The takings leave the voided sale out.
    let listed = store
        .api
        .get(
            &format!("/api/v1/sales?from={from}&limit=200"),
            &store.admin,
        )
        .await
        .body;
    let takings: i64 = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|sale| sale["status"] != "voided")
        .map(|sale| cents(sale["total"].as_str().unwrap()))
        .sum();
    let shown = browser.text_of("#sales-today-total .total").await;
    assert_eq!(cents(&shown), takings, "takings {shown}");
    browser
        .screenshot(&screenshot_path("admin-dashboard.png"))
        .await;
    let sections = [
        "Products",
        "Stock",
        "Sales",
        "Sessions",
        "Customers",
        "Purchase orders",
        "Repairs",
        "Dashboard",
    ];
    for section in sections {
        let link = browser
            .xpath(&format!("//nav//a[normalize-space(.)='{section}']"))
            .await;
        browser.click(&link).await;
        browser.wait_heading(section).await;
        // Each view loads what it shows without an error line.
        let script = "return [...document.querySelectorAll('[role=alert]')].map((e) => e.textContent).join('');";
        let errors = browser.script(script, json!([])).await;
        assert_eq!(errors, "", "{section}");
    }
}

/// "81.50" in cents.
fn cents(amount: &str) -> i64 {
    let (units, hundredths) = amount.split_once('.').unwrap_or((amount, "0"));
    units.parse::<i64>().unwrap() * 100 + format!("{hundredths:0<2}").parse::<i64>().unwrap()
}
