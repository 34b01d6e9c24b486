//! Taking goods back from a sale (a manager). An `Idempotency-Key` makes a retried return
//! answer the first one instead of refunding twice.

use serde::Serialize;
use tillstream_eventstore::{EventMetadata, EventStore, IdempotencyKey, StoreError, request_hash};
use tillstream_kernel::Ulid;

use super::changes::{change_sale, sale_id};
use crate::domain::controls::Authority;
use crate::domain::pricing::Payment;
use crate::domain::returns::{ReturnLineRequest, ReturnRecord, ReturnSale};
use crate::domain::sale::{Command, Event};
use crate::error::AppError;

#[derive(Debug, Clone, Serialize)]
pub struct ReturnRequest {
    /// The sale's id or number.
    pub sale: String,
    pub lines: Vec<ReturnLineRequest>,
    pub refunds: Vec<Payment>,
    pub restock: bool,
    pub reason: Option<String>,
    /// What the caller may do alone; `None` skips the checks.
    #[serde(skip)]
    pub controls: Option<Authority>,
    /// The register session the refund is taken in.
    pub session_id: Option<String>,
}

pub async fn return_sale(
    store: &EventStore,
    request: ReturnRequest,
    idempotency_key: Option<String>,
    metadata: EventMetadata,
) -> Result<ReturnRecord, AppError> {
    let key = match idempotency_key {
        Some(key) => Some(IdempotencyKey::new(
            format!("sales.return_sale:{key}"),
            request_hash(&request)?,
        )),
        None => None,
    };
    if let Some(key) = &key
        && let Some(replay) = store.find_idempotent(key).await?
    {
        return returned(serde_json::from_value(replay.response).map_err(StoreError::from)?);
    }
    let sale_id = sale_id(store, &request.sale).await?;
    let command = Command::Return(ReturnSale {
        return_id: Ulid::generate().to_string(),
        lines: request.lines,
        refunds: request.refunds,
        restock: request.restock,
        reason: request.reason,
        returned_at: tillstream_kernel::time::now(),
        controls: request.controls,
        session_id: request.session_id,
    });
    let event = change_sale(store, sale_id, &command, key.as_ref(), &metadata).await?;
    tracing::info!(%sale_id, "sale returned");
    returned(event)
}

fn returned(event: Event) -> Result<ReturnRecord, AppError> {
    match event {
        Event::SaleReturned { returned, .. } => Ok(*returned),
        _ => Err(AppError::Conflict(
            "the idempotency key was used for another change".into(),
        )),
    }
}
