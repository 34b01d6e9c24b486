//! Where a request's time went, as the W3C `Server-Timing` header: each process records the
//! stages of the request it is handling (`stage`, `time`) inside `timed`, and answers
//! them; the gateway passes a service's stages on under the service's name. `tillstream
//! bench` reads them back (`parse`) to show what its slowest sales spent their time on.

use std::cell::RefCell;
use std::fmt::Write;
use std::future::Future;
use std::time::{Duration, Instant};

/// The header, and the gRPC metadata entry a service answers its stages in.
pub const HEADER: &str = "server-timing";

/// At most this many stages are kept per request: a loop that records a stage each time
/// round cannot grow a header without bound. (A sale retried on an idempotency race five
/// times records 16 in sales, which the gateway's own three join.)
const MOST_STAGES: usize = 24;

tokio::task_local! {
    static STAGES: RefCell<Timing>;
}

/// The stages of one request, in the order they ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timing {
    stages: Vec<(String, Duration)>,
}

impl Timing {
    pub fn push(&mut self, name: impl Into<String>, took: Duration) {
        if self.stages.len() < MOST_STAGES {
            self.stages.push((name.into(), took));
        }
    }

    /// `other`'s stages after these.
    pub fn extend(&mut self, other: Timing) {
        for (name, took) in other.stages {
            self.push(name, took);
        }
    }

    /// Another process's stages, each named `{prefix}.{its name}`.
    pub fn extend_prefixed(&mut self, prefix: &str, header: &str) {
        for (name, millis) in parse(header) {
            // Milliseconds read as seconds, then divided: no float arithmetic, and a
            // duration too long for a `Duration` is the longest there is.
            let took = Duration::try_from_secs_f64(millis).unwrap_or(Duration::MAX) / 1000;
            self.push(format!("{prefix}.{name}"), took);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// `name;dur=1.234, ...` in milliseconds, as the header carries them.
    pub fn header_value(&self) -> String {
        let mut value = String::new();
        for (name, took) in &self.stages {
            if !value.is_empty() {
                value.push_str(", ");
            }
            let micros = took.as_micros();
            let _ = write!(value, "{name};dur={}.{:03}", micros / 1000, micros % 1000);
        }
        value
    }
}

/// Runs `future` recording its stages; returns its output and them.
pub async fn timed<F: Future>(future: F) -> (F::Output, Timing) {
    STAGES
        .scope(RefCell::new(Timing::default()), async move {
            let output = future.await;
            let timing = STAGES.with(|stages| stages.take());
            (output, timing)
        })
        .await
}

/// Records a stage that began at `started` and ends now; nothing outside `timed`.
pub fn stage(name: &str, started: Instant) {
    stage_took(name, started.elapsed());
}

/// Records a stage that took `took`; nothing outside `timed`.
pub fn stage_took(name: &str, took: Duration) {
    let _ = STAGES.try_with(|stages| stages.borrow_mut().push(name, took));
}

/// A service's stages, as it answered them, under its name; nothing outside `timed`.
pub fn stages_of(service: &str, header: &str) {
    let _ = STAGES.try_with(|stages| stages.borrow_mut().extend_prefixed(service, header));
}

/// Awaits `future` as the stage `name`.
pub async fn time<F: Future>(name: &str, future: F) -> F::Output {
    let started = Instant::now();
    let output = future.await;
    stage(name, started);
    output
}

/// The stages a `Server-Timing` value names with a duration, in milliseconds; an entry
/// without one, or with one that is not a finite, non-negative number, is left out.
pub fn parse(header: &str) -> Vec<(String, f64)> {
    header
        .split(',')
        .filter_map(|entry| {
            let mut params = entry.split(';').map(str::trim);
            let name = params.next().filter(|name| !name.is_empty())?;
            let millis = params
                .filter_map(|param| param.strip_prefix("dur="))
                .find_map(|value| value.parse::<f64>().ok())
                .filter(|millis| millis.is_finite() && *millis >= 0.0)?;
            Some((name.to_owned(), millis))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stages_recorded_inside_timed_come_back_in_order_and_none_outside() {
        stage_took("outside", Duration::from_millis(5));
        let (answer, timing) = timed(async {
            stage_took("begin", Duration::from_micros(1_250));
            time("append", async { 7 }).await
        })
        .await;
        assert_eq!(answer, 7);
        let stages = parse(&timing.header_value());
        assert_eq!(stages.len(), 2);
        assert_eq!(stages[0], ("begin".to_owned(), 1.25));
        assert_eq!(stages[1].0, "append");
    }

    #[tokio::test]
    async fn a_services_stages_are_passed_on_under_its_name() {
        let (_, timing) = timed(async {
            stages_of("sales", "begin;dur=0.5, commit;desc=\"x\";dur=2");
        })
        .await;
        assert_eq!(
            timing.header_value(),
            "sales.begin;dur=0.500, sales.commit;dur=2.000"
        );
    }

    #[test]
    fn entries_without_a_sound_duration_are_left_out() {
        let parsed = parse("a;dur=1.5, b, c;dur=-1, d;dur=NaN, e;dur=inf, ;dur=3, f;dur=x");
        assert_eq!(parsed, vec![("a".to_owned(), 1.5)]);
    }

    #[tokio::test]
    async fn an_absurd_duration_from_a_service_does_not_panic() {
        let (_, timing) = timed(async { stages_of("sales", "begin;dur=1e300") }).await;
        assert_eq!(timing.stages.len(), 1);
    }

    #[test]
    fn a_request_keeps_a_bounded_number_of_stages() {
        let mut timing = Timing::default();
        for n in 0..100 {
            timing.push(format!("s{n}"), Duration::from_millis(1));
        }
        assert_eq!(parse(&timing.header_value()).len(), MOST_STAGES);
    }
}
