//! `tillstream bench`: simulated tills that log in and ring up realistic sales through the
//! gateway — 1–8 lines, cash, card and split tenders, some discounts, some returns — at a
//! target rate or flat out. It reports sales per second, latency percentiles from an HDR
//! histogram, errors by status, and the time until each sale is posted in the ledger and
//! reflected in stock (watched on the event streams), optionally beside baselines measured
//! in the same run (`--baselines`).

mod baselines;
mod drawer;
mod report;
mod setup;
mod stages;
mod till;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use reqwest::Client;
use tillstream_service::{ServiceSettings, addrs};

use self::report::Report;
use self::till::{Pace, TillOutcome};

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The gateway, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// The bootstrap admin's password (to set the store up).
    pub admin_password: String,
    pub tills: usize,
    /// Sales per second over all tills; flat out when absent.
    pub rate: Option<u32>,
    pub seconds: u64,
    pub locations: usize,
    pub products: usize,
    /// Watch the streams for each sale's ledger entry and stock movement.
    pub watch: bool,
    pub baselines: bool,
    /// Append the id of every accepted sale to this file, one per line.
    pub accepted_out: Option<PathBuf>,
    /// Ring every sale up in a register session, opened and closed with the run.
    pub sessions: bool,
}

pub async fn run(options: BenchOptions) -> ExitCode {
    match bench(&options).await {
        Ok(report) => {
            eprint!("{}", report.summary());
            println!("{}", report.json());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("tillstream bench: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(options: &BenchOptions) -> Result<Report, String> {
    let settings = ServiceSettings::from_env("sales", addrs::SALES).map_err(|e| e.to_string())?;
    let client = Client::builder()
        .pool_max_idle_per_host(options.tills.max(1))
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let store = setup::prepare(&client, options).await?;
    let watcher = if options.watch {
        Some(watch::Watcher::start(&settings).await?)
    } else {
        None
    };

    eprintln!(
        "tillstream bench: {} tills at {} locations for {} s, {}",
        options.tills,
        options.locations,
        options.seconds,
        options
            .rate
            .map_or("flat out".to_owned(), |r| format!("{r} sales/s"))
    );
    // Every till logs in before the clock starts: a login is Argon2id work, and tills still
    // logging in would bunch the first sales up behind them.
    let mut tills = Vec::with_capacity(options.tills);
    for n in 0..options.tills {
        tills.push(store.till(n).await?);
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let mut handles = Vec::with_capacity(options.tills);
    for (n, till) in tills.into_iter().enumerate() {
        let pace = match options.rate {
            Some(rate) => Pace::every(options.tills, rate, n),
            None => Pace::FlatOut,
        };
        handles.push(tokio::spawn(till.run(started, deadline, pace)));
    }
    let mut outcome = TillOutcome::new()?;
    for handle in handles {
        let till = handle
            .await
            .map_err(|e| format!("a till panicked: {e}"))??;
        outcome.merge(till);
    }
    let elapsed = started.elapsed();
    if let Some(path) = &options.accepted_out {
        outcome.append_accepted(path)?;
    }
    let followed = match watcher {
        Some(watcher) => Some(
            watcher
                .finish(&outcome.accepted, Duration::from_secs(60))
                .await?,
        ),
        None => None,
    };
    let baselines = if options.baselines {
        Some(baselines::measure(&settings, &client, options.tills).await?)
    } else {
        None
    };
    Ok(Report {
        tills: options.tills,
        locations: options.locations,
        target_rate: options.rate,
        elapsed,
        outcome,
        followed,
        baselines,
    })
}
