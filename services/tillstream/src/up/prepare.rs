//! What `up` does before it starts anything: each service's database created and migrated,
//! auth's signing key and bootstrap admin, and the JetStream streams. The services do the
//! same when they start, idempotently; doing it here first turns a wrong database URL into
//! one clear message instead of six crash loops, and lets `up` print the admin's password.

use std::time::Duration;

use sqlx::migrate::Migrator;
use tillstream_eventstore::EventStore;
use tillstream_messaging::{StreamSettings, ensure_dead_letter_stream, ensure_service_stream};
use tillstream_service::{ServiceSettings, StartError, addrs, connect_database};

/// How long `up` waits for NATS before leaving the streams to the services.
const NATS_PATIENCE: Duration = Duration::from_secs(3);

/// Prepares everything; the bootstrap admin's password when one was generated.
pub async fn prepare(
    lookup: impl Fn(&str) -> Option<String>,
    auth: tillstream_auth::AuthOptions,
) -> Result<Option<String>, StartError> {
    let mut generated = None;
    let mut naming = None;
    let mut stream = StreamSettings::default();
    let mut nats_url = String::new();
    for service in addrs::SERVICES {
        let default = addrs::default_addr(service).unwrap_or(addrs::HTTP);
        let settings = ServiceSettings::from_lookup(service, default, &lookup)
            .map_err(|e| StartError::Setup(e.to_string()))?;
        let pool = connect_database(&settings, migrator(service)).await?;
        if service == "auth" {
            let store = EventStore::new(pool.clone());
            generated = tillstream_auth::bootstrap(&store, auth.clone()).await?;
        }
        pool.close().await;
        println!("tillstream: database {} is ready", settings.database);
        nats_url = settings.nats_url.clone();
        naming = Some(settings.naming);
        stream = settings.stream;
    }
    if let Some(naming) = naming {
        create_streams(&nats_url, &naming, &stream).await;
    }
    Ok(generated)
}

fn migrator(service: &str) -> &'static Migrator {
    match service {
        "auth" => &tillstream_auth::MIGRATOR,
        "catalog" => &tillstream_catalog::MIGRATOR,
        "inventory" => &tillstream_inventory::MIGRATOR,
        "sales" => &tillstream_sales::MIGRATOR,
        "ledger" => &tillstream_ledger::MIGRATOR,
        _ => &tillstream_webhooks::MIGRATOR,
    }
}

/// Creates the streams, or says why not: NATS being away does not stop the system (the
/// services create their streams when it comes).
async fn create_streams(
    url: &str,
    naming: &tillstream_messaging::Naming,
    settings: &StreamSettings,
) {
    let (options, addr) = match tillstream_service::nats_options(url) {
        Ok(parts) => parts,
        Err(error) => {
            eprintln!("tillstream: {error}");
            return;
        }
    };
    // Named by host and port: the URL may carry a password.
    let server = format!("{}:{}", addr.host(), addr.port());
    let connect = options.connection_timeout(NATS_PATIENCE).connect(addr);
    let client = match tokio::time::timeout(NATS_PATIENCE, connect).await {
        Ok(Ok(client)) => client,
        Ok(Err(error)) => {
            println!(
                "tillstream: NATS at {server} is not answering ({error}); the services will create their streams when it is"
            );
            return;
        }
        Err(_) => {
            println!(
                "tillstream: NATS at {server} is not answering; the services will create their streams when it is"
            );
            return;
        }
    };
    let js = async_nats::jetstream::new(client);
    for service in addrs::SERVICES {
        if let Err(error) = ensure_service_stream(&js, naming, service, settings).await {
            println!("tillstream: stream for {service}: {error}");
        }
    }
    // Never capped: see docs/scaling.md, "The streams' limits".
    if let Err(error) = ensure_dead_letter_stream(&js, naming, &StreamSettings::default()).await {
        println!("tillstream: dead-letter stream: {error}");
    }
    println!("tillstream: streams under `{}` are ready", naming.prefix());
}
