//! `--sessions`: each till works a register of its own (`BT<n>` at its location) in a
//! session opened when the run starts and closed with an exact count when it ends, as a
//! store that counts its drawers would.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::rest::Api;

/// The float each session opens with.
const FLOAT: &str = "100.00";
/// Attempts at opening or closing before the till gives up (a fault may be under way).
const ATTEMPTS: u32 = 40;

/// Till `n`'s register at `location`: made by the manager once, found again on later runs.
pub async fn register(manager: &Api, location: &str, n: usize) -> Result<String, String> {
    let code = format!("BT{n}");
    let body = json!({"location_id": location, "code": code, "name": format!("Bench till {n}")});
    let (status, created) = manager
        .send(Method::POST, "/api/v1/registers", Some(&body))
        .await?;
    if status == StatusCode::CREATED {
        return id_of(&created);
    }
    if status != StatusCode::CONFLICT {
        return Err(format!("POST /api/v1/registers: {status} {created}"));
    }
    let listed = manager
        .get(&format!(
            "/api/v1/registers?location_id={location}&limit=200"
        ))
        .await?;
    listed["data"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["code"] == code.as_str()))
        .ok_or_else(|| format!("register {code} is not listed"))
        .and_then(id_of)
}

/// Opens a session on `register` (or takes the one an earlier run left open).
pub async fn open(cashier: &Api, register: &str) -> Result<String, String> {
    let path = format!("/api/v1/registers/{register}/sessions");
    let body = json!({"opening_float": FLOAT});
    for _ in 0..ATTEMPTS {
        match cashier.send(Method::POST, &path, Some(&body)).await {
            Ok((StatusCode::CREATED, session)) => return id_of(&session),
            Ok((StatusCode::CONFLICT, answer)) if answer["error"]["code"] == "session_open" => {
                let listed = cashier.get("/api/v1/registers?limit=200").await?;
                let open = listed["data"]
                    .as_array()
                    .and_then(|all| all.iter().find(|r| r["id"] == register))
                    .and_then(|r| r["open_session_id"].as_str());
                if let Some(open) = open {
                    return Ok(open.to_owned());
                }
            }
            Ok((status, answer)) if status.is_client_error() => {
                return Err(format!("{path}: {status} {answer}"));
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(format!("{path}: no session after {ATTEMPTS} attempts"))
}

/// Counts the drawer (exactly what it should hold) and closes the session; done once the
/// session is closed, by this call or one whose answer was lost.
pub async fn close(cashier: &Api, session: &str) -> Result<(), String> {
    let path = format!("/api/v1/sessions/{session}/close");
    for _ in 0..ATTEMPTS {
        let report = cashier
            .get(&format!("/api/v1/sessions/{session}/report"))
            .await;
        if let Ok(report) = report {
            let body = json!({"counted_cash": report["expected_cash"]});
            match cashier.send(Method::POST, &path, Some(&body)).await {
                Ok((StatusCode::OK, _)) => return Ok(()),
                Ok((StatusCode::CONFLICT, answer))
                    if answer["error"]["code"] == "session_closed" =>
                {
                    return Ok(());
                }
                Ok((status, answer)) if status.is_client_error() => {
                    return Err(format!("{path}: {status} {answer}"));
                }
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(format!("{path}: not closed after {ATTEMPTS} attempts"))
}

fn id_of(body: &serde_json::Value) -> Result<String, String> {
    body["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no id in {body}"))
}
