//! Repairs' published events and messages in protobuf (`proto/sales/v1/repairs.proto`).

use prost::Message;
use tillstream_eventstore::RecordedEvent;
use tillstream_kernel::time::rfc3339;
use tillstream_messaging::MessagingError;
use tillstream_proto::sales::v1 as pb;

use super::events::decode;
use crate::domain::repair::{Event, Labor, Part, RepairId, RepairRecord};
use crate::projections::repairs::RepairView;

/// The names of the messages this module publishes.
pub const NAMES: [&str; 6] = [
    "RepairReceived",
    "RepairStatusChanged",
    "RepairPartFitted",
    "RepairLaborAdded",
    "RepairCollected",
    "RepairCancelled",
];

type Encoded = (&'static str, Vec<u8>);

/// The event's message when its stream is a repair's.
pub fn encode(event: &RecordedEvent) -> Result<Option<Encoded>, MessagingError> {
    let Some(repair_id) = event
        .stream_id
        .strip_prefix(RepairId::STREAM_PREFIX)
        .and_then(|rest| rest.strip_prefix('-'))
        .map(str::to_owned)
    else {
        return Ok(None);
    };
    Ok(Some(match decode(event)? {
        Event::RepairReceived { repair } => {
            let data = pb::RepairReceived {
                repair_id,
                number: repair.number,
                customer_id: repair.customer_id,
                location_id: repair.location_id,
                device: repair.device,
                serial: repair.serial.unwrap_or_default(),
                problem: repair.problem,
                estimate: repair.estimate.map(|e| e.to_string()).unwrap_or_default(),
                received_at: rfc3339(&repair.at),
                received_by: repair.by,
                currency: repair
                    .estimate
                    .map(|e| e.currency().code().to_owned())
                    .unwrap_or_default(),
            };
            ("RepairReceived", data.encode_to_vec())
        }
        Event::RepairStatusChanged {
            location_id,
            number,
            from,
            to,
            note,
            at,
            by,
        } => {
            let data = pb::RepairStatusChanged {
                repair_id,
                number,
                location_id,
                from: from.as_str().to_owned(),
                to: to.as_str().to_owned(),
                note: note.unwrap_or_default(),
                at: rfc3339(&at),
                by,
            };
            ("RepairStatusChanged", data.encode_to_vec())
        }
        Event::RepairPartFitted {
            location_id,
            number,
            part,
        } => {
            let data = pb::RepairPartFitted {
                repair_id,
                number,
                location_id,
                part: Some(part_message(&part)),
            };
            ("RepairPartFitted", data.encode_to_vec())
        }
        Event::RepairLaborAdded {
            location_id,
            number,
            labor,
        } => {
            let data = pb::RepairLaborAdded {
                repair_id,
                number,
                location_id,
                currency: labor.amount.currency().code().to_owned(),
                labor: Some(labor_message(&labor)),
            };
            ("RepairLaborAdded", data.encode_to_vec())
        }
        Event::RepairCollected {
            location_id,
            number,
            customer_id,
            sale_id,
            sale_number,
            at,
            by,
        } => {
            let data = pb::RepairCollected {
                repair_id,
                number,
                location_id,
                customer_id,
                sale_id: sale_id.unwrap_or_default(),
                sale_number: sale_number.unwrap_or_default(),
                collected_at: rfc3339(&at),
                collected_by: by,
            };
            ("RepairCollected", data.encode_to_vec())
        }
        Event::RepairCancelled {
            location_id,
            number,
            note,
            at,
            by,
            parts,
        } => {
            let data = pb::RepairCancelled {
                repair_id,
                number,
                location_id,
                note: note.unwrap_or_default(),
                cancelled_at: rfc3339(&at),
                cancelled_by: by,
                parts: parts.iter().map(part_message).collect(),
            };
            ("RepairCancelled", data.encode_to_vec())
        }
    }))
}

pub fn part_message(part: &Part) -> pb::RepairPart {
    pb::RepairPart {
        part_no: i32::try_from(part.part_no).unwrap_or(i32::MAX),
        product_id: part.product_id.clone(),
        sku: part.sku.clone(),
        name: part.name.clone(),
        quantity: part.quantity.to_string(),
        fitted_at: rfc3339(&part.fitted_at),
        fitted_by: part.fitted_by.clone(),
    }
}

pub fn labor_message(labor: &Labor) -> pb::RepairLabor {
    pb::RepairLabor {
        labor_no: i32::try_from(labor.labor_no).unwrap_or(i32::MAX),
        description: labor.description.clone(),
        amount: labor.amount.to_string(),
        added_at: rfc3339(&labor.added_at),
        added_by: labor.added_by.clone(),
    }
}

/// A repair as clients read it.
pub fn repair(view: &RepairView, currency: &str) -> pb::Repair {
    let RepairView { record, version } = view;
    let RepairRecord {
        id,
        number,
        status,
        customer_id,
        location_id,
        device,
        serial,
        problem,
        estimate,
        parts,
        labor,
        history,
        created_at,
        sale_id,
        sale_number,
    } = record;
    pb::Repair {
        id: id.to_string(),
        number: number.clone(),
        status: status.as_str().to_owned(),
        customer_id: customer_id.clone(),
        location_id: location_id.clone(),
        device: device.clone(),
        serial: serial.clone(),
        problem: problem.clone(),
        estimate: estimate.map(|e| e.to_string()),
        parts: parts.iter().map(part_message).collect(),
        labor: labor.iter().map(labor_message).collect(),
        history: history
            .iter()
            .map(|step| pb::RepairHistory {
                status: step.status.as_str().to_owned(),
                at: rfc3339(&step.at),
                by: step.by.clone(),
                note: step.note.clone(),
            })
            .collect(),
        version: *version,
        created_at: rfc3339(created_at),
        sale_id: sale_id.clone().unwrap_or_default(),
        sale_number: sale_number.clone().unwrap_or_default(),
        currency: currency.to_owned(),
    }
}
