//! What the repairs routes (`routes::repairs`) read: the request bodies, bounded and
//! checked field by field before anything travels to the sales service, which checks them
//! again. Who acts is never among them: it is the caller's token.

use serde::Deserialize;
use tillstream_proto::sales::v1 as pb;
use utoipa::ToSchema;

use super::sales::PaymentBody;
use crate::error::ApiError;
use crate::json::{DecimalText, MoneyText};

/// Bounds on a repair's texts, in characters, as the sales service keeps them: checked
/// here too so that a client learns of them before anything travels.
pub const DEVICE_CHARS_MAX: usize = 200;
pub const SERIAL_CHARS_MAX: usize = 100;
pub const PROBLEM_CHARS_MAX: usize = 2_000;
pub const NOTE_CHARS_MAX: usize = 2_000;
pub const DESCRIPTION_CHARS_MAX: usize = 200;

/// Every status a repair has, in the workshop's order.
pub const STATUSES: [&str; 7] = [
    "received",
    "diagnosed",
    "awaiting_parts",
    "in_repair",
    "ready",
    "collected",
    "cancelled",
];

/// `text` has at most `max` characters once trimmed (the service trims before it stores)
/// and, if `required`, some that are not spaces.
fn bounded(field: &str, text: &str, max: usize, required: bool) -> Result<(), ApiError> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(ApiError::invalid(
            field,
            format!("1 to {max} characters, not only spaces"),
        ));
    }
    if text.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(())
}

/// A status the workshop knows, or a 422 naming `status`.
fn status_name(status: &str) -> Result<String, ApiError> {
    let status = status.trim();
    if STATUSES.contains(&status) {
        Ok(status.to_owned())
    } else {
        Err(ApiError::invalid(
            "status",
            format!("one of {}", STATUSES.join(", ")),
        ))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"customer_id": "01JD7C1A2B3C4D5E6F7G8H9J0K", "location_id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P", "device": "Phone X2", "serial": "SN-55123", "problem": "Cracked screen", "estimate": "120.00"}))]
pub struct NewRepair {
    /// A registered customer (`POST /api/v1/customers`).
    customer_id: String,
    /// Where the device is taken in; its parts come from this location's stock.
    location_id: String,
    /// 1 to 200 characters.
    device: String,
    /// At most 100 characters.
    serial: Option<String>,
    /// 1 to 2,000 characters.
    problem: String,
    /// What the customer is told it may cost; leave it out (or `null`) when nothing is said.
    estimate: Option<MoneyText>,
}

impl NewRepair {
    pub fn into_request(
        self,
        idempotency_key: String,
    ) -> Result<pb::CreateRepairRequest, ApiError> {
        bounded("device", &self.device, DEVICE_CHARS_MAX, true)?;
        if let Some(serial) = &self.serial {
            bounded("serial", serial, SERIAL_CHARS_MAX, false)?;
        }
        bounded("problem", &self.problem, PROBLEM_CHARS_MAX, true)?;
        // Money, never an empty string: absence says "no estimate".
        let estimate = match self.estimate {
            Some(MoneyText(text)) if text.trim().is_empty() => {
                return Err(ApiError::invalid(
                    "estimate",
                    "money as a decimal string such as \"120.00\", or leave it out",
                ));
            }
            other => other.map(|m| m.0),
        };
        Ok(pb::CreateRepairRequest {
            customer_id: self.customer_id,
            location_id: self.location_id,
            device: self.device,
            serial: self.serial.filter(|s| !s.trim().is_empty()),
            problem: self.problem,
            estimate,
            idempotency_key,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "diagnosed", "note": "screen only"}))]
pub struct RepairStatusChange {
    /// The status it moves to: `received → diagnosed → awaiting_parts ⇄ in_repair → ready →
    /// collected` (`in_repair` may follow `diagnosed`), or `cancelled` while not collected.
    /// `collected` here is for a repair with nothing to charge; one with parts or labor is
    /// collected by `POST /api/v1/repairs/{id}/collect`.
    status: String,
    /// At most 2,000 characters.
    note: Option<String>,
}

impl RepairStatusChange {
    pub fn into_request(
        self,
        id: String,
        idempotency_key: String,
    ) -> Result<pb::ChangeRepairStatusRequest, ApiError> {
        let status = status_name(&self.status)?;
        if let Some(note) = &self.note {
            bounded("note", note, NOTE_CHARS_MAX, false)?;
        }
        Ok(pb::ChangeRepairStatusRequest {
            id,
            status,
            note: self.note.filter(|n| !n.trim().is_empty()),
            idempotency_key,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"product_id": "01JD6A7B8C9D0E1F2G3H4J5K6M", "quantity": "1"}))]
pub struct NewRepairPart {
    product_id: String,
    /// More than zero.
    quantity: DecimalText,
}

impl NewRepairPart {
    pub fn into_request(self, id: String, idempotency_key: String) -> pb::AddRepairPartRequest {
        pb::AddRepairPartRequest {
            id,
            product_id: self.product_id,
            quantity: self.quantity.0,
            idempotency_key,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"description": "Fit screen", "amount": "40.00"}))]
pub struct NewRepairLabor {
    /// 1 to 200 characters: the line's name on the sale.
    description: String,
    /// Its price, with or without tax as the store's prices are; taxed at
    /// `TILLSTREAM_LABOR_TAX_RATE` when collected.
    amount: MoneyText,
}

impl NewRepairLabor {
    pub fn into_request(
        self,
        id: String,
        idempotency_key: String,
    ) -> Result<pb::AddRepairLaborRequest, ApiError> {
        bounded(
            "description",
            &self.description,
            DESCRIPTION_CHARS_MAX,
            true,
        )?;
        Ok(pb::AddRepairLaborRequest {
            id,
            description: self.description,
            amount: self.amount.0,
            idempotency_key,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"payments": [{"method": "card", "amount": "160.00", "reference": "AUTH123"}], "session_id": "01JD7E3C4D5E6F7G8H9J0K1M2N"}))]
pub struct RepairCollection {
    /// As a sale's payments; `[]` when there is nothing to charge.
    payments: Vec<PaymentBody>,
    /// The open register session the sale is rung up in, if any.
    session_id: Option<String>,
}

impl RepairCollection {
    pub fn into_request(self, id: String, idempotency_key: String) -> pb::CollectRepairRequest {
        pb::CollectRepairRequest {
            id,
            payments: self
                .payments
                .into_iter()
                .map(PaymentBody::into_request)
                .collect(),
            session_id: self.session_id.unwrap_or_default(),
            idempotency_key,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use axum::http::StatusCode;

    use super::*;

    fn field(error: &ApiError) -> (StatusCode, &str) {
        (error.status, error.details[0].field.as_str())
    }

    fn created(body: &str) -> Result<pb::CreateRepairRequest, ApiError> {
        crate::json::parse::<NewRepair>(body.as_bytes())?.into_request("k".into())
    }

    fn moved(body: &str) -> Result<pb::ChangeRepairStatusRequest, ApiError> {
        crate::json::parse::<RepairStatusChange>(body.as_bytes())?
            .into_request("r".into(), String::new())
    }

    const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

    #[test]
    fn a_repair_is_taken_in_with_its_optional_fields_absent_when_empty() {
        let new = created(
            r#"{"customer_id": "c", "location_id": "l", "device": "Phone", "problem": "Cracked"}"#,
        )
        .unwrap();
        assert_eq!((new.serial, new.estimate), (None, None));
        assert_eq!(new.idempotency_key, "k");
        let new = created(
            r#"{"customer_id": "c", "location_id": "l", "device": "Phone", "serial": " ", "problem": "Cracked", "estimate": "120.00"}"#,
        )
        .unwrap();
        assert_eq!(new.serial, None);
        assert_eq!(new.estimate.as_deref(), Some("120.00"));
        let new = created(
            r#"{"customer_id": "c", "location_id": "l", "device": "Phone", "problem": "P", "estimate": null}"#,
        )
        .unwrap();
        assert_eq!(new.estimate, None);
    }

    #[test]
    fn bad_fields_are_422s_naming_them() {
        let base = serde_json::json!({"customer_id": "c", "location_id": "l", "device": "Phone", "problem": "Cracked"});
        let with = |field: &str, value: serde_json::Value| {
            let mut body = base.clone();
            body[field] = value;
            created(&body.to_string()).unwrap_err()
        };
        // Money is a decimal string: never a JSON number, never empty.
        assert_eq!(
            field(&with("estimate", 5.into())),
            (UNPROCESSABLE, "estimate")
        );
        assert_eq!(
            field(&with("estimate", "".into())),
            (UNPROCESSABLE, "estimate")
        );
        assert_eq!(
            field(&with("estimate", " ".into())),
            (UNPROCESSABLE, "estimate")
        );
        assert_eq!(
            field(&with("device", "  ".into())),
            (UNPROCESSABLE, "device")
        );
        let long = "é".repeat(DEVICE_CHARS_MAX + 1);
        assert_eq!(
            field(&with("device", long.into())),
            (UNPROCESSABLE, "device")
        );
        let long = "x".repeat(SERIAL_CHARS_MAX + 1);
        assert_eq!(
            field(&with("serial", long.into())),
            (UNPROCESSABLE, "serial")
        );
        let long = "x".repeat(PROBLEM_CHARS_MAX + 1);
        assert_eq!(
            field(&with("problem", long.into())),
            (UNPROCESSABLE, "problem")
        );
        assert_eq!(
            field(&with("problem", 7.into())),
            (UNPROCESSABLE, "problem")
        );
        // Who acts is the token's: a body cannot say.
        let error = with("received_by", "someone".into());
        assert_eq!(field(&error), (UNPROCESSABLE, "received_by"));
        let error = created(r#"{"location_id": "l", "device": "D", "problem": "P"}"#).unwrap_err();
        assert_eq!(field(&error), (UNPROCESSABLE, "customer_id"));
    }

    #[test]
    fn a_status_is_one_of_the_workshops_and_a_note_is_bounded() {
        let change = moved(r#"{"status": "in_repair", "note": "parts came"}"#).unwrap();
        assert_eq!(
            (change.id.as_str(), change.status.as_str()),
            ("r", "in_repair")
        );
        assert_eq!(change.note.as_deref(), Some("parts came"));
        assert_eq!(
            moved(r#"{"status": "ready", "note": ""}"#).unwrap().note,
            None
        );
        for status in STATUSES {
            assert!(moved(&format!(r#"{{"status": "{status}"}}"#)).is_ok());
        }
        assert_eq!(
            field(&moved(r#"{"status": "fixed"}"#).unwrap_err()),
            (UNPROCESSABLE, "status")
        );
        let long = format!(r#"{{"status": "ready", "note": "{}"}}"#, "x".repeat(2_001));
        assert_eq!(field(&moved(&long).unwrap_err()), (UNPROCESSABLE, "note"));
        assert_eq!(
            field(&moved(r#"{}"#).unwrap_err()),
            (UNPROCESSABLE, "status")
        );
        let error = moved(r#"{"status": "ready", "by": "u"}"#).unwrap_err();
        assert_eq!(field(&error), (UNPROCESSABLE, "by"));
    }

    #[test]
    fn parts_take_quantities_as_strings_or_integers_and_labor_money_as_strings() {
        let part: NewRepairPart =
            crate::json::parse(br#"{"product_id": "p", "quantity": 2}"#).unwrap();
        assert_eq!(part.quantity.0, "2");
        let part: NewRepairPart =
            crate::json::parse(br#"{"product_id": "p", "quantity": "0.5"}"#).unwrap();
        assert_eq!(part.quantity.0, "0.5");
        let error = crate::json::parse::<NewRepairPart>(br#"{"product_id": "p", "quantity": 1.5}"#)
            .unwrap_err();
        assert_eq!(field(&error), (UNPROCESSABLE, "quantity"));
        let labor: NewRepairLabor =
            crate::json::parse(br#"{"description": "Fit", "amount": "40.00"}"#).unwrap();
        assert_eq!(labor.amount.0, "40.00");
        let error =
            crate::json::parse::<NewRepairLabor>(br#"{"description": "Fit", "amount": 40}"#)
                .unwrap_err();
        assert_eq!(field(&error), (UNPROCESSABLE, "amount"));
        let error = crate::json::parse::<NewRepairLabor>(br#"{"amount": "1"}"#).unwrap_err();
        assert_eq!(field(&error), (UNPROCESSABLE, "description"));
        let message = labor.into_request("r".into(), "k".into()).unwrap();
        assert_eq!(
            (message.id.as_str(), message.description.as_str()),
            ("r", "Fit")
        );
        assert_eq!(message.idempotency_key, "k");
        let long = format!(r#"{{"description": "{}", "amount": "1"}}"#, "x".repeat(201));
        let error = crate::json::parse::<NewRepairLabor>(long.as_bytes())
            .unwrap()
            .into_request("r".into(), String::new())
            .unwrap_err();
        assert_eq!(field(&error), (UNPROCESSABLE, "description"));
        let message = part.into_request("r".into(), "k".into());
        assert_eq!(
            (message.quantity.as_str(), message.id.as_str()),
            ("0.5", "r")
        );
    }

    #[test]
    fn a_collection_takes_a_sales_payments_naming_each_one() {
        let collection: RepairCollection = crate::json::parse(
            br#"{"payments": [{"method": "cash", "amount": "160.00"}], "session_id": "s"}"#,
        )
        .unwrap();
        let message = collection.into_request("r".into(), "k".into());
        assert_eq!(message.payments[0].amount, "160.00");
        assert_eq!(
            (
                message.session_id.as_str(),
                message.idempotency_key.as_str()
            ),
            ("s", "k")
        );
        let error = crate::json::parse::<RepairCollection>(
            br#"{"payments": [{"method": "cash", "amount": 160}]}"#,
        )
        .unwrap_err();
        assert_eq!(field(&error), (UNPROCESSABLE, "payments[0].amount"));
        let error = crate::json::parse::<RepairCollection>(br#"{}"#).unwrap_err();
        assert_eq!(field(&error), (UNPROCESSABLE, "payments"));
    }
}
