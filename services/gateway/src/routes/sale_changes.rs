//! Changing a sale after the fact (a manager): returns and voids.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::sales_service_client::SalesServiceClient;
use utoipa::ToSchema;

use super::sales::{PaymentBody, PaymentView, SaleView};
use super::{Created, created, idempotency_key};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{DecimalText, JsonBody};
use crate::upstream::{request, with_approvals};

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"lines": [{"line_no": 1, "quantity": "1"}], "refunds": [{"method": "cash", "amount": "4.95"}], "restock": true, "reason": "unopened"}))]
pub struct NewReturn {
    lines: Vec<ReturnLineBody>,
    #[serde(default)]
    refunds: Vec<PaymentBody>,
    restock: Option<bool>,
    reason: Option<String>,
    /// The open register session the refund is taken in.
    session_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReturnLineBody {
    line_no: i32,
    quantity: DecimalText,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnView {
    id: String,
    returned_at: String,
    lines: Vec<ReturnedLineView>,
    refunds: Vec<PaymentView>,
    restock: bool,
    reason: Option<String>,
    refund_total: String,
    tax: String,
    revenue: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnedLineView {
    line_no: i32,
    /// `null` for a repair's labor line.
    product_id: Option<String>,
    quantity: String,
    refund: String,
    tax: String,
    revenue: String,
}

impl From<pb::SaleReturn> for ReturnView {
    fn from(r: pb::SaleReturn) -> Self {
        ReturnView {
            id: r.id,
            returned_at: r.returned_at,
            lines: r
                .lines
                .into_iter()
                .map(|l| ReturnedLineView {
                    line_no: l.line_no,
                    product_id: super::optional(l.product_id),
                    quantity: l.quantity,
                    refund: l.refund,
                    tax: l.tax,
                    revenue: l.revenue,
                })
                .collect(),
            refunds: r.refunds.into_iter().map(PaymentView::from).collect(),
            restock: r.restock,
            reason: super::optional(r.reason),
            refund_total: r.refund_total,
            tax: r.tax,
            revenue: r.revenue,
            session_id: super::optional(r.session_id),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/sales/{id}/returns", params(("id" = String, Path, description = "The sale's id or its sale number"), ("X-Approval" = Option<String>, Header, description = "A cashier's approvals (POST /api/v1/auth/approvals), comma-separated: `return` or `void`, and `refund_tender` for refunds to other tenders than the sale's"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")),
    request_body = NewReturn, responses((status = 201, description = "Returned and refunded", body = ReturnView),
        (status = 409, description = "The sale is voided, or more would be returned than was sold", body = crate::openapi::ErrorBody)))]
pub async fn return_goods(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewReturn>,
) -> Result<Created<ReturnView>, ApiError> {
    let message = pb::ReturnSaleRequest {
        sale_id: id,
        lines: body
            .lines
            .into_iter()
            .map(|l| pb::ReturnLineRequest {
                line_no: l.line_no,
                quantity: l.quantity.0,
            })
            .collect(),
        refunds: body
            .refunds
            .into_iter()
            .map(PaymentBody::into_request)
            .collect(),
        restock: body.restock,
        reason: body.reason.unwrap_or_default(),
        idempotency_key: idempotency_key(&headers)?,
        session_id: body.session_id.unwrap_or_default(),
    };
    let returned = client(&state)
        .return_sale(with_approvals(
            request(message, caller.on_behalf()),
            &headers,
        ))
        .await
        .map_err(|status| ApiError::from_status("sales", &status))?;
    Ok(created(returned.into_inner().into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "rung up twice"}))]
pub struct VoidBody {
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/sales/{id}/void", params(("id" = String, Path, description = "The sale's id or its sale number"), ("X-Approval" = Option<String>, Header, description = "A cashier's approvals (POST /api/v1/auth/approvals), comma-separated: `return` or `void`, and `refund_tender` for refunds to other tenders than the sale's")),
    request_body = VoidBody, responses((status = 200, description = "The voided sale", body = crate::routes::sales::SaleView),
        (status = 409, description = "Already voided, or it has returns", body = crate::openapi::ErrorBody)))]
pub async fn void(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<VoidBody>,
) -> Result<Json<SaleView>, ApiError> {
    let message = pb::VoidSaleRequest {
        sale_id: id,
        reason: body.reason,
    };
    let sale = client(&state)
        .void_sale(with_approvals(
            request(message, caller.on_behalf()),
            &headers,
        ))
        .await
        .map_err(|status| ApiError::from_status("sales", &status))?;
    Ok(Json(sale.into_inner().into()))
}

fn client(state: &AppState) -> SalesServiceClient<crate::upstream::Replica> {
    SalesServiceClient::new(state.upstreams.sales.pick())
}
