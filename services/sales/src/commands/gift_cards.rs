//! Selling a gift card: its amount paid by the payments (cash may overpay, with change), a
//! fresh 16-digit code with its Luhn check digit, and the card's stream and row in one
//! transaction. Selling a card is not revenue: the ledger credits 2200.

use serde::Serialize;
use sqlx::PgConnection;
use tillstream_eventstore::{
    Done, EventMetadata, EventStore, IdempotencyKey, StoreError, Transaction, request_hash,
};
use tillstream_kernel::{Money, time};

use serde_json::json;
use tillstream_kernel::Tender;

use super::in_session;
use super::stored_value;
use crate::domain::pricing::{Payment, settle};
use crate::domain::stored_value::gift_card::{self, CODE_LEN, GiftCardId, Issue};
use crate::error::AppError;
use crate::projections::{customers, gift_cards};

#[derive(Debug, Clone, Serialize)]
pub struct IssueRequest {
    pub amount: Money,
    pub payments: Vec<Payment>,
    pub customer_id: Option<String>,
    pub session_id: Option<String>,
    pub location_id: Option<String>,
    #[serde(skip)]
    pub cashier_id: String,
}

/// The largest card a till may sell.
pub const MAX_CARD: i64 = 10_000;

pub async fn issue(
    store: &EventStore,
    request: IssueRequest,
    idempotency_key: Option<String>,
    metadata: EventMetadata,
) -> Result<Issue, AppError> {
    if request.amount.is_negative() || request.amount.is_zero() {
        return Err(AppError::invalid(
            "amount",
            "a gift card is sold for more than zero",
        ));
    }
    if request.amount.amount() > MAX_CARD.into() {
        return Err(AppError::invalid(
            "amount",
            format!("a gift card holds at most {MAX_CARD}"),
        ));
    }
    if let Some(index) = request
        .payments
        .iter()
        .position(|p| p.method.is_stored_value())
    {
        return Err(AppError::invalid(
            format!("payments[{index}].method"),
            "a gift card is paid in cash, by card, voucher or other",
        ));
    }
    let change = settle(request.amount, &request.payments)
        .map_err(|e| AppError::invalid(e.field(), e.to_string()))?;
    let key = match idempotency_key {
        Some(key) => Some(IdempotencyKey::new(
            format!("sales.issue_gift_card:{key}"),
            request_hash(&request)?,
        )),
        None => None,
    };
    let selling = Selling {
        request,
        change,
        metadata,
    };
    let answer = store.transact(&selling, key.as_ref(), true).await?;
    if !answer.replayed {
        tracing::info!(gift_card_id = %answer.value.id, amount = %answer.value.amount, "gift card sold");
    }
    Ok(answer.value)
}

struct Selling {
    request: IssueRequest,
    change: Money,
    metadata: EventMetadata,
}

impl Transaction for Selling {
    type Output = Issue;
    type Error = AppError;

    async fn run(
        &self,
        store: &EventStore,
        tx: &mut PgConnection,
    ) -> Result<Done<Issue>, AppError> {
        let request = &self.request;
        if let Some(customer_id) = &request.customer_id
            && !customers::is_live(&mut *tx, customer_id)
                .await
                .map_err(StoreError::from)?
        {
            return Err(AppError::invalid("customer_id", "no such customer"));
        }
        // In a session, its lock first (as a sale takes it), the cash in the drawer's figures.
        let attached = match &request.session_id {
            Some(session_id) => Some(
                in_session::attach_open(&mut *tx, session_id, request.location_id.as_deref())
                    .await?,
            ),
            None => None,
        };
        let id = GiftCardId::generate();
        let location_id = request.location_id.clone().or_else(|| {
            attached
                .as_ref()
                .map(|attached| attached.session.location_id.clone())
        });
        let issue = Issue {
            id,
            code: new_code()?,
            amount: request.amount,
            payments: request.payments.clone(),
            change: self.change,
            customer_id: request.customer_id.clone(),
            session_id: request.session_id.clone(),
            location_id,
            cashier_id: request.cashier_id.clone(),
            issued_at: time::now(),
        };
        stored_value::issue_card(store, tx, issue.clone(), &self.metadata).await?;
        if let Some(attached) = attached {
            let cash = cash_taken(&issue.payments, issue.change)?;
            let content = json!({
                "gift_card_id": id.to_string(),
                "code_last4": issue.code.chars().skip(CODE_LEN - 4).collect::<String>(),
                "amount": issue.amount.to_string(),
            });
            in_session::record_other_cash(
                tx,
                attached,
                "gift_card",
                &id.to_string(),
                cash,
                content,
            )
            .await?;
        }
        Ok(Done {
            written: Some(issue.id.stream_id()),
            answer: issue,
        })
    }
}

/// The cash a document leaves in the drawer: its cash payments less the change.
fn cash_taken(payments: &[Payment], change: Money) -> Result<Money, AppError> {
    let cash = Money::sum(
        change.currency(),
        payments
            .iter()
            .filter(|p| p.method == Tender::Cash)
            .map(|p| p.amount),
    )
    .and_then(|cash| cash.checked_sub(change))
    .map_err(|e| AppError::invalid("payments", e.to_string()))?;
    Ok(cash)
}

/// 15 random digits and the check digit. A collision with a sold card (one in 10^15 per
/// card) fails the sale on the code's unique index rather than sharing a balance.
fn new_code() -> Result<String, AppError> {
    let mut bytes = [0u8; 2 * (CODE_LEN - 1)];
    getrandom::getrandom(&mut bytes)
        .map_err(|_| AppError::Internal("the operating system gave no random bytes".into()))?;
    let mut digits = [0u8; CODE_LEN - 1];
    for (digit, pair) in digits.iter_mut().zip(bytes.chunks_exact(2)) {
        // Two bytes per digit keep the modulo's bias below one in six thousand.
        *digit = u8::try_from(u16::from_le_bytes([pair[0], pair[1]]) % 10).unwrap_or(0);
    }
    Ok(gift_card::code_from(digits))
}

/// A card by its code.
pub async fn find(
    pool: &sqlx::PgPool,
    code: &str,
) -> Result<Option<gift_cards::GiftCardRow>, AppError> {
    if !gift_card::is_valid_code(code.trim()) {
        return Ok(None);
    }
    Ok(gift_cards::by_code(pool, code)
        .await
        .map_err(StoreError::from)?)
}
