//! `tillstream.webhooks.v1.WebhooksService`, for admins only (the guard checks the role
//! matrix before any of this runs).

use sqlx::PgPool;
use tillstream_eventstore::EventStore;
use tillstream_proto::webhooks::v1 as pb;
use tillstream_proto::webhooks::v1::webhooks_service_server::WebhooksService;
use tillstream_service::grpc::metadata_of;
use tonic::{Request, Response, Status};

use crate::commands::subscriptions::{NewSubscription, remove, subscribe};
use crate::error::AppError;
use crate::projections::deliveries::{self, DeliveryRow};
use crate::projections::subscriptions::{self, SubscriptionRow};

/// A delivery status a list may be filtered by.
const STATUSES: [&str; 3] = ["pending", "delivered", "failed"];

#[derive(Debug, Clone)]
pub struct WebhooksApi {
    pub store: EventStore,
    pub pool: PgPool,
    pub allow_private: bool,
}

#[tonic::async_trait]
impl WebhooksService for WebhooksApi {
    #[tracing::instrument(skip_all)]
    async fn create_subscription(
        &self,
        request: Request<pb::CreateSubscriptionRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let asked = NewSubscription {
            url: request.url,
            event_types: request.event_types,
            description: request.description,
            idempotency_key: Some(request.idempotency_key).filter(|k| !k.is_empty()),
        };
        let row = subscribe(&self.store, asked, self.allow_private, metadata).await?;
        // The one answer with the secret.
        Ok(Response::new(subscription_message(row, true)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_subscriptions(
        &self,
        request: Request<pb::ListSubscriptionsRequest>,
    ) -> Result<Response<pb::ListSubscriptionsResponse>, Status> {
        let request = request.into_inner();
        let (limit, offset) = paging(request.page, request.limit);
        let (rows, total) = subscriptions::list(&self.pool, limit, offset)
            .await
            .map_err(AppError::from)?;
        Ok(Response::new(pb::ListSubscriptionsResponse {
            subscriptions: rows
                .into_iter()
                .map(|row| subscription_message(row, false))
                .collect(),
            total,
        }))
    }

    #[tracing::instrument(skip_all, fields(subscription_id = %request.get_ref().id))]
    async fn get_subscription(
        &self,
        request: Request<pb::GetSubscriptionRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        let row = self.live(&request.get_ref().id).await?;
        Ok(Response::new(subscription_message(row, false)))
    }

    #[tracing::instrument(skip_all, fields(subscription_id = %request.get_ref().id))]
    async fn delete_subscription(
        &self,
        request: Request<pb::DeleteSubscriptionRequest>,
    ) -> Result<Response<pb::DeleteSubscriptionResponse>, Status> {
        let metadata = metadata_of(&request);
        remove(&self.store, &request.get_ref().id, metadata).await?;
        Ok(Response::new(pb::DeleteSubscriptionResponse {}))
    }

    #[tracing::instrument(skip_all, fields(subscription_id = %request.get_ref().subscription_id))]
    async fn list_deliveries(
        &self,
        request: Request<pb::ListDeliveriesRequest>,
    ) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        let request = request.into_inner();
        let subscription = self.live(&request.subscription_id).await?;
        let status = match request.status.trim() {
            "" => None,
            status if STATUSES.contains(&status) => Some(status),
            _ => {
                return Err(AppError::invalid("status", "pending, delivered or failed").into());
            }
        };
        let (limit, offset) = paging(request.page, request.limit);
        let (rows, total) = deliveries::list(&self.pool, &subscription.id, status, limit, offset)
            .await
            .map_err(AppError::from)?;
        Ok(Response::new(pb::ListDeliveriesResponse {
            deliveries: rows.into_iter().map(delivery_message).collect(),
            total,
        }))
    }

    #[tracing::instrument(skip_all, fields(delivery_id = %request.get_ref().delivery_id))]
    async fn retry_delivery(
        &self,
        request: Request<pb::RetryDeliveryRequest>,
    ) -> Result<Response<pb::Delivery>, Status> {
        let request = request.into_inner();
        let row = deliveries::retry(
            &self.pool,
            request.subscription_id.trim(),
            request.delivery_id.trim(),
        )
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| AppError::NotFound("no such delivery of this subscription".into()))?;
        tracing::info!(delivery_id = %row.id, "webhook delivery retried by hand");
        Ok(Response::new(delivery_message(row)))
    }
}

impl WebhooksApi {
    /// A subscription that is not removed, or 404.
    async fn live(&self, id: &str) -> Result<SubscriptionRow, AppError> {
        subscriptions::get(&self.pool, id.trim())
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| AppError::NotFound("no such webhook subscription".into()))
    }
}

/// `LIMIT` and `OFFSET` of a page: 50 by default, at most 200.
fn paging(page: u32, limit: u32) -> (i64, i64) {
    let limit = match limit {
        0 => 50,
        n => n.min(200),
    };
    let offset = u64::from(page.max(1) - 1) * u64::from(limit);
    (i64::from(limit), i64::try_from(offset).unwrap_or(i64::MAX))
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn subscription_message(row: SubscriptionRow, with_secret: bool) -> pb::Subscription {
    pb::Subscription {
        id: row.id,
        url: row.url,
        event_types: row.event_types,
        description: row.description,
        secret: if with_secret {
            row.secret
        } else {
            String::new()
        },
        status: "active".into(),
        created_at: rfc3339(row.created_at),
    }
}

fn delivery_message(row: DeliveryRow) -> pb::Delivery {
    pb::Delivery {
        id: row.id,
        subscription_id: row.subscription_id,
        event_id: row.event_id,
        event_type: row.event_type,
        next_attempt_at: match row.status.as_str() {
            "pending" => row.next_attempt_at.map(rfc3339).unwrap_or_default(),
            _ => String::new(),
        },
        status: row.status,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        last_status_code: row
            .last_status_code
            .and_then(|code| u32::try_from(code).ok())
            .unwrap_or(0),
        last_error: row.last_error.unwrap_or_default(),
        created_at: rfc3339(row.created_at),
        delivered_at: row.delivered_at.map(rfc3339).unwrap_or_default(),
    }
}
