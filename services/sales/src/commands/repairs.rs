//! The workshop's use cases: taking a device in (numbered in its transaction), moving it
//! along, fitting parts and logging labor. Collecting it is `collect_repair`'s (decision
//! 0013).

use serde::Serialize;
use sqlx::PgConnection;
use tillstream_eventstore::{
    Decided, Done, EventMetadata, EventStore, IdempotencyKey, RunOptions, StoreError, Transaction,
    UseCase, request_hash,
};
use tillstream_kernel::{Decider, Money, Quantity, time};
use tillstream_service::copies::settle;

use super::collect_repair::{self, CollectRequest, SaleSettings};
use super::create_sale::location_code;
use crate::domain::controls::{Authority, Locations};
use crate::domain::repair::{Command, Intake, Repair, RepairError, RepairId, Status};
use crate::error::{AppError, location_not_allowed};
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
    /// `TILLSTREAM_REQUIRE_SESSION` for a cashier: a collection that charges needs a session.
    pub require_session: bool,
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
            require_session: actor.require_session,
        };
        return collect_repair::collect(store, sale, request, idempotency_key, metadata)
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
pub(super) fn counted(event: &'static str) {
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
    let locked = Locked {
        on_repair: OnRepair {
            id,
            command,
            locations,
        },
        metadata,
    };
    Ok(store.transact(&locked, key.as_ref(), true).await?.value)
}

/// A command on a repair that takes the repair's row first, as a collection does: the two
/// queue in one order (row, then stream) instead of deadlocking on each other.
struct Locked {
    on_repair: OnRepair,
    metadata: EventMetadata,
}

impl Transaction for Locked {
    type Output = RepairView;
    type Error = AppError;

    async fn run(
        &self,
        store: &EventStore,
        tx: &mut PgConnection,
    ) -> Result<Done<RepairView>, AppError> {
        let id = self.on_repair.id;
        repairs::lock(&mut *tx, &id.to_string())
            .await
            .map_err(StoreError::from)?;
        let options = RunOptions {
            expected_version: None,
            idempotency: None,
            metadata: self.metadata.clone(),
        };
        let view = store.run_in(&mut *tx, &self.on_repair, &options).await?;
        Ok(Done {
            answer: view,
            written: Some(id.stream_id()),
        })
    }
}

pub(super) fn keyed(
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
pub(super) struct OnRepair {
    pub(super) id: RepairId,
    pub(super) command: Command,
    pub(super) locations: Locations,
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
