//! Follows the event streams for each sale's ledger entry (`EntryPosted` with source
//! `sale`) and its first stock movement (`StockSold`), noting when each arrived, so the
//! report can say how long a sale took to be booked and to reach stock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::StreamExt;
use hdrhistogram::Histogram;
use prost::Message;
use tillstream_proto::inventory::v1 as inventory;
use tillstream_proto::ledger::v1 as ledger;
use tillstream_service::ServiceSettings;
use tokio_util::sync::CancellationToken;

use super::till::latency_histogram;

/// When each sale was first seen posted, and first seen in stock.
#[derive(Debug, Default)]
struct Seen {
    posted: HashMap<String, Instant>,
    stocked: HashMap<String, Instant>,
}

#[derive(Debug)]
pub struct Watcher {
    seen: Arc<Mutex<Seen>>,
    stop: CancellationToken,
}

/// How long after its acceptance each sale was posted and in stock (µs).
#[derive(Debug)]
pub struct Followed {
    pub to_posted: Histogram<u64>,
    pub to_stock: Histogram<u64>,
    /// Accepted sales never seen posted / in stock within the wait.
    pub unposted: u64,
    pub unstocked: u64,
}

impl Watcher {
    /// Subscribes (plain NATS subscriptions on the streams' subjects: nothing durable is
    /// left behind) before the first sale is rung up.
    pub async fn start(settings: &ServiceSettings) -> Result<Watcher, String> {
        let (options, addr) = tillstream_service::nats_options(&settings.nats_url)?;
        let client = options
            .subscription_capacity(1 << 20)
            .connect(addr)
            .await
            .map_err(|e| format!("NATS: {e}"))?;
        let naming = &settings.naming;
        let mut entries = client
            .subscribe(naming.event_type_subjects("ledger", "EntryPosted"))
            .await
            .map_err(|e| e.to_string())?;
        let mut sold = client
            .subscribe(naming.event_type_subjects("inventory", "StockSold"))
            .await
            .map_err(|e| e.to_string())?;
        client.flush().await.map_err(|e| e.to_string())?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = CancellationToken::new();
        tokio::spawn({
            let (seen, stop) = (seen.clone(), stop.clone());
            async move {
                loop {
                    tokio::select! {
                        () = stop.cancelled() => break,
                        Some(message) = entries.next() => {
                            if let Ok(posted) = ledger::EntryPosted::decode(message.payload)
                                && let Some(entry) = posted.entry.filter(|e| e.source_type == "sale")
                            {
                                note(&seen, |s| &mut s.posted, entry.source_id);
                            }
                        }
                        Some(message) = sold.next() => {
                            if let Ok(movement) = inventory::StockSold::decode(message.payload) {
                                note(&seen, |s| &mut s.stocked, movement.sale_id);
                            }
                        }
                        else => break,
                    }
                }
                drop(client);
            }
        });
        Ok(Watcher { seen, stop })
    }

    /// Waits (up to `wait`) until every accepted sale was seen both posted and in stock.
    pub async fn finish(
        self,
        accepted: &[(String, Instant)],
        wait: Duration,
    ) -> Result<Followed, String> {
        let until = Instant::now() + wait;
        while Instant::now() < until {
            let all = {
                let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
                accepted
                    .iter()
                    .all(|(id, _)| seen.posted.contains_key(id) && seen.stocked.contains_key(id))
            };
            if all {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.stop.cancel();
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let mut followed = Followed {
            to_posted: latency_histogram()?,
            to_stock: latency_histogram()?,
            unposted: 0,
            unstocked: 0,
        };
        for (id, at) in accepted {
            match seen.posted.get(id) {
                Some(posted) => record(&mut followed.to_posted, *at, *posted),
                None => followed.unposted += 1,
            }
            match seen.stocked.get(id) {
                Some(stocked) => record(&mut followed.to_stock, *at, *stocked),
                None => followed.unstocked += 1,
            }
        }
        Ok(followed)
    }
}

fn note(seen: &Mutex<Seen>, map: impl Fn(&mut Seen) -> &mut HashMap<String, Instant>, id: String) {
    let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
    map(&mut seen).entry(id).or_insert_with(Instant::now);
}

/// From the answer to the event; an event seen before the till read its answer counts 0.
fn record(histogram: &mut Histogram<u64>, accepted: Instant, seen: Instant) {
    let micros = seen.saturating_duration_since(accepted).as_micros();
    let _ = histogram.record(u64::try_from(micros).unwrap_or(u64::MAX).max(1));
}
