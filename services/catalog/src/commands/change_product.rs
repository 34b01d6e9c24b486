//! Changing a product: an edit, discontinuing, reactivating. The product is loaded, the
//! caller's `If-Match` version checked, the change decided into one event per changed field,
//! barcodes claimed and released, and the events appended with the read model in one
//! transaction.

use sqlx::PgConnection;
use tillstream_eventstore::{
    AppendRequest, Claim, EventMetadata, EventStore, NewEvent, StoreError,
};
use tillstream_kernel::Decider;

use crate::domain::product::{Command, Event, Product};
use crate::error::AppError;
use crate::projections::products::{self, ProductRow};

const STATE_SCHEMA: i32 = 1;
/// A product edited this often is folded from a snapshot.
const SNAPSHOT_EVERY: usize = 100;
/// Retries when another change lands between load and append (no `If-Match` given).
const CONFLICT_RETRIES: usize = 3;

pub async fn change_product(
    store: &EventStore,
    id: &str,
    command: Command,
    expected_version: Option<i64>,
    metadata: EventMetadata,
) -> Result<ProductRow, AppError> {
    for attempt in 1..=CONFLICT_RETRIES {
        match try_change(store, id, &command, expected_version, &metadata).await {
            Err(AppError::Store(StoreError::Conflict { .. }))
                if expected_version.is_none() && attempt < CONFLICT_RETRIES => {}
            Err(AppError::Store(StoreError::Conflict { .. })) => {
                return Err(AppError::Conflict(
                    "the product changed meanwhile; read it again".into(),
                ));
            }
            outcome => return outcome,
        }
    }
    Err(AppError::Conflict(
        "the product changed meanwhile; read it again".into(),
    ))
}

async fn try_change(
    store: &EventStore,
    id: &str,
    command: &Command,
    expected_version: Option<i64>,
    metadata: &EventMetadata,
) -> Result<ProductRow, AppError> {
    let mut tx = store.pool().begin().await.map_err(StoreError::from)?;
    let row = change_in(&mut tx, store, id, command, expected_version, metadata).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// The change inside the caller's transaction (an import's chunk). The product is loaded
/// from what is committed; a concurrent change makes the append fail with a conflict.
pub async fn change_in(
    tx: &mut PgConnection,
    store: &EventStore,
    id: &str,
    command: &Command,
    expected_version: Option<i64>,
    metadata: &EventMetadata,
) -> Result<ProductRow, AppError> {
    let stream = format!("product-{id}");
    let loaded = store
        .load_state::<Product>(&stream, STATE_SCHEMA, SNAPSHOT_EVERY)
        .await?;
    if loaded.state.details.is_none() {
        return Err(AppError::NotFound(format!("no product with id `{id}`")));
    }
    if let Some(expected) = expected_version
        && expected != loaded.version
    {
        return Err(AppError::Conflict(format!(
            "the product is at version {}, not {expected}; read it again",
            loaded.version
        )));
    }
    let events = Product::decide(&loaded.state, command)?;
    let version = loaded.version + events.len() as i64;
    let state = events.iter().fold(loaded.state, Product::evolve);
    let row = ProductRow::from_state(id, &state, version)
        .ok_or_else(|| AppError::NotFound(format!("no product with id `{id}`")))?;
    if events.is_empty() {
        return Ok(row);
    }
    let claims = events
        .iter()
        .filter_map(|event| match event {
            Event::BarcodeAdded { barcode } => Some(Claim::acquire("barcode", barcode.clone())),
            Event::BarcodeRemoved { barcode } => Some(Claim::release("barcode", barcode.clone())),
            _ => None,
        })
        .collect();
    let new_events = events
        .iter()
        .map(NewEvent::from_domain)
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::from)?;
    let request = AppendRequest::new(stream, loaded.version, new_events)
        .with_claims(claims)
        .with_metadata(metadata.clone());
    store.append_in(&mut *tx, &request).await?;
    products::replace(&mut *tx, &row)
        .await
        .map_err(StoreError::from)?;
    tracing::info!(product_id = %id, changes = events.len(), version, "product changed");
    Ok(row)
}
