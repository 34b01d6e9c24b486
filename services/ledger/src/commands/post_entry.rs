//! Posting an entry from a source event: the source event id is claimed in the same
//! transaction, so a redelivered or replayed source posts nothing twice.

use sqlx::PgConnection;
use tillstream_eventstore::{
    AppendRequest, Claim, Decided, EventMetadata, EventStore, NewEvent, RunOptions, StoreError,
    UseCase,
};
use tillstream_kernel::Decider;

use crate::domain::entry::Lines;
use crate::domain::journal::{Command, EntryId, Event, Journal, PostedEntry, Source};
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
    /// The entry, numbered and dated now.
    fn entry(self) -> (PostedEntry, EventMetadata) {
        let entry = PostedEntry {
            id: EntryId::generate(),
            posted_at: tillstream_kernel::time::now(),
            source: self.source,
            memo: self.memo,
            lines: self.lines,
        };
        (entry, self.metadata)
    }

    /// The entry and the append that posts it, claiming its source event: for a chunk.
    fn decide(self) -> Result<(PostedEntry, AppendRequest), StoreError> {
        let (entry, metadata) = self.entry();
        let post = Post(entry);
        let events = post.decide(&Journal::default())?;
        let new_events = events
            .iter()
            .map(NewEvent::from_domain)
            .collect::<Result<Vec<_>, _>>()?;
        let request = AppendRequest::new(post.stream_id(), 0, new_events)
            .with_claims(post.claims(&events))
            .with_metadata(metadata);
        Ok((post.0, request))
    }
}

/// Posting one entry on a journal stream of its own.
struct Post(PostedEntry);

impl UseCase for Post {
    type Aggregate = Journal;
    type Output = PostedEntry;
    type Error = StoreError;

    fn stream_id(&self) -> String {
        self.0.id.stream_id()
    }

    fn decide(&self, state: &Journal) -> Result<Vec<Event>, StoreError> {
        // A new journal always takes the entry; the decider states the rule all the same.
        Ok(Journal::decide(state, &Command::Post(self.0.clone())).unwrap_or_default())
    }

    fn claims(&self, _: &[Event]) -> Vec<Claim> {
        vec![Claim::acquire(
            "entry_source",
            self.0.source.event_id.clone(),
        )]
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        _: Decided<'_, Journal>,
    ) -> Result<PostedEntry, StoreError> {
        journal::insert(tx, std::slice::from_ref(&self.0)).await?;
        Ok(self.0.clone())
    }
}

/// Posts `posting` unless its source event was posted already (then `None`).
pub async fn post_entry(
    store: &EventStore,
    tx: &mut PgConnection,
    posting: Posting,
) -> Result<Option<PostedEntry>, StoreError> {
    let (entry, metadata) = posting.entry();
    let options = RunOptions {
        expected_version: Some(0),
        idempotency: None,
        metadata,
    };
    match store.run_in(tx, &Post(entry), &options).await {
        Ok(entry) => Ok(Some(entry)),
        Err(StoreError::Duplicate { .. }) => Ok(None),
        Err(error) => Err(error),
    }
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
