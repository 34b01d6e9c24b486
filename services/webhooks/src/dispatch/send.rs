//! One attempt of one delivery: a signed `POST` of its body, answered within the attempt's
//! timeout or not at all.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;

use crate::api::cloudevent::CONTENT_TYPE;
use crate::domain::address::is_public;
use crate::domain::schedule::ATTEMPT_TIMEOUT;
use crate::domain::signature::sign;
use crate::projections::deliveries::Claimed;

/// The longest reason kept for a failed attempt.
const ERROR_MAX_CHARS: usize = 300;

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// A 2xx.
    Delivered { status: u16 },
    /// Another status, no answer in time, no connection.
    Failed { status: Option<u16>, reason: String },
}

/// The HTTP client of every attempt.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    /// With `allow_private` false, a host that resolves to a private address is not
    /// connected to, whatever it resolved to when the subscription was made.
    pub fn new(allow_private: bool) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            // A redirect could lead anywhere, a private address included: not followed,
            // so a 3xx is a failed attempt.
            .redirect(Policy::none())
            // A proxy would resolve the host itself, past the rule: none, whatever the
            // environment says.
            .no_proxy()
            .user_agent(concat!("Tillstream-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(PublicOnly { allow_private }))
            .build()?;
        Ok(Sender {
            client,
            allow_private,
        })
    }

    /// Sends `delivery` once, signed with its subscription's secret at this moment.
    #[tracing::instrument(skip_all, fields(delivery_id = %delivery.id, event_id = %delivery.event_id))]
    pub async fn send(&self, delivery: &Claimed) -> Attempt {
        let started = Instant::now();
        let attempt = self.post(delivery).await;
        let outcome = match &attempt {
            Attempt::Delivered { .. } => "delivered",
            Attempt::Failed { .. } => "failed",
        };
        metrics::histogram!("tillstream_webhook_attempt_seconds", "outcome" => outcome)
            .record(started.elapsed().as_secs_f64());
        attempt
    }

    async fn post(&self, delivery: &Claimed) -> Attempt {
        // An address given literally never meets the resolver: checked here, so a URL
        // subscribed while private addresses were allowed is not reached once they are not.
        if !self.allow_private && !literal_host_is_public(&delivery.url) {
            return failed(
                None,
                "the URL's address is not public; not connecting".into(),
            );
        }
        let timestamp = chrono::Utc::now().timestamp();
        let signature = match sign(
            &delivery.secret,
            &delivery.event_id,
            timestamp,
            &delivery.body,
        ) {
            Ok(signature) => signature,
            Err(error) => return failed(None, error.to_string()),
        };
        let request = self
            .client
            .post(&delivery.url)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .header("webhook-id", &delivery.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.body.clone());
        match request.send().await {
            Ok(response) if response.status().is_success() => Attempt::Delivered {
                status: response.status().as_u16(),
            },
            Ok(response) => {
                let status = response.status();
                failed(Some(status.as_u16()), format!("HTTP {status}"))
            }
            Err(error) if error.is_timeout() => failed(
                None,
                format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs()),
            ),
            // Without the URL, which may carry a token of the receiver's.
            Err(error) => failed(None, describe(&error.without_url())),
        }
    }
}

/// Whether the URL's host, when it is an address, is a public one (a name: the resolver
/// decides).
fn literal_host_is_public(url: &str) -> bool {
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Ipv4(ip)) => is_public(ip.into()),
        Some(url::Host::Ipv6(ip)) => is_public(ip.into()),
        Some(url::Host::Domain(_)) => true,
        None => false,
    }
}

fn failed(status: Option<u16>, reason: String) -> Attempt {
    Attempt::Failed {
        status,
        reason: reason.chars().take(ERROR_MAX_CHARS).collect(),
    }
}

/// An error with its causes, which say what actually went wrong (refused, reset, TLS).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// The system resolver, refusing a name with any address that is not public.
#[derive(Debug, Clone, Copy)]
struct PublicOnly {
    allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if !allow_private && addrs.iter().any(|addr| !is_public(addr.ip())) {
                return Err(format!(
                    "{} resolves to a private address; not connecting",
                    name.as_str()
                )
                .into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}
