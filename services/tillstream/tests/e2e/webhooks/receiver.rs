//! A webhook receiver for the tests: an HTTP server on loopback that records every request
//! and answers as it is told (fail the first few, hang forever, or succeed).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::net::TcpListener;

/// How a receiver answers.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// 503 to the first `n` requests, then 204.
    FailFirst(usize),
    /// Never answers.
    Hang,
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub content_type: String,
    pub body: Bytes,
    /// What it was answered; `None` while hanging.
    pub answered: Option<u16>,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(behaviour: Behaviour) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
        let recorded = seen.clone();
        let app = axum::Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let seen = recorded.clone();
                async move { answer(&seen, behaviour, &headers, body).await }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, seen }
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests carrying events of `ce_type`.
    pub fn of_type(&self, ce_type: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.json()["type"] == ce_type)
            .collect()
    }
}

async fn answer(
    seen: &Mutex<Vec<Received>>,
    behaviour: Behaviour,
    headers: &HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut received = Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        content_type: header("content-type"),
        body,
        answered: None,
    };
    let status = match behaviour {
        Behaviour::Hang => {
            seen.lock().unwrap().push(received);
            return std::future::pending().await;
        }
        Behaviour::FailFirst(n) if seen.lock().unwrap().len() < n => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        Behaviour::FailFirst(_) => StatusCode::NO_CONTENT,
    };
    received.answered = Some(status.as_u16());
    seen.lock().unwrap().push(received);
    status
}
