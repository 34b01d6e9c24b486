//! The bench's report: one JSON object on stdout (for scripts and `docs/performance.md`)
//! and a short table on stderr (for people).

#![allow(
    clippy::float_arithmetic,
    reason = "rates and milliseconds, for reading"
)]

use std::fmt::Write;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use super::baselines::Baselines;
use super::stages;
use super::till::TillOutcome;
use super::watch::Followed;

#[derive(Debug)]
pub struct Report {
    pub tills: usize,
    pub locations: usize,
    pub target_rate: Option<u32>,
    pub elapsed: Duration,
    pub outcome: TillOutcome,
    pub followed: Option<Followed>,
    pub baselines: Option<Baselines>,
}

impl Report {
    pub fn sales_per_second(&self) -> f64 {
        self.outcome.accepted.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Sales per second over pgbench's single-row commits per second in the same run.
    fn sales_vs_pgbench(baselines: &Baselines, sales_per_second: f64) -> f64 {
        sales_per_second / baselines.pgbench_inserts_per_second.max(1e-9)
    }

    pub fn json(&self) -> Value {
        let mut report = json!({
            "tills": self.tills,
            "locations": self.locations,
            "target_rate": self.target_rate,
            "seconds": round(self.elapsed.as_secs_f64()),
            "sales_accepted": self.outcome.accepted.len(),
            "returns_accepted": self.outcome.returns_accepted,
            "sales_per_second": round(self.sales_per_second()),
            "latency_ms": percentiles(&self.outcome.latency),
            "errors": self.outcome.errors,
            "retried": self.outcome.retried,
            "abandoned": self.outcome.abandoned,
            "where_the_time_goes": stages::report(&self.outcome.timed),
        });
        if let Some(followed) = &self.followed {
            report["time_to_posted_ms"] = percentiles(&followed.to_posted);
            report["time_to_stock_ms"] = percentiles(&followed.to_stock);
            report["never_posted"] = json!(followed.unposted);
            report["never_in_stock"] = json!(followed.unstocked);
        }
        if let Some(baselines) = &self.baselines {
            let pg = baselines.pgbench_inserts_per_second;
            report["baselines"] = json!({
                "pgbench_single_row_inserts_per_second": round(pg),
                "jetstream_publishes_per_second": round(baselines.jetstream_publishes_per_second),
                "bare_axum_requests_per_second": round(baselines.bare_http.0),
                "bare_axum_latency_ms": percentiles(&baselines.bare_http.1),
            });
            // A fraction of a few hundredths: four places, or 2.6 % reads as 0.02.
            let ratio = Self::sales_vs_pgbench(baselines, self.sales_per_second());
            report["sales_vs_pgbench"] = json!((ratio * 10_000.0).round() / 10_000.0);
        }
        report
    }

    pub fn summary(&self) -> String {
        let mut out = String::new();
        let line = |h: &Histogram<u64>| {
            format!(
                "p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2} ms",
                ms(h, 50.0),
                ms(h, 95.0),
                ms(h, 99.0),
                h.max() as f64 / 1000.0
            )
        };
        let _ = writeln!(
            out,
            "sales accepted  {} in {:.1} s = {:.0}/s ({} returns)",
            self.outcome.accepted.len(),
            self.elapsed.as_secs_f64(),
            self.sales_per_second(),
            self.outcome.returns_accepted
        );
        let _ = writeln!(out, "sale latency    {}", line(&self.outcome.latency));
        if let Some(slowest) = stages::summary(&stages::report(&self.outcome.timed)) {
            let _ = writeln!(out, "{slowest}");
        }
        let _ = writeln!(
            out,
            "errors          {:?} (retried {}, abandoned {})",
            self.outcome.errors, self.outcome.retried, self.outcome.abandoned
        );
        if let Some(followed) = &self.followed {
            let _ = writeln!(out, "to posted       {}", line(&followed.to_posted));
            let _ = writeln!(out, "to stock        {}", line(&followed.to_stock));
        }
        if let Some(b) = &self.baselines {
            let _ = writeln!(
                out,
                "baselines       pgbench {:.0}/s (sales {:.2} % of it), JetStream publish \
                 {:.0}/s, bare axum {:.0}/s",
                b.pgbench_inserts_per_second,
                100.0 * Self::sales_vs_pgbench(b, self.sales_per_second()),
                b.jetstream_publishes_per_second,
                b.bare_http.0
            );
        }
        out
    }
}

fn ms(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    histogram.value_at_percentile(quantile) as f64 / 1000.0
}

pub(super) fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn percentiles(histogram: &Histogram<u64>) -> Value {
    json!({
        "count": histogram.len(),
        "p50": round(ms(histogram, 50.0)),
        "p95": round(ms(histogram, 95.0)),
        "p99": round(ms(histogram, 99.0)),
        "max": round(histogram.max() as f64 / 1000.0),
    })
}
