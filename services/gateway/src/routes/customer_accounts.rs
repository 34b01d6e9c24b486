//! A customer's account: what they owe (on-account sales less payments) and the store credit
//! the store owes them, and paying the account down. Served by the sales process's
//! `CustomerService` (see `routes::customers`), where the sales that move it are recorded.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tillstream_proto::sales::v1 as pb;
use utoipa::ToSchema;

use super::customers::{client, upstream_error};
use super::{Created, created, idempotency_key, optional};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{JsonBody, MoneyText};
use crate::upstream::request;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"customer_id": "01JD7C1A2B3C4D5E6F7G8H9J0K", "balance": "42.50", "credit_limit": "500.00", "store_credit": "0.00", "currency": "USD",
    "entries": [{"at": "2026-11-24T10:15:00.000Z", "kind": "charge", "amount": "42.50", "reference": "01JD7D2B3C4D5E6F7G8H9J0K1M"}]}))]
pub struct CustomerAccountView {
    customer_id: String,
    /// What the customer owes: on-account sales less payments and refunds; never above
    /// `credit_limit`.
    balance: String,
    credit_limit: String,
    /// What the store owes the customer: refunds to store credit less what was spent.
    store_credit: String,
    currency: String,
    /// Newest first.
    entries: Vec<CustomerAccountEntryView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerAccountEntryView {
    at: String,
    /// `charge`, `charge_reversed`, `payment`, `store_credit_added` or `store_credit_spent`.
    kind: String,
    /// Signed: what it added to `balance` (charges, payments) or to `store_credit`.
    amount: String,
    /// The sale, return or payment it came from.
    reference: String,
}

impl From<pb::Account> for CustomerAccountView {
    fn from(a: pb::Account) -> Self {
        CustomerAccountView {
            customer_id: a.customer_id,
            balance: a.balance,
            credit_limit: a.credit_limit,
            store_credit: a.store_credit,
            currency: a.currency,
            entries: a
                .entries
                .into_iter()
                .map(|e| CustomerAccountEntryView {
                    at: e.at,
                    kind: e.kind,
                    amount: e.amount,
                    reference: e.reference,
                })
                .collect(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/account", params(("id" = String, Path, description = "The customer's id")),
    responses((status = 200, description = "The balance owed, the store credit held and how they moved", body = CustomerAccountView)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(customer_id): Path<String>,
) -> Result<Json<CustomerAccountView>, ApiError> {
    let account = client(&state)
        .get_account(request(
            pb::GetAccountRequest { customer_id },
            caller.on_behalf(),
        ))
        .await
        .map_err(upstream_error)?;
    Ok(Json(account.into_inner().into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"amount": "20.00", "method": "cash", "session_id": "01JD7E3C4D5E6F7G8H9J0K1M2N"}))]
pub struct NewAccountPayment {
    /// At most the balance owed.
    amount: MoneyText,
    /// `cash` or `card`: the account the money goes into (1000 or 1010).
    method: String,
    reference: Option<String>,
    /// The open register session the cash goes into, if any.
    session_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JD7F4D5E6F7G8H9J0K1M2N3P", "customer_id": "01JD7C1A2B3C4D5E6F7G8H9J0K", "amount": "20.00", "method": "cash", "reference": null, "session_id": "01JD7E3C4D5E6F7G8H9J0K1M2N", "paid_at": "2026-11-24T10:15:00.000Z", "balance": "22.50"}))]
pub struct AccountPaymentView {
    id: String,
    customer_id: String,
    amount: String,
    method: String,
    reference: Option<String>,
    session_id: Option<String>,
    paid_at: String,
    /// The balance owed after it.
    balance: String,
}

impl From<pb::AccountPayment> for AccountPaymentView {
    fn from(p: pb::AccountPayment) -> Self {
        AccountPaymentView {
            id: p.id,
            customer_id: p.customer_id,
            amount: p.amount,
            method: p.method,
            reference: optional(p.reference),
            session_id: optional(p.session_id),
            paid_at: p.paid_at,
            balance: p.balance,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/account/payments", params(("id" = String, Path, description = "The customer's id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewAccountPayment,
    responses((status = 201, description = "Paid: the balance owed (1100) falls by the amount; more than it is a 422 naming `amount`", body = AccountPaymentView)))]
pub async fn pay(
    State(state): State<AppState>,
    caller: Caller,
    Path(customer_id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewAccountPayment>,
) -> Result<Created<AccountPaymentView>, ApiError> {
    let message = pb::PayAccountRequest {
        customer_id,
        amount: body.amount.0,
        method: body.method,
        reference: body.reference.unwrap_or_default(),
        session_id: body.session_id.unwrap_or_default(),
        idempotency_key: idempotency_key(&headers)?,
    };
    let payment = client(&state)
        .pay_account(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(created(payment.into_inner().into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn a_payment_without_reference_or_session_shows_them_as_null() {
        let view = AccountPaymentView::from(pb::AccountPayment {
            amount: "5.00".into(),
            method: "card".into(),
            ..Default::default()
        });
        let json = serde_json::to_value(view).unwrap();
        assert_eq!(json["reference"], serde_json::Value::Null);
        assert_eq!(json["session_id"], serde_json::Value::Null);
        assert_eq!(json["amount"], "5.00");
        // Money is a string, never a JSON number.
        assert!(
            crate::json::parse::<NewAccountPayment>(br#"{"amount": 5, "method": "cash"}"#).is_err()
        );
    }
}
