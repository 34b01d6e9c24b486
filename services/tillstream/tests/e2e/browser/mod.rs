//! The web register and the back office in headless Chromium, driven as a cashier and a
//! manager drive them: by the names a screen reader reads out. The store is set up over
//! the API; everything the cashier does goes through the page, and what the page did is
//! checked over the API afterwards.

mod back_office;
mod gateway;
mod offline;
mod till;
mod webdriver;

use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tillstream_test_support::eventually;

use crate::api::Api;
use crate::system::System;
use gateway::OwnGateway;
use webdriver::Browser;

pub const TEA_BARCODE: &str = "4006381333931";

/// What the test set up over the API.
pub struct Store {
    pub api: Api,
    pub admin: String,
    pub admin_password: String,
    pub location: String,
    pub tea: String,
}

/// Where the screenshots go: the test's scratch directory (docs/screenshots holds copies).
pub fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("screenshots")
        .join(name)
}

/// A cashier with PIN 4821, a manager with PIN 9090, shop S1 with register T1, green tea at
/// 3.50 (no tax) with a barcode and 100 in stock.
async fn open_store(system: &System) -> Store {
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    for (name, role, pin) in [("carol", "cashier", "4821"), ("maya", "manager", "9090")] {
        let body = json!({"username": name, "password": "till-pass-123", "role": role});
        let user = api.create("/api/v1/users", &admin, &body).await;
        let id = user["id"].as_str().unwrap();
        let set = api
            .post(
                &format!("/api/v1/users/{id}/pin"),
                &admin,
                &json!({"pin": pin}),
            )
            .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    }
    let location = api
        .create(
            "/api/v1/locations",
            &admin,
            &json!({"code": "S1", "name": "Main Street"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tea = api
        .create(
            "/api/v1/products",
            &admin,
            &json!({"sku": "TEA", "name": "Green tea", "price": "3.50", "tax_rate": "0",
                    "barcodes": [TEA_BARCODE]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.receive_stock(
        &admin,
        &json!({"location_id": location, "lines": [
            {"product_id": tea, "quantity": 100, "unit_cost": "1.20"}]}),
    )
    .await;
    let register = json!({"location_id": location, "code": "T1", "name": "Front till"});
    eventually("sales knows the location", || async {
        let answer = api.post("/api/v1/registers", &admin, &register).await;
        (answer.status == StatusCode::CREATED).then_some(())
    })
    .await;
    let sale = json!({"location_id": location, "lines": [{"product_id": tea, "quantity": 1}],
                      "payments": [{"method": "card", "amount": "3.50"}]});
    eventually("sales knows the tea", || async {
        let answer = api.post("/api/v1/sales", &admin, &sale).await;
        (answer.status == StatusCode::CREATED).then_some(())
    })
    .await;
    Store {
        api,
        admin,
        admin_password: system.admin_password.clone(),
        location,
        tea,
    }
}

impl Store {
    /// The sale with this id or number.
    pub async fn sale(&self, id_or_number: &str) -> Value {
        let sale = self
            .api
            .get(&format!("/api/v1/sales/{id_or_number}"), &self.admin)
            .await;
        assert_eq!(sale.status, StatusCode::OK, "{}", sale.body);
        sale.body
    }

    /// Every sale the API lists (newest first), up to 200.
    pub async fn sales(&self) -> Vec<Value> {
        let listed = self.api.get("/api/v1/sales?limit=200", &self.admin).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        listed.body["data"].as_array().unwrap().clone()
    }
}

#[tokio::test]
async fn a_cashier_runs_a_shift_in_the_web_register_online_offline_and_paused() {
    let system = System::up().await;
    let store = open_store(&system).await;
    let mut gateway = OwnGateway::start(&system).await;
    let browser = Browser::start(1280, 800).await;

    let first_paint = till::log_in_and_open(&browser, &gateway.url).await;
    let sale_number = till::scan_and_pay_cash(&browser, &store).await;
    let by_card = till::card_sales(&browser, 4).await;
    till::split_sale_for_a_new_customer(&browser, &store).await;
    till::gift_card_sale(&browser, &store).await;
    till::override_needs_a_manager(&browser, &store).await;
    let (scan_to_line, round_trip) = till::measurements(&browser).await;
    // The last sale waited for a manager to type a PIN: not the system's time.
    let plain = &round_trip[..round_trip.len().saturating_sub(1)];

    offline::three_sales_with_the_gateway_stopped(&browser, &store, &mut gateway).await;
    offline::three_sales_with_the_gateway_paused(&browser, &store, &gateway).await;

    till::report_return_and_void(&browser, &store, &sale_number, &by_card[0]).await;
    till::tablet_layout(&browser).await;
    // 1 + 4 + 1 + 1 + 1 online, 3 + 3 queued, one voided.
    till::close_with_the_count(&browser, &store, 13, 1).await;
    back_office::the_dashboard_shows_the_days_sales(&browser, &store, &gateway.url).await;

    eprintln!(
        "web register: first paint {first_paint:.0} ms; scan to line p50 {:.1} ms, p95 {:.1} ms \
         over {} scans; sale round trip as the cashier sees it p50 {:.0} ms, max {:.0} ms over \
         {} sales without an approval; first sale {sale_number}",
        percentile(&scan_to_line, 50),
        percentile(&scan_to_line, 95),
        scan_to_line.len(),
        percentile(plain, 50),
        percentile(plain, 100),
        plain.len(),
    );
    browser.quit().await;
    system.stop().await;
}

/// The `p`th percentile (nearest rank) of `values`.
pub fn percentile(values: &[f64], p: usize) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}
