//! Baselines measured in the same run on the same machine, for the report's ratios:
//! PostgreSQL's raw single-row insert commit rate (pgbench `-M prepared`, 16 clients),
//! JetStream's acknowledged publish rate, and a bare axum handler's request rate through
//! the same HTTP client the tills use.

#![allow(clippy::float_arithmetic, reason = "rates, for reading")]

use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use hdrhistogram::Histogram;
use reqwest::Client;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tillstream_kernel::Ulid;
use tillstream_service::ServiceSettings;

use super::till::latency_histogram;

const SECONDS: u64 = 5;

#[derive(Debug)]
pub struct Baselines {
    pub pgbench_inserts_per_second: f64,
    pub jetstream_publishes_per_second: f64,
    /// Requests per second and their latency (µs).
    pub bare_http: (f64, Histogram<u64>),
}

pub async fn measure(
    settings: &ServiceSettings,
    client: &Client,
    concurrency: usize,
) -> Result<Baselines, String> {
    eprintln!("tillstream bench: measuring the baselines ({SECONDS} s each)");
    Ok(Baselines {
        pgbench_inserts_per_second: pgbench(&settings.database_url).await?,
        jetstream_publishes_per_second: jetstream(settings).await?,
        bare_http: bare_axum(client, concurrency).await?,
    })
}

/// `pgbench -M prepared -c 16` inserting one row per transaction into a scratch database.
async fn pgbench(server_url: &str) -> Result<f64, String> {
    let name = format!(
        "tillstream_bench_{}",
        Ulid::generate().to_string().to_lowercase()
    );
    let mut admin = PgConnection::connect(&format!("{server_url}/postgres"))
        .await
        .map_err(|e| format!("PostgreSQL at {server_url}: {e}"))?;
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .map_err(|e| e.to_string())?;
    let result = run_pgbench(server_url, &name).await;
    let _ = sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
    result
}

async fn run_pgbench(server_url: &str, name: &str) -> Result<f64, String> {
    let url = format!("{server_url}/{name}");
    let mut db = PgConnection::connect(&url)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::raw_sql(
        "CREATE TABLE raw_inserts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload text NOT NULL)",
    )
    .execute(&mut db)
    .await
    .map_err(|e| e.to_string())?;
    let script = std::env::temp_dir().join(format!("{name}.sql"));
    std::fs::write(
        &script,
        "INSERT INTO raw_inserts (payload) VALUES ('a sale-sized row of text');\n",
    )
    .map_err(|e| e.to_string())?;
    let output = tokio::process::Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-c", "16", "-j", "2", "-T"])
        .arg(SECONDS.to_string())
        .arg("-f")
        .arg(&script)
        .arg(&url)
        .output()
        .await
        .map_err(|e| format!("pgbench (from PostgreSQL's client packages): {e}"))?;
    let _ = std::fs::remove_file(&script);
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .ok_or_else(|| {
            format!(
                "pgbench said no tps: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

/// Acknowledged publishes of sale-sized messages to a scratch stream, 256 in flight.
async fn jetstream(settings: &ServiceSettings) -> Result<f64, String> {
    let client = tillstream_service::nats_client(&settings.nats_url).await?;
    let js = async_nats::jetstream::new(client);
    let token = Ulid::generate().to_string();
    let name = format!("{}_bench_{token}", settings.naming.prefix());
    let subject = format!("{}.bench.{token}", settings.naming.prefix());
    js.create_stream(async_nats::jetstream::stream::Config {
        name: name.clone(),
        subjects: vec![subject.clone()],
        ..Default::default()
    })
    .await
    .map_err(|e| format!("a scratch stream: {e}"))?;
    let payload = bytes::Bytes::from(vec![b'x'; 600]);
    let started = Instant::now();
    let until = started + Duration::from_secs(SECONDS);
    let mut in_flight = FuturesUnordered::new();
    let mut acked = 0u64;
    let mut failure = None;
    while Instant::now() < until {
        while in_flight.len() < 256 {
            match js.publish(subject.clone(), payload.clone()).await {
                Ok(ack) => in_flight.push(ack.into_future()),
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            }
        }
        match in_flight.next().await {
            Some(Ok(_)) => acked += 1,
            Some(Err(e)) => failure = Some(e.to_string()),
            None => {}
        }
        if failure.is_some() {
            break;
        }
    }
    while let Some(ack) = in_flight.next().await {
        if ack.is_ok() {
            acked += 1;
        }
    }
    let rate = acked as f64 / started.elapsed().as_secs_f64();
    let _ = js.delete_stream(&name).await;
    match failure {
        Some(error) => Err(format!("publishing to JetStream: {error}")),
        None => Ok(rate),
    }
}

/// A handler that answers a constant JSON body, driven as hard as the tills drive the
/// gateway, with the same client.
async fn bare_axum(client: &Client, concurrency: usize) -> Result<(f64, Histogram<u64>), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}/",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { axum::Json(serde_json::json!({"ok": true})) }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let until = Instant::now() + Duration::from_secs(SECONDS);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, url) = (client.clone(), url.clone());
        workers.push(tokio::spawn(async move {
            let mut latency = latency_histogram()?;
            while Instant::now() < until {
                let sent = Instant::now();
                let answer = client.get(&url).send().await.map_err(|e| e.to_string())?;
                let _ = answer.bytes().await;
                let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                let _ = latency.record(micros.max(1));
            }
            Ok::<_, String>(latency)
        }));
    }
    let mut latency = latency_histogram()?;
    for worker in workers {
        let worker = worker.await.map_err(|e| e.to_string())??;
        let _ = latency.add(&worker);
    }
    let rate = latency.len() as f64 / started.elapsed().as_secs_f64();
    server.abort();
    Ok((rate, latency))
}
