//! Catalog, inventory and sales in this process on a private prefix, behind a gateway with
//! the rate limits off and a pinned signing key, with a location and `products` products
//! that sales can already sell: what the sales and registers benchmarks drive.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};
use tillstream_access::Role;
use tillstream_gateway::GatewaySettings;
use tillstream_service::{Launch, ServiceSettings};
use tillstream_test_support::grpc::SIGNER;
use tillstream_test_support::{TestDatabase, TestPrefix, stack_env, unique_name};
use tokio_util::sync::CancellationToken;

/// The environment a service reads its settings from.
type Env = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

pub struct SalesStack {
    /// The gateway, `http://host:port`.
    pub base: String,
    pub manager: String,
    pub cashier: String,
    pub location: String,
    pub sales_settings: ServiceSettings,
    pub client: reqwest::Client,
    stop: CancellationToken,
    dbs: Vec<TestDatabase>,
    db_prefix: String,
    prefix: TestPrefix,
}

impl std::fmt::Debug for SalesStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalesStack")
            .field("base", &self.base)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// A till's sale: 1–4 of the products, paid in cash with change.
pub fn sale(location: &str, n: usize, products: usize) -> Value {
    let lines: Vec<Value> = (0..1 + n % 4)
        .map(
            |i| json!({"sku": format!("SKU-{:02}", (n * 7 + i) % products), "quantity": 1 + i % 2}),
        )
        .collect();
    json!({"location_id": location, "lines": lines,
           "payments": [{"method": "cash", "amount": "500.00"}]})
}

async fn spawn_service(
    name: &'static str,
    env: &impl Fn() -> Env,
    stop: &CancellationToken,
    dbs: &mut Vec<TestDatabase>,
) -> anyhow::Result<(SocketAddr, ServiceSettings)> {
    let settings = ServiceSettings::from_lookup(name, "127.0.0.1:0", env())?;
    dbs.push(TestDatabase {
        server_url: settings.database_url.clone(),
        name: settings.database.clone(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let launch = Launch {
        settings: settings.clone(),
        listener,
        shutdown: stop.clone(),
    };
    match name {
        "catalog" => drop(tokio::spawn(tillstream_catalog::serve(launch))),
        "inventory" => drop(tokio::spawn(tillstream_inventory::serve(launch))),
        _ => drop(tokio::spawn(tillstream_sales::serve(launch))),
    }
    Ok((addr, settings))
}

impl SalesStack {
    pub async fn start(products: usize) -> anyhow::Result<SalesStack> {
        let prefix = TestPrefix::new();
        let db_prefix = unique_name("bench");
        let env = || -> Env { Box::new(stack_env(&prefix.prefix, &db_prefix)) };
        let stop = CancellationToken::new();
        let mut dbs = Vec::new();
        let (catalog, _) = spawn_service("catalog", &env, &stop, &mut dbs).await?;
        let (inventory, _) = spawn_service("inventory", &env, &stop, &mut dbs).await?;
        let (sales, sales_settings) = spawn_service("sales", &env, &stop, &mut dbs).await?;
        let gateway_settings = GatewaySettings::from_lookup(|name| match name {
            "TILLSTREAM_CATALOG_ADDR" => Some(catalog.to_string()),
            "TILLSTREAM_INVENTORY_ADDR" => Some(inventory.to_string()),
            "TILLSTREAM_SALES_ADDR" => Some(sales.to_string()),
            _ => None,
        })?;
        let mut state = tillstream_gateway::AppState::new(&gateway_settings);
        // One token drives every request: the per-user limit would measure itself.
        state.limits = std::sync::Arc::new(tillstream_gateway::limits::RateLimits::off());
        state.keys = tillstream_service::RefreshingKeys::pinned(SIGNER.key_set());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let app = tillstream_gateway::router(state);
        tokio::spawn({
            let stop = stop.clone();
            async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await
            }
        });
        let mut stack = SalesStack {
            base,
            manager: SIGNER.token(Role::Manager),
            cashier: SIGNER.token(Role::Cashier),
            location: String::new(),
            sales_settings,
            client: reqwest::Client::new(),
            stop,
            dbs,
            db_prefix,
            prefix,
        };
        let location = loop {
            let body = json!({"code": "B1", "name": "Bench"});
            match stack.post(&stack.manager, "/api/v1/locations", &body).await {
                Ok((201, location)) => break location,
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        stack.location = location["id"].as_str().context("a location id")?.to_owned();
        for i in 0..products {
            let product = json!({"sku": format!("SKU-{i:02}"), "name": format!("Product {i}"),
                                 "price": format!("{}.{:02}", 1 + i, (i * 37) % 100), "tax_rate": "0.08"});
            let (status, _) = stack
                .post(&stack.manager, "/api/v1/products", &product)
                .await?;
            anyhow::ensure!(status == 201, "product {i}");
        }
        // Ready once sales' copies know the location and every product.
        for n in 0..products {
            let body = sale(&stack.location, n * 4, products);
            while stack.post(&stack.cashier, "/api/v1/sales", &body).await?.0 != 201 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(stack)
    }

    /// POSTs `body` as `token`'s bearer; the status and the JSON answer.
    pub async fn post(
        &self,
        token: &str,
        path: &str,
        body: &Value,
    ) -> anyhow::Result<(u16, Value)> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// The settings another service of this stack starts with; its database is dropped
    /// with the stack.
    pub fn settings_for(&mut self, service: &'static str) -> anyhow::Result<ServiceSettings> {
        let env = stack_env(&self.prefix.prefix, &self.db_prefix);
        let settings = ServiceSettings::from_lookup(service, "127.0.0.1:0", env)?;
        self.dbs.push(TestDatabase {
            server_url: settings.database_url.clone(),
            name: settings.database.clone(),
        });
        Ok(settings)
    }

    /// A pool on the sales database.
    pub async fn sales_pool(&self) -> anyhow::Result<sqlx::PgPool> {
        Ok(sqlx::PgPool::connect(&format!(
            "{}/{}",
            self.sales_settings.database_url.trim_end_matches('/'),
            self.sales_settings.database
        ))
        .await?)
    }

    /// Stops the services and drops their databases.
    pub async fn stop(self) {
        self.stop.cancel();
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(self.dbs);
    }
}
