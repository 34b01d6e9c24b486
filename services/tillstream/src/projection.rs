//! `tillstream projection list|rebuild`: the asynchronous read models, how far behind they
//! are, and rebuilding one from its service's event log while the service keeps running
//! (into fresh tables, swapped in at the end; see `tillstream_projection`).

use std::process::ExitCode;

use tillstream_eventstore::{Cursor, DatabaseConfig, EventStore};
use tillstream_projection::{Projection, ProjectionRunner};
use tillstream_service::{ServiceSettings, addrs};

use crate::cli::ProjectionCommand;
use crate::rest::progress;

/// Every asynchronous projection of the stack: its name and the service that owns it.
const PROJECTIONS: [(&str, &str); 1] =
    [(tillstream_sales::projections::product_sales::NAME, "sales")];

pub async fn run(command: ProjectionCommand) -> ExitCode {
    let outcome = match command {
        ProjectionCommand::List => list().await,
        ProjectionCommand::Rebuild { name } => rebuild(&name).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tillstream: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn list() -> Result<(), String> {
    for (name, service) in PROJECTIONS {
        let store = store_of(service).await?;
        let runner = runner(name, store.clone())?;
        let (generation, updated_at): (Option<i32>, Option<String>) = sqlx::query_as(
            "SELECT generation, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
             FROM projection_checkpoints WHERE projection = $1",
        )
        .bind(name)
        .fetch_optional(store.pool())
        .await
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
        let (lag_events, lag) = runner.lag().await.map_err(|e| e.to_string())?;
        println!(
            "{}",
            serde_json::json!({
                "projection": name,
                "service": service,
                "generation": generation,
                "lag_events": lag_events,
                "lag_seconds": lag.as_secs_f64(),
                "updated_at": updated_at,
            })
        );
    }
    Ok(())
}

async fn rebuild(name: &str) -> Result<(), String> {
    let (_, service) = PROJECTIONS
        .into_iter()
        .find(|(known, _)| *known == name)
        .ok_or_else(|| {
            format!("no projection `{name}`; `tillstream projection list` names them")
        })?;
    let store = store_of(service).await?;
    let runner = runner(name, store.clone())?;
    let (total, _) = store
        .backlog(Cursor::START)
        .await
        .map_err(|e| e.to_string())?;
    let bar = progress(u64::try_from(total).unwrap_or(0), name);
    let report = runner
        .rebuild_reporting(|applied| bar.set_position(applied))
        .await
        .map_err(|e| format!("rebuilding {name}: {e}"))?;
    bar.finish_and_clear();
    println!(
        "{}",
        serde_json::json!({
            "projection": name,
            "service": service,
            "generation": report.generation,
            "events_applied": report.events_applied,
            "seconds": report.elapsed.as_secs_f64(),
        })
    );
    Ok(())
}

/// The runner for projection `name`, the same the owning service runs.
fn runner(name: &str, store: EventStore) -> Result<ProjectionRunner<impl Projection>, String> {
    match name {
        tillstream_sales::projections::product_sales::NAME => {
            Ok(tillstream_sales::product_sales(store))
        }
        other => Err(format!("no projection `{other}`")),
    }
}

/// The event store of `service`, as the environment names its database.
pub async fn store_of(service: &'static str) -> Result<EventStore, String> {
    let default = addrs::default_addr(service).ok_or("not a service of the stack")?;
    let settings = ServiceSettings::from_env(service, default).map_err(|e| e.to_string())?;
    let pool = tillstream_eventstore::connect(&DatabaseConfig::new(
        &settings.database_url,
        &settings.database,
    ))
    .await
    .map_err(|e| format!("database {}: {e}", settings.database))?;
    Ok(EventStore::new(pool))
}
