//! Paying a customer's account down, in cash or by card: never more than is owed. The ledger
//! debits 1000 or 1010 and credits 1100.

use serde::Serialize;
use sqlx::PgConnection;
use tillstream_eventstore::{
    Done, EventMetadata, EventStore, IdempotencyKey, StoreError, Transaction, request_hash,
};
use tillstream_kernel::{Money, Ulid, time};

use serde_json::json;

use super::in_session;
use super::stored_value;
use crate::domain::stored_value::account::{self, AccountPayment, PaymentMethod};
use crate::error::AppError;
use crate::projections::customers;

#[derive(Debug, Clone, Serialize)]
pub struct PaymentRequest {
    pub customer_id: String,
    pub amount: Money,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub session_id: Option<String>,
    #[serde(skip)]
    pub cashier_id: String,
}

/// A payment as answered: it, and the balance after it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Paid {
    pub payment: AccountPayment,
    pub customer_id: String,
    pub balance: Money,
}

pub async fn pay(
    store: &EventStore,
    request: PaymentRequest,
    idempotency_key: Option<String>,
    metadata: EventMetadata,
) -> Result<Paid, AppError> {
    let key = match idempotency_key {
        Some(key) => Some(IdempotencyKey::new(
            format!("sales.pay_account:{key}"),
            request_hash(&request)?,
        )),
        None => None,
    };
    let paying = Paying { request, metadata };
    let answer = store.transact(&paying, key.as_ref(), true).await?;
    if !answer.replayed {
        tracing::info!(customer_id = %answer.value.customer_id, amount = %answer.value.payment.amount, "account paid");
    }
    Ok(answer.value)
}

struct Paying {
    request: PaymentRequest,
    metadata: EventMetadata,
}

impl Transaction for Paying {
    type Output = Paid;
    type Error = AppError;

    async fn run(&self, store: &EventStore, tx: &mut PgConnection) -> Result<Done<Paid>, AppError> {
        let request = &self.request;
        // The session before the customer, as a sale locks them.
        let attached = match &request.session_id {
            Some(session_id) => Some(in_session::attach_open(&mut *tx, session_id, None).await?),
            None => None,
        };
        let locked = customers::lock(&mut *tx, &request.customer_id)
            .await
            .map_err(StoreError::from)?
            .ok_or_else(|| AppError::NotFound("no such customer".into()))?;
        let payment = AccountPayment {
            payment_id: Ulid::generate().to_string(),
            amount: request.amount,
            method: request.method,
            reference: request.reference.clone(),
            session_id: request.session_id.clone(),
            cashier_id: request.cashier_id.clone(),
            paid_at: time::now(),
        };
        let after = stored_value::on_account(
            store,
            tx,
            &request.customer_id,
            &locked,
            &account::Command::Pay(payment.clone()),
            "amount",
            &self.metadata,
        )
        .await?;
        if let Some(attached) = attached {
            let cash = match request.method {
                PaymentMethod::Cash => request.amount,
                PaymentMethod::Card => Money::zero(request.amount.currency()),
            };
            let content = json!({
                "customer_id": request.customer_id,
                "amount": request.amount.to_string(),
                "method": request.method.as_str(),
            });
            in_session::record_other_cash(
                tx,
                attached,
                "account_payment",
                &payment.payment_id,
                cash,
                content,
            )
            .await?;
        }
        Ok(Done {
            answer: Paid {
                balance: Money::new(after.balance, request.amount.currency()),
                customer_id: request.customer_id.clone(),
                payment,
            },
            written: Some(account::stream_id(&request.customer_id)),
        })
    }
}
