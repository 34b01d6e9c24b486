//! A till that needs a manager for every sale (each rings a 12.99 item at 9.99 with a
//! `price_override` approval) while the sales process is killed under it. The till does
//! what a real one does: a sale that got no answer is sent again with the same
//! `Idempotency-Key` and the same approval until it gets one. Afterwards each sale the till
//! saw accepted names its approval, and each approval is spent: presented again, it is a 409
//! `approval_used`. The stores' side (every spent approval belongs to exactly one recorded
//! sale, and every recorded approval was spent) is among the invariants.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tillstream_test_support::unique_name;

use crate::stack::{ADMIN_PASSWORD, Stack};

const PASSWORD: &str = "fault-suite-till-1";

/// The till: a cashier's token, a location and the item it sells.
pub struct Till {
    client: reqwest::Client,
    base: String,
    cashier: String,
    manager: String,
    location: String,
    product: String,
}

/// A sale the till saw accepted, and the approval it used.
#[derive(Debug, Clone)]
pub struct Overridden {
    pub sale_id: String,
    pub approval_id: String,
    pub approval_token: String,
}

impl Till {
    /// A cashier, a manager, a location and a 12.99 item, through the REST API.
    pub async fn open(stack: &Stack) -> Till {
        let mut till = Till {
            client: reqwest::Client::new(),
            base: stack.url.clone(),
            cashier: String::new(),
            manager: unique_name("mgr").to_lowercase(),
            location: String::new(),
            product: String::new(),
        };
        let admin = till.login("admin", ADMIN_PASSWORD).await;
        let cashier = unique_name("csh").to_lowercase();
        for (name, role) in [(&cashier, "cashier"), (&till.manager, "manager")] {
            let body = json!({"username": name, "password": PASSWORD, "role": role});
            till.created("/api/v1/users", &admin, &body).await;
        }
        let code = format!("AP{}", &unique_name("l")[..6].to_uppercase());
        let body = json!({"code": code, "name": "Approvals"});
        till.location = id_of(&till.created("/api/v1/locations", &admin, &body).await);
        let body = json!({"sku": code, "name": "Boxed speaker", "price": "12.99", "tax_rate": "0"});
        till.product = id_of(&till.created("/api/v1/products", &admin, &body).await);
        // Goods on the shelf at a cost, as the bench's stores have: each sale's cost of goods
        // is booked like any other.
        let receipt = json!({"location_id": till.location,
                             "lines": [{"product_id": till.product, "quantity": "500", "unit_cost": "6.00"}]});
        // Inventory learns of the product from the catalog's event a moment later.
        for attempt in 0.. {
            let answer = till
                .client
                .post(format!("{}/api/v1/stock/receipts", till.base))
                .bearer_auth(&admin)
                .json(&receipt)
                .send()
                .await
                .unwrap();
            if answer.status() == StatusCode::CREATED {
                break;
            }
            assert!(
                attempt < 100,
                "the receipt was refused: {}",
                answer.status()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        till.cashier = till.login(&cashier, PASSWORD).await;
        till
    }

    /// Rings up `count` overridden sales, one after another, each with a fresh approval.
    pub async fn ring_overridden(&self, count: usize) -> Vec<Overridden> {
        let mut rung = Vec::with_capacity(count);
        for _ in 0..count {
            let approval = self.approval().await;
            let approval_id = approval["approval_id"].as_str().unwrap().to_owned();
            let approval_token = approval["approval_token"].as_str().unwrap().to_owned();
            let key = unique_name("ovr");
            let sale = self.sell(&approval_token, &key).await;
            rung.push(Overridden {
                sale_id: sale["id"].as_str().unwrap().to_owned(),
                approval_id,
                approval_token,
            });
        }
        rung
    }

    /// Checks what the till saw: each sale names its approval, and each approval presented
    /// again on a new sale is refused as used. The failures, if any.
    pub async fn check(&self, rung: &[Overridden]) -> Vec<String> {
        let mut failures = Vec::new();
        for sold in rung {
            let path = format!("/api/v1/sales/{}", sold.sale_id);
            let (status, body) = self.until_answered("GET", &path, None, None).await;
            let used = body["approvals"]
                .as_array()
                .map(|all| {
                    all.iter()
                        .filter(|a| a["approval_id"] == sold.approval_id.as_str())
                        .count()
                })
                .unwrap_or_default();
            if status != StatusCode::OK || used != 1 {
                failures.push(format!(
                    "sale {} ({status}) does not name approval {} once: {body}",
                    sold.sale_id, sold.approval_id
                ));
            }
            let key = unique_name("replay");
            let (status, body) = self
                .until_answered(
                    "POST",
                    "/api/v1/sales",
                    Some(&sold.approval_token),
                    Some(&key),
                )
                .await;
            if status != StatusCode::CONFLICT || body["error"]["code"] != "approval_used" {
                failures.push(format!(
                    "approval {} presented again was answered {status}: {body}",
                    sold.approval_id
                ));
            }
        }
        failures
    }

    async fn approval(&self) -> Value {
        let body =
            json!({"username": self.manager, "password": PASSWORD, "action": "price_override"});
        loop {
            match self
                .send("POST", "/api/v1/auth/approvals", Some(&body), &[])
                .await
            {
                Some((StatusCode::CREATED, approval)) => return approval,
                Some((status, body)) if status.is_client_error() => {
                    panic!("the manager's approval was refused: {status} {body}")
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// The overridden sale, sent until it is answered 201.
    async fn sell(&self, approval: &str, key: &str) -> Value {
        let (status, body) = self
            .until_answered("POST", "/api/v1/sales", Some(approval), Some(key))
            .await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "an overridden sale sent again with its key and approval: {body}"
        );
        body
    }

    /// Sends until the answer is neither a failure of the system (5xx, no answer) nor a
    /// request still in progress elsewhere; the POST is the overridden sale.
    async fn until_answered(
        &self,
        method: &str,
        path: &str,
        approval: Option<&str>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let sale = json!({
            "location_id": self.location,
            "lines": [{"product_id": self.product, "quantity": "1", "unit_price": "9.99"}],
            "payments": [{"method": "cash", "amount": "10.00"}]
        });
        let mut headers = Vec::new();
        if let Some(approval) = approval {
            headers.push(("X-Approval", approval));
        }
        if let Some(key) = key {
            headers.push(("Idempotency-Key", key));
        }
        let body = (method == "POST").then_some(&sale);
        for _ in 0..600 {
            match self.send(method, path, body, &headers).await {
                Some((status, body))
                    if !status.is_server_error()
                        && body["error"]["code"] != "idempotency_in_progress"
                        // Sales' copy of a new product arrives shortly after it is made.
                        && body["error"]["details"][0]["field"] != "lines[0].product_id" =>
                {
                    return (status, body);
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        panic!("{method} {path} got no answer within two minutes");
    }

    /// One request as the cashier; `None` when no answer came.
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Option<(StatusCode, Value)> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.cashier)
            .timeout(Duration::from_secs(10));
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.ok()?;
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        Some((status, body))
    }

    async fn login(&self, username: &str, password: &str) -> String {
        let body = json!({"username": username, "password": password});
        for _ in 0..300 {
            let answer = self
                .client
                .post(format!("{}/api/v1/auth/login", self.base))
                .json(&body)
                .send()
                .await;
            if let Ok(answer) = answer
                && answer.status() == StatusCode::OK
                && let Ok(tokens) = answer.json::<Value>().await
            {
                return tokens["access_token"].as_str().unwrap().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{username} could not log in");
    }

    async fn created(&self, path: &str, token: &str, body: &Value) -> Value {
        let answer = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {body}");
        body
    }
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().unwrap().to_owned()
}
