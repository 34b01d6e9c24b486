//! Ledger events → each sale's ledger status: `pending` until the ledger has posted its
//! money entry, then `posted` with the entry's id.

use prost::Message;
use sqlx::PgConnection;
use tillstream_messaging::{Handler, HandlerError, InboundEvent};
use tillstream_proto::ledger::v1 as ledger;

use crate::projections::sales;

#[derive(Debug, Clone, Copy, Default)]
pub struct LedgerEntries;

impl Handler for LedgerEntries {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<(), HandlerError> {
        if event.ce_type != "tillstream.ledger.v1.EntryPosted" {
            return Ok(());
        }
        let posted = ledger::EntryPosted::decode(event.data.clone())
            .map_err(|e| HandlerError::Reject(format!("not an EntryPosted: {e}")))?;
        let entry = posted
            .entry
            .ok_or_else(|| HandlerError::Reject("EntryPosted without an entry".into()))?;
        // A sale's own entry, and those of its returns and void, are listed on it.
        if matches!(
            entry.source_type.as_str(),
            "sale" | "sale_return" | "sale_void"
        ) {
            sales::mark_posted(tx, &entry.source_id, &entry.id).await?;
        }
        Ok(())
    }
}
