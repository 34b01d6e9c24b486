//! Creating a product through the event store's command runner: SKU and barcodes claimed,
//! events appended and the read model written in one transaction; an idempotency key
//! replays the first answer.

use sqlx::PgConnection;
use tillstream_eventstore::{
    Claim, Decided, EventMetadata, EventStore, IdempotencyKey, RunOptions, UseCase, request_hash,
};
use tillstream_kernel::Decider;

use crate::domain::product::{Command, Event, Product, ProductDetails, ProductId};
use crate::error::AppError;
use crate::projections::products::{self, ProductRow};

#[derive(Debug, Clone)]
pub struct CreateProduct {
    pub details: ProductDetails,
    pub idempotency_key: Option<String>,
    pub metadata: EventMetadata,
}

pub async fn create_product(
    store: &EventStore,
    command: CreateProduct,
) -> Result<ProductRow, AppError> {
    let idempotency = match &command.idempotency_key {
        Some(key) => Some(IdempotencyKey::new(
            format!("catalog.create_product:{key}"),
            request_hash(&command.details)?,
        )),
        None => None,
    };
    let options = RunOptions {
        // A new stream: nothing may be there yet.
        expected_version: Some(0),
        idempotency,
        metadata: command.metadata,
    };
    let creation = Creation {
        id: ProductId::generate(),
        details: command.details,
    };
    store.run(&creation, &options).await
}

/// A new product: its stream, its SKU and barcodes claimed, its read-model row.
struct Creation {
    id: ProductId,
    details: ProductDetails,
}

impl Creation {
    fn row(&self, version: i64) -> ProductRow {
        ProductRow::created(self.id, &self.details, version)
    }
}

impl UseCase for Creation {
    type Aggregate = Product;
    type Output = ProductRow;
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.id.stream_id()
    }

    fn decide(&self, state: &Product) -> Result<Vec<Event>, AppError> {
        let command = Command::Create {
            id: self.id,
            details: self.details.clone(),
        };
        Ok(Product::decide(state, &command)?)
    }

    fn claims(&self, events: &[Event]) -> Vec<Claim> {
        let row = self.row(i64::try_from(events.len()).unwrap_or(0));
        let mut claims = vec![Claim::acquire("sku", row.sku)];
        claims.extend(
            row.barcodes
                .into_iter()
                .map(|code| Claim::acquire("barcode", code)),
        );
        claims
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, Product>,
    ) -> Result<ProductRow, AppError> {
        let row = self.row(decided.version);
        products::insert(&mut *tx, &row).await?;
        tracing::info!(product_id = %self.id, sku = %row.sku, "product created");
        Ok(row)
    }
}
