//! A journal entry as an aggregate: posted once, never edited (reversals are new entries).

use serde::{Deserialize, Serialize};
use tillstream_kernel::Decider;
use tillstream_kernel::DomainEvent;
use tillstream_kernel::time::{DateTime, Utc};

use super::entry::Lines;

tillstream_kernel::typed_id!(
    /// A journal entry's id.
    EntryId,
    stream = "entry"
);

/// Where an entry comes from: one entry per source event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// `sale`, `stock_sold`, `stock_received`, …
    pub kind: String,
    /// The sale id, or the stock item's stream for a movement.
    pub id: String,
    /// The event posted from; the entry's idempotency.
    pub event_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedEntry {
    pub id: EntryId,
    /// RFC 3339.
    #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
    pub posted_at: DateTime<Utc>,
    pub source: Source,
    pub memo: String,
    pub lines: Lines,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Post(PostedEntry),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    EntryPosted { entry: PostedEntry },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        "EntryPosted"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    #[error("the entry is already posted; entries are never edited")]
    AlreadyPosted,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub posted: bool,
}

impl Decider for Journal {
    type State = Journal;
    type Command = Command;
    type Event = Event;
    type Error = JournalError;

    fn decide(state: &Journal, command: &Command) -> Result<Vec<Event>, JournalError> {
        let Command::Post(entry) = command;
        if state.posted {
            return Err(JournalError::AlreadyPosted);
        }
        Ok(vec![Event::EntryPosted {
            entry: entry.clone(),
        }])
    }

    fn evolve(_: Journal, _: &Event) -> Journal {
        Journal { posted: true }
    }
}
