//! Supplier invoices against a purchase order, matched three ways (ordered, received,
//! invoiced) by the service: the gateway only carries the match back under the contract's
//! names.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tillstream_proto::inventory::v1 as pb;
use utoipa::ToSchema;

use super::purchasing::{client, upstream_error};
use super::{Created, created, idempotency_key};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{DecimalText, JsonBody, MoneyText};
use crate::upstream::request;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"number": "INV-20931", "lines": [{"line_no": 1, "quantity": "12", "unit_cost": "2.15"}]}))]
pub struct NewPurchaseInvoice {
    /// The supplier's invoice number.
    number: String,
    lines: Vec<InvoicedLineBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InvoicedLineBody {
    line_no: u32,
    quantity: DecimalText,
    unit_cost: MoneyText,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JD62C3D4E5F6G7H8J9K0M1N2", "number": "INV-20931", "purchase_order_id": "01JD60A1B2C3D4E5F6G7H8J9K0", "total": "25.80", "received_value": "25.20", "invoiced_at": "2026-12-02T14:00:00.000Z",
    "match": {"status": "price_variance", "lines": [{"line_no": 1, "ordered": "24", "received": "12", "invoiced": "12", "po_unit_cost": "2.10", "invoice_unit_cost": "2.15"}]}}))]
pub struct PurchaseInvoiceView {
    id: String,
    number: String,
    purchase_order_id: String,
    total: String,
    #[serde(rename = "match")]
    matched: MatchView,
    /// What the invoiced goods cost at the order's prices; the difference from `total` is
    /// booked as purchase price variance (5300).
    received_value: String,
    invoiced_at: String,
}

/// The three-way match: ordered, received and invoiced, line by line.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct MatchView {
    /// `matched`, `price_variance` or `quantity_variance`.
    status: String,
    lines: Vec<MatchLineView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchLineView {
    line_no: u32,
    ordered: String,
    received: String,
    /// Invoiced so far, this invoice included.
    invoiced: String,
    po_unit_cost: String,
    invoice_unit_cost: String,
}

impl From<pb::Match> for MatchView {
    fn from(m: pb::Match) -> Self {
        MatchView {
            status: m.status,
            lines: m
                .lines
                .into_iter()
                .map(|l| MatchLineView {
                    line_no: l.line_no,
                    ordered: l.ordered,
                    received: l.received,
                    invoiced: l.invoiced,
                    po_unit_cost: l.po_unit_cost,
                    invoice_unit_cost: l.invoice_unit_cost,
                })
                .collect(),
        }
    }
}

impl From<pb::PurchaseInvoice> for PurchaseInvoiceView {
    fn from(i: pb::PurchaseInvoice) -> Self {
        PurchaseInvoiceView {
            id: i.id,
            number: i.number,
            purchase_order_id: i.purchase_order_id,
            total: i.total,
            matched: i.r#match.map(Into::into).unwrap_or_default(),
            received_value: i.received_value,
            invoiced_at: i.invoiced_at,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/purchase-orders/{id}/invoices", params(("id" = String, Path, description = "The order's id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewPurchaseInvoice,
    responses((status = 201, description = "Recorded and matched against the order and its receipts", body = PurchaseInvoiceView)))]
pub async fn invoice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewPurchaseInvoice>,
) -> Result<Created<PurchaseInvoiceView>, ApiError> {
    let message = pb::InvoicePurchaseOrderRequest {
        purchase_order_id: id,
        number: body.number,
        lines: body
            .lines
            .into_iter()
            .map(|line| pb::InvoiceLine {
                line_no: line.line_no,
                quantity: line.quantity.0,
                unit_cost: line.unit_cost.0,
            })
            .collect(),
        idempotency_key: idempotency_key(&headers)?,
    };
    let invoice = client(&state)
        .invoice_purchase_order(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(created(invoice.into_inner().into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn an_invoice_answers_its_match_under_the_contracts_name() {
        let invoice = PurchaseInvoiceView::from(pb::PurchaseInvoice {
            id: "i".into(),
            r#match: Some(pb::Match {
                status: "matched".into(),
                lines: Vec::new(),
            }),
            ..Default::default()
        });
        let json = serde_json::to_value(invoice).unwrap();
        assert_eq!(json["match"]["status"], "matched");
    }
}
