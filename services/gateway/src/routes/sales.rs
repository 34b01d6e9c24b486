//! Ringing up a sale and reading it back (returns and voids: `sale_changes`).

use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::sales_service_client::SalesServiceClient;
use tillstream_telemetry::timing;
use utoipa::{IntoParams, ToSchema};

use super::sale_changes::ReturnView;
use super::{Created, Page, created, idempotency_key, range_param};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{DecimalText, JsonBody, MoneyText, Query};
use crate::upstream::{request, with_approvals};

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"id": "01JD6A7B8C9D0E1F2G3H4J5K6M", "location_id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P", "lines": [{"barcode": "4006381333931", "quantity": "2"}, {"sku": "MUG-01", "quantity": 1, "discount": {"percent": "10"}}], "payments": [{"method": "card", "amount": "5.00"}, {"method": "cash", "amount": "20.00"}]}))]
pub struct NewSale {
    #[serde(default)]
    id: Option<String>,
    location_id: String,
    lines: Vec<NewLine>,
    discount: Option<DiscountBody>,
    #[serde(default)]
    payments: Vec<PaymentBody>,
    customer: Option<Customer>,
    notes: Option<String>,
    /// When an offline till rang it up (RFC 3339); batches only.
    captured_at: Option<String>,
    /// The open register session it is rung up in.
    session_id: Option<String>,
    /// A registered customer (`POST /api/v1/customers`); `store_credit` and `on_account`
    /// payments need one.
    customer_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewLine {
    product_id: Option<String>,
    sku: Option<String>,
    barcode: Option<String>,
    quantity: DecimalText,
    discount: Option<DiscountBody>,
    /// The price an offline till charged.
    unit_price: Option<MoneyText>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DiscountBody {
    percent: Option<DecimalText>,
    amount: Option<MoneyText>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PaymentBody {
    /// `cash`, `card`, `voucher`, `other`, `gift_card` (`reference`: the card's code),
    /// `store_credit` or `on_account` (both need the sale's `customer_id`).
    method: String,
    amount: MoneyText,
    reference: Option<String>,
}

impl PaymentBody {
    pub fn into_request(self) -> pb::PaymentRequest {
        pb::PaymentRequest {
            method: self.method,
            amount: self.amount.0,
            reference: self.reference.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Customer {
    name: Option<String>,
    email: Option<String>,
}

impl NewSale {
    /// The till's own id, if it sent one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    pub fn into_request(
        self,
        cashier_id: String,
        idempotency_key: String,
    ) -> Result<pb::CreateSaleRequest, ApiError> {
        let lines = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, line)| line.into_request(i))
            .collect::<Result<_, _>>()?;
        let (customer_name, customer_email) = self
            .customer
            .map(|c| (c.name.unwrap_or_default(), c.email.unwrap_or_default()))
            .unwrap_or_default();
        Ok(pb::CreateSaleRequest {
            id: self.id.unwrap_or_default(),
            location_id: self.location_id,
            lines,
            discount: discount(self.discount, "discount")?,
            payments: self
                .payments
                .into_iter()
                .map(PaymentBody::into_request)
                .collect(),
            customer_name,
            customer_email,
            notes: self.notes.unwrap_or_default(),
            idempotency_key,
            cashier_id,
            captured_at: self.captured_at.unwrap_or_default(),
            session_id: self.session_id.unwrap_or_default(),
            customer_id: self.customer_id.unwrap_or_default(),
        })
    }
}

impl NewLine {
    fn into_request(self, index: usize) -> Result<pb::SaleLineRequest, ApiError> {
        use pb::sale_line_request::Product;
        let product = match (self.product_id, self.sku, self.barcode) {
            (Some(id), None, None) => Product::ProductId(id),
            (None, Some(sku), None) => Product::Sku(sku),
            (None, None, Some(barcode)) => Product::Barcode(barcode),
            _ => {
                return Err(ApiError::invalid(
                    format!("lines[{index}].product_id"),
                    "give exactly one of product_id, sku or barcode",
                ));
            }
        };
        Ok(pb::SaleLineRequest {
            product: Some(product),
            quantity: self.quantity.0,
            discount: discount(self.discount, &format!("lines[{index}].discount"))?,
            unit_price: self.unit_price.map(|p| p.0).unwrap_or_default(),
        })
    }
}

fn discount(body: Option<DiscountBody>, field: &str) -> Result<Option<pb::Discount>, ApiError> {
    use pb::discount::Kind;
    let Some(body) = body else {
        return Ok(None);
    };
    let kind = match (body.percent, body.amount) {
        (Some(percent), None) => Kind::Percent(percent.0),
        (None, Some(amount)) => Kind::Amount(amount.0),
        _ => {
            return Err(ApiError::invalid(
                field,
                "give exactly one of `percent` or `amount`",
            ));
        }
    };
    Ok(Some(pb::Discount { kind: Some(kind) }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SaleView {
    id: String,
    sale_number: String,
    status: String,
    location_id: String,
    cashier_id: String,
    created_at: String,
    currency: String,
    lines: Vec<LineView>,
    subtotal: String,
    discount_total: String,
    tax_total: String,
    total: String,
    payments: Vec<PaymentView>,
    change: String,
    ledger_status: String,
    ledger_entry_ids: Vec<String>,
    returns: Vec<ReturnView>,
    /// The managers' approvals the sale used; empty when none.
    approvals: Vec<ApprovalRefView>,
    /// Set when it was rung up in a register session.
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    register_id: Option<String>,
    /// Its entry's `seq` in the register's fiscal journal.
    #[serde(skip_serializing_if = "Option::is_none")]
    receipt_no: Option<i64>,
    /// Sent in a batch after its session closed: on the journal, not in the Z report.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    late: bool,
    /// The registered customer; `null` when none.
    customer_id: Option<String>,
    /// The repair this sale collected (`POST /api/v1/repairs/{id}/collect`); `null` when it
    /// is no repair's.
    repair_id: Option<String>,
}

/// An approval an action used: which, by whom.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalRefView {
    action: String,
    approver_id: String,
    approval_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineView {
    line_no: i32,
    /// `null` for a line without a product: a repair's labor.
    product_id: Option<String>,
    sku: String,
    name: String,
    quantity: String,
    unit_price: String,
    gross: String,
    discount: String,
    net: String,
    tax_rate: String,
    tax: String,
    line_total: String,
    /// The catalog's price, when an offline till charged another.
    #[serde(skip_serializing_if = "Option::is_none")]
    catalog_price: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    method: String,
    amount: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
}

impl From<pb::Payment> for PaymentView {
    fn from(p: pb::Payment) -> Self {
        PaymentView {
            method: p.method,
            amount: p.amount,
            reference: super::optional(p.reference),
        }
    }
}

impl From<pb::Sale> for SaleView {
    fn from(s: pb::Sale) -> Self {
        SaleView {
            id: s.id,
            sale_number: s.sale_number,
            status: s.status,
            location_id: s.location_id,
            cashier_id: s.cashier_id,
            created_at: s.created_at,
            currency: s.currency,
            lines: s
                .lines
                .into_iter()
                .map(|l| LineView {
                    line_no: l.line_no,
                    product_id: super::optional(l.product_id),
                    sku: l.sku,
                    name: l.name,
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    gross: l.gross,
                    discount: l.discount,
                    net: l.net,
                    tax_rate: l.tax_rate,
                    tax: l.tax,
                    line_total: l.line_total,
                    catalog_price: super::optional(l.catalog_price),
                })
                .collect(),
            subtotal: s.subtotal,
            discount_total: s.discount_total,
            tax_total: s.tax_total,
            total: s.total,
            payments: s.payments.into_iter().map(PaymentView::from).collect(),
            change: s.change,
            ledger_status: s.ledger_status,
            ledger_entry_ids: s.ledger_entry_ids,
            returns: s.returns.into_iter().map(ReturnView::from).collect(),
            approvals: s
                .approvals
                .into_iter()
                .map(|a| ApprovalRefView {
                    action: a.action,
                    approver_id: a.approver_id,
                    approval_id: a.approval_id,
                })
                .collect(),
            receipt_no: (!s.session_id.is_empty()).then_some(s.receipt_no),
            session_id: super::optional(s.session_id),
            register_id: super::optional(s.register_id),
            late: s.late,
            customer_id: super::optional(s.customer_id),
            repair_id: super::optional(s.repair_id),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/sales", params(("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once"), ("X-Approval" = Option<String>, Header, description = "Approval tokens (POST /api/v1/auth/approvals), comma-separated, for what a cashier may not do alone")), request_body = NewSale,
    responses((status = 201, description = "Rung up; `ledger_status` is `pending` until the ledger books it", body = SaleView),
              (status = 409, description = "`idempotency_key_reused` with another body, or `idempotency_in_progress`", body = crate::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewSale>,
) -> Result<Created<SaleView>, ApiError> {
    let message = body.into_request(caller.claims.sub.clone(), idempotency_key(&headers)?)?;
    let called = Instant::now();
    let sale = client(&state)
        .create_sale(with_approvals(
            request(message, caller.on_behalf()),
            &headers,
        ))
        .await
        .map_err(|status| ApiError::from_status("sales", &status))?;
    timing::stage("sales", called);
    if let Some(stages) = sale
        .metadata()
        .get(timing::HEADER)
        .and_then(|v| v.to_str().ok())
    {
        timing::stages_of("sales", stages);
    }
    Ok(created(sale.into_inner().into()))
}

#[utoipa::path(get, path = "/api/v1/sales/{id}", params(("id" = String, Path, description = "The sale's id or its sale number")),
    responses((status = 200, description = "The sale", body = SaleView)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id_or_number): Path<String>,
) -> Result<Json<SaleView>, ApiError> {
    let sale = client(&state)
        .get_sale(request(
            pb::GetSaleRequest { id_or_number },
            caller.on_behalf(),
        ))
        .await
        .map_err(|status| ApiError::from_status("sales", &status))?;
    Ok(Json(sale.into_inner().into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SaleQuery {
    /// A date (the whole day, UTC) or an RFC 3339 time; inclusive.
    from: Option<String>,
    /// A date (the whole day, UTC) or an RFC 3339 time; inclusive.
    to: Option<String>,
    location_id: Option<String>,
    /// `pending` or `posted`.
    ledger_status: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    limit: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/sales", params(SaleQuery), responses((status = 200, description = "A page of sales, newest first", body = Page<SaleView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<SaleQuery>,
) -> Result<Json<Page<SaleView>>, ApiError> {
    let paging = super::Paging::parse(query.page.as_deref(), query.limit.as_deref())?;
    let ledger_status = query.ledger_status.unwrap_or_default();
    if !matches!(ledger_status.as_str(), "" | "pending" | "posted") {
        return Err(ApiError::malformed(
            Some("ledger_status".into()),
            "pending or posted",
        ));
    }
    let message = pb::ListSalesRequest {
        from: range_param("from", query.from)?,
        to: range_param("to", query.to)?,
        location_id: query.location_id.unwrap_or_default(),
        ledger_status,
        page: paging.page,
        limit: paging.limit,
    };
    let found = client(&state)
        .list_sales(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("sales", &status))?
        .into_inner();
    Ok(Json(paging.page_from(
        found.sales.into_iter().map(Into::into).collect(),
        found.total,
    )))
}

/// The receipt as `text/plain` (40 columns), or `text/html` when the client accepts it
/// and not plain text first.
#[utoipa::path(get, path = "/api/v1/sales/{id}/receipt", params(("id" = String, Path, description = "The sale's id or its sale number")),
    responses((status = 200, description = "The receipt: 40 columns of text, or HTML when `Accept` prefers it",
        content((String = "text/plain"), (String = "text/html")))))]
pub async fn receipt(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id_or_number): Path<String>,
) -> Result<Response, ApiError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let wants_html = match (accept.find("text/html"), accept.find("text/plain")) {
        (Some(html), Some(plain)) => html < plain,
        (Some(_), None) => true,
        _ => false,
    };
    let message = pb::GetReceiptRequest {
        id_or_number,
        format: if wants_html { "html" } else { "text" }.into(),
    };
    let receipt = client(&state)
        .get_receipt(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("sales", &status))?
        .into_inner();
    Ok(([(header::CONTENT_TYPE, receipt.content_type)], receipt.body).into_response())
}

fn client(state: &AppState) -> SalesServiceClient<crate::upstream::Replica> {
    SalesServiceClient::new(state.upstreams.sales.pick())
}
