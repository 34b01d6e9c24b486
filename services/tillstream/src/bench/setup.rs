//! The bench's store, made through the REST API as the back office would: locations, the
//! demo catalog, plenty of stock, a manager (for returns) and one cashier per till. Made
//! idempotently, so runs can follow each other on the same system.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::json;

use super::till::Till;
use super::{BenchOptions, drawer};
use crate::rest::{Api, Dice};
use crate::seed::{import_catalog, receive_stock};

const PASSWORD: &str = "bench-pass-123";
const MANAGER: &str = "bench-manager";
/// Enough that a long flat-out run never sells a shelf empty (stock may go negative, but
/// a store would not run like that).
const STOCK: u32 = 1_000_000;

/// What the tills work with.
#[derive(Debug)]
pub struct Store {
    client: Client,
    url: String,
    locations: Vec<String>,
    products: Arc<Vec<(String, u64)>>,
    manager: Api,
    sessions: bool,
}

pub async fn prepare(client: &Client, options: &BenchOptions) -> Result<Store, String> {
    let admin = Api::login(
        client.clone(),
        &options.url,
        "admin",
        &options.admin_password,
    )
    .await?;
    admin
        .create(
            "/api/v1/users",
            &json!({"username": MANAGER, "password": PASSWORD, "role": "manager"}),
        )
        .await?;
    for n in 0..options.tills {
        admin
            .create(
                "/api/v1/users",
                &json!({"username": cashier(n), "password": PASSWORD, "role": "cashier"}),
            )
            .await?;
    }
    let mut locations = Vec::with_capacity(options.locations);
    for n in 0..options.locations.max(1) {
        let code = format!("BENCH{n}");
        admin
            .create(
                "/api/v1/locations",
                &json!({"code": code, "name": format!("Bench store {n}")}),
            )
            .await?;
        let listed = admin.get("/api/v1/locations?limit=200").await?;
        let id = listed["data"]
            .as_array()
            .and_then(|all| all.iter().find(|l| l["code"] == code.as_str()))
            .and_then(|l| l["id"].as_str())
            .ok_or(format!("location {code} is not listed"))?;
        locations.push(id.to_owned());
    }
    let products = import_catalog(&admin, options.products.max(1)).await?;
    // Stock once per location, not per run: a run that starts by receiving hundreds of lines
    // would measure the system digesting them.
    let mut unstocked = Vec::new();
    for location in &locations {
        if !stocked(&admin, location, &products).await {
            unstocked.push(location.clone());
        }
    }
    // Inventory learns of new products and locations from their events: retry until it has.
    let mut attempts = 0;
    while !unstocked.is_empty()
        && let Err(error) = receive_stock(&admin, &unstocked, &products, STOCK).await
    {
        attempts += 1;
        if attempts == 100 {
            return Err(error);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let manager = Api::login(client.clone(), &options.url, MANAGER, PASSWORD).await?;
    let store = Store {
        client: client.clone(),
        url: options.url.clone(),
        locations,
        products: Arc::new(products),
        manager,
        sessions: options.sessions,
    };
    store.wait_until_sales_can_sell().await?;
    Ok(store)
}

/// Whether the location holds at least half the bench's stock of the last product (the
/// last one a receipt adds).
async fn stocked(admin: &Api, location: &str, products: &[(String, u64)]) -> bool {
    let Some((product, _)) = products.last() else {
        return true;
    };
    let path = format!("/api/v1/stock?location_id={location}&product_id={product}");
    let Ok(levels) = admin.get(&path).await else {
        return false;
    };
    levels["data"][0]["on_hand"]
        .as_str()
        .and_then(|on_hand| on_hand.parse::<f64>().ok())
        .is_some_and(|on_hand| on_hand >= f64::from(STOCK / 2))
}

fn cashier(n: usize) -> String {
    format!("bench-till-{n}")
}

impl Store {
    /// Till `n`, logged in as its cashier, at its location.
    pub async fn till(&self, n: usize) -> Result<Till, String> {
        let api = Api::login(self.client.clone(), &self.url, &cashier(n), PASSWORD).await?;
        let location = self.locations[n % self.locations.len()].clone();
        let session = if self.sessions {
            let register = drawer::register(&self.manager, &location, n).await?;
            Some(drawer::open(&api, &register).await?)
        } else {
            None
        };
        Ok(Till {
            api,
            manager: self.manager.clone(),
            location,
            products: self.products.clone(),
            dice: Dice(0xBE4C_0000 + n as u64),
            session,
        })
    }

    /// Sales copies the catalog and the locations from their events: offers an underpaid
    /// sale of the last product at every location until the only complaint is the payment,
    /// so sales knows them all and the bench's counts hold nothing but its own sales.
    async fn wait_until_sales_can_sell(&self) -> Result<(), String> {
        let Some((last, _)) = self.products.last() else {
            return Ok(());
        };
        for location in &self.locations {
            let body = json!({"location_id": location,
                              "lines": [{"product_id": last, "quantity": 1}],
                              "payments": [{"method": "cash", "amount": "0.01"}]});
            let mut attempts = 0;
            loop {
                let (status, answer) = self
                    .manager
                    .send(reqwest::Method::POST, "/api/v1/sales", Some(&body))
                    .await?;
                let only_payment = answer["error"]["details"]
                    .as_array()
                    .is_some_and(|details| {
                        details.iter().all(|d| {
                            d["field"]
                                .as_str()
                                .is_some_and(|f| f.starts_with("payments"))
                        })
                    });
                if status == StatusCode::UNPROCESSABLE_ENTITY && only_payment {
                    break;
                }
                attempts += 1;
                if attempts == 150 {
                    return Err(format!(
                        "sales cannot sell at {location}: {status} {answer}"
                    ));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(())
    }
}
