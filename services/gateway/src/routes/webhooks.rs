//! Webhook subscriptions and their delivery logs (api.md, "Webhooks"), kept by the webhooks
//! service. Admins only.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use tillstream_proto::webhooks::v1 as pb;
use tillstream_proto::webhooks::v1::webhooks_service_client::WebhooksServiceClient;
use utoipa::{IntoParams, ToSchema};

use super::{Created, Page, PageQuery, Paging, created, idempotency_key};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{JsonBody, Query};
use crate::upstream::request;

fn client(state: &AppState) -> WebhooksServiceClient<crate::upstream::Replica> {
    WebhooksServiceClient::new(state.upstreams.webhooks.pick())
}

fn upstream(status: tonic::Status) -> ApiError {
    ApiError::from_status("webhooks", &status)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://books.example.com/tillstream", "event_types": ["tillstream.sales.v1.SaleCompleted", "tillstream.sales.v1.SaleReturned"], "description": "the accounting export"}))]
pub struct NewWebhook {
    /// `https://`, not to a loopback, private or link-local address (unless
    /// `TILLSTREAM_WEBHOOKS_ALLOW_PRIVATE`); at most 2,000 characters.
    url: String,
    /// CloudEvents types of published events (see `/api/v1/asyncapi.json`), or `["*"]`.
    event_types: Vec<String>,
    /// At most 500 characters.
    description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JDWEBHOOK000000000000000", "url": "https://books.example.com/tillstream", "event_types": ["tillstream.sales.v1.SaleCompleted"], "description": "the accounting export", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "status": "active", "created_at": "2026-11-30T09:00:00.000Z"}))]
pub struct WebhookView {
    id: String,
    url: String,
    event_types: Vec<String>,
    description: String,
    /// Only in the answer that created the subscription: keep it to verify signatures.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    /// `active`.
    status: String,
    created_at: String,
}

impl From<pb::Subscription> for WebhookView {
    fn from(s: pb::Subscription) -> Self {
        WebhookView {
            id: s.id,
            url: s.url,
            event_types: s.event_types,
            description: s.description,
            secret: super::optional(s.secret),
            status: s.status,
            created_at: s.created_at,
        }
    }
}

/// 201: the subscription, with its secret (shown only here).
#[utoipa::path(post, path = "/api/v1/webhooks", request_body = NewWebhook,
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key answers the same subscription")),
    responses((status = 201, description = "Subscribed", body = WebhookView),
        (status = 422, description = "A URL that is not allowed (`url`), an unknown event type (`event_types`)", body = crate::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewWebhook>,
) -> Result<Created<WebhookView>, ApiError> {
    let message = pb::CreateSubscriptionRequest {
        url: body.url,
        event_types: body.event_types,
        description: body.description.unwrap_or_default(),
        idempotency_key: idempotency_key(&headers)?,
    };
    let subscription = client(&state)
        .create_subscription(request(message, caller.on_behalf()))
        .await
        .map_err(upstream)?;
    Ok(created(subscription.into_inner().into()))
}

#[utoipa::path(get, path = "/api/v1/webhooks", params(PageQuery),
    responses((status = 200, description = "A page of subscriptions, newest first (no secrets)", body = Page<WebhookView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PageQuery>,
) -> Result<Json<Page<WebhookView>>, ApiError> {
    let paging = query.paging()?;
    let message = pb::ListSubscriptionsRequest {
        page: paging.page,
        limit: paging.limit,
    };
    let found = client(&state)
        .list_subscriptions(request(message, caller.on_behalf()))
        .await
        .map_err(upstream)?
        .into_inner();
    Ok(Json(paging.page_from(
        found.subscriptions.into_iter().map(Into::into).collect(),
        found.total,
    )))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}",
    params(("id" = String, Path, description = "The subscription's id")),
    responses((status = 200, description = "The subscription (no secret)", body = WebhookView),
        (status = 404, description = "No such subscription (or it was deleted)", body = crate::openapi::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let subscription = client(&state)
        .get_subscription(request(
            pb::GetSubscriptionRequest { id },
            caller.on_behalf(),
        ))
        .await
        .map_err(upstream)?;
    Ok(Json(subscription.into_inner().into()))
}

/// 204: removed; nothing more is delivered to it, not even what waited for a retry.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}",
    params(("id" = String, Path, description = "The subscription's id")),
    responses((status = 204, description = "Removed"),
        (status = 404, description = "No such subscription (or it was deleted)", body = crate::openapi::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    client(&state)
        .delete_subscription(request(
            pb::DeleteSubscriptionRequest { id },
            caller.on_behalf(),
        ))
        .await
        .map_err(upstream)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `pending`, `delivered` or `failed`.
    status: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JDDELIVERY00000000000000", "event_id": "01JDEVENT00000000000000000", "event_type": "tillstream.sales.v1.SaleCompleted", "status": "pending", "attempts": 1, "last_status_code": 503, "next_attempt_at": "2026-11-30T09:00:05.000Z", "last_error": "HTTP 503 Service Unavailable", "created_at": "2026-11-30T09:00:00.000Z", "delivered_at": null}))]
pub struct DeliveryView {
    id: String,
    event_id: String,
    event_type: String,
    /// `pending`, `delivered` or `failed`.
    status: String,
    attempts: u32,
    /// The receiver's last HTTP status; null when it never answered.
    last_status_code: Option<u32>,
    /// When it is tried next, while pending.
    next_attempt_at: Option<String>,
    /// Why the last attempt failed.
    last_error: Option<String>,
    created_at: String,
    delivered_at: Option<String>,
}

impl From<pb::Delivery> for DeliveryView {
    fn from(d: pb::Delivery) -> Self {
        DeliveryView {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            last_status_code: Some(d.last_status_code).filter(|code| *code != 0),
            next_attempt_at: super::optional(d.next_attempt_at),
            last_error: super::optional(d.last_error),
            created_at: d.created_at,
            delivered_at: super::optional(d.delivered_at),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries",
    params(("id" = String, Path, description = "The subscription's id"), DeliveryQuery),
    responses((status = 200, description = "A page of the subscription's deliveries, newest first", body = Page<DeliveryView>),
        (status = 404, description = "No such subscription", body = crate::openapi::ErrorBody),
        (status = 422, description = "An unknown status", body = crate::openapi::ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<DeliveryQuery>,
) -> Result<Json<Page<DeliveryView>>, ApiError> {
    let paging = Paging::parse(query.page.as_deref(), query.limit.as_deref())?;
    let message = pb::ListDeliveriesRequest {
        subscription_id: id,
        status: query.status.unwrap_or_default(),
        page: paging.page,
        limit: paging.limit,
    };
    let found = client(&state)
        .list_deliveries(request(message, caller.on_behalf()))
        .await
        .map_err(upstream)?
        .into_inner();
    Ok(Json(paging.page_from(
        found.deliveries.into_iter().map(Into::into).collect(),
        found.total,
    )))
}

/// 202: the delivery is due now, whatever its status, and is sent with the same `webhook-id`.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
    params(("id" = String, Path, description = "The subscription's id"),
        ("delivery_id" = String, Path, description = "The delivery's id")),
    responses((status = 202, description = "Queued to be sent now", body = DeliveryView),
        (status = 404, description = "No such delivery of this subscription", body = crate::openapi::ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<DeliveryView>), ApiError> {
    let message = pb::RetryDeliveryRequest {
        subscription_id: id,
        delivery_id,
    };
    let delivery = client(&state)
        .retry_delivery(request(message, caller.on_behalf()))
        .await
        .map_err(upstream)?;
    Ok((StatusCode::ACCEPTED, Json(delivery.into_inner().into())))
}
