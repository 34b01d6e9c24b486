//! `tillstream seed demo`: a realistic store through the gateway's REST API, as the back
//! office and the tills would build it — staff, two locations, a catalog with barcodes
//! (one CSV import), stock received at both, and a week of sales uploaded as the tills'
//! offline batches with the times they were rung up. Running it again adds another week of
//! sales and leaves the rest as it is.

use std::process::ExitCode;
use std::time::Duration;

use chrono::{Duration as Days, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tillstream_kernel::Ulid;

/// What to create.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// The gateway, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// The bootstrap admin's password.
    pub admin_password: String,
    pub products: usize,
    pub days: usize,
    /// Per location and day.
    pub sales_per_day: usize,
}

const STAFF: [(&str, &str); 3] = [("mara", "manager"), ("cal", "cashier"), ("cas", "cashier")];
const STAFF_PASSWORD: &str = "demo-pass-123";
const LOCATIONS: [(&str, &str); 2] = [("DT", "Downtown"), ("HB", "Harbour")];
const KINDS: [(&str, &str); 8] = [
    ("Green tea", "tea"),
    ("Black tea", "tea"),
    ("Coffee beans", "coffee"),
    ("Ground coffee", "coffee"),
    ("Dark chocolate", "sweets"),
    ("Shortbread", "sweets"),
    ("Ceramic mug", "homeware"),
    ("Honey jar", "pantry"),
];
/// Sales per batch request (the gateway takes up to 1,000).
const BATCH: usize = 500;

pub async fn run(options: SeedOptions) -> ExitCode {
    match seed(&options).await {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("tillstream: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A bar on stderr for `len` steps of `what` (drawn only on a terminal).
fn progress(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(u64::try_from(len).unwrap_or(u64::MAX));
    if let Ok(style) = ProgressStyle::with_template("{msg:>16} [{bar:40}] {pos}/{len} {eta}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// A small deterministic generator: the demo is the same store every time.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from((self.0 >> 33) % n.max(1) as u64).unwrap_or(0)
    }
}

struct Api {
    client: Client,
    url: String,
    token: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), String> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// POSTs `body`; a 409 (already there from an earlier run) is fine.
    async fn create(&self, path: &str, body: &Value) -> Result<Value, String> {
        match self.send(reqwest::Method::POST, path, Some(body)).await? {
            (status, body) if status.is_success() || status == StatusCode::CONFLICT => Ok(body),
            (status, body) => Err(format!("POST {path}: {status} {body}")),
        }
    }

    async fn get(&self, path: &str) -> Result<Value, String> {
        match self.send(reqwest::Method::GET, path, None).await? {
            (status, body) if status.is_success() => Ok(body),
            (status, body) => Err(format!("GET {path}: {status} {body}")),
        }
    }
}

async fn seed(options: &SeedOptions) -> Result<String, String> {
    let client = Client::new();
    let login = client
        .post(format!("{}/api/v1/auth/login", options.url))
        .json(&json!({"username": "admin", "password": options.admin_password}))
        .send()
        .await
        .map_err(|e| format!("the gateway at {}: {e}", options.url))?;
    if !login.status().is_success() {
        return Err(format!("logging in as admin: {}", login.status()));
    }
    let tokens: Value = login.json().await.map_err(|e| e.to_string())?;
    let api = Api {
        client,
        url: options.url.clone(),
        token: tokens["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    };

    for (username, role) in STAFF {
        api.create(
            "/api/v1/users",
            &json!({"username": username, "password": STAFF_PASSWORD, "role": role}),
        )
        .await?;
    }
    for (code, name) in LOCATIONS {
        api.create("/api/v1/locations", &json!({"code": code, "name": name}))
            .await?;
    }
    let listed = api.get("/api/v1/locations?limit=200").await?;
    let locations: Vec<String> = LOCATIONS
        .iter()
        .filter_map(|(code, _)| {
            listed["data"]
                .as_array()?
                .iter()
                .find(|l| l["code"] == *code)?["id"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    if locations.len() != LOCATIONS.len() {
        return Err("the demo locations are not listed".into());
    }

    let products = import_catalog(&api, options.products).await?;
    receive_stock(&api, &locations, &products).await?;
    let sales = ring_up_week(&api, &locations, &products, options).await?;
    Ok(serde_json::to_string(&json!({
        "users": STAFF.iter().map(|(u, r)| json!({"username": u, "role": r, "password": STAFF_PASSWORD})).collect::<Vec<_>>(),
        "locations": LOCATIONS.len(),
        "products": products.len(),
        "sales": sales,
    }))
    .unwrap_or_default())
}

/// An EAN-13 in the in-store range (prefix 20) with its check digit.
fn ean13(n: usize) -> String {
    let body = format!("20{n:010}");
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// The catalog as one CSV import (upserted, so a second run changes nothing); the product
/// ids with their prices in cents.
async fn import_catalog(api: &Api, count: usize) -> Result<Vec<(String, u64)>, String> {
    let mut csv = String::from("sku,name,price,tax_rate,barcode,category\n");
    let mut prices = Vec::with_capacity(count);
    for n in 0..count {
        let (kind, category) = KINDS[n % KINDS.len()];
        let cents = 149 + (n as u64 * 37) % 2_500;
        prices.push(cents);
        csv.push_str(&format!(
            "DEMO-{n:05},{kind} no. {},{}.{:02},0.08,{},{category}\n",
            n / KINDS.len() + 1,
            cents / 100,
            cents % 100,
            ean13(n)
        ));
    }
    let response = api
        .client
        .post(format!("{}/api/v1/products/imports?mode=upsert", api.url))
        .bearer_auth(&api.token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .map_err(|e| format!("importing the catalog: {e}"))?;
    let job: Value = response.json().await.map_err(|e| e.to_string())?;
    let id = job["id"]
        .as_str()
        .ok_or(format!("import refused: {job}"))?
        .to_owned();
    loop {
        let job = api.get(&format!("/api/v1/products/imports/{id}")).await?;
        match job["status"].as_str() {
            Some("completed") => break,
            Some("completed_with_errors") => return Err(format!("the import had errors: {job}")),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let mut products = Vec::with_capacity(count);
    let bar = progress(count, "products");
    for (n, cents) in prices.into_iter().enumerate() {
        bar.inc(1);
        let product = api
            .get(&format!("/api/v1/products/lookup?sku=DEMO-{n:05}"))
            .await?;
        let id = product["id"].as_str().ok_or("a product without an id")?;
        products.push((id.to_owned(), cents));
    }
    bar.finish_and_clear();
    Ok(products)
}

/// 200 of everything at each location, at a cost a little over half the price.
async fn receive_stock(
    api: &Api,
    locations: &[String],
    products: &[(String, u64)],
) -> Result<(), String> {
    for location in locations {
        for chunk in products.chunks(500) {
            let lines: Vec<Value> = chunk
                .iter()
                .map(|(id, cents)| {
                    let cost = cents * 55 / 100;
                    json!({"product_id": id, "quantity": 200, "unit_cost": format!("{}.{:02}", cost / 100, cost % 100)})
                })
                .collect();
            api.create(
                "/api/v1/stock/receipts",
                &json!({"location_id": location, "supplier": "Demo Wholesale", "lines": lines}),
            )
            .await?;
        }
    }
    Ok(())
}

/// `days` of sales before today at each location, uploaded as offline batches: 1–5 lines,
/// cash with change or part card, a discount now and then.
async fn ring_up_week(
    api: &Api,
    locations: &[String],
    products: &[(String, u64)],
    options: &SeedOptions,
) -> Result<usize, String> {
    let mut dice = Dice(0x5EED);
    let mut sales = Vec::new();
    let today = Utc::now().date_naive();
    for day in (1..=options.days).rev() {
        let date = today - Days::days(i64::try_from(day).unwrap_or(1));
        for location in locations {
            for n in 0..options.sales_per_day {
                let minutes = 9 * 60 + (n * 600 / options.sales_per_day.max(1));
                let captured_at = format!("{date}T{:02}:{:02}:00Z", minutes / 60, minutes % 60);
                let lines: Vec<Value> = (0..1 + dice.below(5))
                    .map(|_| {
                        let (id, _) = &products[dice.below(products.len())];
                        let mut line = json!({"product_id": id, "quantity": 1 + dice.below(3)});
                        if dice.below(10) == 0 {
                            line["discount"] = json!({"percent": "10"});
                        }
                        line
                    })
                    .collect();
                let payments = if dice.below(2) == 0 {
                    json!([{"method": "cash", "amount": "500.00"}])
                } else {
                    json!([{"method": "card", "amount": "1.00"}, {"method": "cash", "amount": "500.00"}])
                };
                sales.push(json!({
                    "id": Ulid::generate().to_string(),
                    "location_id": location,
                    "captured_at": captured_at,
                    "lines": lines,
                    "payments": payments,
                }));
            }
        }
    }
    let mut created = 0;
    let bar = progress(sales.len(), "sales");
    for batch in sales.chunks(BATCH) {
        bar.inc(u64::try_from(batch.len()).unwrap_or(0));
        let answer = api
            .create("/api/v1/sales/batch", &json!({"sales": batch}))
            .await?;
        for result in answer["results"].as_array().into_iter().flatten() {
            match result["status"].as_str() {
                Some("created" | "already_recorded") => created += 1,
                _ => return Err(format!("a demo sale was refused: {result}")),
            }
        }
    }
    bar.finish_and_clear();
    Ok(created)
}
