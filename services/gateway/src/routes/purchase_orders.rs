//! Purchase orders: drafted, submitted, received in one or more deliveries, invoiced
//! (`routes::purchase_invoices`), closed short or cancelled. Served by inventory's
//! `PurchasingService` (see `routes::purchasing`); the status machine is the service's, so a
//! step the order's status forbids comes back from it as a 409.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tillstream_proto::inventory::v1 as pb;
use utoipa::{IntoParams, ToSchema};

use super::purchase_invoices::PurchaseInvoiceView;
use super::purchasing::{client, upstream_error};
use super::{Created, Page, Paging, created, idempotency_key, if_match, optional};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{DecimalText, JsonBody, MoneyText, Query};
use crate::upstream::request;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"supplier_id": "01JD5Y1C2D3E4F5G6H7J8K9M0N", "location_id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P", "expected_at": "2026-12-01T09:00:00Z", "lines": [{"product_id": "01JD5X0M2B7C4N9V1Z3K6H8G5F", "quantity": "24", "unit_cost": "2.10"}]}))]
pub struct NewPurchaseOrder {
    supplier_id: String,
    location_id: String,
    /// When the goods should arrive (RFC 3339).
    expected_at: Option<String>,
    lines: Vec<OrderLineBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OrderLineBody {
    product_id: String,
    quantity: DecimalText,
    unit_cost: MoneyText,
}

fn order_lines(lines: Vec<OrderLineBody>) -> Vec<pb::OrderLine> {
    lines
        .into_iter()
        .map(|line| pb::OrderLine {
            product_id: line.product_id,
            quantity: line.quantity.0,
            unit_cost: line.unit_cost.0,
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JD60A1B2C3D4E5F6G7H8J9K0", "number": "PO-000042", "status": "draft", "supplier_id": "01JD5Y1C2D3E4F5G6H7J8K9M0N", "location_id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P", "expected_at": "2026-12-01T09:00:00.000Z",
    "lines": [{"line_no": 1, "product_id": "01JD5X0M2B7C4N9V1Z3K6H8G5F", "quantity": "24", "unit_cost": "2.10", "received": "0", "invoiced": "0"}],
    "total": "50.40", "version": 1, "receipts": [], "invoices": [], "created_at": "2026-11-24T10:15:00.000Z", "close_reason": null}))]
pub struct PurchaseOrderView {
    id: String,
    /// `PO-000042`: for people and the supplier's paperwork; never reused.
    number: String,
    /// `draft`, `ordered`, `partially_received`, `received`, `closed` or `cancelled`.
    status: String,
    supplier_id: String,
    location_id: String,
    expected_at: Option<String>,
    lines: Vec<PurchaseOrderLineView>,
    /// At the order's unit costs, in the store's currency.
    total: String,
    version: i64,
    receipts: Vec<PurchaseReceiptView>,
    invoices: Vec<PurchaseInvoiceView>,
    created_at: Option<String>,
    close_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PurchaseOrderLineView {
    /// What receipts and invoices name the line by.
    line_no: u32,
    product_id: String,
    quantity: String,
    unit_cost: String,
    received: String,
    invoiced: String,
}

impl From<pb::PurchaseOrder> for PurchaseOrderView {
    fn from(o: pb::PurchaseOrder) -> Self {
        PurchaseOrderView {
            id: o.id,
            number: o.number,
            status: o.status,
            supplier_id: o.supplier_id,
            location_id: o.location_id,
            expected_at: optional(o.expected_at),
            lines: o
                .lines
                .into_iter()
                .map(|l| PurchaseOrderLineView {
                    line_no: l.line_no,
                    product_id: l.product_id,
                    quantity: l.quantity,
                    unit_cost: l.unit_cost,
                    received: l.received,
                    invoiced: l.invoiced,
                })
                .collect(),
            total: o.total,
            version: o.version,
            receipts: o.receipts.into_iter().map(Into::into).collect(),
            invoices: o.invoices.into_iter().map(Into::into).collect(),
            created_at: optional(o.created_at),
            close_reason: optional(o.close_reason),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/purchase-orders", params(("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewPurchaseOrder,
    responses((status = 201, description = "Drafted", body = PurchaseOrderView)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewPurchaseOrder>,
) -> Result<Created<PurchaseOrderView>, ApiError> {
    let message = pb::CreatePurchaseOrderRequest {
        supplier_id: body.supplier_id,
        location_id: body.location_id,
        expected_at: body.expected_at.unwrap_or_default(),
        lines: order_lines(body.lines),
        idempotency_key: idempotency_key(&headers)?,
    };
    let order = client(&state)
        .create_purchase_order(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(created(order.into_inner().into()))
}

#[utoipa::path(get, path = "/api/v1/purchase-orders/{id}", params(("id" = String, Path, description = "The order's id")), responses((status = 200, description = "The order, with its receipts and invoices", body = PurchaseOrderView)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PurchaseOrderView>, ApiError> {
    let order = client(&state)
        .get_purchase_order(request(
            pb::GetPurchaseOrderRequest { id },
            caller.on_behalf(),
        ))
        .await
        .map_err(upstream_error)?;
    Ok(Json(order.into_inner().into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// `draft`, `ordered`, `partially_received`, `received`, `closed` or `cancelled`.
    status: Option<String>,
    supplier_id: Option<String>,
    location_id: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    limit: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/purchase-orders", params(OrderQuery), responses((status = 200, description = "A page of orders, newest first", body = Page<PurchaseOrderView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<OrderQuery>,
) -> Result<Json<Page<PurchaseOrderView>>, ApiError> {
    let paging = Paging::parse(query.page.as_deref(), query.limit.as_deref())?;
    let message = pb::ListPurchaseOrdersRequest {
        status: query.status.unwrap_or_default(),
        supplier_id: query.supplier_id.unwrap_or_default(),
        location_id: query.location_id.unwrap_or_default(),
        page: paging.page,
        limit: paging.limit,
    };
    let found = client(&state)
        .list_purchase_orders(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?
        .into_inner();
    Ok(Json(paging.page_from(
        found.orders.into_iter().map(Into::into).collect(),
        found.total,
    )))
}

/// A draft edit: absent fields stay; `lines`, when given, replaces every line, so a client
/// sends the order as it wants it rather than a diff the service would have to merge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"expected_at": "2026-12-03T09:00:00Z", "lines": [{"product_id": "01JD5X0M2B7C4N9V1Z3K6H8G5F", "quantity": "36", "unit_cost": "2.05"}]}))]
pub struct PurchaseOrderPatch {
    /// RFC 3339.
    expected_at: Option<String>,
    lines: Option<Vec<OrderLineBody>>,
}

impl PurchaseOrderPatch {
    /// On the wire no lines and "keep the lines" look alike, hence `replace_lines`.
    fn into_request(self, id: String, expected_version: i64) -> pb::UpdatePurchaseOrderRequest {
        pb::UpdatePurchaseOrderRequest {
            id,
            expected_at: self.expected_at,
            replace_lines: self.lines.is_some(),
            lines: order_lines(self.lines.unwrap_or_default()),
            expected_version,
        }
    }
}

#[utoipa::path(patch, path = "/api/v1/purchase-orders/{id}", params(("id" = String, Path, description = "The order's id"), ("If-Match" = Option<String>, Header, description = "The version last read (`3` or `\"3\"`); a stale one is a 409")), request_body = PurchaseOrderPatch,
    responses((status = 200, description = "The order", body = PurchaseOrderView), (status = 409, description = "The order is no longer a draft, or changed since `If-Match`'s version", body = crate::openapi::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PurchaseOrderPatch>,
) -> Result<Json<PurchaseOrderView>, ApiError> {
    let message = body.into_request(id, if_match(&headers)?.unwrap_or(0));
    let order = client(&state)
        .update_purchase_order(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(Json(order.into_inner().into()))
}

#[utoipa::path(post, path = "/api/v1/purchase-orders/{id}/submit", params(("id" = String, Path, description = "The order's id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")),
    responses((status = 200, description = "The order, `ordered`: its quantities now count as on order", body = PurchaseOrderView), (status = 409, description = "The order is not a draft", body = crate::openapi::ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<PurchaseOrderView>, ApiError> {
    act(&state, &caller, &headers, Action::Submit, id, String::new()).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "the supplier discontinued the rest"}))]
pub struct ClosePurchaseOrderBody {
    /// Why the rest is no longer expected.
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/purchase-orders/{id}/close", params(("id" = String, Path, description = "The order's id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = ClosePurchaseOrderBody,
    responses((status = 200, description = "The order, `closed`: nothing more is expected", body = PurchaseOrderView), (status = 409, description = "The order's status does not allow it", body = crate::openapi::ErrorBody)))]
pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ClosePurchaseOrderBody>,
) -> Result<Json<PurchaseOrderView>, ApiError> {
    act(&state, &caller, &headers, Action::Close, id, body.reason).await
}

#[utoipa::path(post, path = "/api/v1/purchase-orders/{id}/cancel", params(("id" = String, Path, description = "The order's id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")),
    responses((status = 200, description = "The order, `cancelled`", body = PurchaseOrderView), (status = 409, description = "Something was already received, or the order is closed", body = crate::openapi::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<PurchaseOrderView>, ApiError> {
    act(&state, &caller, &headers, Action::Cancel, id, String::new()).await
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Submit,
    Close,
    Cancel,
}

/// The three status steps share one request message on the wire.
async fn act(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    action: Action,
    id: String,
    reason: String,
) -> Result<Json<PurchaseOrderView>, ApiError> {
    let mut purchasing = client(state);
    let message = pb::PurchaseOrderAction {
        id,
        reason,
        idempotency_key: idempotency_key(headers)?,
    };
    let request = request(message, caller.on_behalf());
    let order = match action {
        Action::Submit => purchasing.submit_purchase_order(request).await,
        Action::Close => purchasing.close_purchase_order(request).await,
        Action::Cancel => purchasing.cancel_purchase_order(request).await,
    }
    .map_err(upstream_error)?;
    Ok(Json(order.into_inner().into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"lines": [{"line_no": 1, "quantity": "12"}], "reference": "DN-88123"}))]
pub struct NewPurchaseReceipt {
    lines: Vec<ReceivedLineBody>,
    /// The supplier's delivery note.
    reference: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReceivedLineBody {
    line_no: u32,
    quantity: DecimalText,
}

/// A delivery: its goods went into stock at the order's unit costs.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JD61B2C3D4E5F6G7H8J9K0M1", "purchase_order_id": "01JD60A1B2C3D4E5F6G7H8J9K0", "lines": [{"line_no": 1, "product_id": "01JD5X0M2B7C4N9V1Z3K6H8G5F", "quantity": "12", "unit_cost": "2.10"}], "reference": "DN-88123", "received_at": "2026-12-01T09:40:00.000Z"}))]
pub struct PurchaseReceiptView {
    id: String,
    purchase_order_id: String,
    lines: Vec<PurchaseReceiptLineView>,
    reference: Option<String>,
    received_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PurchaseReceiptLineView {
    line_no: u32,
    product_id: String,
    quantity: String,
    unit_cost: String,
}

impl From<pb::PurchaseReceipt> for PurchaseReceiptView {
    fn from(r: pb::PurchaseReceipt) -> Self {
        PurchaseReceiptView {
            id: r.id,
            purchase_order_id: r.purchase_order_id,
            lines: r
                .lines
                .into_iter()
                .map(|l| PurchaseReceiptLineView {
                    line_no: l.line_no,
                    product_id: l.product_id,
                    quantity: l.quantity,
                    unit_cost: l.unit_cost,
                })
                .collect(),
            reference: optional(r.reference),
            received_at: r.received_at,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/purchase-orders/{id}/receipts", params(("id" = String, Path, description = "The order's id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewPurchaseReceipt,
    responses((status = 201, description = "Received: every line into stock, or none", body = PurchaseReceiptView), (status = 409, description = "The order is a draft, closed or cancelled", body = crate::openapi::ErrorBody)))]
pub async fn receive(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewPurchaseReceipt>,
) -> Result<Created<PurchaseReceiptView>, ApiError> {
    let message = pb::ReceivePurchaseOrderRequest {
        purchase_order_id: id,
        lines: body
            .lines
            .into_iter()
            .map(|line| pb::ReceiptQuantity {
                line_no: line.line_no,
                quantity: line.quantity.0,
            })
            .collect(),
        reference: body.reference.unwrap_or_default(),
        idempotency_key: idempotency_key(&headers)?,
    };
    let receipt = client(&state)
        .receive_purchase_order(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(created(receipt.into_inner().into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    fn patched(body: &str) -> pb::UpdatePurchaseOrderRequest {
        crate::json::parse::<PurchaseOrderPatch>(body.as_bytes())
            .unwrap()
            .into_request("po".into(), 0)
    }

    #[test]
    fn lines_replace_all_lines_only_when_given() {
        let moved = patched(r#"{"expected_at": "2026-12-03T09:00:00Z"}"#);
        assert!(!moved.replace_lines && moved.lines.is_empty());
        assert_eq!(moved.expected_at.as_deref(), Some("2026-12-03T09:00:00Z"));
        let emptied = patched(r#"{"lines": []}"#);
        assert!(emptied.replace_lines && emptied.expected_at.is_none());
        let relined =
            patched(r#"{"lines": [{"product_id": "p", "quantity": 36, "unit_cost": "2.05"}]}"#);
        assert!(relined.replace_lines);
        assert_eq!(
            (
                relined.lines[0].quantity.as_str(),
                relined.lines[0].unit_cost.as_str()
            ),
            ("36", "2.05")
        );
        assert!(crate::json::parse::<PurchaseOrderPatch>(br#"{"status": "ordered"}"#).is_err());
    }
}
