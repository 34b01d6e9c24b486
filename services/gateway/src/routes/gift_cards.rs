//! Gift cards: sold for an amount paid by the usual tenders, and read back by code at the
//! till. Served by the sales process's `GiftCardService`, since paying with a card draws
//! it down in the sale's own transaction (decision 0011).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::gift_card_service_client::GiftCardServiceClient;
use utoipa::ToSchema;

use super::sales::{PaymentBody, PaymentView};
use super::{Created, created, idempotency_key, optional};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{JsonBody, MoneyText};
use crate::upstream::request;

fn client(state: &AppState) -> GiftCardServiceClient<crate::upstream::Replica> {
    GiftCardServiceClient::new(state.upstreams.sales.pick())
}

fn upstream_error(status: tonic::Status) -> ApiError {
    ApiError::from_status("sales", &status)
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"amount": "50.00", "payments": [{"method": "card", "amount": "50.00", "reference": "AUTH123"}], "location_id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P"}))]
pub struct NewGiftCard {
    /// What the card holds once sold.
    amount: MoneyText,
    /// How it is paid for, as a sale's payments (cash may overpay; the rest may not).
    payments: Vec<PaymentBody>,
    /// A registered customer it is sold to, if any.
    customer_id: Option<String>,
    /// The open register session the payments go into, if any.
    session_id: Option<String>,
    /// The location it is sold at.
    location_id: Option<String>,
}

impl NewGiftCard {
    fn into_request(self, idempotency_key: String) -> pb::IssueGiftCardRequest {
        pb::IssueGiftCardRequest {
            amount: self.amount.0,
            payments: self
                .payments
                .into_iter()
                .map(PaymentBody::into_request)
                .collect(),
            customer_id: self.customer_id.unwrap_or_default(),
            session_id: self.session_id.unwrap_or_default(),
            idempotency_key,
            location_id: self.location_id.unwrap_or_default(),
        }
    }
}

/// A card as its buyer gets it: the code is printed on the card and is all a till needs
/// to spend it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JD7G5E6F7G8H9J0K1M2N3P4Q", "code": "6037990000012340", "balance": "50.00", "initial_amount": "50.00", "status": "active", "issued_at": "2026-11-24T10:15:00.000Z", "customer_id": null, "currency": "USD", "payments": [{"method": "card", "amount": "50.00", "reference": "AUTH123"}]}))]
pub struct GiftCardView {
    id: String,
    /// 16 digits, the last a Luhn check digit.
    code: String,
    balance: String,
    initial_amount: String,
    /// `active`, or `spent` once its balance is zero.
    status: String,
    issued_at: String,
    customer_id: Option<String>,
    currency: String,
    payments: Vec<PaymentView>,
}

impl From<pb::GiftCard> for GiftCardView {
    fn from(g: pb::GiftCard) -> Self {
        GiftCardView {
            id: g.id,
            code: g.code,
            balance: g.balance,
            initial_amount: g.initial_amount,
            status: g.status,
            issued_at: g.issued_at,
            customer_id: optional(g.customer_id),
            currency: g.currency,
            payments: g.payments.into_iter().map(PaymentView::from).collect(),
        }
    }
}

/// What a till reads before taking a card: what is left on it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "6037990000012340", "balance": "12.40", "status": "active", "currency": "USD"}))]
pub struct GiftCardBalanceView {
    code: String,
    balance: String,
    /// `active`, or `spent` once its balance is zero.
    status: String,
    currency: String,
}

impl From<pb::GiftCard> for GiftCardBalanceView {
    fn from(g: pb::GiftCard) -> Self {
        GiftCardBalanceView {
            code: g.code,
            balance: g.balance,
            status: g.status,
            currency: g.currency,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/gift-cards", params(("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewGiftCard,
    description = "Sells a card: not revenue; the tenders are debited and 2200 (gift cards outstanding) credited.",
    responses((status = 201, description = "Issued, `active`, holding `amount`", body = GiftCardView)))]
pub async fn issue(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewGiftCard>,
) -> Result<Created<GiftCardView>, ApiError> {
    let message = body.into_request(idempotency_key(&headers)?);
    let card = client(&state)
        .issue_gift_card(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(created(card.into_inner().into()))
}

#[utoipa::path(get, path = "/api/v1/gift-cards/{code}", params(("code" = String, Path, description = "The card's 16-digit code")),
    responses((status = 200, description = "What is left on the card", body = GiftCardBalanceView), (status = 404, description = "No card has this code", body = crate::openapi::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<GiftCardBalanceView>, ApiError> {
    let card = client(&state)
        .get_gift_card(request(pb::GetGiftCardRequest { code }, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(Json(card.into_inner().into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn a_card_is_sold_with_its_payments_and_read_back_without_them() {
        let body = br#"{"amount": "25.00", "payments": [{"method": "cash", "amount": "30.00"}]}"#;
        let message = crate::json::parse::<NewGiftCard>(body)
            .unwrap()
            .into_request("k".into());
        assert_eq!(message.amount, "25.00");
        assert_eq!(message.payments[0].method, "cash");
        assert_eq!(
            (
                message.customer_id.as_str(),
                message.idempotency_key.as_str()
            ),
            ("", "k")
        );
        // Payments are how it is paid for: not optional, and money is never a number.
        let error = crate::json::parse::<NewGiftCard>(br#"{"amount": "5"}"#).unwrap_err();
        assert_eq!(error.details[0].field, "payments");
        assert!(crate::json::parse::<NewGiftCard>(br#"{"amount": 5, "payments": []}"#).is_err());

        let card = pb::GiftCard {
            id: "g".into(),
            code: "6037990000012340".into(),
            balance: "25.00".into(),
            status: "active".into(),
            customer_id: String::new(),
            ..Default::default()
        };
        let sold = serde_json::to_value(GiftCardView::from(card.clone())).unwrap();
        assert_eq!(sold["customer_id"], serde_json::Value::Null);
        let read = serde_json::to_value(GiftCardBalanceView::from(card)).unwrap();
        assert_eq!(read.as_object().unwrap().len(), 4, "{read}");
        assert_eq!(read["balance"], "25.00");
    }
}
