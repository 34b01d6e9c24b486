//! Applying stock commands inside one transaction: each item is loaded once, in the
//! transaction (from its snapshot, which every write keeps at the item's latest state),
//! decided with the catalog copy's reorder point, appended, and its snapshot, level and
//! movement rows written beside it. A document's movements (a receipt, a count, both sides
//! of a transfer, a sale's lines) land together or not at all.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use sqlx::PgConnection;
use tillstream_eventstore::{
    AppendRequest, Done, EventMetadata, EventStore, IdempotencyKey, NewEvent, StoreError,
    Transaction,
};
use tillstream_kernel::Decider;

use super::checks::Recorded;
use crate::domain::stock_item::{self, Command, Event, StockError, StockItem};
use crate::error::AppError;
use crate::projections::movements::{self, MovementRow};
use crate::projections::{known_products, stock_levels};

/// The snapshot schema of `StockItem`; bump when its shape changes.
pub const STATE_SCHEMA: i32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Refused(#[from] StockError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for BatchError {
    fn from(error: sqlx::Error) -> Self {
        BatchError::Store(error.into())
    }
}

#[derive(Debug)]
struct Item {
    state: StockItem,
    version: i64,
}

/// The items one transaction has touched, and the movements it recorded.
#[derive(Debug)]
pub struct StockBatch<'s> {
    store: &'s EventStore,
    metadata: EventMetadata,
    items: HashMap<(String, String), Item>,
    recorded: Vec<MovementRow>,
}

impl<'s> StockBatch<'s> {
    /// `metadata.causation_id` becomes every movement's reference.
    pub fn new(store: &'s EventStore, metadata: EventMetadata) -> Self {
        StockBatch {
            store,
            metadata,
            items: HashMap::new(),
            recorded: Vec::new(),
        }
    }

    /// The item's state as this transaction sees it.
    pub async fn state(
        &mut self,
        tx: &mut PgConnection,
        product_id: &str,
        location_id: &str,
    ) -> Result<&StockItem, BatchError> {
        Ok(&self.item(tx, product_id, location_id).await?.state)
    }

    async fn item(
        &mut self,
        tx: &mut PgConnection,
        product_id: &str,
        location_id: &str,
    ) -> Result<&mut Item, BatchError> {
        let key = (product_id.to_owned(), location_id.to_owned());
        match self.items.entry(key) {
            Entry::Occupied(item) => Ok(item.into_mut()),
            Entry::Vacant(slot) => {
                let stream = stock_item::stream_id(product_id, location_id);
                // Nothing saved on the way in: `apply` saves the state it leaves.
                let loaded =
                    EventStore::load_state_in::<StockItem>(tx, &stream, STATE_SCHEMA, usize::MAX)
                        .await?;
                let mut state = loaded.state;
                // The catalog owns reorder points; the copy's is the one alerts compare with.
                state.reorder_point = known_products::reorder_point(tx, product_id).await?;
                Ok(slot.insert(Item {
                    state,
                    version: loaded.version,
                }))
            }
        }
    }

    /// Decides `command` on the item and appends what it decided, with the item's level
    /// and movement rows, in `tx`. Returns the events.
    pub async fn apply(
        &mut self,
        tx: &mut PgConnection,
        product_id: &str,
        location_id: &str,
        command: &Command,
    ) -> Result<Vec<Event>, BatchError> {
        let store = self.store;
        let reference = self.metadata.causation_id.clone();
        let metadata = self.metadata.clone();
        let item = self.item(tx, product_id, location_id).await?;
        let Decided {
            events,
            mut rows,
            state,
        } = decide(
            &item.state,
            item.version,
            product_id,
            location_id,
            command,
            reference,
        )?;
        let new_events = events
            .iter()
            .map(NewEvent::from_domain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?;
        let stream = stock_item::stream_id(product_id, location_id);
        // Every write leaves the item's snapshot at the state it leaves the item in, so a
        // load reads one row and folds no events. An item's rows are taken in one order by
        // every writer, the chunked sales path too: snapshot, event, level.
        if !events.is_empty() {
            let added = i64::try_from(events.len()).unwrap_or(i64::MAX);
            let version = item.version.saturating_add(added);
            EventStore::save_states_in(tx, STATE_SCHEMA, vec![(stream.as_str(), version, &state)])
                .await?;
        }
        let request = AppendRequest::new(stream, item.version, new_events).with_metadata(metadata);
        let appended = store.append_in(tx, &request).await?;
        stock_levels::upsert(tx, product_id, location_id, &state, appended.version).await?;
        let recorded_at = movements::insert(tx, &rows).await?;
        item.state = state;
        item.version = appended.version;
        if let Some(at) = recorded_at {
            rows.iter_mut().for_each(|row| row.occurred_at = at);
        }
        self.recorded.extend(rows);
        Ok(events)
    }

    /// The movements recorded, in order.
    pub fn into_movements(self) -> Vec<MovementRow> {
        self.recorded
    }
}

/// Takes the rows of `items` (product, location) in stream order before any of them is
/// read, as a chunk of sales takes its items (`stock_chunk`): a document of several items,
/// or a batch of sales events, and a chunk of sales over some of the same then wait for
/// each other, whatever the order of their lines, instead of PostgreSQL breaking a lock
/// cycle and one of them being done again. An item with no snapshot gets an empty one at
/// version 0 (what its load folds from anyway); a stored one is locked and left as it is.
pub async fn hold(tx: &mut PgConnection, items: &[(&str, &str)]) -> Result<(), StoreError> {
    let streams: BTreeSet<String> = items
        .iter()
        .map(|(product_id, location_id)| stock_item::stream_id(product_id, location_id))
        .collect();
    // One item alone takes its rows in the one order every writer does.
    if streams.len() < 2 {
        return Ok(());
    }
    let empty = StockItem::default();
    let states = streams.iter().map(|stream| (stream.as_str(), 0, &empty));
    EventStore::save_states_in(tx, STATE_SCHEMA, states.collect()).await
}

/// What a command decided on an item: its events, the movement rows they record (their
/// time is the transaction's, filled in when written) and the item's state after them.
#[derive(Debug)]
pub struct Decided {
    pub events: Vec<Event>,
    pub rows: Vec<MovementRow>,
    pub state: StockItem,
}

/// Decides `command` on an item at `version`, with the catalog copy's reorder point already
/// in `state`. Pure: the chunked sales path and `StockBatch` share it.
pub fn decide(
    state: &StockItem,
    version: i64,
    product_id: &str,
    location_id: &str,
    command: &Command,
    reference: Option<String>,
) -> Result<Decided, StockError> {
    let events = StockItem::decide(state, command)?;
    let mut rows = Vec::new();
    let mut state = state.clone();
    for (offset, event) in (1i64..).zip(&events) {
        state = StockItem::evolve(state, event);
        let (Some(kind), Some(unit_cost)) = (event.movement_kind(), event.unit_cost()) else {
            continue;
        };
        rows.push(MovementRow {
            product_id: product_id.to_owned(),
            location_id: location_id.to_owned(),
            version: version + offset,
            kind: kind.to_owned(),
            quantity: StockItem::delta_of(event),
            unit_cost,
            on_hand_after: state.on_hand,
            avg_cost_after: state.avg_cost,
            reference: reference.clone(),
            reason: match event {
                Event::StockAdjusted { reason, .. } if !reason.is_empty() => Some(reason.clone()),
                _ => None,
            },
            occurred_at: chrono::DateTime::UNIX_EPOCH,
        });
    }
    Ok(Decided {
        events,
        rows,
        state,
    })
}

/// A document of stock movements (a receipt, a count, a transfer…): what it moves, given
/// a batch and the transaction.
pub trait StockDocument {
    /// Every (product, location) it moves, in any order, repeats allowed.
    fn items(&self) -> Vec<(&str, &str)>;

    /// Applies the document's movements to `batch`, in `tx`.
    fn record(
        &self,
        batch: &mut StockBatch<'_>,
        tx: &mut PgConnection,
    ) -> impl Future<Output = Result<(), AppError>> + Send;
}

/// Records `document` in a transaction with a fresh batch, deciding again from the start
/// when a concurrent movement of one of its items got in first. Returns what it recorded
/// under `id`; with an `Idempotency-Key`, remembers that in the same transaction and answers
/// a repeat of the key with it, recording nothing twice.
pub async fn in_transaction(
    store: &EventStore,
    metadata: &EventMetadata,
    document: &(impl StockDocument + Sync),
    id: String,
    idempotency: Option<&IdempotencyKey>,
) -> Result<Recorded, AppError> {
    let work = Recording {
        metadata,
        document,
        id,
    };
    let answer = store.transact(&work, idempotency, true).await?;
    Ok(answer.value)
}

/// A stock document as one transaction: its movements, then what they left.
struct Recording<'r, D> {
    metadata: &'r EventMetadata,
    document: &'r D,
    id: String,
}

impl<D: StockDocument + Sync> Transaction for Recording<'_, D> {
    type Output = Recorded;
    type Error = AppError;

    async fn run(
        &self,
        store: &EventStore,
        tx: &mut PgConnection,
    ) -> Result<Done<Recorded>, AppError> {
        let mut batch = StockBatch::new(store, self.metadata.clone());
        hold(tx, &self.document.items()).await?;
        self.document.record(&mut batch, tx).await?;
        let answer = Recorded::read(tx, self.id.clone(), batch.into_movements()).await?;
        Ok(Done {
            answer,
            written: Some(self.id.clone()),
        })
    }
}
