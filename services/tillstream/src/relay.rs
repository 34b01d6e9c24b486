//! `tillstream relay republish --from`: rewinds services' relays so they publish their
//! stores to JetStream again — after a broker lost its data, or to fill a new one. The
//! running relays pick the rewound checkpoint up on their next round; messages carry new
//! ids past the broker's duplicate window, and consumers drop what they already applied
//! by event id, so republishing more than was lost is harmless.

use std::process::ExitCode;
use std::sync::Arc;

use tillstream_eventstore::{Cursor, DatabaseConfig, EventStore};
use tillstream_messaging::{JsonWire, Relay, RelayConfig};
use tillstream_service::{ServiceSettings, addrs};

pub async fn republish(from: &str, service: Option<&str>) -> ExitCode {
    let services: Vec<&str> = match service {
        Some(service) => vec![service],
        None => addrs::SERVICES.to_vec(),
    };
    for service in services {
        match rewind(service, from).await {
            Ok(cursor) => println!(
                "{}",
                serde_json::json!({"service": service, "republishing_after": {"tx_id": cursor.tx_id, "position": cursor.position}})
            ),
            Err(message) => {
                eprintln!("tillstream: {service}: {message}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

async fn rewind(service: &str, from: &str) -> Result<Cursor, String> {
    let service: &'static str = addrs::SERVICES
        .into_iter()
        .find(|s| *s == service)
        .ok_or("not a service of the stack")?;
    let default = addrs::default_addr(service).ok_or("not a service of the stack")?;
    let settings = ServiceSettings::from_env(service, default).map_err(|e| e.to_string())?;
    let pool = tillstream_eventstore::connect(&DatabaseConfig::new(
        &settings.database_url,
        &settings.database,
    ))
    .await
    .map_err(|e| format!("database {}: {e}", settings.database))?;
    let cursor = match from {
        "start" => Cursor::START,
        position => {
            let position: i64 = position.parse().map_err(|_| {
                format!("--from takes `start` or an event position, not `{position}`")
            })?;
            // Just before the event at `position`, in the log's (transaction, position) order.
            let tx_id: Option<i64> =
                sqlx::query_scalar("SELECT tx_id::text::bigint FROM events WHERE position = $1")
                    .bind(position)
                    .fetch_optional(&pool)
                    .await
                    .map_err(|e| e.to_string())?;
            let tx_id = tx_id.ok_or(format!("no event at position {position}"))?;
            Cursor {
                tx_id,
                position: position - 1,
            }
        }
    };
    let client = tillstream_service::nats_client(&settings.nats_url).await?;
    let relay = Relay::new(
        EventStore::new(pool),
        client,
        Arc::new(JsonWire),
        RelayConfig::new(service, settings.naming.clone()),
    );
    relay
        .republish_from(cursor)
        .await
        .map_err(|e| e.to_string())?;
    Ok(cursor)
}
