//! The workshop's use cases: taking a device in (numbered in its transaction), moving it
//! along, fitting parts and logging labor, and collecting it with one sale of both in the
//! same transaction as the repair's `RepairCollected` (decision 0013).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use tillstream_eventstore::{
    Decided, Done, EventMetadata, EventStore, IdempotencyKey, RunOptions, Snapshots, StoreError,
    Transaction, UseCase, request_hash,
};
use tillstream_kernel::{Decider, Money, Quantity, time};
use tillstream_service::copies::settle;

use super::create_sale::{LineRequest, RingUp, SaleRequest, location_code, resolve_lines};
use crate::domain::controls::{Authority, Locations};
use crate::domain::pricing::{Payment, PricingPolicy};
use crate::domain::repair::{Command, Intake, Repair, RepairError, RepairId, RepairRecord, Status};
use crate::domain::sale::{ResolvedLine, SaleRecord};
use crate::error::{AppError, location_not_allowed};
use crate::privacy::MasterKey;
use crate::projections::catalog_copy::{self, ProductRef};
use crate::projections::customers;
use crate::projections::repairs::{self, RepairView};

/// A device brought in.
#[derive(Debug, Clone, Serialize)]
pub struct NewRepair {
    pub customer_id: String,
    pub location_id: String,
    pub device: String,
    pub serial: Option<String>,
    pub problem: String,
    pub estimate: Option<Money>,
    /// Who took it in: the verified caller.
    #[serde(skip)]
    pub by: String,
    #[serde(skip)]
    pub locations: Locations,
}

/// Who acts on a repair, and where they may.
#[derive(Debug, Clone)]
pub struct Actor {
    pub by: String,
    pub locations: Locations,
}

pub async fn receive(
    store: &EventStore,
    request: NewRepair,
    idempotency_key: Option<String>,
    metadata: EventMetadata,
) -> Result<RepairView, AppError> {
    // A location outside one's own is a 403 even when it does not exist.
    request
        .locations
        .check(&request.location_id)
        .map_err(|refused| location_not_allowed(&refused))?;
    let key = keyed("sales.receive_repair", idempotency_key, &request)?;
    if let Some(view) = store.replay(key.as_ref()).await? {
        return Ok(view);
    }
    let location_code = location_code(store, &request.location_id).await?;
    let receiving = Receiving {
        request,
        location_code,
        metadata,
    };
    let answer = store.transact(&receiving, key.as_ref(), true).await?;
    if !answer.replayed {
        let record = &answer.value.record;
        tracing::info!(repair_id = %record.id, number = %record.number, "repair received");
        counted("received");
    }
    Ok(answer.value)
}

struct Receiving {
    request: NewRepair,
    location_code: String,
    metadata: EventMetadata,
}

impl Transaction for Receiving {
    type Output = RepairView;
    type Error = AppError;

    async fn run(
        &self,
        store: &EventStore,
        tx: &mut PgConnection,
    ) -> Result<Done<RepairView>, AppError> {
        let request = &self.request;
        if !customers::is_live(&mut *tx, request.customer_id.trim())
            .await
            .map_err(StoreError::from)?
        {
            return Err(AppError::invalid("customer_id", "no such customer"));
        }
        let number = repairs::next_number(&mut *tx, &request.location_id, &self.location_code)
            .await
            .map_err(StoreError::from)?;
        let id = RepairId::generate();
        let on_repair = OnRepair {
            id,
            command: Command::Receive(Box::new(Intake {
                id,
                number,
                customer_id: request.customer_id.trim().to_owned(),
                location_id: request.location_id.clone(),
                device: request.device.clone(),
                serial: request.serial.clone(),
                problem: request.problem.clone(),
                estimate: request.estimate,
                at: time::now(),
                by: request.by.clone(),
            })),
            locations: request.locations.clone(),
        };
        let options = RunOptions {
            expected_version: Some(0),
            idempotency: None,
            metadata: self.metadata.clone(),
        };
        let view = store.run_in(&mut *tx, &on_repair, &options).await?;
        Ok(Done {
            answer: view,
            written: Some(id.stream_id()),
        })
    }
}

/// Moves a repair along. `collected` is a collection without payments: it succeeds only when
/// there is nothing to charge (otherwise the sale asks for `payments`).
#[allow(clippy::too_many_arguments)]
pub async fn change_status(
    store: &EventStore,
    sale: &SaleSettings<'_>,
    id: RepairId,
    to: Status,
    note: Option<String>,
    actor: Actor,
    controls: Authority,
    idempotency_key: Option<String>,
    metadata: EventMetadata,
) -> Result<RepairView, AppError> {
    if to == Status::Collected {
        let request = CollectRequest {
            id,
            payments: Vec::new(),
            session_id: None,
            by: actor.by,
            controls: Some(controls),
            locations: actor.locations,
            require_session: false,
        };
        return collect(store, sale, request, idempotency_key, metadata)
            .await
            .map(|collected| collected.repair);
    }
    let command = Command::Move {
        to,
        note,
        at: time::now(),
        by: actor.by.clone(),
    };
    let key = keyed(
        "sales.repair_status",
        idempotency_key,
        &(id, to.as_str(), &command_note(&command)),
    )?;
    let view = act(store, id, command, actor.locations, key, metadata).await?;
    tracing::info!(repair_id = %id, status = to.as_str(), "repair moved");
    counted(to.as_str());
    Ok(view)
}

/// `tillstream_repair_events_total{event}`: what the workshop does, for the board's graphs.
fn counted(event: &'static str) {
    metrics::counter!("tillstream_repair_events_total", "event" => event).increment(1);
}

fn command_note(command: &Command) -> Option<String> {
    match command {
        Command::Move { note, .. } => note.clone(),
        _ => None,
    }
}

/// Fits a part: the product as the catalog names it now; inventory takes it from the
/// repair's location when the event reaches it.
pub async fn fit_part(
    store: &EventStore,
    id: RepairId,
    product_id: &str,
    quantity: Quantity,
    actor: Actor,
    idempotency_key: Option<String>,
    metadata: EventMetadata,
) -> Result<RepairView, AppError> {
    let key = keyed(
        "sales.repair_part",
        idempotency_key,
        &(id, product_id, quantity),
    )?;
    if let Some(view) = store.replay(key.as_ref()).await? {
        return Ok(view);
    }
    let reference = ProductRef::Id(product_id.trim().to_owned());
    let product = settle(
        || catalog_copy::find_product(store.pool(), &reference),
        Option::is_some,
    )
    .await
    .map_err(StoreError::from)?
    .ok_or_else(|| AppError::invalid("product_id", format!("no product `{product_id}`")))?;
    let command = Command::FitPart {
        product_id: product.id,
        sku: product.sku,
        name: product.name,
        quantity,
        at: time::now(),
        by: actor.by,
    };
    let view = act(store, id, command, actor.locations, key, metadata).await?;
    tracing::info!(repair_id = %id, product_id, %quantity, "part fitted");
    counted("part_fitted");
    Ok(view)
}

pub async fn add_labor(
    store: &EventStore,
    id: RepairId,
    description: String,
    amount: Money,
    actor: Actor,
    idempotency_key: Option<String>,
    metadata: EventMetadata,
) -> Result<RepairView, AppError> {
    let key = keyed(
        "sales.repair_labor",
        idempotency_key,
        &(id, &description, amount),
    )?;
    let command = Command::AddLabor {
        description,
        amount,
        at: time::now(),
        by: actor.by,
    };
    let view = act(store, id, command, actor.locations, key, metadata).await?;
    counted("labor_added");
    Ok(view)
}

/// Runs `command` on the repair; the same key answers a repeat.
async fn act(
    store: &EventStore,
    id: RepairId,
    command: Command,
    locations: Locations,
    key: Option<IdempotencyKey>,
    metadata: EventMetadata,
) -> Result<RepairView, AppError> {
    let options = RunOptions {
        expected_version: None,
        idempotency: key,
        metadata,
    };
    let on_repair = OnRepair {
        id,
        command,
        locations,
    };
    store.run(&on_repair, &options).await
}

fn keyed(
    scope: &str,
    key: Option<String>,
    request: &impl Serialize,
) -> Result<Option<IdempotencyKey>, AppError> {
    match key {
        Some(key) => Ok(Some(IdempotencyKey::new(
            format!("{scope}:{key}"),
            request_hash(request)?,
        ))),
        None => Ok(None),
    }
}

/// One command on one repair, with its read-model row in the same transaction.
struct OnRepair {
    id: RepairId,
    command: Command,
    locations: Locations,
}

impl UseCase for OnRepair {
    type Aggregate = Repair;
    type Output = RepairView;
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.id.stream_id()
    }

    fn decide(&self, state: &Repair) -> Result<Vec<crate::domain::repair::Event>, AppError> {
        if let Some(record) = &state.record {
            self.locations
                .check(&record.location_id)
                .map_err(|refused| location_not_allowed(&refused))?;
        }
        Ok(Repair::decide(state, &self.command)?)
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, Repair>,
    ) -> Result<RepairView, AppError> {
        let record = decided
            .state
            .record
            .as_deref()
            .cloned()
            .ok_or(RepairError::NotFound)?;
        let view = RepairView {
            record,
            version: decided.version,
        };
        repairs::upsert(tx, &view).await.map_err(StoreError::from)?;
        Ok(view)
    }
}

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

/// How often a collection decides again when the repair moved under it (a part fitted, a
/// concurrent collection): the last try sees the repair as it now is.
const COLLECT_TRIES: usize = 3;

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
    let stream = request.id.stream_id();
    let mut tries = 0;
    loop {
        tries += 1;
        let loaded = store
            .load_state::<Repair>(
                &stream,
                Snapshots::NEVER.state_schema,
                Snapshots::NEVER.every,
            )
            .await?;
        let record = loaded.state.record.ok_or(RepairError::NotFound)?;
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
        let ring_up = if record.has_charges() {
            Some(sale_of(store, settings, &request, &record, metadata.clone()).await?)
        } else {
            None
        };
        let collecting = Collecting {
            id: request.id,
            version: loaded.version,
            ring_up,
            by: request.by.clone(),
            locations: request.locations.clone(),
            metadata: metadata.clone(),
        };
        match store.transact(&collecting, key.as_ref(), false).await {
            Err(AppError::Store(StoreError::Conflict { .. })) if tries < COLLECT_TRIES => {}
            Err(AppError::Store(StoreError::Conflict { .. })) => {
                return Err(AppError::Conflict(
                    "the repair changed while it was being collected; try again".into(),
                ));
            }
            Err(error) => return Err(error),
            Ok(answer) => {
                if !answer.replayed {
                    let collected = &answer.value;
                    tracing::info!(
                        repair_id = %request.id,
                        sale_id = collected.sale.as_ref().map(|s| s.id.to_string()),
                        "repair collected"
                    );
                    counted("collected");
                }
                return Ok(answer.value);
            }
        }
    }
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

/// The sale and the repair's collection, one transaction: the repair must still be at the
/// version the sale was priced from.
struct Collecting<'a> {
    id: RepairId,
    version: i64,
    ring_up: Option<RingUp<'a>>,
    by: String,
    locations: Locations,
    metadata: EventMetadata,
}

impl Transaction for Collecting<'_> {
    type Output = Collected;
    type Error = AppError;

    async fn run(
        &self,
        store: &EventStore,
        tx: &mut PgConnection,
    ) -> Result<Done<Collected>, AppError> {
        let sale = match &self.ring_up {
            Some(ring_up) => Some(ring_up.run(store, &mut *tx).await?.answer),
            None => None,
        };
        let on_repair = OnRepair {
            id: self.id,
            command: Command::Collect {
                sale_id: sale.as_ref().map(|s| s.id.to_string()),
                sale_number: sale.as_ref().map(|s| s.sale_number.clone()),
                at: sale.as_ref().map_or_else(time::now, |s| s.completed_at),
                by: self.by.clone(),
            },
            locations: self.locations.clone(),
        };
        let options = RunOptions {
            expected_version: Some(self.version),
            idempotency: None,
            metadata: self.metadata.clone(),
        };
        let repair = store.run_in(&mut *tx, &on_repair, &options).await?;
        Ok(Done {
            answer: Collected { repair, sale },
            written: Some(self.id.stream_id()),
        })
    }
}
