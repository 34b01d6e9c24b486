//! Ledger events → each sale's ledger status: `pending` until the ledger has posted its
//! money entry, then `posted` with the entry's id.

use sqlx::PgConnection;
use tillstream_messaging::{ChunkHandled, Handled, Handler, HandlerError, InboundEvent};
use tillstream_proto::ledger::v1 as ledger;

use crate::projections::sales;

#[derive(Debug, Clone, Copy, Default)]
pub struct LedgerEntries;

/// The sale and entry an event lists, if it is one of a sale's own entries; `Err` for an
/// event that is not what its type says.
fn sale_entry(event: &InboundEvent) -> Result<Option<(String, String)>, HandlerError> {
    if event.ce_type != "tillstream.ledger.v1.EntryPosted" {
        return Ok(None);
    }
    let posted = event.decode::<ledger::EntryPosted>()?;
    let entry = posted
        .entry
        .ok_or_else(|| HandlerError::Reject("EntryPosted without an entry".into()))?;
    // A sale's own entry, and those of its returns and void, are listed on it; the cost
    // entries of its stock movements are not.
    Ok(matches!(
        entry.source_type.as_str(),
        "sale" | "sale_return" | "sale_void"
    )
    .then_some((entry.source_id, entry.id)))
}

impl Handler for LedgerEntries {
    /// Most ledger events are cost entries sales ignores; a chunk is marked in one statement.
    const HANDLES_CHUNKS: bool = true;

    fn wants(&self, event: &InboundEvent) -> bool {
        event.ce_type == "tillstream.ledger.v1.EntryPosted"
    }

    async fn handle(&self, tx: &mut PgConnection, event: &InboundEvent) -> Handled {
        if let Some((sale_id, entry_id)) = sale_entry(event)? {
            sales::mark_posted(tx, &sale_id, &entry_id).await?;
        }
        Ok(())
    }

    async fn handle_chunk(&self, tx: &mut PgConnection, events: &[&InboundEvent]) -> ChunkHandled {
        let mut posted = Vec::new();
        for event in events {
            match sale_entry(event) {
                Ok(Some(entry)) => posted.push(entry),
                Ok(None) => {}
                // Let `handle` say what is wrong with it, event by event.
                Err(_) => return Ok(false),
            }
        }
        sales::mark_all_posted(tx, &posted).await?;
        Ok(true)
    }
}
