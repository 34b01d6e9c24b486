//! Purchase orders on the command runner: each command's events and the order's rows in
//! one transaction. A delivery is more: the order's receipt and every line's stock
//! movement commit together (`receive`), so a crash leaves neither a receipt without its
//! stock nor stock without its receipt, and a repeated `Idempotency-Key` books it once.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use tillstream_eventstore::{
    Decided, Done, EventMetadata, EventStore, IdempotencyKey, RunOptions, Transaction, UseCase,
};
use tillstream_kernel::{Decider, Quantity};

use super::checks::{refused_at, require_location, require_products};
use super::stock_batch::{StockBatch, hold};
use crate::domain::purchase_order::{
    Command, Event, Invoice, PurchaseOrder, PurchaseOrderId, Receipt,
};
use crate::domain::stock_item;
use crate::error::AppError;
use crate::projections::purchasing::{self, OrderView};

/// A new order's lines: (product, quantity, unit cost).
pub type OrderLines = Vec<(String, Quantity, rust_decimal::Decimal)>;

/// Drafts an order under the next number, after checking what it names exists.
pub async fn create_order(
    store: &EventStore,
    supplier_id: &str,
    location_id: &str,
    expected_at: Option<chrono::DateTime<chrono::Utc>>,
    lines: OrderLines,
    metadata: EventMetadata,
    idempotency: Option<IdempotencyKey>,
) -> Result<OrderView, AppError> {
    let known = purchasing::supplier(store.pool(), supplier_id)
        .await
        .map_err(|e| AppError::Store(e.into()))?;
    if known.is_none() {
        return Err(AppError::invalid(
            "supplier_id",
            format!("no supplier with id `{supplier_id}`"),
        ));
    }
    require_location(store, location_id, "location_id").await?;
    require_lines(store, &lines).await?;
    let number = purchasing::next_number(store.pool())
        .await
        .map_err(|e| AppError::Store(e.into()))?;
    let id = PurchaseOrderId::generate();
    let command = Command::Draft {
        id,
        number,
        supplier_id: supplier_id.to_owned(),
        location_id: location_id.to_owned(),
        expected_at,
        lines,
        at: tillstream_kernel::time::now(),
    };
    let options = RunOptions {
        expected_version: Some(0),
        metadata,
        idempotency,
    };
    store.run(&OrderUseCase { id, command }, &options).await
}

/// Every product of an order's lines is known to the catalog copy, once.
async fn require_lines(store: &EventStore, lines: &OrderLines) -> Result<(), AppError> {
    let ids: Vec<String> = lines.iter().map(|(p, ..)| p.clone()).collect();
    require_products(store, &ids, |i| format!("lines[{i}].product_id")).await
}

/// Changes a draft: its expected time, or all its lines. `options.expected_version` is
/// the `If-Match`.
pub async fn revise_order(
    store: &EventStore,
    id: &str,
    expected_at: Option<chrono::DateTime<chrono::Utc>>,
    lines: Option<OrderLines>,
    options: RunOptions,
) -> Result<OrderView, AppError> {
    if let Some(lines) = &lines {
        require_lines(store, lines).await?;
    }
    order_command(store, id, Command::Revise { expected_at, lines }, options).await
}

/// A command on an existing order (submit, close, cancel, revise).
pub async fn order_command(
    store: &EventStore,
    id: &str,
    command: Command,
    options: RunOptions,
) -> Result<OrderView, AppError> {
    let id = order_id(id)?;
    store.run(&OrderUseCase { id, command }, &options).await
}

pub fn order_id(id: &str) -> Result<PurchaseOrderId, AppError> {
    id.trim()
        .parse()
        .map_err(|_| AppError::NotFound(format!("no purchase order with id `{}`", id.trim())))
}

struct OrderUseCase {
    id: PurchaseOrderId,
    command: Command,
}

impl UseCase for OrderUseCase {
    type Aggregate = PurchaseOrder;
    type Output = OrderView;
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.id.stream_id()
    }

    fn decide(&self, state: &PurchaseOrder) -> Result<Vec<Event>, AppError> {
        Ok(PurchaseOrder::decide(state, &self.command)?)
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, PurchaseOrder>,
    ) -> Result<OrderView, AppError> {
        let view = OrderView {
            order: decided.state.clone(),
            version: decided.version,
        };
        if !decided.events.is_empty() {
            let lines_changed = decided.events.iter().any(|e| {
                matches!(
                    e,
                    Event::PurchaseOrderDrafted { .. } | Event::PurchaseOrderRevised { .. }
                )
            });
            purchasing::upsert_order(tx, &view, lines_changed)
                .await
                .map_err(|e| AppError::Store(e.into()))?;
        }
        Ok(view)
    }
}

/// A supplier invoice matched against its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceView {
    pub purchase_order_id: String,
    pub invoice: Invoice,
}

/// Records a supplier's invoice; the ledger books it from the event.
pub async fn invoice_order(
    store: &EventStore,
    id: &str,
    command: Command,
    metadata: EventMetadata,
    idempotency: Option<IdempotencyKey>,
) -> Result<InvoiceView, AppError> {
    let id = order_id(id)?;
    let options = RunOptions {
        metadata,
        idempotency,
        ..Default::default()
    };
    let view = store.run(&OrderUseCase { id, command }, &options).await?;
    let invoice = view
        .order
        .invoices
        .last()
        .cloned()
        .ok_or_else(|| AppError::Internal("an invoice recorded nothing".into()))?;
    Ok(InvoiceView {
        purchase_order_id: id.to_string(),
        invoice,
    })
}

/// A delivery against an order as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptView {
    pub purchase_order_id: String,
    pub receipt: Receipt,
}

/// Receives a delivery: the order's receipt and the stock of every line, at the order's
/// cost, in one transaction.
pub async fn receive(
    store: &EventStore,
    id: &str,
    command: Command,
    metadata: EventMetadata,
    idempotency: Option<IdempotencyKey>,
) -> Result<ReceiptView, AppError> {
    let delivery = Delivery {
        id: order_id(id)?,
        command,
        metadata,
    };
    let answer = store
        .transact(&delivery, idempotency.as_ref(), true)
        .await?;
    Ok(answer.value)
}

struct Delivery {
    id: PurchaseOrderId,
    command: Command,
    metadata: EventMetadata,
}

impl Transaction for Delivery {
    type Output = ReceiptView;
    type Error = AppError;

    async fn run(
        &self,
        store: &EventStore,
        tx: &mut PgConnection,
    ) -> Result<Done<ReceiptView>, AppError> {
        let use_case = OrderUseCase {
            id: self.id,
            command: self.command.clone(),
        };
        let options = RunOptions {
            metadata: self.metadata.clone(),
            ..Default::default()
        };
        let view = store.run_in(tx, &use_case, &options).await?;
        let order = &view.order;
        let receipt = order
            .receipts
            .last()
            .cloned()
            .ok_or_else(|| AppError::Internal("a delivery recorded nothing".into()))?;
        // The movements' reference is the order's number, as the stock history shows it.
        let metadata = EventMetadata {
            causation_id: Some(order.number.clone()),
            ..self.metadata.clone()
        };
        let mut batch = StockBatch::new(store, metadata);
        let items: Vec<(&str, &str)> = receipt
            .lines
            .iter()
            .map(|line| (line.product_id.as_str(), order.location_id.as_str()))
            .collect();
        hold(tx, &items).await?;
        for (index, line) in receipt.lines.iter().enumerate() {
            let quantity = Quantity::new(line.quantity).map_err(|e| {
                AppError::invalid(format!("lines[{index}].quantity"), e.to_string())
            })?;
            let command = stock_item::Command::Receive {
                quantity,
                unit_cost: line.unit_cost,
                purchase_order_id: Some(self.id.to_string()),
            };
            batch
                .apply(tx, &line.product_id, &order.location_id, &command)
                .await
                .map_err(refused_at(&format!("lines[{index}]")))?;
        }
        Ok(Done {
            written: Some(receipt.id.clone()),
            answer: ReceiptView {
                purchase_order_id: self.id.to_string(),
                receipt,
            },
        })
    }
}
