//! Collecting a repair: one sale of its parts (at the catalog's prices now) and its labor,
//! rung up by `create_sale`'s `RingUp` inside the collection's own transaction, with the
//! repair's `RepairCollected` appended at the version the sale was priced from (decision
//! 0013). The repair's row is locked before the repair is read, so two collections at once
//! queue and the second finds the repair collected.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use tillstream_eventstore::{
    Done, EventMetadata, EventStore, RunOptions, Snapshots, StoreError, Transaction,
};
use tillstream_kernel::{Quantity, time};

use super::create_sale::{LineRequest, SaleRequest, location_code, resolve_lines};
use super::repairs::{OnRepair, counted, keyed};
use super::ring_up::RingUp;
use crate::domain::controls::{Authority, Locations};
use crate::domain::pricing::{Payment, PricingPolicy};
use crate::domain::repair::{Command, Repair, RepairError, RepairId, RepairRecord, Status};
use crate::domain::sale::{ResolvedLine, SaleRecord};
use crate::error::{AppError, location_not_allowed};
use crate::privacy::MasterKey;
use crate::projections::catalog_copy::ProductRef;
use crate::projections::repairs::{self, RepairView};

/// What a repair's sale is priced by.
#[derive(Debug, Clone, Copy)]
pub struct SaleSettings<'a> {
    pub master: &'a MasterKey,
    pub policy: PricingPolicy,
    /// `TILLSTREAM_LABOR_TAX_RATE`.
    pub labor_tax_rate: Decimal,
}

#[derive(Debug, Clone, Serialize)]
pub struct CollectRequest {
    pub id: RepairId,
    pub payments: Vec<Payment>,
    pub session_id: Option<String>,
    #[serde(skip)]
    pub by: String,
    #[serde(skip)]
    pub controls: Option<Authority>,
    #[serde(skip)]
    pub locations: Locations,
    #[serde(skip)]
    pub require_session: bool,
}

/// A collected repair and the sale that collected it (none when nothing was charged).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Collected {
    pub repair: RepairView,
    pub sale: Option<SaleRecord>,
}

pub async fn collect(
    store: &EventStore,
    settings: &SaleSettings<'_>,
    request: CollectRequest,
    idempotency_key: Option<String>,
    metadata: EventMetadata,
) -> Result<Collected, AppError> {
    let key = keyed("sales.collect_repair", idempotency_key, &request)?;
    if let Some(collected) = store.replay(key.as_ref()).await? {
        return Ok(collected);
    }
    let collecting = Collecting {
        settings,
        request: &request,
        metadata,
    };
    let answer = store.transact(&collecting, key.as_ref(), true).await?;
    if !answer.replayed {
        let collected = &answer.value;
        tracing::info!(
            repair_id = %request.id,
            sale_id = collected.sale.as_ref().map(|s| s.id.to_string()),
            "repair collected"
        );
        counted("collected");
    }
    Ok(answer.value)
}

/// The sale that collects `record`: its parts at the catalog's prices now (a part
/// discontinued since is still sold: it is in the device), its labor at its amounts.
async fn sale_of<'a>(
    store: &EventStore,
    settings: &SaleSettings<'a>,
    request: &CollectRequest,
    record: &RepairRecord,
    metadata: EventMetadata,
) -> Result<RingUp<'a>, AppError> {
    let parts: Vec<LineRequest> = record
        .parts
        .iter()
        .map(|part| LineRequest {
            product: ProductRef::Id(part.product_id.clone()),
            product_key: part.product_id.clone(),
            quantity: part.quantity,
            discount: None,
            unit_price: None,
        })
        .collect();
    let currency = settings.policy.currency;
    let mut lines = if parts.is_empty() {
        Vec::new()
    } else {
        resolve_lines(store, currency, &parts, true).await?
    };
    lines.extend(record.labor.iter().map(|labor| ResolvedLine {
        product_id: String::new(),
        sku: String::new(),
        name: labor.description.clone(),
        unit_price: labor.amount,
        tax_rate: settings.labor_tax_rate,
        quantity: Quantity::from_units(1),
        discount: None,
        catalog_price: None,
    }));
    let sale = SaleRequest {
        id: None,
        location_id: record.location_id.clone(),
        cashier_id: request.by.clone(),
        lines: Vec::new(),
        discount: None,
        payments: request.payments.clone(),
        customer_id: Some(record.customer_id.clone()),
        customer_name: None,
        customer_email: None,
        customer_digest: None,
        notes: Some(format!("repair {}", record.number)),
        captured_at: None,
        offline: false,
        controls: request.controls.clone(),
        locations: request.locations.clone(),
        session_id: request.session_id.clone(),
        require_session: request.require_session,
        repair_id: Some(record.id.to_string()),
    };
    let code = location_code(store, &record.location_id).await?;
    Ok(RingUp::new(
        settings.master,
        settings.policy,
        sale,
        code,
        lines,
        metadata,
    ))
}

/// The sale and the repair's collection, one transaction, decided on the repair as it is
/// once its row is locked.
struct Collecting<'a, 'r> {
    settings: &'r SaleSettings<'a>,
    request: &'r CollectRequest,
    metadata: EventMetadata,
}

impl Transaction for Collecting<'_, '_> {
    type Output = Collected;
    type Error = AppError;

    async fn run(
        &self,
        store: &EventStore,
        tx: &mut PgConnection,
    ) -> Result<Done<Collected>, AppError> {
        let request = self.request;
        // The repair's row first: a second collection waits here, then reads the repair
        // collected (a 409); a part fitted meanwhile is in the state read below.
        repairs::lock(&mut *tx, &request.id.to_string())
            .await
            .map_err(StoreError::from)?;
        let loaded = EventStore::load_state_in::<Repair>(
            &mut *tx,
            &request.id.stream_id(),
            Snapshots::NEVER.state_schema,
            Snapshots::NEVER.every,
        )
        .await?;
        let record = loaded.state.record.ok_or(RepairError::NotFound)?;
        check(request, &record)?;
        let sale = if record.has_charges() {
            let ring_up = sale_of(
                store,
                self.settings,
                request,
                &record,
                self.metadata.clone(),
            )
            .await?;
            Some(ring_up.run(store, &mut *tx).await?.answer)
        } else {
            None
        };
        let on_repair = OnRepair {
            id: request.id,
            command: Command::Collect {
                sale_id: sale.as_ref().map(|s| s.id.to_string()),
                sale_number: sale.as_ref().map(|s| s.sale_number.clone()),
                at: sale.as_ref().map_or_else(time::now, |s| s.completed_at),
                by: request.by.clone(),
            },
            locations: request.locations.clone(),
        };
        let options = RunOptions {
            expected_version: Some(loaded.version),
            idempotency: None,
            metadata: self.metadata.clone(),
        };
        let repair = store.run_in(&mut *tx, &on_repair, &options).await?;
        Ok(Done {
            answer: Collected { repair, sale },
            written: Some(request.id.stream_id()),
        })
    }
}

/// What refuses a collection before anything is priced: someone else's location, a repair
/// not ready, a sale without the session the store requires, money for nothing.
fn check(request: &CollectRequest, record: &RepairRecord) -> Result<(), AppError> {
    request
        .locations
        .check(&record.location_id)
        .map_err(|refused| location_not_allowed(&refused))?;
    if record.status != Status::Ready {
        return Err(RepairError::InvalidTransition {
            from: record.status,
            to: Status::Collected,
        }
        .into());
    }
    if request.require_session && request.session_id.is_none() && record.has_charges() {
        return Err(AppError::invalid(
            "session_id",
            "this store rings every sale up in an open register session",
        ));
    }
    if !record.has_charges() && !request.payments.is_empty() {
        return Err(AppError::invalid(
            "payments",
            "the repair has nothing to charge: collect it without payments",
        ));
    }
    Ok(())
}
