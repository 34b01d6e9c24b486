//! Purchasing's shared client and what to order next. Suppliers (`suppliers`), purchase
//! orders (`purchase_orders`) and their invoices (`purchase_invoices`) have modules of their
//! own; all of them talk to the inventory process, which serves `PurchasingService` beside
//! `InventoryService` so that a delivery and the stock it brings are one transaction.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tillstream_proto::inventory::v1 as pb;
use tillstream_proto::inventory::v1::purchasing_service_client::PurchasingServiceClient;
use utoipa::{IntoParams, ToSchema};

use super::{Page, Paging, optional};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::Query;
use crate::upstream::request;

/// The inventory process's replicas answer purchasing too: the same channels as
/// `routes::inventory`, so a replica that is down is skipped for both alike.
pub(super) fn client(state: &AppState) -> PurchasingServiceClient<crate::upstream::Replica> {
    PurchasingServiceClient::new(state.upstreams.inventory.pick())
}

/// The service's error as the contract's: every purchasing call is answered by inventory.
pub(super) fn upstream_error(status: tonic::Status) -> ApiError {
    ApiError::from_status("inventory", &status)
}

/// A product worth ordering at the location, and why.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"product_id": "01JD5X0M2B7C4N9V1Z3K6H8G5F", "supplier_id": "01JD5Y1C2D3E4F5G6H7J8K9M0N", "on_hand": "3", "on_order": "0", "reorder_point": "12", "sold_last_28_days": "40", "lead_time_days": 7, "suggested_quantity": "19"}))]
pub struct SuggestionView {
    product_id: String,
    /// The supplier of the product's latest order; `null` when it was never ordered.
    supplier_id: Option<String>,
    on_hand: String,
    /// Open quantities of submitted orders (drafts do not count).
    on_order: String,
    reorder_point: Option<String>,
    sold_last_28_days: String,
    lead_time_days: u32,
    suggested_quantity: String,
}

impl From<pb::Suggestion> for SuggestionView {
    fn from(s: pb::Suggestion) -> Self {
        SuggestionView {
            product_id: s.product_id,
            supplier_id: optional(s.supplier_id),
            on_hand: s.on_hand,
            on_order: s.on_order,
            reorder_point: optional(s.reorder_point),
            sold_last_28_days: s.sold_last_28_days,
            lead_time_days: s.lead_time_days,
            suggested_quantity: s.suggested_quantity,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    /// The location to order for (required: stock is counted per location).
    location_id: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    limit: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/purchasing/suggestions", params(SuggestionQuery),
    responses((status = 200, description = "A page of products at or below their reorder point, or that will be within the supplier's lead time at the last 28 days' rate", body = Page<SuggestionView>)))]
pub async fn suggestions(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<SuggestionQuery>,
) -> Result<Json<Page<SuggestionView>>, ApiError> {
    let paging = Paging::parse(query.page.as_deref(), query.limit.as_deref())?;
    let found = client(&state)
        .suggest_purchases(request(
            pb::SuggestPurchasesRequest {
                location_id: query.location_id.unwrap_or_default(),
                page: paging.page,
                limit: paging.limit,
            },
            caller.on_behalf(),
        ))
        .await
        .map_err(upstream_error)?
        .into_inner();
    Ok(Json(paging.page_from(
        found.suggestions.into_iter().map(Into::into).collect(),
        found.total,
    )))
}
