//! `tillstream bounds`: the stored events whose numbers lie beyond today's bounds (money
//! above ten billion, a quantity above a million, or a number too large for a decimal at
//! all), one JSON object per line. Such an event was written before the bounds existed or
//! around the API; the runbook "an event out of range" says what to do with each.

use std::process::ExitCode;

use futures::TryStreamExt;
use serde_json::Value;
use tillstream_kernel::{Decimal, MAX_AMOUNT, MAX_QUANTITY};

use crate::projection::store_of;

use tillstream_service::addrs::SERVICES;

/// Fields that hold a quantity, bounded at a million; every other number at ten billion.
const QUANTITY_FIELDS: [&str; 4] = ["quantity", "delta", "counted", "reorder_point"];

/// Fields whose digits are names, not amounts (a barcode has thirteen digits).
const NOT_AMOUNTS: [&str; 6] = ["barcode", "barcodes", "sku", "reference", "code", "number"];

pub async fn run() -> ExitCode {
    let mut found = 0_u64;
    for service in SERVICES {
        match scan(service).await {
            Ok(count) => found = found.saturating_add(count),
            Err(message) => {
                eprintln!("tillstream: {service}: {message}");
                return ExitCode::FAILURE;
            }
        }
    }
    eprintln!("tillstream: {found} event(s) out of range");
    ExitCode::SUCCESS
}

type EventRow = (i64, String, i64, String, String, String, Value);

async fn scan(service: &'static str) -> Result<u64, String> {
    let store = store_of(service).await?;
    let mut rows = sqlx::query_as::<_, EventRow>(
        "SELECT position, stream_id, version, event_id::text, event_type,
                to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), payload
         FROM events ORDER BY position",
    )
    .fetch(store.pool());
    let mut found = 0_u64;
    while let Some((position, stream_id, version, event_id, event_type, recorded_at, payload)) =
        rows.try_next().await.map_err(|e| e.to_string())?
    {
        let mut beyond = Vec::new();
        out_of_range(&payload, "", &mut beyond);
        for (field, value) in beyond {
            found = found.saturating_add(1);
            println!(
                "{}",
                serde_json::json!({
                    "service": service,
                    "position": position,
                    "stream_id": stream_id,
                    "version": version,
                    "event_id": event_id,
                    "event_type": event_type,
                    "recorded_at": recorded_at,
                    "field": field,
                    "value": value,
                })
            );
        }
    }
    Ok(found)
}

/// Collects `(path, value)` of every number in `value` beyond its bound.
pub fn out_of_range(value: &Value, path: &str, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(fields) => {
            for (key, inner) in fields {
                if NOT_AMOUNTS.iter().any(|name| key.ends_with(name)) || key.ends_with("_id") {
                    continue;
                }
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                out_of_range(inner, &path, found);
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                out_of_range(inner, &format!("{path}[{index}]"), found);
            }
        }
        Value::String(text) => check(path, text, found),
        Value::Number(number) => check(path, &number.to_string(), found),
        Value::Null | Value::Bool(_) => {}
    }
}

fn check(path: &str, text: &str, found: &mut Vec<(String, String)>) {
    let numeric = !text.is_empty()
        && text
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.');
    if !numeric {
        return;
    }
    let field = path.rsplit('.').next().unwrap_or(path);
    let field = field.split('[').next().unwrap_or(field);
    let bound = if QUANTITY_FIELDS.contains(&field) {
        MAX_QUANTITY
    } else {
        MAX_AMOUNT
    };
    let beyond = Decimal::from_str_exact(text).map_or(true, |v| v.abs() > bound);
    if beyond {
        found.push((path.to_owned(), text.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_beyond_their_bounds_are_found_with_their_path() {
        let payload = json!({
            "type": "StockReceived",
            "quantity": "79228162514264337593543950335",
            "unit_cost": "2.00",
            "lines": [{"debit": "10000000000.01", "credit": "0", "barcode": "4006381333931"}],
            "delta": "1000001",
            "sale_number": "99999999999999",
            "product_id": "123456789012345678"
        });
        let mut found = Vec::new();
        out_of_range(&payload, "", &mut found);
        let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, vec!["delta", "lines[0].debit", "quantity"]);
    }

    #[test]
    fn values_at_the_bounds_are_fine() {
        let payload = json!({"quantity": "1000000", "price": "10000000000.00", "at": "2026-11-29"});
        let mut found = Vec::new();
        out_of_range(&payload, "", &mut found);
        assert!(found.is_empty(), "{found:?}");
    }
}
