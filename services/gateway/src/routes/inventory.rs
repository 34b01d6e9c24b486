//! Locations, stock receipts and stock levels.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tillstream_proto::inventory::v1 as pb;
use tillstream_proto::inventory::v1::inventory_service_client::InventoryServiceClient;

use super::{Created, Page, PageQuery, created, optional};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{DecimalText, JsonBody, MoneyText, Query};
use crate::upstream::request;

#[derive(Debug, Deserialize)]
pub struct NewLocation {
    code: String,
    name: String,
}

#[derive(Debug, Serialize)]
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

#[derive(Debug, Deserialize)]
pub struct NewReceipt {
    location_id: String,
    supplier: Option<String>,
    reference: Option<String>,
    lines: Vec<ReceiptLine>,
}

#[derive(Debug, Deserialize)]
pub struct ReceiptLine {
    product_id: String,
    quantity: DecimalText,
    unit_cost: MoneyText,
}

#[derive(Debug, Serialize)]
pub struct ReceiptView {
    location_id: String,
    supplier: Option<String>,
    reference: Option<String>,
    lines: Vec<ReceiptLineView>,
    /// The stock levels the receipt left.
    levels: Vec<StockLevelView>,
}

#[derive(Debug, Serialize)]
pub struct ReceiptLineView {
    product_id: String,
    quantity: String,
    unit_cost: String,
}

pub async fn receive(
    State(state): State<AppState>,
    caller: Caller,
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
        location_id: body.location_id.clone(),
        supplier: body.supplier.clone().unwrap_or_default(),
        reference: body.reference.clone().unwrap_or_default(),
        lines: lines.clone(),
    };
    let levels = client(&state)
        .receive_stock(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("inventory", &status))?
        .into_inner()
        .levels;
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
        levels: levels.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Serialize)]
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

#[derive(Debug, Deserialize)]
pub struct StockQuery {
    location_id: Option<String>,
    product_id: Option<String>,
    page: Option<String>,
    limit: Option<String>,
}

pub async fn stock(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<StockQuery>,
) -> Result<Json<Page<StockLevelView>>, ApiError> {
    let paging = super::Paging::parse(query.page.as_deref(), query.limit.as_deref())?;
    let levels = client(&state)
        .get_stock(request(
            pb::GetStockRequest {
                location_id: query.location_id.unwrap_or_default(),
                product_id: query.product_id.unwrap_or_default(),
            },
            caller.on_behalf(),
        ))
        .await
        .map_err(|status| ApiError::from_status("inventory", &status))?
        .into_inner()
        .levels;
    Ok(Json(
        paging.page_of(levels.into_iter().map(Into::into).collect()),
    ))
}

fn client(state: &AppState) -> InventoryServiceClient<tonic::transport::Channel> {
    InventoryServiceClient::new(state.upstreams.inventory.clone())
}
