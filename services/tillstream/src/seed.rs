//! `tillstream seed demo`: a realistic store through the gateway's REST API, as the back
//! office and the tills would build it — staff, two locations, a catalog with barcodes
//! (one CSV import), stock received at both, and a week of sales uploaded as the tills'
//! offline batches with the times they were rung up. Running it again adds another week of
//! sales and leaves the rest as it is.

use std::process::ExitCode;
use std::time::Duration;

use chrono::{Duration as Days, Utc};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tillstream_catalog::domain::barcode::in_store_ean13;
use tillstream_kernel::Ulid;

use crate::rest::{Api, Dice, progress};

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

async fn seed(options: &SeedOptions) -> Result<String, String> {
    let api = Api::login(
        Client::new(),
        &options.url,
        "admin",
        &options.admin_password,
    )
    .await?;

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
    receive_stock(&api, &locations, &products, 200).await?;
    let sales = ring_up_week(&api, &locations, &products, options).await?;
    Ok(serde_json::to_string(&json!({
        "users": STAFF.iter().map(|(u, r)| json!({"username": u, "role": r, "password": STAFF_PASSWORD})).collect::<Vec<_>>(),
        "locations": LOCATIONS.len(),
        "products": products.len(),
        "sales": sales,
    }))
    .unwrap_or_default())
}

/// The catalog as one CSV import (upserted, so a second run changes nothing); the product
/// ids with their prices in cents.
pub(crate) async fn import_catalog(api: &Api, count: usize) -> Result<Vec<(String, u64)>, String> {
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
            in_store_ean13(n)
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
    let bar = progress(count as u64, "products");
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

/// `quantity` of everything at each location, at a cost a little over half the price.
pub(crate) async fn receive_stock(
    api: &Api,
    locations: &[String],
    products: &[(String, u64)],
    quantity: u32,
) -> Result<(), String> {
    for location in locations {
        for chunk in products.chunks(500) {
            let lines: Vec<Value> = chunk
                .iter()
                .map(|(id, cents)| {
                    let cost = cents * 55 / 100;
                    json!({"product_id": id, "quantity": quantity, "unit_cost": format!("{}.{:02}", cost / 100, cost % 100)})
                })
                .collect();
            let receipt =
                json!({"location_id": location, "supplier": "Demo Wholesale", "lines": lines});
            receive_once_known(api, &receipt).await?;
        }
    }
    Ok(())
}

/// How long a receipt waits for inventory to hear of products the catalog just created.
const NEW_PRODUCTS_PATIENCE: Duration = Duration::from_secs(30);

/// Posts `receipt`; one refused because inventory has not yet heard of a product (it learns
/// them from the catalog's stream, and waits only a moment for one it does not know: on a
/// busy machine the stream can be further behind) is sent again until it has. A 422 writes
/// nothing, so sending it again cannot receive twice.
async fn receive_once_known(api: &Api, receipt: &Value) -> Result<(), String> {
    let path = "/api/v1/stock/receipts";
    let deadline = tokio::time::Instant::now() + NEW_PRODUCTS_PATIENCE;
    loop {
        let (status, body) = api.send(Method::POST, path, Some(receipt)).await?;
        // A 409: there from an earlier run.
        if status.is_success() || status == StatusCode::CONFLICT {
            return Ok(());
        }
        if status != StatusCode::UNPROCESSABLE_ENTITY
            || !names_a_product(&body)
            || tokio::time::Instant::now() >= deadline
        {
            return Err(format!("POST {path}: {status} {body}"));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Whether a validation error is about a line's product (`lines[3].product_id`).
fn names_a_product(error: &Value) -> bool {
    error["error"]["details"].as_array().is_some_and(|details| {
        details.iter().any(|detail| {
            detail["field"]
                .as_str()
                .is_some_and(|field| field.starts_with("lines[") && field.ends_with("].product_id"))
        })
    })
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
    let bar = progress(sales.len() as u64, "sales");
    for batch in sales.chunks(BATCH) {
        bar.inc(u64::try_from(batch.len()).unwrap_or(0));
        let answer = api
            .create_again_if_unavailable("/api/v1/sales/batch", &json!({"sales": batch}))
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::names_a_product;

    #[test]
    fn only_a_lines_unknown_product_is_waited_for() {
        let error = |field: &str| json!({"error": {"code": "validation_failed", "details": [{"field": field, "message": "no"}]}});
        assert!(names_a_product(&error("lines[0].product_id")));
        assert!(names_a_product(&error("lines[12].product_id")));
        assert!(!names_a_product(&error("lines[0].quantity")));
        assert!(!names_a_product(&error("location_id")));
        assert!(!names_a_product(
            &json!({"error": {"code": "validation_failed"}})
        ));
    }
}
