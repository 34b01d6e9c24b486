//! A repair as clients read it (`routes::repairs` takes the requests): its parts, labor and
//! history, and once collected the sale that charged for them.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tillstream_proto::sales::v1 as pb;
use utoipa::ToSchema;

use super::optional;
use super::sales::SaleView;

/// A repair: a customer's device in the workshop.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JD8A1B2C3D4E5F6G7H8J9K0M", "number": "R-B1-000001", "status": "in_repair",
    "customer_id": "01JD7C1A2B3C4D5E6F7G8H9J0K", "location_id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P",
    "device": "Phone X2", "serial": "SN-55123", "problem": "Cracked screen", "estimate": "120.00",
    "parts": [{"part_no": 1, "product_id": "01JD6A7B8C9D0E1F2G3H4J5K6M", "sku": "SCREEN-X2", "name": "Screen X2", "quantity": "1", "fitted_at": "2026-11-24T11:00:00.000Z", "fitted_by": "01JD5A1B2C3D4E5F6G7H8J9K0M"}],
    "labor": [{"labor_no": 1, "description": "Fit screen", "amount": "40.00", "added_at": "2026-11-24T11:05:00.000Z", "added_by": "01JD5A1B2C3D4E5F6G7H8J9K0M"}],
    "history": [{"status": "received", "at": "2026-11-24T10:15:00.000Z", "by": "01JD5A1B2C3D4E5F6G7H8J9K0M", "note": null},
                {"status": "diagnosed", "at": "2026-11-24T10:40:00.000Z", "by": "01JD5A1B2C3D4E5F6G7H8J9K0M", "note": "screen only"},
                {"status": "in_repair", "at": "2026-11-24T10:55:00.000Z", "by": "01JD5A1B2C3D4E5F6G7H8J9K0M", "note": null}],
    "version": 5, "created_at": "2026-11-24T10:15:00.000Z", "sale_id": null, "sale_number": null, "currency": "USD"}))]
pub struct RepairView {
    id: String,
    /// `R-<location code>-000001`: numbered per location; for people and paperwork.
    number: String,
    /// `received`, `diagnosed`, `awaiting_parts`, `in_repair`, `ready`, `collected` or
    /// `cancelled`.
    status: String,
    customer_id: String,
    location_id: String,
    device: String,
    /// `null` when none was given.
    serial: Option<String>,
    problem: String,
    /// What the customer was told it may cost; `null` when nothing was said.
    estimate: Option<String>,
    /// Fitted parts, each taken from the location's stock when it was fitted.
    parts: Vec<RepairPartView>,
    labor: Vec<RepairLaborView>,
    /// Every status it has had, oldest first.
    history: Vec<RepairHistoryView>,
    /// Also the `ETag`.
    version: i64,
    created_at: String,
    /// The sale that collected it; `null` until collected.
    sale_id: Option<String>,
    sale_number: Option<String>,
    currency: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepairPartView {
    part_no: i32,
    product_id: String,
    sku: String,
    name: String,
    quantity: String,
    fitted_at: String,
    /// The user who fitted it.
    fitted_by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepairLaborView {
    labor_no: i32,
    description: String,
    /// Its price, with or without tax as the store's prices are.
    amount: String,
    added_at: String,
    /// The user who logged it.
    added_by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepairHistoryView {
    status: String,
    at: String,
    /// The user who moved it.
    by: String,
    /// `null` when none was given.
    note: Option<String>,
}

impl From<pb::Repair> for RepairView {
    fn from(r: pb::Repair) -> Self {
        RepairView {
            id: r.id,
            number: r.number,
            status: r.status,
            customer_id: r.customer_id,
            location_id: r.location_id,
            device: r.device,
            serial: r.serial.and_then(optional),
            problem: r.problem,
            estimate: r.estimate.and_then(optional),
            parts: r
                .parts
                .into_iter()
                .map(|p| RepairPartView {
                    part_no: p.part_no,
                    product_id: p.product_id,
                    sku: p.sku,
                    name: p.name,
                    quantity: p.quantity,
                    fitted_at: p.fitted_at,
                    fitted_by: p.fitted_by,
                })
                .collect(),
            labor: r
                .labor
                .into_iter()
                .map(|l| RepairLaborView {
                    labor_no: l.labor_no,
                    description: l.description,
                    amount: l.amount,
                    added_at: l.added_at,
                    added_by: l.added_by,
                })
                .collect(),
            history: r
                .history
                .into_iter()
                .map(|h| RepairHistoryView {
                    status: h.status,
                    at: h.at,
                    by: h.by,
                    note: h.note.and_then(optional),
                })
                .collect(),
            version: r.version,
            created_at: r.created_at,
            sale_id: optional(r.sale_id),
            sale_number: optional(r.sale_number),
            currency: r.currency,
        }
    }
}

/// A collection: the repair, now `collected`, and the sale that charged for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectedRepairView {
    repair: RepairView,
    /// One sale of the parts (catalog prices) and the labor (lines whose `product_id` is
    /// `null`); `null` when the repair had nothing to charge.
    sale: Option<SaleView>,
}

impl From<pb::CollectRepairResponse> for CollectedRepairView {
    fn from(c: pb::CollectRepairResponse) -> Self {
        CollectedRepairView {
            repair: c.repair.unwrap_or_default().into(),
            sale: c.sale.map(Into::into),
        }
    }
}

/// The repair as JSON with its version as a strong `ETag` (`"3"`), as customers have.
pub fn versioned(status: StatusCode, repair: pb::Repair) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", repair.version)).ok();
    let mut response = (status, Json(RepairView::from(repair))).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use serde_json::{Value, json};

    use super::*;

    fn received() -> pb::Repair {
        pb::Repair {
            id: "r".into(),
            number: "R-B1-000001".into(),
            status: "received".into(),
            customer_id: "c".into(),
            location_id: "l".into(),
            device: "Phone".into(),
            serial: None,
            problem: "Cracked".into(),
            estimate: Some(String::new()),
            history: vec![pb::RepairHistory {
                status: "received".into(),
                at: "2026-11-24T10:15:00.000Z".into(),
                by: "u".into(),
                note: None,
            }],
            version: 1,
            created_at: "2026-11-24T10:15:00.000Z".into(),
            currency: "USD".into(),
            ..Default::default()
        }
    }

    #[test]
    fn absent_fields_are_null_and_the_lists_empty_until_something_is_added() {
        let json = serde_json::to_value(RepairView::from(received())).unwrap();
        for field in ["serial", "estimate", "sale_id", "sale_number"] {
            assert_eq!(json[field], Value::Null, "{field}");
        }
        assert_eq!(json["parts"], json!([]));
        assert_eq!(json["labor"], json!([]));
        assert_eq!(json["history"][0]["note"], Value::Null);
        assert_eq!(json["history"][0]["status"], "received");
        assert_eq!(json["status"], "received");
        assert_eq!(json["version"], 1);
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "created_at",
                "currency",
                "customer_id",
                "device",
                "estimate",
                "history",
                "id",
                "labor",
                "location_id",
                "number",
                "parts",
                "problem",
                "sale_id",
                "sale_number",
                "serial",
                "status",
                "version"
            ]
        );
    }

    #[test]
    fn a_collection_shows_the_sale_with_its_labor_lines_without_a_product() {
        let mut repair = received();
        repair.status = "collected".into();
        repair.serial = Some("SN-1".into());
        repair.estimate = Some("120.00".into());
        repair.sale_id = "s".into();
        repair.sale_number = "S-1".into();
        repair.labor = vec![pb::RepairLabor {
            labor_no: 1,
            description: "Fit screen".into(),
            amount: "40.00".into(),
            ..Default::default()
        }];
        let sale = pb::Sale {
            id: "s".into(),
            repair_id: "r".into(),
            lines: vec![
                pb::SaleLine {
                    line_no: 1,
                    product_id: "p".into(),
                    ..Default::default()
                },
                pb::SaleLine {
                    line_no: 2,
                    name: "Fit screen".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let collected = CollectedRepairView::from(pb::CollectRepairResponse {
            repair: Some(repair),
            sale: Some(sale),
        });
        let json = serde_json::to_value(collected).unwrap();
        assert_eq!(json["repair"]["serial"], "SN-1");
        assert_eq!(json["repair"]["estimate"], "120.00");
        assert_eq!(json["repair"]["sale_number"], "S-1");
        assert_eq!(json["repair"]["labor"][0]["amount"], "40.00");
        assert_eq!(json["sale"]["repair_id"], "r");
        assert_eq!(json["sale"]["lines"][0]["product_id"], "p");
        assert_eq!(json["sale"]["lines"][1]["product_id"], Value::Null);

        let nothing_owed = CollectedRepairView::from(pb::CollectRepairResponse {
            repair: Some(received()),
            sale: None,
        });
        let json = serde_json::to_value(nothing_owed).unwrap();
        assert_eq!(json["sale"], Value::Null);
        // A sale of no repair says so.
        let plain = serde_json::to_value(SaleView::from(pb::Sale::default())).unwrap();
        assert_eq!(plain["repair_id"], Value::Null);
    }

    #[test]
    fn the_etag_is_the_quoted_version() {
        let mut repair = received();
        repair.version = 4;
        let response = versioned(StatusCode::CREATED, repair);
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()[header::ETAG], "\"4\"");
    }
}
