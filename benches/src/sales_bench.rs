//! The sales benchmark, in one run on one machine, through the gateway as tills ring up
//! sales (1–4 lines, cash with change), against the real PostgreSQL and NATS: sales/s and
//! latency at 1, 16 and 64 concurrent tills, beside the event store's raw append rate at the
//! same concurrency, measured in the same run on the sales database.
//!
//! `cargo run --release -p tillstream-benches --bin sales-bench -- [--seconds N]`

#![allow(clippy::float_arithmetic, reason = "rates and ratios, never money")]

#[allow(
    dead_code,
    reason = "shared with the foundation benchmark, which uses all of it"
)]
mod appends;

use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use tillstream_benches::sales_stack::{SalesStack, sale};
use tillstream_eventstore::EventStore;

const TILLS: [usize; 3] = [1, 16, 64];
const PRODUCTS: usize = 20;

fn seconds() -> anyhow::Result<u64> {
    let mut args = std::env::args().skip(1);
    let mut seconds = 10;
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--seconds" => seconds = value.parse().context("--seconds")?,
            other => anyhow::bail!("unknown option {other}; use --seconds N"),
        }
    }
    Ok(seconds)
}

struct Run {
    sales: u64,
    errors: u64,
    elapsed: Duration,
    latency_us: Histogram<u64>,
}

async fn ring_up(
    base: &str,
    token: &str,
    location: &str,
    tills: usize,
    phase: Duration,
) -> anyhow::Result<Run> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + phase;
    let started = Instant::now();
    let tasks: Vec<_> = (0..tills)
        .map(|till| {
            let (client, url) = (client.clone(), format!("{base}/api/v1/sales"));
            let (token, location) = (token.to_owned(), location.to_owned());
            tokio::spawn(async move {
                let mut histogram = Histogram::<u64>::new(3)?;
                let (mut sales, mut errors) = (0u64, 0u64);
                let mut n = till;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let response = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&sale(&location, n, PRODUCTS))
                        .send()
                        .await?;
                    let ok = response.status().as_u16() == 201;
                    response.bytes().await?;
                    histogram.record(u64::try_from(t.elapsed().as_micros())?)?;
                    if ok {
                        sales += 1;
                    } else {
                        errors += 1;
                    }
                    n += tills;
                }
                anyhow::Ok((sales, errors, histogram))
            })
        })
        .collect();
    let mut run = Run {
        sales: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latency_us: Histogram::<u64>::new(3)?,
    };
    for task in tasks {
        let (sales, errors, histogram) = task.await??;
        run.sales += sales;
        run.errors += errors;
        run.latency_us.add(histogram)?;
    }
    run.elapsed = started.elapsed();
    Ok(run)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let phase = Duration::from_secs(seconds()?);
    let stack = SalesStack::start(PRODUCTS).await?;
    let (base, cashier, location) = (&stack.base, &stack.cashier, &stack.location);
    let pool = stack.sales_pool().await?;
    let store = EventStore::new(pool);
    println!(
        "## Sales through the gateway ({} s per step)\n",
        phase.as_secs()
    );
    println!(
        "| tills | sales/s | p50 ms | p99 ms | max ms | errors | event-store appends/s, same writers | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    for tills in TILLS {
        let run = ring_up(base, cashier, location, tills, phase).await?;
        let appends = appends::event_appends(&store, tills, phase).await?;
        let rate = run.sales as f64 / run.elapsed.as_secs_f64();
        println!(
            "| {tills} | {rate:.0} | {:.1} | {:.1} | {:.1} | {} | {:.0} | {:.2} |",
            ms(&run.latency_us, 0.5),
            ms(&run.latency_us, 0.99),
            run.latency_us.max() as f64 / 1000.0,
            run.errors,
            appends.per_second(),
            rate / appends.per_second()
        );
    }
    stack.stop().await;
    Ok(())
}
