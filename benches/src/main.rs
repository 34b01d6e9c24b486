//! The foundation benchmark: in one run, on one machine, against the real PostgreSQL and
//! NATS, it measures
//! - raw single-row INSERT commits vs. event-store appends at 1, 8 and 32 writers,
//! - the relay publishing the store to JetStream,
//! - a projection applying the store in batches,
//!
//! and prints a Markdown report with ratios against the raw baseline.
//!
//! `cargo run --release -p tillstream-benches -- [--seconds N] [--events N]`

#![allow(clippy::float_arithmetic, reason = "rates and ratios, never money")]

mod appends;
mod pipeline;

use std::time::Duration;

use anyhow::Context;
use tillstream_eventstore::{DatabaseConfig, EventStore, connect};
use tillstream_test_support::{TestDatabase, TestPrefix};

/// Alternating rounds of raw inserts and appends per concurrency.
const ROUNDS: usize = 3;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[derive(Debug, Clone, Copy)]
struct Options {
    seconds_per_phase: u64,
    pipeline_events: usize,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        seconds_per_phase: 2,
        pipeline_events: 100_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--seconds" => options.seconds_per_phase = value.parse().context("--seconds")?,
            "--events" => options.pipeline_events = value.parse().context("--events")?,
            other => anyhow::bail!("unknown option {other}; use --seconds N, --events N"),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let db = TestDatabase::create().await?;
    let mut config = DatabaseConfig::new(db.server_url.clone(), db.name.clone());
    config.max_connections = 40;
    let store = EventStore::new(connect(&config).await?);
    let phase = Duration::from_secs(options.seconds_per_phase);

    println!(
        "## Event store appends vs. raw INSERT (median of {ROUNDS} alternating {}s rounds)\n",
        options.seconds_per_phase
    );
    println!("| writers | raw INSERT/s | append/s | ratio | append p50 / p99 / max (µs) |");
    println!("|---|---|---|---|---|");
    appends::create_raw_table(&store).await?;
    for writers in [1, 8, 32] {
        // Alternate short rounds and take medians: the machine's speed drifts over a run,
        // and a ratio of two phases minutes apart would measure the drift.
        let mut raw_rates = Vec::new();
        let mut append_rates = Vec::new();
        let mut latency_us = hdrhistogram::Histogram::<u64>::new(3)?;
        for _ in 0..ROUNDS {
            raw_rates.push(
                appends::raw_inserts(&store, writers, phase)
                    .await?
                    .per_second(),
            );
            let append = appends::event_appends(&store, writers, phase).await?;
            append_rates.push(append.per_second());
            latency_us.add(append.latency_us)?;
        }
        let (raw, append) = (median(&mut raw_rates), median(&mut append_rates));
        println!(
            "| {writers} | {raw:.0} | {append:.0} | {:.0}% | {} / {} / {} |",
            100.0 * append / raw,
            latency_us.value_at_quantile(0.5),
            latency_us.value_at_quantile(0.99),
            latency_us.max(),
        );
    }

    let prefix = TestPrefix::new();
    println!(
        "\n## Relay and projection ({} events)\n",
        options.pipeline_events
    );
    println!("| stage | events/s |");
    println!("|---|---|");
    let pipeline_db = TestDatabase::create().await?;
    let pipeline_store = EventStore::new(
        connect(&DatabaseConfig::new(
            pipeline_db.server_url.clone(),
            pipeline_db.name.clone(),
        ))
        .await?,
    );
    pipeline::seed(&pipeline_store, options.pipeline_events).await?;
    let bare =
        pipeline::jetstream_publish_baseline(&prefix, options.pipeline_events, false).await?;
    println!("| baseline: JetStream publish, pipelined, Nats-Msg-Id | {bare:.0} |");
    let headed =
        pipeline::jetstream_publish_baseline(&prefix, options.pipeline_events, true).await?;
    println!("| baseline: the same with the relay's CloudEvents headers | {headed:.0} |");
    let relay = pipeline::relay(&pipeline_store, &prefix, options.pipeline_events).await?;
    println!(
        "| relay: store → JetStream ({:.0}% of the headed baseline) | {relay:.0} |",
        100.0 * relay / headed
    );
    let projection = pipeline::projection(&pipeline_store, options.pipeline_events).await?;
    println!("| projection apply | {projection:.0} |");
    Ok(())
}
