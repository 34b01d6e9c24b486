//! Changing a completed sale (returns, voids): load its stream, decide, append with the
//! read model's change in one transaction, and decide again if another change got in first.

use tillstream_eventstore::{
    AppendRequest, EventMetadata, EventStore, IdempotencyKey, NewEvent, StoreError,
};
use tillstream_kernel::Decider;

use crate::domain::sale::{Command, Event, Sale};
use crate::error::AppError;
use crate::projections::sales;

/// How many times a change is decided again after a concurrent change of the same sale.
const CONFLICT_RETRIES: usize = 5;

/// The id of the sale `id_or_number` names.
pub async fn sale_id(store: &EventStore, id_or_number: &str) -> Result<String, AppError> {
    sales::find(store.pool(), id_or_number)
        .await
        .map_err(StoreError::from)?
        .map(|view| view.record.id.to_string())
        .ok_or_else(|| AppError::NotFound(format!("no sale `{}`", id_or_number.trim())))
}

/// Decides `command` on sale `sale_id` and appends the event it gives, with `project`'s
/// read model change and, when given, the idempotency key answering `response(event)`.
pub async fn change_sale(
    store: &EventStore,
    sale_id: &str,
    command: &Command,
    key: Option<&IdempotencyKey>,
    metadata: &EventMetadata,
) -> Result<Event, AppError> {
    let stream = format!("sale-{sale_id}");
    let mut attempt = 1;
    loop {
        let recorded = store.load(&stream, 0).await?;
        let history = recorded
            .iter()
            .map(|r| r.decode::<Event>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?;
        let version = recorded.last().map_or(0, |r| r.version);
        let events = Sale::decide(&Sale::fold(&history), command)?;
        let Some(event) = events.into_iter().next() else {
            return Err(AppError::Conflict("the sale did not change".into()));
        };
        let mut request = AppendRequest::new(
            stream.clone(),
            version,
            vec![NewEvent::from_domain(&event).map_err(StoreError::from)?],
        )
        .with_metadata(metadata.clone());
        if let Some(key) = key {
            let answer = serde_json::to_value(&event).map_err(StoreError::from)?;
            request = request.with_idempotency(key.clone(), answer);
        }
        let mut tx = store.pool().begin().await.map_err(StoreError::from)?;
        match store.append_in(&mut tx, &request).await {
            Ok(_) => {}
            Err(StoreError::Conflict { .. }) if attempt < CONFLICT_RETRIES => {
                attempt += 1;
                continue;
            }
            Err(error) => return Err(error.into()),
        }
        match &event {
            Event::SaleReturned { returned, .. } => {
                sales::add_return(&mut tx, sale_id, returned).await
            }
            Event::SaleVoided { .. } => sales::mark_voided(&mut tx, sale_id).await,
            Event::SaleCompleted { .. } => Ok(()),
        }
        .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        return Ok(event);
    }
}
