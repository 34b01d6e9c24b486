//! Where a sale's time goes: every answer's `Server-Timing` (the gateway's own stages and
//! the sales service's, passed on as `sales.*`) kept beside its latency, and, for the
//! report, each stage's percentiles and what the slowest 1 % of sales spent their time on,
//! down to the part no process accounts for (the bench's own client and the network).

#![allow(clippy::float_arithmetic, reason = "milliseconds, for reading")]

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use tillstream_telemetry::timing;

use super::report::round;
use super::till::latency_histogram;

/// The sales service's statements on a sale's usual path (`create_sale::at_once`): `start`
/// and `append`, with `begin` and `commit` for a sale in a transaction (in a session, say).
const STATEMENTS: [&str; 4] = ["sales.begin", "sales.start", "sales.append", "sales.commit"];

/// One accepted sale's latency and where it went.
#[derive(Debug, Clone)]
pub struct Timed {
    pub latency_micros: u64,
    /// From when the sale was due to when it was sent (a paced till still busy with the
    /// sale before; 0 flat out).
    pub waited_micros: u64,
    /// From when it was first sent to when the attempt that was answered was: the failed
    /// attempts and the pauses between them (0 when the first was answered).
    pub retrying_micros: u64,
    /// The answer's `Server-Timing`, as sent.
    pub server_timing: String,
}

impl Timed {
    /// Milliseconds by stage, with the parts no stage names worked out from the nesting:
    /// the gateway's call to sales holds the sales handler, which holds its statements.
    fn stages(&self) -> BTreeMap<String, f64> {
        let mut stages: BTreeMap<String, f64> = BTreeMap::new();
        for (name, millis) in timing::parse(&self.server_timing) {
            *stages.entry(name).or_default() += millis;
        }
        let get = |stages: &BTreeMap<String, f64>, name: &str| stages.get(name).copied();
        let latency = self.latency_micros as f64 / 1000.0;
        let waited = self.waited_micros as f64 / 1000.0;
        let retrying = self.retrying_micros as f64 / 1000.0;
        stages.insert("bench.waiting_to_send".into(), waited);
        stages.insert("bench.retrying".into(), retrying);
        // The answer's stages are the last attempt's.
        if let Some(gateway) = get(&stages, "gateway") {
            stages.insert(
                "bench.client_and_network".into(),
                (latency - waited - retrying - gateway).max(0.0),
            );
            let auth = get(&stages, "auth").unwrap_or_default();
            if let Some(sales) = get(&stages, "sales") {
                stages.insert("gateway.own".into(), (gateway - auth - sales).max(0.0));
                // All of the call when sales said nothing of its own time.
                let handler = get(&stages, "sales.handler");
                stages.insert(
                    "sales.in_transit".into(),
                    (sales - handler.unwrap_or_default()).max(0.0),
                );
                if let Some(handler) = handler {
                    let statements: f64 = STATEMENTS
                        .iter()
                        .filter_map(|name| get(&stages, name))
                        .sum();
                    stages.insert("sales.own".into(), (handler - statements).max(0.0));
                }
            }
        }
        stages
    }
}

/// The report's `where_the_time_goes`: each stage's p50 and p99 over every sale, and the
/// mean of each over the slowest 1 %.
pub fn report(timed: &[Timed]) -> Value {
    if timed.is_empty() {
        return Value::Null;
    }
    let mut latencies: Vec<u64> = timed.iter().map(|t| t.latency_micros).collect();
    latencies.sort_unstable();
    // The slowest hundredth (one sale at least), ties with its fastest included.
    let slowest_count = (latencies.len() / 100).max(1);
    let threshold = latencies[latencies.len() - slowest_count];
    let all: Vec<BTreeMap<String, f64>> = timed.iter().map(Timed::stages).collect();
    let mut percentiles = Map::new();
    let names: std::collections::BTreeSet<&String> = all.iter().flat_map(|s| s.keys()).collect();
    for name in names {
        let Ok(mut histogram) = latency_histogram() else {
            continue;
        };
        for stages in &all {
            if let Some(millis) = stages.get(name) {
                let _ = histogram.record(((millis * 1000.0) as u64).max(1));
            }
        }
        percentiles.insert(
            name.clone(),
            json!({
                "p50": round(histogram.value_at_percentile(50.0) as f64 / 1000.0),
                "p99": round(histogram.value_at_percentile(99.0) as f64 / 1000.0),
            }),
        );
    }
    let slowest: Vec<(&Timed, &BTreeMap<String, f64>)> = timed
        .iter()
        .zip(&all)
        .filter(|(t, _)| t.latency_micros >= threshold)
        .collect();
    let mut sums: BTreeMap<&String, f64> = BTreeMap::new();
    for (_, stages) in &slowest {
        for (name, millis) in stages.iter() {
            *sums.entry(name).or_default() += millis;
        }
    }
    let count = slowest.len().max(1) as f64;
    let mean_latency =
        slowest.iter().map(|(t, _)| t.latency_micros).sum::<u64>() as f64 / 1000.0 / count;
    let means: Map<String, Value> = sums
        .into_iter()
        .map(|(name, sum)| (name.clone(), json!(round(sum / count))))
        .collect();
    json!({
        "stages_ms": percentiles,
        "slowest_1_percent": {
            "sales": slowest.len(),
            "mean_latency_ms": round(mean_latency),
            "mean_ms": means,
        },
    })
}

/// The slowest 1 % in a line or two, the largest parts first (for people).
pub fn summary(report: &Value) -> Option<String> {
    let slowest = report.get("slowest_1_percent")?;
    let mut parts: Vec<(&String, f64)> = slowest["mean_ms"]
        .as_object()?
        .iter()
        .filter(|(name, _)| is_leaf(name))
        .filter_map(|(name, ms)| Some((name, ms.as_f64()?)))
        .collect();
    parts.sort_by(|a, b| b.1.total_cmp(&a.1));
    let listed: Vec<String> = parts
        .iter()
        .take(8)
        .map(|(name, ms)| format!("{name} {ms:.1}"))
        .collect();
    Some(format!(
        "slowest 1 %     {:.1} ms on average: {} ms",
        slowest["mean_latency_ms"].as_f64()?,
        listed.join(", ")
    ))
}

/// A stage no other holds: the parts that add up to a sale's latency.
fn is_leaf(name: &str) -> bool {
    !matches!(name, "gateway" | "sales" | "sales.handler")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sale(latency_ms: u64, server_timing: &str) -> Timed {
        Timed {
            latency_micros: latency_ms * 1000,
            waited_micros: 0,
            retrying_micros: 0,
            server_timing: server_timing.into(),
        }
    }

    #[test]
    fn the_parts_of_a_sale_add_up_to_its_latency() {
        let stages = sale(
            10,
            "gateway;dur=8, auth;dur=1, sales;dur=6, sales.begin;dur=0.5, sales.start;dur=1, \
             sales.append;dur=1.5, sales.commit;dur=2, sales.handler;dur=5.5",
        )
        .stages();
        let leaves: f64 = stages
            .iter()
            .filter(|(name, _)| is_leaf(name))
            .map(|(_, ms)| ms)
            .sum();
        assert!((leaves - 10.0).abs() < 1e-9, "{stages:?}");
        assert_eq!(stages["bench.client_and_network"], 2.0);
        assert_eq!(stages["gateway.own"], 1.0);
        assert_eq!(stages["sales.in_transit"], 0.5);
        assert_eq!(stages["sales.own"], 0.5);

        let retried = Timed {
            latency_micros: 150_000,
            waited_micros: 0,
            retrying_micros: 140_000,
            server_timing: "gateway;dur=8".into(),
        }
        .stages();
        assert_eq!(retried["bench.retrying"], 140.0);
        assert_eq!(retried["bench.client_and_network"], 2.0);
    }

    #[test]
    fn the_slowest_one_percent_is_averaged_by_stage() {
        let mut timed: Vec<Timed> = (0..99).map(|_| sale(2, "gateway;dur=1")).collect();
        timed.push(sale(50, "gateway;dur=40, sales;dur=39"));
        let report = report(&timed);
        assert_eq!(report["slowest_1_percent"]["sales"], 1);
        assert_eq!(report["slowest_1_percent"]["mean_ms"]["gateway"], 40.0);
        assert_eq!(
            report["slowest_1_percent"]["mean_ms"]["bench.client_and_network"],
            10.0
        );
        let line = summary(&report).unwrap_or_default();
        assert!(line.starts_with("slowest 1 %     50.0 ms"), "{line}");
        assert!(line.contains("sales.in_transit 39.0"), "{line}");
    }

    #[test]
    fn no_sales_no_breakdown() {
        assert_eq!(report(&[]), Value::Null);
    }
}
