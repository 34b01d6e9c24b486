//! Posting an entry from a source event: the source event id is claimed in the same
//! transaction, so a redelivered or replayed source posts nothing twice.

use chrono::{SecondsFormat, Utc};
use sqlx::PgConnection;
use tillstream_eventstore::{
    AppendRequest, Claim, EventMetadata, EventStore, NewEvent, StoreError,
};
use tillstream_kernel::Decider;

use crate::domain::entry::Lines;
use crate::domain::journal::{Command, EntryId, Journal, PostedEntry, Source};
use crate::projections::journal;

/// Posts `lines` for `source` unless that source event was posted already (then `None`).
pub async fn post_entry(
    store: &EventStore,
    tx: &mut PgConnection,
    source: Source,
    memo: String,
    lines: Lines,
    metadata: EventMetadata,
) -> Result<Option<PostedEntry>, StoreError> {
    let entry = PostedEntry {
        id: EntryId::generate(),
        posted_at: Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        source,
        memo,
        lines,
    };
    let events = match Journal::decide(&Journal::default(), &Command::Post(entry.clone())) {
        Ok(events) => events,
        Err(_) => return Ok(None),
    };
    let new_events = events
        .iter()
        .map(NewEvent::from_domain)
        .collect::<Result<Vec<_>, _>>()?;
    let request = AppendRequest::new(format!("entry-{}", entry.id), 0, new_events)
        .with_claims(vec![Claim::acquire(
            "entry_source",
            entry.source.event_id.clone(),
        )])
        .with_metadata(metadata);
    match store.append_in(tx, &request).await {
        Ok(_) => {}
        Err(StoreError::Duplicate { .. }) => return Ok(None),
        Err(error) => return Err(error),
    }
    journal::insert(tx, &entry).await?;
    Ok(Some(entry))
}
