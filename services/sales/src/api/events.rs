//! Sales' published events in protobuf (`proto/sales/v1`).

use prost::Message;
use tillstream_eventstore::RecordedEvent;
use tillstream_kernel::time::rfc3339;
use tillstream_messaging::{MessagingError, WireEvent, WireFormat};
use tillstream_proto::sales::v1 as pb;

use crate::api::{convert, customer_events, registers, repair_events};
use crate::domain::sale::Event;
use crate::domain::session::{CashKind, RegisterEvent, SessionEvent};

#[derive(Debug, Clone, Copy, Default)]
pub struct SalesWire;

impl WireFormat for SalesWire {
    fn encode(&self, _service: &str, event: &RecordedEvent) -> Result<WireEvent, MessagingError> {
        let (name, data) = if event.stream_id.starts_with("session-") {
            session_event(event)?
        } else if event.stream_id.starts_with("register-") {
            register_event(event)?
        } else if let Some(encoded) = customer_events::encode(event)? {
            encoded
        } else if let Some(encoded) = repair_events::encode(event)? {
            encoded
        } else {
            sale_event(event)?
        };
        Ok(WireEvent {
            ce_type: format!("tillstream.sales.v1.{name}"),
            content_type: "application/protobuf".to_owned(),
            dataschema: format!("proto/sales/v1/{}.proto#{name}", schema_file(name)),
            data: data.into(),
        })
    }
}

/// The proto file a published message is declared in.
fn schema_file(name: &str) -> &'static str {
    match name {
        "SaleCompleted" | "SaleReturned" | "SaleVoided" => "sales",
        name if customer_events::NAMES.contains(&name) => "customers",
        name if repair_events::NAMES.contains(&name) => "repairs",
        _ => "registers",
    }
}

pub(super) fn decode<E: tillstream_kernel::DomainEvent>(
    event: &RecordedEvent,
) -> Result<E, MessagingError> {
    event.decode().map_err(|e| MessagingError::Encode {
        event_id: event.event_id.to_string(),
        reason: e.to_string(),
    })
}

fn register_event(event: &RecordedEvent) -> Result<(&'static str, Vec<u8>), MessagingError> {
    let RegisterEvent::RegisterCreated { register } = decode(event)?;
    let data = pb::RegisterCreated {
        register_id: register.id.to_string(),
        location_id: register.location_id,
        code: register.code,
        name: register.name,
    };
    Ok(("RegisterCreated", data.encode_to_vec()))
}

fn session_event(event: &RecordedEvent) -> Result<(&'static str, Vec<u8>), MessagingError> {
    let session_id = event
        .stream_id
        .strip_prefix("session-")
        .unwrap_or(&event.stream_id)
        .to_owned();
    Ok(match decode(event)? {
        SessionEvent::SessionOpened { session } => {
            let currency = session.opening_float.currency();
            let data = pb::SessionOpened {
                session_id,
                register_id: session.register_id.to_string(),
                location_id: session.location_id,
                opened_by: session.opened_by,
                opened_at: rfc3339(&session.opened_at),
                opening_float: registers::text(session.opening_float.amount(), currency),
                currency: currency.code().to_owned(),
            };
            ("SessionOpened", data.encode_to_vec())
        }
        SessionEvent::CashPaidIn {
            register_id,
            location_id,
            movement,
        }
        | SessionEvent::CashPaidOut {
            register_id,
            location_id,
            movement,
        } => {
            let name = match movement.kind {
                CashKind::PaidIn => "CashPaidIn",
                CashKind::PaidOut => "CashPaidOut",
            };
            let data = pb::CashMoved {
                register_id: register_id.to_string(),
                location_id,
                currency: movement.amount.currency().code().to_owned(),
                movement: Some(registers::movement_message(&session_id, &movement)),
                session_id,
            };
            (name, data.encode_to_vec())
        }
        SessionEvent::SessionClosed {
            register_id,
            location_id,
            closed_by,
            closed_at,
            report,
            approvals,
        } => {
            let currency = report.currency;
            let data = pb::SessionClosed {
                session_id,
                register_id: register_id.to_string(),
                location_id,
                closed_by,
                closed_at: rfc3339(&closed_at),
                report: Some(registers::report_message(&report, currency)),
                approvals: approvals.iter().map(registers::approval_message).collect(),
                currency: currency.code().to_owned(),
            };
            ("SessionClosed", data.encode_to_vec())
        }
    })
}

fn sale_event(event: &RecordedEvent) -> Result<(&'static str, Vec<u8>), MessagingError> {
    {
        let decoded: Event = decode(event)?;
        let sale_id = event
            .stream_id
            .strip_prefix("sale-")
            .unwrap_or(&event.stream_id)
            .to_owned();
        let (name, data) = match decoded {
            Event::SaleCompleted { sale } => {
                let data = pb::SaleCompleted {
                    sale: Some(convert::sale(&sale, "pending", Vec::new())),
                    pricing_rules_version: sale.rules_version,
                    prices_include_tax: sale.prices_include_tax,
                };
                ("SaleCompleted", data.encode_to_vec())
            }
            Event::SaleReturned {
                location_id,
                returned,
            } => {
                let ret = convert::sale_return(&returned);
                let data = pb::SaleReturned {
                    sale_id,
                    return_id: ret.id,
                    location_id,
                    lines: ret.lines,
                    refunds: ret.refunds,
                    restock: ret.restock,
                    reason: ret.reason,
                    refund_total: ret.refund_total,
                    tax: ret.tax,
                    revenue: ret.revenue,
                    returned_at: ret.returned_at,
                    currency: returned.refund_total.currency().code().to_owned(),
                };
                ("SaleReturned", data.encode_to_vec())
            }
            Event::SaleVoided {
                location_id,
                reason,
                voided_at,
                repair_id,
                ..
            } => {
                let data = pb::SaleVoided {
                    sale_id,
                    location_id,
                    reason,
                    voided_at: rfc3339(&voided_at),
                    repair_id: repair_id.unwrap_or_default(),
                };
                ("SaleVoided", data.encode_to_vec())
            }
        };
        Ok((name, data))
    }
}
