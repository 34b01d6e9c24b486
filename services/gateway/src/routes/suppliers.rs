//! Suppliers and what is paid to them. Served by inventory's `PurchasingService`
//! (see `routes::purchasing`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tillstream_proto::inventory::v1 as pb;
use utoipa::ToSchema;

use super::purchasing::{client, upstream_error};
use super::{Created, Page, PageQuery, created, idempotency_key, if_match, optional, present};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{JsonBody, MoneyText, Query};
use crate::upstream::request;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"code": "TEA-TRADERS", "name": "Tea Traders Ltd", "email": "orders@teatraders.example", "phone": "+44 20 7946 0000", "lead_time_days": 5}))]
pub struct NewSupplier {
    code: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    /// Days from ordering to delivery; 7 when absent.
    lead_time_days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JD5Y1C2D3E4F5G6H7J8K9M0N", "code": "TEA-TRADERS", "name": "Tea Traders Ltd", "email": "orders@teatraders.example", "phone": null, "lead_time_days": 5, "version": 1}))]
pub struct SupplierView {
    id: String,
    code: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    lead_time_days: u32,
    version: i64,
}

impl From<pb::Supplier> for SupplierView {
    fn from(s: pb::Supplier) -> Self {
        SupplierView {
            id: s.id,
            code: s.code,
            name: s.name,
            email: optional(s.email),
            phone: optional(s.phone),
            lead_time_days: s.lead_time_days,
            version: s.version,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/suppliers", params(("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewSupplier,
    responses((status = 201, description = "Created", body = SupplierView), (status = 409, description = "The code is taken", body = crate::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewSupplier>,
) -> Result<Created<SupplierView>, ApiError> {
    let message = pb::CreateSupplierRequest {
        code: body.code,
        name: body.name,
        email: body.email.unwrap_or_default(),
        phone: body.phone.unwrap_or_default(),
        lead_time_days: body.lead_time_days,
        idempotency_key: idempotency_key(&headers)?,
    };
    let supplier = client(&state)
        .create_supplier(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(created(supplier.into_inner().into()))
}

#[utoipa::path(get, path = "/api/v1/suppliers", params(super::PageQuery), responses((status = 200, description = "A page of suppliers", body = Page<SupplierView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PageQuery>,
) -> Result<Json<Page<SupplierView>>, ApiError> {
    let paging = query.paging()?;
    let found = client(&state)
        .list_suppliers(request(
            pb::ListSuppliersRequest {
                page: paging.page,
                limit: paging.limit,
            },
            caller.on_behalf(),
        ))
        .await
        .map_err(upstream_error)?
        .into_inner();
    Ok(Json(paging.page_from(
        found.suppliers.into_iter().map(Into::into).collect(),
        found.total,
    )))
}

#[utoipa::path(get, path = "/api/v1/suppliers/{id}", params(("id" = String, Path, description = "The supplier's id")), responses((status = 200, description = "The supplier", body = SupplierView)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SupplierView>, ApiError> {
    let supplier = client(&state)
        .get_supplier(request(pb::GetSupplierRequest { id }, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(Json(supplier.into_inner().into()))
}

/// A supplier edit: absent fields stay; `null` clears `email` and `phone`, which a supplier
/// may do without (the code cannot change: orders and the books refer to it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"lead_time_days": 10, "phone": null}))]
pub struct SupplierPatch {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
    lead_time_days: Option<u32>,
}

impl SupplierPatch {
    /// The service reads an empty contact field as "clear it", so `null` travels as "".
    fn into_request(self, id: String, expected_version: i64) -> pb::UpdateSupplierRequest {
        pb::UpdateSupplierRequest {
            id,
            expected_version,
            name: self.name,
            email: self.email.map(Option::unwrap_or_default),
            phone: self.phone.map(Option::unwrap_or_default),
            lead_time_days: self.lead_time_days,
        }
    }
}

#[utoipa::path(patch, path = "/api/v1/suppliers/{id}", params(("id" = String, Path, description = "The supplier's id"), ("If-Match" = Option<String>, Header, description = "The version last read (`3` or `\"3\"`); a stale one is a 409")), request_body = SupplierPatch,
    responses((status = 200, description = "The supplier", body = SupplierView), (status = 409, description = "Edited since `If-Match`'s version", body = crate::openapi::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SupplierPatch>,
) -> Result<Json<SupplierView>, ApiError> {
    let message = body.into_request(id, if_match(&headers)?.unwrap_or(0));
    let supplier = client(&state)
        .update_supplier(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(Json(supplier.into_inner().into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"amount": "1250.00", "method": "bank", "reference": "BACS 2026-11-24"}))]
pub struct NewSupplierPayment {
    amount: MoneyText,
    /// `bank` or `cash`: the account the money leaves (1030 or 1000).
    method: String,
    reference: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JD5Z7Q8R9S0T1U2V3W4X5Y6Z", "supplier_id": "01JD5Y1C2D3E4F5G6H7J8K9M0N", "amount": "1250.00", "method": "bank", "reference": "BACS 2026-11-24", "paid_at": "2026-11-24T10:15:00.000Z"}))]
pub struct SupplierPaymentView {
    id: String,
    supplier_id: String,
    amount: String,
    method: String,
    reference: Option<String>,
    paid_at: String,
}

impl From<pb::SupplierPayment> for SupplierPaymentView {
    fn from(p: pb::SupplierPayment) -> Self {
        SupplierPaymentView {
            id: p.id,
            supplier_id: p.supplier_id,
            amount: p.amount,
            method: p.method,
            reference: optional(p.reference),
            paid_at: p.paid_at,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/suppliers/{id}/payments", params(("id" = String, Path, description = "The supplier's id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewSupplierPayment,
    responses((status = 201, description = "Paid: accounts payable (2000) falls by the amount", body = SupplierPaymentView)))]
pub async fn pay(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewSupplierPayment>,
) -> Result<Created<SupplierPaymentView>, ApiError> {
    let message = pb::PaySupplierRequest {
        supplier_id: id,
        amount: body.amount.0,
        method: body.method,
        reference: body.reference.unwrap_or_default(),
        idempotency_key: idempotency_key(&headers)?,
    };
    let payment = client(&state)
        .pay_supplier(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(created(payment.into_inner().into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    fn patched(body: &str) -> pb::UpdateSupplierRequest {
        crate::json::parse::<SupplierPatch>(body.as_bytes())
            .unwrap()
            .into_request("s".into(), 0)
    }

    #[test]
    fn null_clears_a_contact_field_and_absence_leaves_it() {
        let cleared = patched(r#"{"email": null, "lead_time_days": 3}"#);
        assert_eq!(cleared.email.as_deref(), Some(""));
        assert_eq!(cleared.phone, None);
        assert_eq!((cleared.name, cleared.lead_time_days), (None, Some(3)));
        let set = patched(r#"{"phone": "+44 20 7946 0000"}"#);
        assert_eq!(set.phone.as_deref(), Some("+44 20 7946 0000"));
        assert_eq!(set.email, None);
        // A code cannot change, and a typo should not pass for an edit that did nothing.
        assert!(crate::json::parse::<SupplierPatch>(br#"{"code": "X"}"#).is_err());
        assert!(crate::json::parse::<SupplierPatch>(br#"{"lead_time_days": -1}"#).is_err());
    }
}
