//! The ledger's published events in protobuf (`proto/ledger/v1`).

use prost::Message;
use tillstream_eventstore::RecordedEvent;
use tillstream_messaging::{MessagingError, WireEvent, WireFormat};
use tillstream_proto::ledger::v1 as pb;

use crate::domain::journal::{Event, PostedEntry};

#[derive(Debug, Clone, Copy, Default)]
pub struct LedgerWire;

impl WireFormat for LedgerWire {
    fn encode(&self, _service: &str, event: &RecordedEvent) -> Result<WireEvent, MessagingError> {
        let Event::EntryPosted { entry } = event.decode().map_err(|e| MessagingError::Encode {
            event_id: event.event_id.to_string(),
            reason: e.to_string(),
        })?;
        let data = pb::EntryPosted {
            entry: Some(entry_to_proto(&entry)),
        };
        Ok(WireEvent {
            ce_type: "tillstream.ledger.v1.EntryPosted".to_owned(),
            content_type: "application/protobuf".to_owned(),
            dataschema: "proto/ledger/v1/ledger.proto#EntryPosted".to_owned(),
            data: data.encode_to_vec().into(),
        })
    }
}

pub fn entry_to_proto(entry: &PostedEntry) -> pb::Entry {
    pb::Entry {
        id: entry.id.to_string(),
        posted_at: tillstream_kernel::time::rfc3339(&entry.posted_at),
        source_type: entry.source.kind.clone(),
        source_id: entry.source.id.clone(),
        source_event_id: entry.source.event_id.clone(),
        memo: entry.memo.clone(),
        lines: entry
            .lines
            .as_slice()
            .iter()
            .map(|l| pb::EntryLine {
                account: l.account.code().to_owned(),
                debit: l.debit.to_string(),
                credit: l.credit.to_string(),
            })
            .collect(),
        // A reversal names the entry it reverses; the reversed one learns of it later.
        reverses: if entry.source.kind == "reversal" {
            entry.source.id.clone()
        } else {
            String::new()
        },
        reversed_by: String::new(),
    }
}
