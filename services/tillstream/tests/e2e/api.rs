//! A POS frontend's view of the gateway: JSON over HTTP with a bearer token.

use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Api {
    client: reqwest::Client,
    base: String,
}

/// One answer: its status, its JSON body (or `Null`), its trace id and `Retry-After`.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub trace_id: Option<String>,
    pub retry_after: Option<String>,
    pub server_timing: Option<String>,
}

/// `answer` is a `status` with the contract's error body, naming `field` when given.
pub fn refused(answer: &Answer, status: StatusCode, field: Option<&str>) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert!(answer.body["error"]["code"].is_string(), "{}", answer.body);
    if let Some(field) = field {
        assert_eq!(
            answer.body["error"]["details"][0]["field"], field,
            "{}",
            answer.body
        );
    }
}

impl Api {
    pub fn new(base: &str) -> Self {
        Api {
            client: reqwest::Client::new(),
            base: base.to_owned(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let trace_id = header("x-trace-id");
        let (retry_after, server_timing) = (header("retry-after"), header("server-timing"));
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            body,
            trace_id,
            retry_after,
            server_timing,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(body), &[])
            .await
    }

    /// Posts without a token.
    pub async fn post_anonymous(&self, path: &str, body: &Value) -> Answer {
        self.call(Method::POST, path, None, Some(body), &[]).await
    }

    /// Logs in; the access token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let body = serde_json::json!({"username": username, "password": password});
        let answer = self.post_anonymous("/api/v1/auth/login", &body).await;
        assert_eq!(answer.status, StatusCode::OK, "login: {:?}", answer.body);
        assert_eq!(answer.body["token_type"], "Bearer");
        answer.body["access_token"].as_str().unwrap().to_owned()
    }

    /// Posts and expects 201; the created resource.
    pub async fn create(&self, path: &str, token: &str, body: &Value) -> Value {
        let answer = self.post(path, token, body).await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "POST {path}: {}",
            answer.body
        );
        answer.body
    }

    /// Posts a stock receipt, again while inventory has not yet heard of its products (the
    /// catalog's events reach it after the create's answer); the receipt.
    pub async fn receive_stock(&self, token: &str, receipt: &Value) -> Value {
        tillstream_test_support::eventually("inventory knows the products", || async {
            let answer = self.post("/api/v1/stock/receipts", token, receipt).await;
            (answer.status == StatusCode::CREATED).then_some(answer.body)
        })
        .await
    }

    /// Creates a location named after its code; its id.
    pub async fn create_location(&self, token: &str, code: &str) -> String {
        let body = serde_json::json!({"code": code, "name": format!("Shop {code}")});
        let location = self.create("/api/v1/locations", token, &body).await;
        location["id"].as_str().unwrap().to_owned()
    }

    /// Creates a product without barcodes; its id.
    pub async fn create_product(
        &self,
        token: &str,
        sku: &str,
        price: &str,
        tax_rate: &str,
    ) -> String {
        let body =
            serde_json::json!({"sku": sku, "name": sku, "price": price, "tax_rate": tax_rate});
        let product = self.create("/api/v1/products", token, &body).await;
        product["id"].as_str().unwrap().to_owned()
    }
}
