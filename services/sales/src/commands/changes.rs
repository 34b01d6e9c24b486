//! Changing a completed sale (returns, voids) through the event store's command runner:
//! load its stream, decide, append with the read model's change in one transaction, and
//! decide again if another change got in first.

use sqlx::PgConnection;
use tillstream_eventstore::{
    Decided, EventMetadata, EventStore, IdempotencyKey, RunOptions, StoreError, UseCase,
};
use tillstream_kernel::Decider;

use super::in_session::{self, attach};
use super::stored_value::{self, Direction};
use crate::domain::sale::{Command, Event, Sale, SaleId};
use crate::error::AppError;
use crate::projections::{approvals, sales};

/// The id of the sale `id_or_number` names.
pub async fn sale_id(store: &EventStore, id_or_number: &str) -> Result<SaleId, AppError> {
    sales::find(store.pool(), id_or_number)
        .await
        .map_err(StoreError::from)?
        .map(|view| view.record.id)
        .ok_or_else(|| AppError::NotFound(format!("no sale `{}`", id_or_number.trim())))
}

/// Decides `command` on sale `sale_id` and appends the event it gives with the read
/// model's change and, when given, the idempotency key answering that event.
pub async fn change_sale(
    store: &EventStore,
    sale_id: SaleId,
    command: &Command,
    key: Option<&IdempotencyKey>,
    metadata: &EventMetadata,
) -> Result<Event, AppError> {
    let options = RunOptions {
        idempotency: key.cloned(),
        metadata: metadata.clone(),
        ..Default::default()
    };
    let change = ChangeSale {
        store,
        sale_id,
        command,
        metadata,
    };
    store.run(&change, &options).await
}

/// A return or a void of one sale.
struct ChangeSale<'a> {
    store: &'a EventStore,
    sale_id: SaleId,
    command: &'a Command,
    metadata: &'a EventMetadata,
}

impl UseCase for ChangeSale<'_> {
    type Aggregate = Sale;
    type Output = Event;
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.sale_id.stream_id()
    }

    fn decide(&self, state: &Sale) -> Result<Vec<Event>, AppError> {
        let events = Sale::decide(state, self.command)?;
        if events.is_empty() {
            return Err(AppError::Conflict("the sale did not change".into()));
        }
        Ok(events)
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, Sale>,
    ) -> Result<Event, AppError> {
        let Some(event) = decided.events.first() else {
            return Err(AppError::Conflict("the sale did not change".into()));
        };
        let sale_id = self.sale_id.to_string();
        let Some(sale) = decided.state.record.as_deref() else {
            return Err(AppError::NotFound("no such sale".into()));
        };
        let used = match event {
            Event::SaleReturned { returned, .. } => {
                sales::add_return(&mut *tx, &sale_id, returned).await?;
                // Taken in a session: at the sale's location, while it is open.
                if let Some(session_id) = &returned.session_id {
                    let attached = attach(&mut *tx, session_id, &sale.location_id, true).await?;
                    in_session::record_return(&mut *tx, attached, sale, returned).await?;
                }
                // Stored value after the session, as a sale locks them: one order, no deadlock.
                let document = stored_value::Document {
                    source_id: &returned.id,
                    payments: &returned.refunds,
                    list: "refunds",
                    customer_id: sale.customer_id.as_deref(),
                    at: returned.returned_at,
                };
                stored_value::apply(self.store, tx, &document, Direction::Credit, self.metadata)
                    .await?;
                returned.approvals.as_slice()
            }
            Event::SaleVoided {
                approvals, reason, ..
            } => {
                sales::mark_voided(&mut *tx, &sale_id).await?;
                // A sale of a closed session is not voided: its Z is final; take a return.
                if let Some(session) = &sale.session {
                    let attached =
                        attach(&mut *tx, &session.session_id, &sale.location_id, true).await?;
                    in_session::record_void(&mut *tx, attached, sale, reason).await?;
                }
                let document = stored_value::Document {
                    source_id: &sale_id,
                    payments: &sale.payments,
                    list: "payments",
                    customer_id: sale.customer_id.as_deref(),
                    at: tillstream_kernel::time::now(),
                };
                stored_value::apply(self.store, tx, &document, Direction::Credit, self.metadata)
                    .await?;
                approvals.as_slice()
            }
            Event::SaleCompleted { .. } => &[],
        };
        // Spent with the change, in its transaction: once, and only if it happens.
        if !approvals::spend(&mut *tx, used, &sale_id).await? {
            return Err(AppError::approval_used());
        }
        Ok(event.clone())
    }
}
