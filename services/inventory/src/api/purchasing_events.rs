//! Purchasing's published events in protobuf (`proto/inventory/v1/purchasing.proto`):
//! suppliers and purchase orders, each named after its stream's id.

use prost::Message;
use rust_decimal::Decimal;
use tillstream_eventstore::RecordedEvent;
use tillstream_messaging::MessagingError;
use tillstream_proto::inventory::v1 as pb;

use crate::domain::purchase_order::{self, NewLine, PurchaseOrderId};
use crate::domain::supplier::{self, SupplierId};

/// The published name and protobuf bytes of a supplier's or an order's event; `None` for
/// events of other streams.
pub fn encode(event: &RecordedEvent) -> Result<Option<(&'static str, Vec<u8>)>, MessagingError> {
    let error = |reason: String| MessagingError::Encode {
        event_id: event.event_id.to_string(),
        reason,
    };
    if let Some(id) = event
        .stream_id
        .strip_prefix(SupplierId::STREAM_PREFIX)
        .and_then(|rest| rest.strip_prefix('-'))
    {
        let decoded: supplier::Event = event.decode().map_err(|e| error(e.to_string()))?;
        return Ok(Some(encode_supplier(id, decoded)));
    }
    if let Some(id) = event
        .stream_id
        .strip_prefix(PurchaseOrderId::STREAM_PREFIX)
        .and_then(|rest| rest.strip_prefix('-'))
    {
        let decoded: purchase_order::Event = event.decode().map_err(|e| error(e.to_string()))?;
        return Ok(Some(encode_order(id, decoded)));
    }
    Ok(None)
}

fn encode_supplier(id: &str, event: supplier::Event) -> (&'static str, Vec<u8>) {
    let supplier_id = id.to_owned();
    match event {
        supplier::Event::SupplierRegistered { code, details, .. } => {
            let data = pb::SupplierRegistered {
                supplier_id,
                code,
                name: details.name,
                lead_time_days: details.lead_time_days,
                email: details.email.unwrap_or_default(),
                phone: details.phone.unwrap_or_default(),
            };
            ("SupplierRegistered", data.encode_to_vec())
        }
        supplier::Event::SupplierChanged { details } => {
            let data = pb::SupplierChanged {
                supplier_id,
                name: details.name,
                lead_time_days: details.lead_time_days,
                email: details.email.unwrap_or_default(),
                phone: details.phone.unwrap_or_default(),
            };
            ("SupplierChanged", data.encode_to_vec())
        }
        supplier::Event::SupplierPaid {
            payment_id,
            amount,
            method,
            reference,
        } => {
            let data = pb::SupplierPaid {
                supplier_id,
                payment_id,
                amount: amount.to_string(),
                method: method.as_str().to_owned(),
                reference: reference.unwrap_or_default(),
            };
            ("SupplierPaid", data.encode_to_vec())
        }
    }
}

fn text(decimal: Decimal) -> String {
    decimal.normalize().to_string()
}

fn order_lines(lines: Vec<NewLine>) -> Vec<pb::OrderLine> {
    lines
        .into_iter()
        .map(|l| pb::OrderLine {
            product_id: l.product_id,
            quantity: text(l.quantity),
            unit_cost: l.unit_cost.to_string(),
        })
        .collect()
}

fn rfc3339(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn encode_order(id: &str, event: purchase_order::Event) -> (&'static str, Vec<u8>) {
    use purchase_order::Event;
    let purchase_order_id = id.to_owned();
    match event {
        Event::PurchaseOrderDrafted {
            number,
            supplier_id,
            location_id,
            expected_at,
            lines,
            ..
        } => {
            let data = pb::PurchaseOrderDrafted {
                purchase_order_id,
                number,
                supplier_id,
                location_id,
                expected_at: rfc3339(expected_at),
                lines: order_lines(lines),
            };
            ("PurchaseOrderDrafted", data.encode_to_vec())
        }
        Event::PurchaseOrderRevised { expected_at, lines } => {
            let data = pb::PurchaseOrderRevised {
                purchase_order_id,
                expected_at: rfc3339(expected_at),
                lines: order_lines(lines),
            };
            ("PurchaseOrderRevised", data.encode_to_vec())
        }
        Event::PurchaseOrderSubmitted => {
            let data = pb::PurchaseOrderSubmitted { purchase_order_id };
            ("PurchaseOrderSubmitted", data.encode_to_vec())
        }
        Event::PurchaseOrderReceived {
            receipt_id,
            reference,
            lines,
            status,
            ..
        } => {
            let data = pb::PurchaseOrderReceived {
                purchase_order_id,
                receipt_id,
                lines: lines
                    .into_iter()
                    .map(|l| pb::PurchaseReceiptLine {
                        line_no: l.line_no,
                        product_id: l.product_id,
                        quantity: text(l.quantity),
                        unit_cost: l.unit_cost.to_string(),
                    })
                    .collect(),
                reference: reference.unwrap_or_default(),
                status: status.as_str().to_owned(),
            };
            ("PurchaseOrderReceived", data.encode_to_vec())
        }
        Event::PurchaseInvoiceRecorded {
            invoice_id,
            number,
            supplier_id,
            total,
            received_value,
            status,
            ..
        } => {
            let data = pb::PurchaseInvoiceRecorded {
                purchase_order_id,
                invoice_id,
                number,
                supplier_id,
                total: total.to_string(),
                received_value: received_value.to_string(),
                match_status: status.as_str().to_owned(),
            };
            ("PurchaseInvoiceRecorded", data.encode_to_vec())
        }
        Event::PurchaseOrderClosed { reason } => {
            let data = pb::PurchaseOrderClosed {
                purchase_order_id,
                reason,
            };
            ("PurchaseOrderClosed", data.encode_to_vec())
        }
        Event::PurchaseOrderCancelled => {
            let data = pb::PurchaseOrderCancelled { purchase_order_id };
            ("PurchaseOrderCancelled", data.encode_to_vec())
        }
    }
}
