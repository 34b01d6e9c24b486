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

    /// A sale's own entries. The cost entry every sale also has is acknowledged without a
    /// transaction or an inbox row; one that does not decode is wanted, for `handle` to
    /// refuse.
    fn wants(&self, event: &InboundEvent) -> bool {
        !matches!(sale_entry(event), Ok(None))
    }

    /// One by one (a chunk declined), sales are marked in stream order: their rows are
    /// taken in id order first, as `mark_all_posted` takes a chunk's.
    async fn lock_first(
        &self,
        tx: &mut PgConnection,
        events: &[&InboundEvent],
        chunked: bool,
    ) -> Handled {
        if chunked {
            return Ok(());
        }
        let marked: Vec<(String, String)> = events
            .iter()
            .filter_map(|event| sale_entry(event).ok().flatten())
            .collect();
        let sales: Vec<&str> = marked.iter().map(|(sale, _)| sale.as_str()).collect();
        if sales.len() > 1 {
            sales::lock_in_id_order(tx, &sales).await?;
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    fn posted(source_type: &str) -> InboundEvent {
        let entry = ledger::EntryPosted {
            entry: Some(ledger::Entry {
                id: "01ENTRY".into(),
                source_type: source_type.into(),
                source_id: "01SALE".into(),
                ..Default::default()
            }),
        };
        let data = entry.encode_to_vec();
        tillstream_test_support::inbound_event("tillstream.ledger.v1.EntryPosted", "01ENTRY", data)
    }

    #[test]
    fn a_sales_own_entries_are_wanted_and_its_cost_entry_is_not() {
        for source in ["sale", "sale_return", "sale_void"] {
            assert!(LedgerEntries.wants(&posted(source)), "{source}");
        }
        assert!(!LedgerEntries.wants(&posted("stock_sold")));
        let mut other = posted("sale");
        other.ce_type = "tillstream.ledger.v1.AccountOpened".into();
        assert!(!LedgerEntries.wants(&other));
    }

    #[test]
    fn an_entry_that_does_not_decode_is_wanted_for_handle_to_refuse() {
        let mut garbled = posted("sale");
        garbled.data = vec![0xff, 0xff, 0xff].into();
        assert!(LedgerEntries.wants(&garbled));
        let mut empty = posted("sale");
        empty.data = ledger::EntryPosted { entry: None }.encode_to_vec().into();
        assert!(LedgerEntries.wants(&empty));
    }
}
