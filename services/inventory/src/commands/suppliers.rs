//! Suppliers: registered under a unique code, changed with `If-Match`, and paid. Each runs
//! on the command runner: the events, the code's claim and the `suppliers` row in one
//! transaction.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use tillstream_eventstore::{
    Claim, Decided, EventMetadata, EventStore, IdempotencyKey, RunOptions, UseCase,
};
use tillstream_kernel::Decider;

use crate::domain::supplier::{Command, Event, PaymentMethod, Supplier, SupplierId};
use crate::error::AppError;
use crate::projections::purchasing::{self, SupplierRow};

/// Registers a supplier; a code already taken is a 409.
pub async fn create_supplier(
    store: &EventStore,
    command: Command,
    metadata: EventMetadata,
    idempotency: Option<IdempotencyKey>,
) -> Result<SupplierRow, AppError> {
    let Command::Register { id, .. } = &command else {
        return Err(AppError::Internal("not a registration".into()));
    };
    let options = RunOptions {
        expected_version: Some(0),
        metadata,
        idempotency,
    };
    store
        .run(&SupplierUseCase { id: *id, command }, &options)
        .await
}

/// Changes a supplier; `expected_version` is the `If-Match` (a stale one is a 409).
pub async fn update_supplier(
    store: &EventStore,
    id: &str,
    command: Command,
    expected_version: Option<i64>,
    metadata: EventMetadata,
) -> Result<SupplierRow, AppError> {
    let id = supplier_id(id)?;
    let options = RunOptions {
        expected_version,
        metadata,
        ..Default::default()
    };
    store.run(&SupplierUseCase { id, command }, &options).await
}

pub fn supplier_id(id: &str) -> Result<SupplierId, AppError> {
    id.trim()
        .parse()
        .map_err(|_| AppError::NotFound(format!("no supplier with id `{}`", id.trim())))
}

struct SupplierUseCase {
    id: SupplierId,
    command: Command,
}

impl UseCase for SupplierUseCase {
    type Aggregate = Supplier;
    type Output = SupplierRow;
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.id.stream_id()
    }

    fn decide(&self, state: &Supplier) -> Result<Vec<Event>, AppError> {
        Ok(Supplier::decide(state, &self.command)?)
    }

    fn claims(&self, events: &[Event]) -> Vec<Claim> {
        events
            .iter()
            .filter_map(|event| match event {
                Event::SupplierRegistered { code, .. } => {
                    Some(Claim::acquire("supplier_code", code.clone()))
                }
                _ => None,
            })
            .collect()
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, Supplier>,
    ) -> Result<SupplierRow, AppError> {
        let row = SupplierRow::of(decided.state, decided.version);
        if !decided.events.is_empty() {
            purchasing::upsert_supplier(tx, &row)
                .await
                .map_err(|e| AppError::Store(e.into()))?;
        }
        Ok(row)
    }
}

/// A payment to a supplier as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentView {
    pub id: String,
    pub supplier_id: String,
    pub amount: Decimal,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub paid_at: DateTime<Utc>,
}

/// Pays a supplier: accounts payable falls by `amount` when the ledger posts it.
pub async fn pay_supplier(
    store: &EventStore,
    id: &str,
    command: Command,
    options: RunOptions,
) -> Result<PaymentView, AppError> {
    let id = supplier_id(id)?;
    store.run(&Payment { id, command }, &options).await
}

struct Payment {
    id: SupplierId,
    command: Command,
}

impl UseCase for Payment {
    type Aggregate = Supplier;
    type Output = PaymentView;
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.id.stream_id()
    }

    fn decide(&self, state: &Supplier) -> Result<Vec<Event>, AppError> {
        Ok(Supplier::decide(state, &self.command)?)
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, Supplier>,
    ) -> Result<PaymentView, AppError> {
        // A payment is on the supplier's stream: its row follows the version, or the next
        // `If-Match` read from it would be stale.
        purchasing::upsert_supplier(tx, &SupplierRow::of(decided.state, decided.version))
            .await
            .map_err(|e| AppError::Store(e.into()))?;
        let Some(Event::SupplierPaid {
            payment_id,
            amount,
            method,
            reference,
        }) = decided.events.first()
        else {
            return Err(AppError::Internal("a payment recorded nothing".into()));
        };
        Ok(PaymentView {
            id: payment_id.clone(),
            supplier_id: self.id.to_string(),
            amount: *amount,
            method: *method,
            reference: reference.clone(),
            paid_at: tillstream_kernel::time::now(),
        })
    }
}
