//! One simulated till: rings up sales as a cashier would, retries what failed with the
//! same idempotency key (as a till must, so a sale is never lost nor doubled), and now and
//! then has the manager take a line back.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tillstream_kernel::Ulid;
use tillstream_telemetry::timing;

use super::stages::Timed;
use crate::rest::{Api, Dice};

/// Attempts of one sale before the till gives it up (a real till would keep it offline).
const ATTEMPTS: u32 = 12;

#[derive(Debug)]
pub struct Till {
    pub api: Api,
    pub manager: Api,
    pub location: String,
    pub products: Arc<Vec<(String, u64)>>,
    pub dice: Dice,
    /// The register session every sale is rung up in (`--sessions`).
    pub session: Option<String>,
}

/// When a till rings up its next sale.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    FlatOut,
    /// One sale every `interval`, the first after `offset` (tills spread over an interval).
    Every {
        interval: Duration,
        offset: Duration,
    },
}

impl Pace {
    /// Till `n` of `tills` sharing `rate` sales per second.
    pub fn every(tills: usize, rate: u32, n: usize) -> Pace {
        let interval = Duration::from_secs(tills as u64) / rate.max(1);
        Pace::Every {
            interval,
            offset: interval * u32::try_from(n).unwrap_or(0)
                / u32::try_from(tills.max(1)).unwrap_or(1),
        }
    }
}

/// What the tills saw.
#[derive(Debug)]
pub struct TillOutcome {
    /// Microseconds from when the sale was due (rate) or sent (flat out) to its answer.
    pub latency: Histogram<u64>,
    /// Each accepted sale and when its answer came.
    pub accepted: Vec<(String, Instant)>,
    pub returns_accepted: u64,
    /// Failed attempts by status (`connection` when there was no answer).
    pub errors: BTreeMap<String, u64>,
    pub retried: u64,
    /// Sales given up after every attempt failed: their fate is unknown to the till.
    pub abandoned: u64,
    /// Each accepted sale's latency and where it went.
    pub timed: Vec<Timed>,
}

/// Microseconds, 1 µs to 10 minutes, at three significant figures.
pub fn latency_histogram() -> Result<Histogram<u64>, String> {
    Histogram::new_with_bounds(1, 600_000_000, 3).map_err(|e| format!("a histogram: {e}"))
}

impl TillOutcome {
    pub fn new() -> Result<Self, String> {
        Ok(TillOutcome {
            latency: latency_histogram()?,
            accepted: Vec::new(),
            returns_accepted: 0,
            errors: BTreeMap::new(),
            retried: 0,
            abandoned: 0,
            timed: Vec::new(),
        })
    }

    pub fn merge(&mut self, other: TillOutcome) {
        let _ = self.latency.add(&other.latency);
        self.accepted.extend(other.accepted);
        self.returns_accepted += other.returns_accepted;
        for (status, count) in other.errors {
            *self.errors.entry(status).or_default() += count;
        }
        self.retried += other.retried;
        self.abandoned += other.abandoned;
        self.timed.extend(other.timed);
    }

    pub fn append_accepted(&self, path: &Path) -> Result<(), String> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let mut lines = String::new();
        for (id, _) in &self.accepted {
            lines.push_str(id);
            lines.push('\n');
        }
        file.write_all(lines.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    fn error(&mut self, status: Option<StatusCode>) {
        let key = status.map_or("connection".to_owned(), |s| s.as_u16().to_string());
        *self.errors.entry(key).or_default() += 1;
    }
}

impl Till {
    pub async fn run(
        mut self,
        started: Instant,
        deadline: Instant,
        pace: Pace,
    ) -> Result<TillOutcome, String> {
        let mut outcome = TillOutcome::new()?;
        let mut due = match pace {
            Pace::FlatOut => started,
            Pace::Every { offset, .. } => started + offset,
        };
        // Behind schedule, a till does not make up the sales it missed after the deadline.
        while due < deadline && Instant::now() < deadline {
            if let Pace::Every { .. } = pace {
                tokio::time::sleep_until(due.into()).await;
            }
            let sent = Instant::now();
            // Latency counts from when the sale was due, so a slow answer that delays the
            // next sale is not hidden (coordinated omission).
            let from = if matches!(pace, Pace::FlatOut) {
                sent
            } else {
                due
            };
            let body = self.sale();
            if let Some(answer) = self.ring_up(&body, &mut outcome).await {
                let micros = u64::try_from(from.elapsed().as_micros()).unwrap_or(u64::MAX);
                let _ = outcome.latency.record(micros.max(1));
                let since = |earlier: Instant, later: Instant| {
                    u64::try_from(later.duration_since(earlier).as_micros()).unwrap_or(u64::MAX)
                };
                outcome.timed.push(Timed {
                    latency_micros: micros,
                    waited_micros: since(from, sent),
                    retrying_micros: since(sent, answer.attempt_sent),
                    server_timing: answer.server_timing,
                });
                let sale = answer.body;
                if let Some(id) = sale["id"].as_str() {
                    outcome.accepted.push((id.to_owned(), Instant::now()));
                }
                if self.dice.below(20) == 0 {
                    self.take_back(&sale, &mut outcome).await;
                }
            }
            due = match pace {
                Pace::FlatOut => Instant::now(),
                Pace::Every { interval, .. } => due + interval,
            };
        }
        if let Some(session) = &self.session {
            super::drawer::close(&self.api, session).await?;
        }
        Ok(outcome)
    }

    /// 1–8 lines of 1–3 units, a line discount on one line in ten, a sale discount on one
    /// sale in twenty; cash with change, card and cash, or two cards and cash. The cards
    /// stay below the cheapest possible sale, as a card may not be paid more than is due.
    fn sale(&mut self) -> Value {
        let lines: Vec<Value> = (0..1 + self.dice.below(8))
            .map(|_| {
                let (id, _) = &self.products[self.dice.below(self.products.len())];
                let mut line = json!({"product_id": id, "quantity": 1 + self.dice.below(3)});
                if self.dice.below(10) == 0 {
                    line["discount"] = json!({"percent": "10"});
                }
                line
            })
            .collect();
        let payments = match self.dice.below(3) {
            0 => json!([{"method": "cash", "amount": "1000.00"}]),
            1 => json!([{"method": "card", "amount": "1.00", "reference": "AUTH"},
                        {"method": "cash", "amount": "1000.00"}]),
            _ => json!([{"method": "card", "amount": "0.50", "reference": "AUTH"},
                        {"method": "card", "amount": "0.50", "reference": "AUTH2"},
                        {"method": "cash", "amount": "1000.00"}]),
        };
        let mut sale = json!({
            "id": Ulid::generate().to_string(),
            "location_id": self.location,
            "lines": lines,
            "payments": payments,
        });
        if self.dice.below(20) == 0 {
            sale["discount"] = json!({"percent": "5"});
        }
        if let Some(session) = &self.session {
            sale["session_id"] = json!(session);
        }
        sale
    }

    /// POSTs the sale until it is answered, with its id as the idempotency key.
    async fn ring_up(&self, body: &Value, outcome: &mut TillOutcome) -> Option<Answer> {
        let key = body["id"].as_str().unwrap_or_default().to_owned();
        send_until_answered(&self.api, "/api/v1/sales", &key, body, outcome).await
    }

    /// The manager takes line 1 back whole, refunded in cash.
    async fn take_back(&self, sale: &Value, outcome: &mut TillOutcome) {
        let (Some(id), Some(line)) = (sale["id"].as_str(), sale["lines"].get(0)) else {
            return;
        };
        let mut body = json!({
            "lines": [{"line_no": 1, "quantity": line["quantity"]}],
            "refunds": [{"method": "cash", "amount": line["line_total"]}],
            "reason": "bench",
        });
        if let Some(session) = &self.session {
            body["session_id"] = json!(session);
        }
        let path = format!("/api/v1/sales/{id}/returns");
        let key = format!("{id}-return");
        if send_until_answered(&self.manager, &path, &key, &body, outcome)
            .await
            .is_some()
        {
            outcome.returns_accepted += 1;
        }
    }
}

/// A request answered, at last.
struct Answer {
    body: Value,
    /// Its `Server-Timing`.
    server_timing: String,
    /// When the attempt that was answered was sent (the first, unless it was retried).
    attempt_sent: Instant,
}

async fn send_until_answered(
    api: &Api,
    path: &str,
    key: &str,
    body: &Value,
    outcome: &mut TillOutcome,
) -> Option<Answer> {
    let mut pause = Duration::from_millis(100);
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            outcome.retried += 1;
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(3));
        }
        let attempt_sent = Instant::now();
        let response = api
            .client
            .request(Method::POST, format!("{}{path}", api.url))
            .bearer_auth(&api.token)
            .header("idempotency-key", key)
            .json(body)
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(_) => {
                outcome.error(None);
                continue;
            }
        };
        let status = response.status();
        if status.is_success() {
            let server_timing = response
                .headers()
                .get(timing::HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            return Some(Answer {
                body: response.json().await.ok()?,
                server_timing,
                attempt_sent,
            });
        }
        outcome.error(Some(status));
        // What the client sent is wrong: sending it again will not help.
        let retryable = status.is_server_error()
            || status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::CONFLICT;
        if !retryable {
            return None;
        }
    }
    outcome.abandoned += 1;
    None
}
