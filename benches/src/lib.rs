//! What the benchmark binaries share: option parsing, percentiles, and the PostgreSQL
//! baseline every report sets its figures beside.

#![allow(clippy::float_arithmetic, reason = "rates and ratios, never money")]

pub mod sales_stack;

use std::time::Instant;

use anyhow::Context;
use hdrhistogram::Histogram;
use tillstream_service::ServiceSettings;

/// Reads `--name N` pairs from the command line into `counts`, whose values are the
/// defaults; an unknown option or a missing value is an error that lists the known ones.
pub fn parse_counts(counts: &mut [(&str, &mut usize)]) -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let known = counts
            .iter()
            .map(|(name, _)| format!("--{name} N"))
            .collect::<Vec<_>>()
            .join(", ");
        let Some((name, slot)) = counts
            .iter_mut()
            .find(|(name, _)| arg.strip_prefix("--") == Some(*name))
        else {
            anyhow::bail!("unknown option {arg}; use {known}");
        };
        let value = args
            .next()
            .with_context(|| format!("{arg} needs a value"))?;
        **slot = value.parse().with_context(|| format!("--{name}"))?;
    }
    Ok(())
}

/// A histogram of microseconds at `quantile`, in milliseconds.
pub fn ms(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    histogram.value_at_quantile(quantile) as f64 / 1000.0
}

/// Microseconds since `started`, for a histogram.
pub fn micros_since(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// PostgreSQL's floor on this machine: single-row inserts, each its own commit, per
/// second, into the service's own database.
pub async fn raw_insert_rate(settings: &ServiceSettings, rows: usize) -> anyhow::Result<f64> {
    let pool = sqlx::PgPool::connect(&format!(
        "{}/{}",
        settings.database_url.trim_end_matches('/'),
        settings.database
    ))
    .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_raw (id bigint PRIMARY KEY, body text)")
        .execute(&pool)
        .await?;
    let started = Instant::now();
    for id in 0..i64::try_from(rows)? {
        sqlx::query("INSERT INTO bench_raw VALUES ($1, 'x')")
            .bind(id)
            .execute(&pool)
            .await?;
    }
    let rate = rows as f64 / started.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE bench_raw").execute(&pool).await?;
    pool.close().await;
    Ok(rate)
}
