//! Subscribing an endpoint (its URL checked, its host resolved and checked too) and
//! removing a subscription.

use std::time::Duration;

use sqlx::PgConnection;
use tillstream_eventstore::{
    Decided, EventMetadata, EventStore, IdempotencyKey, RunOptions, UseCase,
};
use tillstream_kernel::Decider;

use crate::domain::address::{UrlError, check_url, is_public};
use crate::domain::signature::new_secret;
use crate::domain::subscription::{
    Command, Event, Subscription, SubscriptionId, description, event_types,
};
use crate::error::AppError;
use crate::projections::subscriptions::{self, SubscriptionRow};

/// The most live subscriptions: each one is a share of every event's work.
pub const SUBSCRIPTIONS_MAX: i64 = 100;

/// How long a subscription's host may take to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// What an admin asks to subscribe.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub url: String,
    pub event_types: Vec<String>,
    pub description: String,
    pub idempotency_key: Option<String>,
}

pub async fn subscribe(
    store: &EventStore,
    asked: NewSubscription,
    allow_private: bool,
    metadata: EventMetadata,
) -> Result<SubscriptionRow, AppError> {
    let url = check_url(&asked.url, allow_private)?;
    let event_types = event_types(&asked.event_types)?;
    let description = description(&asked.description)?;
    if !allow_private {
        resolves_to_public(&url).await?;
    }
    let id = SubscriptionId::generate();
    let secret = new_secret().map_err(|e| AppError::Internal(format!("randomness: {e}")))?;
    let row = SubscriptionRow {
        id: id.to_string(),
        url: url.to_string(),
        event_types: event_types.clone(),
        description: description.clone(),
        secret: secret.clone(),
        created_at: chrono::Utc::now(),
    };
    let command = Command::Subscribe {
        id,
        url: row.url.clone(),
        event_types,
        description,
        secret,
    };
    let fingerprint = format!(
        "{}|{}|{}",
        row.url,
        row.event_types.join(","),
        row.description
    );
    let options = RunOptions {
        expected_version: Some(0),
        idempotency: asked
            .idempotency_key
            .map(|key| IdempotencyKey::new(format!("subscribe:{key}"), fingerprint)),
        metadata,
    };
    let row = store
        .run(&Subscribing { id, command, row }, &options)
        .await?;
    // The host only: a receiver's URL may carry a token of its own.
    tracing::info!(subscription_id = %row.id, host = url.host_str().unwrap_or_default(), "webhook subscribed");
    Ok(row)
}

/// Every address the URL's host resolves to must be public: a name pointing at this
/// machine or its network is refused as its address would be.
async fn resolves_to_public(url: &url::Url) -> Result<(), AppError> {
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return Err(UrlError::Malformed.into());
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let lookup = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port)));
    let addrs: Vec<_> = match lookup.await {
        Ok(Ok(addrs)) => addrs.collect(),
        Ok(Err(_)) | Err(_) => {
            return Err(AppError::invalid("url", "the host does not resolve"));
        }
    };
    if addrs.is_empty() {
        return Err(AppError::invalid("url", "the host does not resolve"));
    }
    if addrs.iter().any(|addr| !is_public(addr.ip())) {
        return Err(UrlError::Private.into());
    }
    Ok(())
}

struct Subscribing {
    id: SubscriptionId,
    command: Command,
    row: SubscriptionRow,
}

impl UseCase for Subscribing {
    type Aggregate = Subscription;
    type Output = SubscriptionRow;
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.id.stream_id()
    }

    fn decide(&self, state: &Subscription) -> Result<Vec<Event>, AppError> {
        Ok(Subscription::decide(state, &self.command)?)
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        _: Decided<'_, Subscription>,
    ) -> Result<SubscriptionRow, AppError> {
        if subscriptions::live_count(&mut *tx).await? >= SUBSCRIPTIONS_MAX {
            return Err(AppError::Refused(format!(
                "at most {SUBSCRIPTIONS_MAX} webhook subscriptions; delete one first"
            )));
        }
        let created_at = subscriptions::insert(tx, &self.row).await?;
        Ok(SubscriptionRow {
            created_at,
            ..self.row.clone()
        })
    }
}

/// Removes a subscription: nothing more is delivered to it.
pub async fn remove(store: &EventStore, id: &str, metadata: EventMetadata) -> Result<(), AppError> {
    let id: SubscriptionId = id
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound("no such webhook subscription".into()))?;
    let options = RunOptions {
        metadata,
        ..Default::default()
    };
    store.run(&Removing { id }, &options).await?;
    tracing::info!(subscription_id = %id, "webhook removed");
    Ok(())
}

struct Removing {
    id: SubscriptionId,
}

impl UseCase for Removing {
    type Aggregate = Subscription;
    type Output = ();
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.id.stream_id()
    }

    fn decide(&self, state: &Subscription) -> Result<Vec<Event>, AppError> {
        Ok(Subscription::decide(state, &Command::Remove)?)
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        _: Decided<'_, Subscription>,
    ) -> Result<(), AppError> {
        subscriptions::remove(tx, &self.id.to_string()).await?;
        Ok(())
    }
}
