//! Locations, stock movements (receipts, adjustments, counts, transfers), levels now or
//! at a past moment, and the movement history.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tillstream_proto::inventory::v1 as pb;
use tillstream_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use utoipa::{IntoParams, ToSchema};

use super::{Created, Page, PageQuery, created, idempotency_key, optional};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{DecimalText, JsonBody, MoneyText, Query};
use crate::upstream::request;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"code": "S12", "name": "High Street"}))]
pub struct NewLocation {
    code: String,
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationView {
    id: String,
    code: String,
    name: String,
}

impl From<pb::Location> for LocationView {
    fn from(l: pb::Location) -> Self {
        LocationView {
            id: l.id,
            code: l.code,
            name: l.name,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/locations", request_body = NewLocation,
    responses((status = 201, description = "Created", body = LocationView), (status = 409, description = "The code is taken", body = crate::openapi::ErrorBody)))]
pub async fn create_location(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewLocation>,
) -> Result<Created<LocationView>, ApiError> {
    let location = client(&state)
        .create_location(request(
            pb::CreateLocationRequest {
                code: body.code,
                name: body.name,
            },
            caller.on_behalf(),
        ))
        .await
        .map_err(|status| ApiError::from_status("inventory", &status))?;
    Ok(created(location.into_inner().into()))
}

#[utoipa::path(get, path = "/api/v1/locations", params(super::PageQuery), responses((status = 200, description = "A page of locations", body = Page<LocationView>)))]
pub async fn list_locations(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PageQuery>,
) -> Result<Json<Page<LocationView>>, ApiError> {
    let paging = query.paging()?;
    let locations = client(&state)
        .list_locations(request(pb::ListLocationsRequest {}, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("inventory", &status))?
        .into_inner()
        .locations;
    Ok(Json(
        paging.page_of(locations.into_iter().map(Into::into).collect()),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"location_id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P", "supplier": "Tea Traders", "reference": "PO-1042", "lines": [{"product_id": "01JD5X0M2B7C4N9V1Z3K6H8G5F", "quantity": "24", "unit_cost": "2.10"}]}))]
pub struct NewReceipt {
    location_id: String,
    supplier: Option<String>,
    reference: Option<String>,
    lines: Vec<ReceiptLine>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReceiptLine {
    product_id: String,
    quantity: DecimalText,
    unit_cost: MoneyText,
}

/// What a stock command recorded: its id (the movements' reference unless the request
/// gave one), the movements and the levels they left.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedView {
    id: String,
    movements: Vec<MovementView>,
    levels: Vec<StockLevelView>,
}

impl From<pb::StockMovementsResponse> for RecordedView {
    fn from(r: pb::StockMovementsResponse) -> Self {
        RecordedView {
            id: r.id,
            movements: r.movements.into_iter().map(Into::into).collect(),
            levels: r.levels.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MovementView {
    product_id: String,
    location_id: String,
    kind: String,
    /// Signed: the change to the level.
    quantity: String,
    unit_cost: String,
    reference: Option<String>,
    reason: Option<String>,
    occurred_at: String,
    on_hand_after: String,
}

impl From<pb::Movement> for MovementView {
    fn from(m: pb::Movement) -> Self {
        MovementView {
            product_id: m.product_id,
            location_id: m.location_id,
            kind: m.kind,
            quantity: m.quantity,
            unit_cost: m.unit_cost,
            reference: optional(m.reference),
            reason: optional(m.reason),
            occurred_at: m.occurred_at,
            on_hand_after: m.on_hand_after,
        }
    }
}

/// A receipt as it was received, with what it recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptView {
    location_id: String,
    supplier: Option<String>,
    reference: Option<String>,
    lines: Vec<ReceiptLineView>,
    #[serde(flatten)]
    recorded: RecordedView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptLineView {
    product_id: String,
    quantity: String,
    unit_cost: String,
}

#[utoipa::path(post, path = "/api/v1/stock/receipts", params(("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewReceipt, responses((status = 201, description = "Received", body = ReceiptView)))]
pub async fn receive(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewReceipt>,
) -> Result<Created<ReceiptView>, ApiError> {
    let lines: Vec<pb::ReceiptLine> = body
        .lines
        .into_iter()
        .map(|line| pb::ReceiptLine {
            product_id: line.product_id,
            quantity: line.quantity.0,
            unit_cost: line.unit_cost.0,
        })
        .collect();
    let message = pb::ReceiveStockRequest {
        idempotency_key: idempotency_key(&headers)?,
        location_id: body.location_id.clone(),
        supplier: body.supplier.clone().unwrap_or_default(),
        reference: body.reference.clone().unwrap_or_default(),
        lines: lines.clone(),
    };
    let recorded = client(&state)
        .receive_stock(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("inventory", &status))?
        .into_inner();
    Ok(created(ReceiptView {
        location_id: body.location_id,
        supplier: body.supplier,
        reference: body.reference,
        lines: lines
            .into_iter()
            .map(|l| ReceiptLineView {
                product_id: l.product_id,
                quantity: l.quantity,
                unit_cost: l.unit_cost,
            })
            .collect(),
        recorded: RecordedView::from(pb::StockMovementsResponse {
            id: recorded.id,
            movements: recorded.movements,
            levels: recorded.levels,
        }),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"location_id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P", "product_id": "01JD5X0M2B7C4N9V1Z3K6H8G5F", "delta": "-2", "reason": "damaged"}))]
pub struct NewAdjustment {
    location_id: String,
    product_id: String,
    delta: DecimalText,
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/stock/adjustments", params(("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewAdjustment, responses((status = 201, description = "Adjusted", body = RecordedView)))]
pub async fn adjust(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewAdjustment>,
) -> Result<Created<RecordedView>, ApiError> {
    let message = pb::AdjustStockRequest {
        idempotency_key: idempotency_key(&headers)?,
        location_id: body.location_id,
        product_id: body.product_id,
        delta: body.delta.0,
        reason: body.reason,
    };
    let recorded = client(&state)
        .adjust_stock(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("inventory", &status))?;
    Ok(created(recorded.into_inner().into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"location_id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P", "lines": [{"product_id": "01JD5X0M2B7C4N9V1Z3K6H8G5F", "counted": "17"}], "counted_at": "2026-11-24T07:30:00Z"}))]
pub struct NewCount {
    location_id: String,
    lines: Vec<CountLine>,
    /// When the shelves were counted (RFC 3339); now when absent.
    counted_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CountLine {
    product_id: String,
    counted: DecimalText,
}

#[utoipa::path(post, path = "/api/v1/stock/counts", params(("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewCount, responses((status = 201, description = "The differences recorded", body = RecordedView)))]
pub async fn count(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewCount>,
) -> Result<Created<RecordedView>, ApiError> {
    let message = pb::CountStockRequest {
        idempotency_key: idempotency_key(&headers)?,
        location_id: body.location_id,
        lines: body
            .lines
            .into_iter()
            .map(|line| pb::CountLine {
                product_id: line.product_id,
                counted: line.counted.0,
            })
            .collect(),
        counted_at: body.counted_at.unwrap_or_default(),
    };
    let recorded = client(&state)
        .count_stock(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("inventory", &status))?;
    Ok(created(recorded.into_inner().into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"from_location_id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P", "to_location_id": "01JD5W3A1B2C3D4E5F6G7H8J9K", "lines": [{"product_id": "01JD5X0M2B7C4N9V1Z3K6H8G5F", "quantity": "6"}]}))]
pub struct NewTransfer {
    from_location_id: String,
    to_location_id: String,
    lines: Vec<TransferLine>,
    reference: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TransferLine {
    product_id: String,
    quantity: DecimalText,
}

#[utoipa::path(post, path = "/api/v1/stock/transfers", params(("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewTransfer,
    responses((status = 201, description = "Moved: every line or none", body = RecordedView)))]
pub async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewTransfer>,
) -> Result<Created<RecordedView>, ApiError> {
    let message = pb::TransferStockRequest {
        idempotency_key: idempotency_key(&headers)?,
        from_location_id: body.from_location_id,
        to_location_id: body.to_location_id,
        lines: body
            .lines
            .into_iter()
            .map(|line| pb::TransferLine {
                product_id: line.product_id,
                quantity: line.quantity.0,
            })
            .collect(),
        reference: body.reference.unwrap_or_default(),
    };
    let recorded = client(&state)
        .transfer_stock(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("inventory", &status))?;
    Ok(created(recorded.into_inner().into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockLevelView {
    product_id: String,
    location_id: String,
    on_hand: String,
    avg_cost: String,
    reorder_point: Option<String>,
    below_reorder: bool,
}

impl From<pb::StockLevel> for StockLevelView {
    fn from(s: pb::StockLevel) -> Self {
        StockLevelView {
            product_id: s.product_id,
            location_id: s.location_id,
            on_hand: s.on_hand,
            avg_cost: s.avg_cost,
            reorder_point: optional(s.reorder_point),
            below_reorder: s.below_reorder,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StockQuery {
    location_id: Option<String>,
    product_id: Option<String>,
    /// Only items at or below their reorder point.
    #[param(value_type = Option<bool>)]
    below_reorder: Option<String>,
    /// Levels as they were at this moment (RFC 3339).
    as_of: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    limit: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/stock", params(StockQuery), responses((status = 200, description = "A page of stock levels", body = Page<StockLevelView>)))]
pub async fn stock(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<StockQuery>,
) -> Result<Json<Page<StockLevelView>>, ApiError> {
    let paging = super::Paging::parse(query.page.as_deref(), query.limit.as_deref())?;
    let below_reorder = match query.below_reorder.as_deref() {
        None | Some("" | "false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => {
            return Err(ApiError::malformed(
                Some("below_reorder".into()),
                "true or false",
            ));
        }
    };
    let as_of = super::moment_param("as_of", query.as_of)?;
    let found = client(&state)
        .get_stock(request(
            pb::GetStockRequest {
                location_id: query.location_id.unwrap_or_default(),
                product_id: query.product_id.unwrap_or_default(),
                below_reorder,
                as_of,
                page: paging.page,
                limit: paging.limit,
            },
            caller.on_behalf(),
        ))
        .await
        .map_err(|status| ApiError::from_status("inventory", &status))?
        .into_inner();
    Ok(Json(paging.page_from(
        found.levels.into_iter().map(Into::into).collect(),
        found.total,
    )))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MovementQuery {
    location_id: Option<String>,
    product_id: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    limit: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/stock/movements", params(MovementQuery), responses((status = 200, description = "A page of movements, newest first", body = Page<MovementView>)))]
pub async fn movements(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<MovementQuery>,
) -> Result<Json<Page<MovementView>>, ApiError> {
    let paging = super::Paging::parse(query.page.as_deref(), query.limit.as_deref())?;
    let found = client(&state)
        .list_movements(request(
            pb::ListMovementsRequest {
                location_id: query.location_id.unwrap_or_default(),
                product_id: query.product_id.unwrap_or_default(),
                page: paging.page,
                limit: paging.limit,
            },
            caller.on_behalf(),
        ))
        .await
        .map_err(|status| ApiError::from_status("inventory", &status))?
        .into_inner();
    Ok(Json(paging.page_from(
        found.movements.into_iter().map(Into::into).collect(),
        found.total,
    )))
}

fn client(state: &AppState) -> InventoryServiceClient<crate::upstream::Replica> {
    InventoryServiceClient::new(state.upstreams.inventory.pick())
}
