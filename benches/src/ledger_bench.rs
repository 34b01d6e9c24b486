//! The ledger benchmark, in one run on one machine, against the real PostgreSQL and NATS:
//! - catching up a backlog: sale events published while the ledger is down (a small day of
//!   1,000 sales and a big day of N), then the time until every one is a journal entry
//!   (entries/s; goal ≥ 5,000), beside PostgreSQL's raw single-row insert commit rate;
//! - the daily report's latency for the small day vs. the big one (goal: the same, as the
//!   report is kept current event by event and reading a day is one row per location).
//!
//! `cargo run --release -p tillstream-benches --bin ledger-bench -- [--sales N] [--reads N]`

#![allow(clippy::float_arithmetic, reason = "rates and ratios, never money")]

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tillstream_benches::{micros_since, ms, parse_counts, raw_insert_rate};
use tillstream_proto::ledger::v1 as pb;
use tillstream_proto::ledger::v1::ledger_service_client::LedgerServiceClient;
use tillstream_service::{Launch, ServiceSettings};
use tillstream_test_support::grpc::{Authed, connect_as_admin};
use tillstream_test_support::sales_events::{SalesEvent, publish, two_line_sale};
use tillstream_test_support::{TestDatabase, TestPrefix, stack_env, unique_name};
use tokio_util::sync::CancellationToken;

const SMALL_DAY: &str = "2026-03-02";
const BIG_DAY: &str = "2026-03-03";
const SMALL_DAY_SALES: usize = 1_000;
const LOCATION: &str = "01BENCHLOCATION000000000000";

/// Publishes `count` sales of `day` to the sales stream, as the sales relay would.
async fn publish_sales(prefix: &TestPrefix, day: &str, count: usize) -> anyhow::Result<()> {
    let events: Vec<SalesEvent> = (0..count)
        .map(|number| SalesEvent::completed(two_line_sale(LOCATION, day, number)))
        .collect();
    publish(&prefix.url, &prefix.prefix, &events, "").await
}

/// Starts the ledger on a fresh port; the client once it answers.
async fn start_ledger(
    settings: &ServiceSettings,
    stop: &CancellationToken,
) -> anyhow::Result<LedgerServiceClient<Authed>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(tillstream_ledger::serve(Launch {
        settings: settings.clone(),
        listener,
        shutdown: stop.clone(),
    }));
    for _ in 0..100 {
        if let Some(channel) = connect_as_admin(url.clone()).await {
            let mut client = LedgerServiceClient::new(channel);
            if client
                .get_trial_balance(pb::GetTrialBalanceRequest::default())
                .await
                .is_ok()
            {
                return Ok(client);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the ledger did not start")
}

async fn entries_posted(pool: &sqlx::PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM journal_entries")
        .fetch_one(pool)
        .await?)
}

async fn report_latency(
    ledger: &mut LedgerServiceClient<Authed>,
    day: &str,
    reads: usize,
) -> anyhow::Result<(Histogram<u64>, pb::DailyReport)> {
    let mut histogram = Histogram::<u64>::new(3)?;
    let request = pb::GetDailyReportRequest {
        date: day.into(),
        location_id: LOCATION.into(),
    };
    let mut report = pb::DailyReport::default();
    for _ in 0..reads {
        let started = Instant::now();
        report = ledger.get_daily_report(request.clone()).await?.into_inner();
        histogram.record(micros_since(started))?;
    }
    Ok((histogram, report))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut big_day_sales, mut reads) = (100_000, 2_000);
    parse_counts(&mut [("sales", &mut big_day_sales), ("reads", &mut reads)])?;
    let prefix = TestPrefix::new();
    let env = stack_env(&prefix.prefix, &unique_name("bench"));
    let settings = ServiceSettings::from_lookup("ledger", "127.0.0.1:0", env)?;
    let _db = TestDatabase {
        server_url: settings.database_url.clone(),
        name: settings.database.clone(),
    };

    // A backlog: a small and a big day of sales rung up while the ledger was down.
    publish_sales(&prefix, SMALL_DAY, SMALL_DAY_SALES).await?;
    publish_sales(&prefix, BIG_DAY, big_day_sales).await?;
    let total = SMALL_DAY_SALES + big_day_sales;

    let stop = CancellationToken::new();
    let started = Instant::now();
    let mut ledger = start_ledger(&settings, &stop).await?;
    let pool = sqlx::PgPool::connect(&format!(
        "{}/{}",
        settings.database_url.trim_end_matches('/'),
        settings.database
    ))
    .await?;
    while usize::try_from(entries_posted(&pool).await?)? < total {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let rate = total as f64 / seconds;
    let raw = raw_insert_rate(&settings, 2_000).await?;
    println!("## Ledger ({total} sale events)\n");
    println!(
        "backlog caught up: {total} entries in {seconds:.1} s (from the ledger's start) = \
         **{rate:.0} entries/s** (goal ≥ 5,000); PostgreSQL raw single-row insert commits: \
         {raw:.0}/s (ratio {:.2})\n",
        rate / raw
    );

    let (small, small_report) = report_latency(&mut ledger, SMALL_DAY, reads).await?;
    let (big, big_report) = report_latency(&mut ledger, BIG_DAY, reads).await?;
    anyhow::ensure!(
        usize::try_from(small_report.sales_count)? == SMALL_DAY_SALES
            && usize::try_from(big_report.sales_count)? == big_day_sales,
        "the reports count {} and {} sales",
        small_report.sales_count,
        big_report.sales_count
    );
    println!("| daily report of a day with | p50 ms | p99 ms | max ms |\n|---|---|---|---|");
    for (sales, h) in [(SMALL_DAY_SALES, &small), (big_day_sales, &big)] {
        println!(
            "| {sales} sales | {:.2} | {:.2} | {:.2} |",
            ms(h, 0.5),
            ms(h, 0.99),
            h.max() as f64 / 1000.0
        );
    }
    println!(
        "\np50 ratio big / small day: **{:.2}** (goal: the same)",
        ms(&big, 0.5) / ms(&small, 0.5)
    );
    pool.close().await;
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(())
}
