//! Creating a product: SKU and barcodes claimed, events appended and the read model
//! written in one transaction; an idempotency key replays the first answer.

use sqlx::PgConnection;
use tillstream_eventstore::{
    AppendRequest, Claim, EventMetadata, EventStore, IdempotencyKey, NewEvent, StoreError,
    request_hash,
};
use tillstream_kernel::Decider;

use crate::domain::product::{Command, Product, ProductDetails, ProductId};
use crate::error::AppError;
use crate::projections::products::{self, ProductRow};

/// Attempts when a concurrent request with the same idempotency key commits first.
const IDEMPOTENCY_RETRIES: usize = 3;

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
    let key = match &command.idempotency_key {
        Some(key) => Some(IdempotencyKey::new(
            format!("catalog.create_product:{key}"),
            request_hash(&command.details)?,
        )),
        None => None,
    };
    for _ in 0..IDEMPOTENCY_RETRIES {
        if let Some(key) = &key
            && let Some(replay) = store.find_idempotent(key).await?
        {
            return Ok(serde_json::from_value(replay.response).map_err(StoreError::from)?);
        }
        match append(store, &command, key.clone()).await {
            Err(AppError::Store(StoreError::IdempotencyRace { .. })) => continue,
            other => return other,
        }
    }
    Err(AppError::Conflict(
        "the request is being processed; retry".into(),
    ))
}

async fn append(
    store: &EventStore,
    command: &CreateProduct,
    key: Option<IdempotencyKey>,
) -> Result<ProductRow, AppError> {
    let mut tx = store.pool().begin().await.map_err(StoreError::from)?;
    let row = create_in(&mut tx, store, command, key).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// The creation inside the caller's transaction (an import's chunk).
pub async fn create_in(
    tx: &mut PgConnection,
    store: &EventStore,
    command: &CreateProduct,
    key: Option<IdempotencyKey>,
) -> Result<ProductRow, AppError> {
    let id = ProductId::generate();
    let events = Product::decide(
        &Product::default(),
        &Command::Create {
            id,
            details: command.details.clone(),
        },
    )?;
    let row = ProductRow::created(id, &command.details, events.len() as i64);

    let mut claims = vec![Claim::acquire("sku", row.sku.clone())];
    claims.extend(
        row.barcodes
            .iter()
            .map(|code| Claim::acquire("barcode", code.clone())),
    );
    let new_events = events
        .iter()
        .map(NewEvent::from_domain)
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::from)?;
    let mut request = AppendRequest::new(format!("product-{id}"), 0, new_events)
        .with_claims(claims)
        .with_metadata(command.metadata.clone());
    if let Some(key) = key {
        request =
            request.with_idempotency(key, serde_json::to_value(&row).map_err(StoreError::from)?);
    }

    store.append_in(&mut *tx, &request).await?;
    products::insert(&mut *tx, &row)
        .await
        .map_err(StoreError::from)?;
    tracing::info!(product_id = %id, sku = %row.sku, "product created");
    Ok(row)
}
