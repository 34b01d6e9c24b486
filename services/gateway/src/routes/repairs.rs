//! Repairs: a customer's device taken in at a location, moved through the workshop, its
//! parts fitted from stock and its labor logged, and collected by one sale of both
//! (api.md, "Repairs"). Served by the sales process's `RepairService`, so that collecting a
//! repair and its sale are one transaction (decision 0013). Who acts is the caller's token,
//! never the body. The bodies are in `repair_bodies`, the views in `repair_views`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::repair_service_client::RepairServiceClient;
use utoipa::IntoParams;

use super::repair_bodies::{
    NewRepair, NewRepairLabor, NewRepairPart, RepairCollection, RepairStatusChange, STATUSES,
};
use super::repair_views::{CollectedRepairView, RepairView, versioned};
use super::{Page, PageQuery, Paging, idempotency_key};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{JsonBody, Query};
use crate::upstream::{request, with_approvals};

fn client(state: &AppState) -> RepairServiceClient<crate::upstream::Replica> {
    RepairServiceClient::new(state.upstreams.sales.pick())
}

fn upstream_error(status: tonic::Status) -> ApiError {
    ApiError::from_status("sales", &status)
}

#[utoipa::path(post, path = "/api/v1/repairs", params(("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewRepair,
    responses((status = 201, description = "Taken in: `received`, numbered per location; `ETag` carries the version", body = RepairView,
        headers(("ETag" = String, description = "The version, quoted: `\"1\"`")))))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewRepair>,
) -> Result<Response, ApiError> {
    let message = body.into_request(idempotency_key(&headers)?)?;
    let repair = client(&state)
        .create_repair(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(versioned(StatusCode::CREATED, repair.into_inner()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RepairQuery {
    /// `received`, `diagnosed`, `awaiting_parts`, `in_repair`, `ready`, `collected` or
    /// `cancelled`.
    status: Option<String>,
    customer_id: Option<String>,
    location_id: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    limit: Option<String>,
}

async fn page_of(
    state: &AppState,
    caller: &Caller,
    message: pb::ListRepairsRequest,
    paging: Paging,
) -> Result<Page<RepairView>, ApiError> {
    let found = client(state)
        .list_repairs(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?
        .into_inner();
    Ok(paging.page_from(
        found.repairs.into_iter().map(Into::into).collect(),
        found.total,
    ))
}

#[utoipa::path(get, path = "/api/v1/repairs", params(RepairQuery), responses((status = 200, description = "A page of repairs, newest first", body = Page<RepairView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RepairQuery>,
) -> Result<Json<Page<RepairView>>, ApiError> {
    let paging = Paging::parse(query.page.as_deref(), query.limit.as_deref())?;
    let status = query.status.unwrap_or_default().trim().to_owned();
    if !status.is_empty() && !STATUSES.contains(&status.as_str()) {
        return Err(ApiError::malformed(
            Some("status".into()),
            format!("one of {}", STATUSES.join(", ")),
        ));
    }
    let message = pb::ListRepairsRequest {
        status,
        customer_id: query.customer_id.unwrap_or_default(),
        location_id: query.location_id.unwrap_or_default(),
        page: paging.page,
        limit: paging.limit,
    };
    Ok(Json(page_of(&state, &caller, message, paging).await?))
}

#[utoipa::path(get, path = "/api/v1/repairs/{id}", params(("id" = String, Path, description = "The repair's id")),
    responses((status = 200, description = "The repair; `ETag` carries the version", body = RepairView,
        headers(("ETag" = String, description = "The version, quoted: `\"3\"`")))))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let repair = client(&state)
        .get_repair(request(pb::GetRepairRequest { id }, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(versioned(StatusCode::OK, repair.into_inner()))
}

#[utoipa::path(post, path = "/api/v1/repairs/{id}/status", params(("id" = String, Path, description = "The repair's id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once"), ("X-Approval" = Option<String>, Header, description = "Approval tokens (POST /api/v1/auth/approvals), comma-separated, for what a cashier may not do alone")), request_body = RepairStatusChange,
    responses((status = 200, description = "Moved; the history gains the step", body = RepairView,
        headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 409, description = "`invalid_transition`: not a move the repair can make from where it is", body = crate::openapi::ErrorBody)))]
pub async fn change_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RepairStatusChange>,
) -> Result<Response, ApiError> {
    let message = body.into_request(id, idempotency_key(&headers)?)?;
    let repair = client(&state)
        .change_repair_status(with_approvals(
            request(message, caller.on_behalf()),
            &headers,
        ))
        .await
        .map_err(upstream_error)?;
    Ok(versioned(StatusCode::OK, repair.into_inner()))
}

#[utoipa::path(post, path = "/api/v1/repairs/{id}/parts", params(("id" = String, Path, description = "The repair's id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewRepairPart,
    description = "The part leaves the repair's location's stock at once: a movement of kind `repair` referencing the repair's number; the ledger debits 1250 (repairs in progress) and credits 1200 at average cost.",
    responses((status = 201, description = "Fitted: the repair with the part", body = RepairView,
        headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 409, description = "`repair_closed`: the repair was collected or cancelled", body = crate::openapi::ErrorBody)))]
pub async fn add_part(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewRepairPart>,
) -> Result<Response, ApiError> {
    let message = body.into_request(id, idempotency_key(&headers)?);
    let repair = client(&state)
        .add_repair_part(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(versioned(StatusCode::CREATED, repair.into_inner()))
}

#[utoipa::path(post, path = "/api/v1/repairs/{id}/labor", params(("id" = String, Path, description = "The repair's id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewRepairLabor,
    responses((status = 201, description = "Logged: the repair with the labor", body = RepairView,
        headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 409, description = "`repair_closed`: the repair was collected or cancelled", body = crate::openapi::ErrorBody)))]
pub async fn add_labor(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewRepairLabor>,
) -> Result<Response, ApiError> {
    let message = body.into_request(id, idempotency_key(&headers)?)?;
    let repair = client(&state)
        .add_repair_labor(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(versioned(StatusCode::CREATED, repair.into_inner()))
}

#[utoipa::path(post, path = "/api/v1/repairs/{id}/collect", params(("id" = String, Path, description = "The repair's id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once"), ("X-Approval" = Option<String>, Header, description = "Approval tokens (POST /api/v1/auth/approvals), comma-separated, for what a cashier may not do alone")), request_body = RepairCollection,
    description = "Only from `ready`: one sale of the parts (catalog prices; not taken from stock again) and the labor, in the repair's own transaction; the repair's cost moves from 1250 to 5000.",
    responses((status = 200, description = "Collected: the repair and its sale", body = CollectedRepairView),
        (status = 409, description = "`invalid_transition`: the repair is not `ready`", body = crate::openapi::ErrorBody)))]
pub async fn collect(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RepairCollection>,
) -> Result<Json<CollectedRepairView>, ApiError> {
    let message = body.into_request(id, idempotency_key(&headers)?);
    let collected = client(&state)
        .collect_repair(with_approvals(
            request(message, caller.on_behalf()),
            &headers,
        ))
        .await
        .map_err(upstream_error)?;
    Ok(Json(collected.into_inner().into()))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/repairs", params(("id" = String, Path, description = "The customer's id"), PageQuery),
    responses((status = 200, description = "A page of the customer's repairs, newest first", body = Page<RepairView>)))]
pub async fn of_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Json<Page<RepairView>>, ApiError> {
    let paging = query.paging()?;
    // An unknown customer is a 404, not an empty page: repairs only filter by the id.
    let customer = super::customers::client(&state)
        .get_customer(request(pb::GetCustomerRequest { id }, caller.on_behalf()))
        .await
        .map_err(super::customers::upstream_error)?
        .into_inner();
    let message = pb::ListRepairsRequest {
        customer_id: customer.id,
        page: paging.page,
        limit: paging.limit,
        ..Default::default()
    };
    Ok(Json(page_of(&state, &caller, message, paging).await?))
}
