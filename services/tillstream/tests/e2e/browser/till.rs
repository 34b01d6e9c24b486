//! The register online: log in by PIN, open a session, ring a sale by barcode and keyboard
//! alone, a price change a manager must approve, the close with a count; then the tablet
//! layout and the back office's dashboard.

use serde_json::{Value, json};
use tillstream_test_support::eventually;

use super::webdriver::{Browser, ENTER, patiently};
use super::{Store, TEA_BARCODE, screenshot_path};

/// Logs carol in with her PIN and opens a session on T1 with a 100.00 float; the register's
/// first contentful paint, in ms.
pub async fn log_in_and_open(browser: &Browser, url: &str) -> f64 {
    browser.goto(url).await;
    browser.fill("Username", "carol").await;
    let paint = browser
        .script(
            "const p = performance.getEntriesByName('first-contentful-paint')[0]; return p ? p.startTime : -1;",
            json!([]),
        )
        .await
        .as_f64()
        .unwrap();
    assert!(paint >= 0.0, "the register reports a first paint");
    browser
        .screenshot(&screenshot_path("register-login.png"))
        .await;
    browser.fill("PIN", "4821").await;
    browser.press("Log in").await;
    browser.choose("Location", "S1").await;
    browser.choose("Register", "T1").await;
    browser.fill("Opening float", "100.00").await;
    browser.press("Open session").await;
    browser.field("Scan or search").await;
    assert_eq!(browser.text_of("#connection").await, "Online");
    paint
}

/// Scans the tea's barcode once; waits until the cart holds `quantity` of it.
pub async fn scan_tea(browser: &Browser, quantity: &str) {
    let scan = browser.field("Scan or search").await;
    browser
        .type_into(&scan, &format!("{TEA_BARCODE}{ENTER}"))
        .await;
    let selector = "[aria-label='Quantity of Green tea']";
    patiently("the scanned tea is in the cart", || async {
        let value = browser
            .script(
                "const e = document.querySelector(arguments[0]); return e ? e.value : null;",
                json!([selector]),
            )
            .await;
        (value == quantity).then_some(())
    })
    .await;
}

/// Ten teas by barcode, 40.00 cash typed and Enter, then Enter on "Complete sale": the
/// receipt shows the sale number and 5.00 change, and the API has that sale. Its number.
pub async fn scan_and_pay_cash(browser: &Browser, store: &Store) -> String {
    for quantity in 1..=10 {
        scan_tea(browser, &quantity.to_string()).await;
    }
    assert_eq!(browser.text_of("#sale-total").await, "35.00");
    browser
        .screenshot(&screenshot_path("register-sale.png"))
        .await;
    // Keyboard only: the amount and Enter tenders cash, focus moves to "Complete sale".
    browser
        .fill("Amount tendered", &format!("40.00{ENTER}"))
        .await;
    browser.wait_text("#due", |due| due == "Change: 5.00").await;
    let focused = browser.active().await;
    assert_eq!(browser.text(&focused).await, "Complete sale");
    browser.type_into(&focused, ENTER).await;

    let number = browser
        .wait_text("#receipt-change", |change| change == "5.00")
        .await;
    assert_eq!(number, "5.00");
    let number = browser.text_of(".receipt .sale-number").await;
    assert!(number.starts_with("S1-"), "sale number {number:?}");
    browser
        .screenshot(&screenshot_path("register-receipt.png"))
        .await;
    let sale = store.sale(&number).await;
    assert_eq!(
        (
            &sale["total"],
            &sale["change"],
            &sale["lines"][0]["quantity"]
        ),
        (&json!("35.00"), &json!("5.00"), &json!("10")),
        "{sale}"
    );
    assert_eq!(sale["payments"][0]["method"], "cash");
    let next = browser.active().await;
    assert_eq!(browser.text(&next).await, "New sale");
    browser.type_into(&next, ENTER).await;
    browser.field("Scan or search").await;
    number
}

/// "Complete sale", answered live: the receipt's sale number.
async fn complete(browser: &Browser) -> String {
    browser.press("Complete sale").await;
    browser
        .wait_text(".receipt .sale-number", |number| number.starts_with("S1-"))
        .await
}

/// `count` sales of one tea paid by card, each answered live with its sale number; the
/// numbers.
pub async fn card_sales(browser: &Browser, count: usize) -> Vec<String> {
    let mut numbers = Vec::new();
    for _ in 0..count {
        scan_tea(browser, "1").await;
        browser.press("Card").await;
        browser.wait_text("#due", |due| due == "Change: 0.00").await;
        let number = complete(browser).await;
        numbers.push(number);
        browser.press("New sale").await;
    }
    numbers
}

/// Two teas for a new customer, paid 2.00 by card and the rest in cash: the sale has both
/// tenders and the customer.
pub async fn split_sale_for_a_new_customer(browser: &Browser, store: &Store) {
    scan_tea(browser, "1").await;
    scan_tea(browser, "2").await;
    browser.press("Customer").await;
    browser.fill("Find customer", "Ada Lovelace").await;
    browser
        .fill("Phone (new customer)", "+44 20 7946 0000")
        .await;
    browser.press_in_dialog("Find or add").await;
    browser.button("Customer: Ada Lovelace").await;
    browser.fill("Amount tendered", "2.00").await;
    browser.press("Card").await;
    browser.wait_text("#due", |due| due == "To pay: 5.00").await;
    browser.press("Cash").await;
    browser.wait_text("#due", |due| due == "Change: 0.00").await;
    let number = complete(browser).await;
    let sale = store.sale(&number).await;
    let tenders: Vec<_> = sale["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["method"].as_str().unwrap(), p["amount"].as_str().unwrap()))
        .collect();
    assert_eq!(tenders, [("card", "2.00"), ("cash", "5.00")], "{sale}");
    let customer = sale["customer_id"].as_str().unwrap();
    let customer = store
        .api
        .get(&format!("/api/v1/customers/{customer}"), &store.admin)
        .await
        .body;
    assert_eq!(customer["name"], "Ada Lovelace", "{customer}");
    browser.press("New sale").await;
}

/// A gift card of 20.00 issued over the API pays for one tea at the till: the card's code is
/// typed in the dialog "Gift card" opens, and the card keeps 16.50.
pub async fn gift_card_sale(browser: &Browser, store: &Store) {
    let issued = store
        .api
        .create(
            "/api/v1/gift-cards",
            &store.admin,
            &json!({"amount": "20.00", "payments": [{"method": "card", "amount": "20.00"}],
                    "location_id": store.location}),
        )
        .await;
    let code = issued["code"].as_str().unwrap();
    scan_tea(browser, "1").await;
    browser.press("Gift card").await;
    browser.fill("Gift card code", code).await;
    browser.press_in_dialog("Use card").await;
    browser.wait_text("#due", |due| due == "Change: 0.00").await;
    let number = complete(browser).await;
    let sale = store.sale(&number).await;
    assert_eq!(sale["payments"][0]["method"], "gift_card", "{sale}");
    let card = store
        .api
        .get(&format!("/api/v1/gift-cards/{code}"), &store.admin)
        .await
        .body;
    assert_eq!(card["balance"], "16.50", "{card}");
    browser.press("New sale").await;
}

/// The manager's username and PIN in the approval dialog the register opened.
async fn approve(browser: &Browser) {
    browser.fill("Manager username", "maya").await;
    browser.fill("Manager PIN", "9090").await;
    browser.press_in_dialog("Approve").await;
}

/// The X report in its dialog; one tea of the cash sale `returned` taken back, and the card
/// sale `voided` voided, each approved by the manager's PIN.
pub async fn report_return_and_void(
    browser: &Browser,
    store: &Store,
    returned: &str,
    voided: &str,
) {
    browser.press("X report").await;
    browser.wait_heading("X report").await;
    let report = browser.text_of("#dialog table").await;
    assert!(report.contains("Expected cash"), "{report}");
    browser.press_in_dialog("Done").await;

    browser.press("Return").await;
    browser.fill("Sale number", returned).await;
    browser.press_in_dialog("Find").await;
    let quantity = browser
        .xpath("//dialog[@open]//input[starts-with(@aria-label, 'Return quantity of')]")
        .await;
    browser.clear(&quantity).await;
    browser.type_into(&quantity, "1").await;
    browser.fill("Reason", "Damaged box").await;
    browser.press_in_dialog("Take return").await;
    approve(browser).await;
    browser.field("Scan or search").await;
    let sale = eventually("the return is on the sale", || async {
        let sale = store.sale(returned).await;
        (sale["returns"].as_array()?.len() == 1).then_some(sale)
    })
    .await;
    assert_eq!(sale["returns"][0]["lines"][0]["quantity"], "1", "{sale}");

    browser.press("Void").await;
    browser.fill("Sale number", voided).await;
    browser.fill("Reason", "Rung twice").await;
    browser.press_in_dialog("Void sale").await;
    approve(browser).await;
    browser.field("Scan or search").await;
    eventually("the sale is voided", || async {
        (store.sale(voided).await["status"] == "voided").then_some(())
    })
    .await;
}

/// The cashier rings the tea at 1.00: nothing is sold until a manager's PIN approves it
/// (a wrong PIN is refused), and the sale then records who approved.
pub async fn override_needs_a_manager(browser: &Browser, store: &Store) {
    let before = store.sales().await.len();
    scan_tea(browser, "1").await;
    let price = browser
        .xpath("//button[@aria-label='Change price of Green tea']")
        .await;
    browser.click(&price).await;
    browser.fill("Unit price", "1.00").await;
    browser.press_in_dialog("Set price").await;
    browser.wait_text("#sale-total", |t| t == "1.00").await;
    browser.press("Cash").await;
    browser.press("Complete sale").await;

    browser.fill("Manager username", "maya").await;
    browser.fill("Manager PIN", "0000").await;
    browser.press_in_dialog("Approve").await;
    browser
        .wait_text("#dialog .error", |error| !error.is_empty())
        .await;
    assert_eq!(
        store.sales().await.len(),
        before,
        "refused: nothing sold yet"
    );
    browser.fill("Manager PIN", "9090").await;
    browser.press_in_dialog("Approve").await;
    browser
        .wait_text("#receipt-total", |total| total == "1.00")
        .await;
    let number = browser.text_of(".receipt .sale-number").await;
    let sale = store.sale(&number).await;
    assert_eq!(sale["lines"][0]["unit_price"], "1.00", "{sale}");
    let approvals = sale["approvals"].as_array().cloned().unwrap_or_default();
    assert!(
        approvals.iter().any(|a| a["action"] == "price_override"),
        "the sale records the manager's approval: {sale}"
    );
    assert_eq!(store.sales().await.len(), before + 1);
    browser.press("New sale").await;
}

/// What the register measured of itself: scan-to-line and sale round-trip times, in ms.
pub async fn measurements(browser: &Browser) -> (Vec<f64>, Vec<f64>) {
    let metrics = browser
        .script("return window.tillstreamMetrics;", json!([]))
        .await;
    let list = |name: &str| -> Vec<f64> {
        metrics[name]
            .as_array()
            .map(|values| values.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    (list("scanToLine"), list("saleRoundTrip"))
}

/// Closes the session with the cash the report expects: no difference, the Z report shown.
pub async fn close_with_the_count(browser: &Browser, store: &Store, sales: u64, voids: u64) {
    let till = browser
        .script(
            "return JSON.parse(localStorage.getItem('tillstream.till'));",
            json!([]),
        )
        .await;
    let session = till["session_id"].as_str().unwrap().to_owned();
    let report = eventually("the session's report counts every sale", || async {
        let report = store
            .api
            .get(&format!("/api/v1/sessions/{session}/report"), &store.admin)
            .await
            .body;
        let counts = (
            report["sales_count"].as_u64()?,
            report["voids_count"].as_u64()?,
        );
        (counts == (sales, voids)).then_some(report)
    })
    .await;
    let expected = report["expected_cash"].as_str().unwrap().to_owned();
    browser.press("Close session").await;
    browser.fill("Counted cash", &expected).await;
    browser.press_in_dialog("Close session").await;
    let title = browser
        .wait_text("#dialog-title", |t| t.starts_with("Z report"))
        .await;
    assert!(title.starts_with("Z report"), "{title}");
    browser
        .screenshot(&screenshot_path("register-z-report.png"))
        .await;
    browser.press_in_dialog("Done").await;
    browser.button("Open session").await;
    let closed = store
        .api
        .get(&format!("/api/v1/sessions/{session}"), &store.admin)
        .await
        .body;
    assert_eq!(closed["status"], "closed", "{closed}");
    assert_eq!(closed["counted_cash"], json!(expected), "{closed}");
}

/// On a 10-inch tablet held upright (800×1280) nothing of a sale runs off the side of the
/// page. The tea scanned for it is taken off again.
pub async fn tablet_layout(browser: &Browser) {
    scan_tea(browser, "1").await;
    browser.resize(800, 1280).await;
    let overflow = browser
        .script(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            json!([]),
        )
        .await;
    assert!(overflow.as_i64().unwrap() <= 0, "overflows by {overflow}");
    browser
        .screenshot(&screenshot_path("register-tablet.png"))
        .await;
    browser.resize(1280, 800).await;
    let remove = browser
        .xpath("//button[@aria-label='Remove Green tea']")
        .await;
    browser.click(&remove).await;
    browser
        .wait_text("#sale-total", |total| total == "0.00")
        .await;
}
