//! `tillstream.inventory.v1.PurchasingService`: every number parsed and bounded here, the
//! rest decided by the domain.

use chrono::SecondsFormat;
use rust_decimal::Decimal;
use tillstream_eventstore::{EventStore, RunOptions};
use tillstream_kernel::{Currency, Money};
use tillstream_proto::inventory::v1 as pb;
use tillstream_proto::inventory::v1::purchasing_service_server::PurchasingService;
use tillstream_service::grpc::metadata_of;
use tonic::{Request, Response, Status};

use super::grpc::{cost_text, idempotency_of, moment, optional, paging, quantity, unit_cost};
use crate::commands::purchase_orders::{
    self, InvoiceView, OrderLines, ReceiptView, invoice_order, order_command, receive, revise_order,
};
use crate::commands::suppliers::{self, PaymentView, pay_supplier, update_supplier};
use crate::domain::purchase_order::{self, Command, Receipt};
use crate::domain::supplier::{self as supplier_domain, DEFAULT_LEAD_TIME_DAYS, PaymentMethod};
use crate::error::AppError;
use crate::projections::purchasing::{self, OrderFilter, OrderView, SuggestionRow, SupplierRow};

#[derive(Debug, Clone)]
pub struct PurchasingApi {
    pub store: EventStore,
    /// Lists and suggestions: the read-only pool (`Process::reads`).
    pub reads: sqlx::PgPool,
    pub currency: Currency,
}

fn store_error(error: sqlx::Error) -> AppError {
    AppError::Store(error.into())
}

/// Blank contact fields clear them; absent ones leave them.
fn contact(value: Option<String>) -> Option<Option<String>> {
    value.map(|v| Some(v).filter(|v| !v.trim().is_empty()))
}

#[tonic::async_trait]
impl PurchasingService for PurchasingApi {
    async fn create_supplier(
        &self,
        request: Request<pb::CreateSupplierRequest>,
    ) -> Result<Response<pb::Supplier>, Status> {
        let metadata = metadata_of(&request);
        let r = request.into_inner();
        let idempotency = idempotency_of("create_supplier", &r, |r| &mut r.idempotency_key)?;
        let command = supplier_domain::Command::Register {
            id: supplier_domain::SupplierId::generate(),
            code: r.code,
            details: supplier_domain::Details {
                name: r.name,
                email: Some(r.email),
                phone: Some(r.phone),
                lead_time_days: r.lead_time_days.unwrap_or(DEFAULT_LEAD_TIME_DAYS),
            },
        };
        let row = suppliers::create_supplier(&self.store, command, metadata, idempotency).await?;
        Ok(Response::new(supplier_to_proto(row)))
    }

    async fn get_supplier(
        &self,
        request: Request<pb::GetSupplierRequest>,
    ) -> Result<Response<pb::Supplier>, Status> {
        let id = request.into_inner().id;
        let row = purchasing::supplier(self.store.pool(), id.trim())
            .await
            .map_err(store_error)?
            .ok_or_else(|| AppError::NotFound(format!("no supplier with id `{}`", id.trim())))?;
        Ok(Response::new(supplier_to_proto(row)))
    }

    async fn list_suppliers(
        &self,
        request: Request<pb::ListSuppliersRequest>,
    ) -> Result<Response<pb::ListSuppliersResponse>, Status> {
        let r = request.into_inner();
        let (limit, offset) = paging(r.page, r.limit);
        let (rows, total) = purchasing::suppliers(&self.reads, offset_of(offset), limit.into())
            .await
            .map_err(store_error)?;
        Ok(Response::new(pb::ListSuppliersResponse {
            suppliers: rows.into_iter().map(supplier_to_proto).collect(),
            total,
        }))
    }

    async fn update_supplier(
        &self,
        request: Request<pb::UpdateSupplierRequest>,
    ) -> Result<Response<pb::Supplier>, Status> {
        let metadata = metadata_of(&request);
        let r = request.into_inner();
        let command = supplier_domain::Command::Change {
            name: r.name,
            email: contact(r.email),
            phone: contact(r.phone),
            lead_time_days: r.lead_time_days,
        };
        let expected = Some(r.expected_version).filter(|v| *v != 0);
        let row = update_supplier(&self.store, &r.id, command, expected, metadata).await?;
        Ok(Response::new(supplier_to_proto(row)))
    }

    async fn pay_supplier(
        &self,
        request: Request<pb::PaySupplierRequest>,
    ) -> Result<Response<pb::SupplierPayment>, Status> {
        let metadata = metadata_of(&request);
        let r = request.into_inner();
        let idempotency = idempotency_of("pay_supplier", &r, |r| &mut r.idempotency_key)?;
        let amount = Money::parse(&r.amount, self.currency)
            .map_err(|e| AppError::invalid("amount", e.to_string()))?;
        let method = PaymentMethod::parse(r.method.trim())
            .ok_or_else(|| AppError::invalid("method", "a payment is by `bank` or `cash`"))?;
        let command = supplier_domain::Command::Pay {
            payment_id: tillstream_kernel::Ulid::generate().to_string(),
            amount: amount.amount(),
            method,
            reference: optional(&r.reference).map(str::to_owned),
        };
        let options = RunOptions {
            metadata,
            idempotency,
            ..Default::default()
        };
        let payment = pay_supplier(&self.store, &r.supplier_id, command, options).await?;
        Ok(Response::new(payment_to_proto(payment, self.currency)))
    }

    async fn create_purchase_order(
        &self,
        request: Request<pb::CreatePurchaseOrderRequest>,
    ) -> Result<Response<pb::PurchaseOrder>, Status> {
        let metadata = metadata_of(&request);
        let r = request.into_inner();
        let idempotency = idempotency_of("create_purchase_order", &r, |r| &mut r.idempotency_key)?;
        let lines = order_lines(&r.lines)?;
        let expected_at = moment(&r.expected_at, "expected_at")?;
        let view = purchase_orders::create_order(
            &self.store,
            r.supplier_id.trim(),
            r.location_id.trim(),
            expected_at,
            lines,
            metadata,
            idempotency,
        )
        .await?;
        Ok(Response::new(order_to_proto(view, self.currency)))
    }

    async fn get_purchase_order(
        &self,
        request: Request<pb::GetPurchaseOrderRequest>,
    ) -> Result<Response<pb::PurchaseOrder>, Status> {
        let id = request.into_inner().id;
        let view = purchasing::order(self.store.pool(), id.trim())
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                AppError::NotFound(format!("no purchase order with id `{}`", id.trim()))
            })?;
        Ok(Response::new(order_to_proto(view, self.currency)))
    }

    async fn list_purchase_orders(
        &self,
        request: Request<pb::ListPurchaseOrdersRequest>,
    ) -> Result<Response<pb::ListPurchaseOrdersResponse>, Status> {
        let r = request.into_inner();
        let status = match optional(&r.status) {
            None => None,
            Some(text) => Some(purchase_order::Status::parse(text).ok_or_else(|| {
                AppError::invalid(
                    "status",
                    "one of draft, ordered, partially_received, received, closed, cancelled",
                )
            })?),
        };
        let filter = OrderFilter {
            status,
            supplier_id: optional(&r.supplier_id).map(str::to_owned),
            location_id: optional(&r.location_id).map(str::to_owned),
        };
        let (limit, offset) = paging(r.page, r.limit);
        let (views, total) =
            purchasing::orders(&self.reads, &filter, offset_of(offset), limit.into())
                .await
                .map_err(store_error)?;
        Ok(Response::new(pb::ListPurchaseOrdersResponse {
            orders: views
                .into_iter()
                .map(|view| order_to_proto(view, self.currency))
                .collect(),
            total,
        }))
    }

    async fn update_purchase_order(
        &self,
        request: Request<pb::UpdatePurchaseOrderRequest>,
    ) -> Result<Response<pb::PurchaseOrder>, Status> {
        let metadata = metadata_of(&request);
        let r = request.into_inner();
        let expected_at = match &r.expected_at {
            Some(text) => moment(text, "expected_at")?,
            None => None,
        };
        let lines = if r.replace_lines {
            Some(order_lines(&r.lines)?)
        } else {
            None
        };
        let options = RunOptions {
            expected_version: Some(r.expected_version).filter(|v| *v != 0),
            metadata,
            idempotency: None,
        };
        let view = revise_order(&self.store, &r.id, expected_at, lines, options).await?;
        Ok(Response::new(order_to_proto(view, self.currency)))
    }

    async fn submit_purchase_order(
        &self,
        request: Request<pb::PurchaseOrderAction>,
    ) -> Result<Response<pb::PurchaseOrder>, Status> {
        self.act(request, |_| Command::Submit).await
    }

    async fn receive_purchase_order(
        &self,
        request: Request<pb::ReceivePurchaseOrderRequest>,
    ) -> Result<Response<pb::PurchaseReceipt>, Status> {
        let metadata = metadata_of(&request);
        let r = request.into_inner();
        let idempotency = idempotency_of("receive_purchase_order", &r, |r| &mut r.idempotency_key)?;
        let lines = r
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Ok((
                    l.line_no,
                    quantity(&l.quantity, &format!("lines[{i}].quantity"))?,
                ))
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let command = Command::Receive {
            receipt_id: tillstream_kernel::Ulid::generate().to_string(),
            reference: optional(&r.reference).map(str::to_owned),
            lines,
            at: tillstream_kernel::time::now(),
        };
        let view = receive(
            &self.store,
            &r.purchase_order_id,
            command,
            metadata,
            idempotency,
        )
        .await?;
        Ok(Response::new(receipt_view_to_proto(view)))
    }

    async fn invoice_purchase_order(
        &self,
        request: Request<pb::InvoicePurchaseOrderRequest>,
    ) -> Result<Response<pb::PurchaseInvoice>, Status> {
        let metadata = metadata_of(&request);
        let r = request.into_inner();
        let idempotency = idempotency_of("invoice_purchase_order", &r, |r| &mut r.idempotency_key)?;
        let lines = r
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Ok((
                    l.line_no,
                    quantity(&l.quantity, &format!("lines[{i}].quantity"))?,
                    unit_cost(&l.unit_cost, &format!("lines[{i}].unit_cost"))?,
                ))
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let command = Command::Invoice {
            invoice_id: tillstream_kernel::Ulid::generate().to_string(),
            number: r.number.clone(),
            lines,
            minor_units: self.currency.minor_units(),
            at: tillstream_kernel::time::now(),
        };
        let view = invoice_order(
            &self.store,
            &r.purchase_order_id,
            command,
            metadata,
            idempotency,
        )
        .await?;
        Ok(Response::new(invoice_view_to_proto(view, self.currency)))
    }

    async fn close_purchase_order(
        &self,
        request: Request<pb::PurchaseOrderAction>,
    ) -> Result<Response<pb::PurchaseOrder>, Status> {
        self.act(request, |r| Command::Close {
            reason: r.reason.clone(),
        })
        .await
    }

    async fn cancel_purchase_order(
        &self,
        request: Request<pb::PurchaseOrderAction>,
    ) -> Result<Response<pb::PurchaseOrder>, Status> {
        self.act(request, |_| Command::Cancel).await
    }

    async fn suggest_purchases(
        &self,
        request: Request<pb::SuggestPurchasesRequest>,
    ) -> Result<Response<pb::SuggestPurchasesResponse>, Status> {
        let r = request.into_inner();
        let location_id = optional(&r.location_id)
            .ok_or_else(|| AppError::invalid("location_id", "say which location"))?;
        let (limit, offset) = paging(r.page, r.limit);
        let (rows, total) =
            purchasing::suggestions(&self.reads, location_id, offset_of(offset), limit.into())
                .await
                .map_err(store_error)?;
        Ok(Response::new(pb::SuggestPurchasesResponse {
            suggestions: rows.into_iter().map(suggestion_to_proto).collect(),
            total,
        }))
    }
}

impl PurchasingApi {
    /// Submit, close or cancel: one command on one order.
    async fn act(
        &self,
        request: Request<pb::PurchaseOrderAction>,
        command: impl Fn(&pb::PurchaseOrderAction) -> Command,
    ) -> Result<Response<pb::PurchaseOrder>, Status> {
        let metadata = metadata_of(&request);
        let r = request.into_inner();
        let scope = match command(&r) {
            Command::Submit => "submit_purchase_order",
            Command::Close { .. } => "close_purchase_order",
            _ => "cancel_purchase_order",
        };
        let options = RunOptions {
            metadata,
            idempotency: idempotency_of(scope, &r, |r| &mut r.idempotency_key)?,
            ..Default::default()
        };
        let view = order_command(&self.store, &r.id, command(&r), options).await?;
        Ok(Response::new(order_to_proto(view, self.currency)))
    }
}

fn offset_of(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}

fn order_lines(lines: &[pb::OrderLine]) -> Result<OrderLines, AppError> {
    if lines.len() > purchase_order::MAX_LINES {
        return Err(AppError::invalid(
            "lines",
            format!("an order has 1 to {} lines", purchase_order::MAX_LINES),
        ));
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            Ok((
                l.product_id.trim().to_owned(),
                quantity(&l.quantity, &format!("lines[{i}].quantity"))?,
                unit_cost(&l.unit_cost, &format!("lines[{i}].unit_cost"))?,
            ))
        })
        .collect()
}

fn qty(decimal: Decimal) -> String {
    decimal.normalize().to_string()
}

/// An amount as the contract shows money: rounded to the currency's minor units, all of
/// them shown.
fn money(decimal: Decimal, currency: Currency) -> String {
    let mut amount = Money::new(decimal, currency).amount();
    amount.rescale(currency.minor_units());
    amount.to_string()
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn supplier_to_proto(row: SupplierRow) -> pb::Supplier {
    pb::Supplier {
        id: row.id,
        code: row.code,
        name: row.name,
        email: row.email.unwrap_or_default(),
        phone: row.phone.unwrap_or_default(),
        lead_time_days: u32::try_from(row.lead_time_days).unwrap_or(0),
        version: row.version,
    }
}

fn payment_to_proto(payment: PaymentView, currency: Currency) -> pb::SupplierPayment {
    pb::SupplierPayment {
        id: payment.id,
        supplier_id: payment.supplier_id,
        amount: money(payment.amount, currency),
        method: payment.method.as_str().to_owned(),
        reference: payment.reference.unwrap_or_default(),
        paid_at: rfc3339(payment.paid_at),
    }
}

fn order_to_proto(view: OrderView, currency: Currency) -> pb::PurchaseOrder {
    let order = view.order;
    let id = order.id.map(|id| id.to_string()).unwrap_or_default();
    let total = order
        .total()
        .map(|total| money(total, currency))
        .unwrap_or_default();
    pb::PurchaseOrder {
        number: order.number,
        status: order.status.as_str().to_owned(),
        supplier_id: order.supplier_id,
        location_id: order.location_id,
        expected_at: order.expected_at.map(rfc3339).unwrap_or_default(),
        lines: order
            .lines
            .into_iter()
            .map(|l| pb::PurchaseOrderLine {
                line_no: l.line_no,
                product_id: l.product_id,
                quantity: qty(l.quantity),
                unit_cost: cost_text(l.unit_cost),
                received: qty(l.received),
                invoiced: qty(l.invoiced),
            })
            .collect(),
        total,
        version: view.version,
        receipts: order
            .receipts
            .into_iter()
            .map(|r| receipt_to_proto(&id, r))
            .collect(),
        invoices: order
            .invoices
            .into_iter()
            .map(|invoice| {
                let view = InvoiceView {
                    purchase_order_id: id.clone(),
                    invoice,
                };
                invoice_view_to_proto(view, currency)
            })
            .collect(),
        created_at: order.created_at.map(rfc3339).unwrap_or_default(),
        close_reason: order.close_reason.unwrap_or_default(),
        id,
    }
}

fn receipt_to_proto(purchase_order_id: &str, receipt: Receipt) -> pb::PurchaseReceipt {
    pb::PurchaseReceipt {
        id: receipt.id,
        purchase_order_id: purchase_order_id.to_owned(),
        lines: receipt
            .lines
            .into_iter()
            .map(|l| pb::PurchaseReceiptLine {
                line_no: l.line_no,
                product_id: l.product_id,
                quantity: qty(l.quantity),
                unit_cost: cost_text(l.unit_cost),
            })
            .collect(),
        reference: receipt.reference.unwrap_or_default(),
        received_at: rfc3339(receipt.received_at),
    }
}

fn receipt_view_to_proto(view: ReceiptView) -> pb::PurchaseReceipt {
    receipt_to_proto(&view.purchase_order_id, view.receipt)
}

fn invoice_view_to_proto(view: InvoiceView, currency: Currency) -> pb::PurchaseInvoice {
    let invoice = view.invoice;
    pb::PurchaseInvoice {
        id: invoice.id,
        number: invoice.number,
        purchase_order_id: view.purchase_order_id,
        total: money(invoice.total, currency),
        r#match: Some(pb::Match {
            status: invoice.status.as_str().to_owned(),
            lines: invoice
                .lines
                .into_iter()
                .map(|m| pb::MatchLine {
                    line_no: m.line_no,
                    ordered: qty(m.ordered),
                    received: qty(m.received),
                    invoiced: qty(m.invoiced),
                    po_unit_cost: cost_text(m.po_unit_cost),
                    invoice_unit_cost: cost_text(m.invoice_unit_cost),
                })
                .collect(),
        }),
        received_value: money(invoice.received_value, currency),
        invoiced_at: rfc3339(invoice.invoiced_at),
    }
}

fn suggestion_to_proto(row: SuggestionRow) -> pb::Suggestion {
    pb::Suggestion {
        product_id: row.product_id,
        supplier_id: row.supplier_id.unwrap_or_default(),
        on_hand: qty(row.on_hand),
        on_order: qty(row.on_order),
        reorder_point: row.reorder_point.map(qty).unwrap_or_default(),
        sold_last_28_days: qty(row.sold_last_28_days),
        lead_time_days: u32::try_from(row.lead_time_days).unwrap_or(0),
        suggested_quantity: qty(row.suggested_quantity),
    }
}
