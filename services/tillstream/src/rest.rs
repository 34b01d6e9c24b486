//! The gateway's REST API as the CLI's own commands use it (`seed`, `bench`): a client
//! logged in as one user, and what they share besides.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// How often a rate-limited (or, where that is safe, unavailable) request is asked again
/// before giving up.
const RATE_LIMITED_ATTEMPTS: u32 = 30;
/// The longest `Retry-After` taken at its word.
const MAX_RETRY_AFTER_SECONDS: u64 = 30;

/// A client logged in through `POST /api/v1/auth/login`.
#[derive(Debug, Clone)]
pub struct Api {
    pub client: Client,
    pub url: String,
    pub token: String,
}

impl Api {
    pub async fn login(
        client: Client,
        url: &str,
        username: &str,
        password: &str,
    ) -> Result<Api, String> {
        let login = client
            .post(format!("{url}/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .map_err(|e| format!("the gateway at {url}: {e}"))?;
        if !login.status().is_success() {
            return Err(format!("logging in as {username}: {}", login.status()));
        }
        let tokens: Value = login.json().await.map_err(|e| e.to_string())?;
        let token = tokens["access_token"]
            .as_str()
            .ok_or_else(|| format!("logging in as {username}: no access token"))?;
        Ok(Api {
            client,
            url: url.to_owned(),
            token: token.to_owned(),
        })
    }

    /// One request; the body of the answer, or null when it has none. Over the gateway's
    /// rate limit (429), waits as long as `Retry-After` says and asks again.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), String> {
        self.send_waiting(method, path, body, false).await
    }

    /// [`Api::send`], and with `unavailable_too` a 503 waited out the same way: only for a
    /// request the service recognises when it comes again.
    async fn send_waiting(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        unavailable_too: bool,
    ) -> Result<(StatusCode, Value), String> {
        for _ in 0..RATE_LIMITED_ATTEMPTS {
            let mut request = self
                .client
                .request(method.clone(), format!("{}{path}", self.url))
                .bearer_auth(&self.token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|e| format!("{path}: {e}"))?;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS
                || (unavailable_too && status == StatusCode::SERVICE_UNAVAILABLE)
            {
                let wait = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                    .unwrap_or(1)
                    .clamp(1, MAX_RETRY_AFTER_SECONDS);
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            let body = response.json().await.unwrap_or(Value::Null);
            return Ok((status, body));
        }
        Err(format!(
            "{path}: still rate limited or unavailable after {RATE_LIMITED_ATTEMPTS} attempts"
        ))
    }

    /// POSTs `body`; a 409 (already there from an earlier run) is fine.
    pub async fn create(&self, path: &str, body: &Value) -> Result<Value, String> {
        match self.send(Method::POST, path, Some(body)).await? {
            (status, body) if status.is_success() || status == StatusCode::CONFLICT => Ok(body),
            (status, body) => Err(format!("POST {path}: {status} {body}")),
        }
    }

    /// POSTs a request the service recognises when it comes again (a batch of sales by
    /// their ids): a 503 (the service or its database away for a moment) is sent again
    /// after `Retry-After`, as a till would; a second copy cannot create twice.
    pub async fn create_again_if_unavailable(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<Value, String> {
        match self
            .send_waiting(Method::POST, path, Some(body), true)
            .await?
        {
            (status, body) if status.is_success() => Ok(body),
            (status, body) => Err(format!("POST {path}: {status} {body}")),
        }
    }

    pub async fn get(&self, path: &str) -> Result<Value, String> {
        match self.send(Method::GET, path, None).await? {
            (status, body) if status.is_success() => Ok(body),
            (status, body) => Err(format!("GET {path}: {status} {body}")),
        }
    }
}

/// A bar on stderr for `len` steps of `what` (drawn only on a terminal).
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg:>16} [{bar:40}] {pos}/{len} {eta}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// A small deterministic generator: the same seed makes the same store, the same load.
#[derive(Debug, Clone)]
pub struct Dice(pub u64);

impl Dice {
    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from((self.0 >> 33) % n.max(1) as u64).unwrap_or(0)
    }
}
