//! Changing a product: an edit, discontinuing, reactivating. The product is loaded, the
//! caller's `If-Match` version checked, the change decided into one event per changed field,
//! barcodes claimed and released, and the events appended with the read model in one
//! transaction (the event store's command runner).

use sqlx::PgConnection;
use tillstream_eventstore::{
    Claim, Decided, EventMetadata, EventStore, RunOptions, Snapshots, UseCase,
};
use tillstream_kernel::Decider;

use crate::domain::product::{Command, Event, Product, ProductId};
use crate::error::AppError;
use crate::projections::products::{self, ProductRow};

/// A product edited this often is folded from a snapshot.
const SNAPSHOTS: Snapshots = Snapshots {
    state_schema: 1,
    every: 100,
};

struct ChangeProduct<'a> {
    id: ProductId,
    command: &'a Command,
}

impl UseCase for ChangeProduct<'_> {
    type Aggregate = Product;
    type Output = ProductRow;
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.id.stream_id()
    }

    fn snapshots(&self) -> Snapshots {
        SNAPSHOTS
    }

    fn decide(&self, state: &Product) -> Result<Vec<Event>, AppError> {
        if state.details.is_none() {
            return Err(self.not_found());
        }
        Ok(Product::decide(state, self.command)?)
    }

    fn claims(&self, events: &[Event]) -> Vec<Claim> {
        events
            .iter()
            .filter_map(|event| match event {
                Event::BarcodeAdded { barcode } => Some(Claim::acquire("barcode", barcode.clone())),
                Event::BarcodeRemoved { barcode } => {
                    Some(Claim::release("barcode", barcode.clone()))
                }
                _ => None,
            })
            .collect()
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, Product>,
    ) -> Result<ProductRow, AppError> {
        let row = ProductRow::from_state(&self.id.to_string(), decided.state, decided.version)
            .ok_or_else(|| self.not_found())?;
        if !decided.events.is_empty() {
            products::replace(&mut *tx, &row).await?;
            tracing::info!(product_id = %self.id, changes = decided.events.len(), version = decided.version, "product changed");
        }
        Ok(row)
    }
}

impl ChangeProduct<'_> {
    fn not_found(&self) -> AppError {
        AppError::NotFound(format!("no product with id `{}`", self.id))
    }
}

pub async fn change_product(
    store: &EventStore,
    id: &str,
    command: Command,
    expected_version: Option<i64>,
    metadata: EventMetadata,
) -> Result<ProductRow, AppError> {
    let options = RunOptions {
        expected_version,
        metadata,
        ..Default::default()
    };
    let change = ChangeProduct {
        id: product_id(id)?,
        command: &command,
    };
    store.run(&change, &options).await
}

/// The change inside the caller's transaction (an import's chunk): a concurrent change
/// makes it fail with a conflict, for the caller to roll back.
pub async fn change_in(
    tx: &mut PgConnection,
    store: &EventStore,
    id: &str,
    command: &Command,
    expected_version: Option<i64>,
    metadata: &EventMetadata,
) -> Result<ProductRow, AppError> {
    let options = RunOptions {
        expected_version,
        metadata: metadata.clone(),
        ..Default::default()
    };
    let change = ChangeProduct {
        id: product_id(id)?,
        command,
    };
    store.run_in(tx, &change, &options).await
}

/// A product id from a client: one that is not a ULID names no product.
fn product_id(id: &str) -> Result<ProductId, AppError> {
    id.parse()
        .map_err(|_| AppError::NotFound(format!("no product with id `{}`", id.trim())))
}
