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

/// An entry to post from a source event.
#[derive(Debug, Clone)]
pub struct Posting {
    pub source: Source,
    pub memo: String,
    pub lines: Lines,
    pub metadata: EventMetadata,
}

impl Posting {
    /// The entry and the append that posts it, claiming its source event.
    fn decide(self) -> Result<(PostedEntry, AppendRequest), StoreError> {
        let entry = PostedEntry {
            id: EntryId::generate(),
            posted_at: Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
            source: self.source,
            memo: self.memo,
            lines: self.lines,
        };
        // A new journal always takes the entry; the decider states the rule all the same.
        let events =
            Journal::decide(&Journal::default(), &Command::Post(entry.clone())).unwrap_or_default();
        let new_events = events
            .iter()
            .map(NewEvent::from_domain)
            .collect::<Result<Vec<_>, _>>()?;
        let request = AppendRequest::new(format!("entry-{}", entry.id), 0, new_events)
            .with_claims(vec![Claim::acquire(
                "entry_source",
                entry.source.event_id.clone(),
            )])
            .with_metadata(self.metadata);
        Ok((entry, request))
    }
}

/// Posts `posting` unless its source event was posted already (then `None`).
pub async fn post_entry(
    store: &EventStore,
    tx: &mut PgConnection,
    posting: Posting,
) -> Result<Option<PostedEntry>, StoreError> {
    let (entry, request) = posting.decide()?;
    match store.append_in(tx, &request).await {
        Ok(_) => {}
        Err(StoreError::Duplicate { .. }) => return Ok(None),
        Err(error) => return Err(error),
    }
    journal::insert(tx, std::slice::from_ref(&entry)).await?;
    Ok(Some(entry))
}

/// Posts every one of `postings` in a handful of statements (a backlog's chunk). Any source
/// posted already is a `Duplicate` and the caller's transaction must be rolled back, as
/// some of the rest may be written.
pub async fn post_entries(
    store: &EventStore,
    tx: &mut PgConnection,
    postings: Vec<Posting>,
) -> Result<Vec<PostedEntry>, StoreError> {
    let (entries, requests): (Vec<_>, Vec<_>) = postings
        .into_iter()
        .map(Posting::decide)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .unzip();
    store.create_streams_in(tx, &requests).await?;
    journal::insert(tx, &entries).await?;
    Ok(entries)
}
