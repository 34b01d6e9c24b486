//! Durable consumers: effects once per event, retries, dead letters and their replay.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::PgConnection;
use tillstream_messaging::{
    ChunkHandled, Consumer, ConsumerConfig, DeadLetters, Handled, Handler, HandlerError,
    InboundEvent, StreamSettings, dead_letter_depth, ensure_service_stream,
};
use tokio_util::sync::CancellationToken;

use crate::support::{Fixture, SERVICE};

/// Records each event's SKU in a table: the effect whose count we check.
#[derive(Clone)]
pub(crate) struct RecordSkus {
    pub(crate) failing: Arc<AtomicBool>,
    /// A SKU whose event makes the handler panic, as unchecked arithmetic on a poison
    /// event would.
    pub(crate) panics_on: Option<&'static str>,
}

impl Handler for RecordSkus {
    async fn handle(&self, tx: &mut PgConnection, event: &InboundEvent) -> Handled {
        if self.failing.load(Ordering::SeqCst) {
            return Err(HandlerError::Retry("the downstream is away".into()));
        }
        let data = event.json().map_err(HandlerError::Reject)?;
        let sku = data["sku"]
            .as_str()
            .ok_or_else(|| HandlerError::Reject("no sku".into()))?;
        if self.panics_on == Some(sku) {
            panic!("attempt to multiply with overflow");
        }
        sqlx::query("INSERT INTO seen (sku) VALUES ($1)")
            .bind(sku)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

pub(crate) async fn seen_skus(fx: &Fixture) -> Vec<String> {
    sqlx::query_scalar("SELECT sku FROM seen ORDER BY sku")
        .fetch_all(fx.store.pool())
        .await
        .unwrap()
}

pub(crate) async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

/// Waits until consumer `name` (of `sales`) has been delivered everything and has
/// acknowledged it: acks follow the commit, so every effect is in by then. A condition, not
/// a sleep: an effect that comes late is still seen.
pub(crate) async fn all_acknowledged(fx: &Fixture, name: &str) {
    let durable = fx.naming.consumer("sales", name);
    let stream = fx.naming.service_stream(SERVICE);
    wait_until("every delivery is acknowledged", || {
        let (js, durable, stream) = (fx.js(), durable.clone(), stream.clone());
        // Not found is "not yet": an idle consumer's durable is made again now and then.
        async move {
            let Ok(stream) = js.get_stream(&stream).await else {
                return false;
            };
            let consumer: Result<async_nats::jetstream::consumer::PullConsumer, _> =
                stream.get_consumer(&durable).await;
            match consumer {
                Ok(mut consumer) => consumer
                    .info()
                    .await
                    .is_ok_and(|info| info.num_pending == 0 && info.num_ack_pending == 0),
                Err(_) => false,
            }
        }
    })
    .await;
}

async fn start_consumer(fx: &Fixture, failing: Arc<AtomicBool>) -> CancellationToken {
    start(
        fx,
        RecordSkus {
            failing,
            panics_on: None,
        },
    )
    .await
}

async fn start(fx: &Fixture, handler: RecordSkus) -> CancellationToken {
    seen_table(fx).await;
    let mut config = ConsumerConfig::new(fx.naming.clone(), "sales", "catalog", SERVICE);
    config.max_deliver = 3;
    config.backoff = vec![Duration::from_millis(20)];
    run(fx, handler, config).await
}

/// The table `RecordSkus` writes to.
pub(crate) async fn seen_table(fx: &Fixture) {
    sqlx::query("CREATE TABLE IF NOT EXISTS seen (sku text NOT NULL)")
        .execute(fx.store.pool())
        .await
        .unwrap();
}

/// Starts a consumer of `handler` until the token is cancelled.
pub(crate) async fn run<H: Handler>(
    fx: &Fixture,
    handler: H,
    config: ConsumerConfig,
) -> CancellationToken {
    let consumer = Consumer::new(fx.store.pool().clone(), fx.client.clone(), handler, config);
    consumer.ensure().await.unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(consumer.run(stop.clone()));
    stop
}

pub(crate) async fn stream_ready(fx: &Fixture) {
    ensure_service_stream(&fx.js(), &fx.naming, SERVICE, &StreamSettings::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_redelivered_event_has_no_second_effect() {
    let fx = Fixture::shared().await;
    stream_ready(&fx).await;
    let stop = start_consumer(&fx, Arc::new(AtomicBool::new(false))).await;
    fx.append_products(0, 5).await;
    let relay = fx.relay();
    fx.publish_everything(&relay).await;
    wait_until("five applied", || async { seen_skus(&fx).await.len() == 5 }).await;

    // The same events again under new message ids, as after a broker heal or a replay.
    relay
        .republish_from(tillstream_eventstore::Cursor::START)
        .await
        .unwrap();
    fx.publish_everything(&relay).await;
    assert_eq!(
        fx.stream_event_ids().await.len(),
        10,
        "every event was delivered twice"
    );
    all_acknowledged(&fx, "catalog").await;
    stop.cancel();
    assert_eq!(
        seen_skus(&fx).await,
        vec!["SKU-0", "SKU-1", "SKU-2", "SKU-3", "SKU-4"]
    );
}

#[tokio::test]
async fn a_handler_that_panics_on_one_event_dead_letters_it_and_goes_on() {
    let fx = Fixture::shared().await;
    stream_ready(&fx).await;
    let handler = RecordSkus {
        failing: Arc::new(AtomicBool::new(false)),
        panics_on: Some("SKU-2"),
    };
    let stop = start(&fx, handler).await;
    let ids = fx.append_products(0, 5).await;
    let relay = fx.relay();
    fx.publish_everything(&relay).await;

    wait_until("the others are applied", || async {
        seen_skus(&fx).await == vec!["SKU-0", "SKU-1", "SKU-3", "SKU-4"]
    })
    .await;
    let letters = DeadLetters::new(fx.client.clone(), fx.naming.clone());
    wait_until("the poison is dead-lettered", || async {
        letters.depth().await.unwrap() == 1
    })
    .await;
    let listed = letters.list(10).await.unwrap();
    assert_eq!(listed[0].event_id.as_deref(), Some(ids[2].as_str()));
    assert!(
        listed[0]
            .reason
            .contains("the handler panicked: attempt to multiply with overflow"),
        "{}",
        listed[0].reason
    );
    // Nothing the poison's attempt wrote is kept, and the consumer is still consuming.
    fx.append_products(5, 1).await;
    fx.publish_everything(&relay).await;
    wait_until("a later event is applied", || async {
        seen_skus(&fx).await.len() == 5
    })
    .await;
    stop.cancel();
}

#[tokio::test]
async fn an_event_that_keeps_failing_is_dead_lettered_and_can_be_replayed() {
    let fx = Fixture::shared().await;
    stream_ready(&fx).await;
    let failing = Arc::new(AtomicBool::new(true));
    let stop = start_consumer(&fx, failing.clone()).await;
    let ids = fx.append_products(0, 1).await;
    let relay = fx.relay();
    fx.publish_everything(&relay).await;

    let letters = DeadLetters::new(fx.client.clone(), fx.naming.clone());
    wait_until("the event is dead-lettered", || async {
        letters.depth().await.unwrap() == 1
    })
    .await;
    let listed = letters.list(10).await.unwrap();
    assert_eq!(listed.len(), 1);
    let letter = &listed[0];
    assert_eq!(letter.event_id.as_deref(), Some(ids[0].as_str()));
    assert_eq!(letter.consumer, fx.naming.consumer("sales", "catalog"));
    // The per-consumer depth behind `tillstream_dead_letters{consumer}`.
    let depth = |consumer: String| {
        let js = fx.js();
        let naming = fx.naming.clone();
        async move { dead_letter_depth(&js, &naming, &consumer).await.unwrap() }
    };
    assert_eq!(depth(fx.naming.consumer("sales", "catalog")).await, 1);
    assert_eq!(depth(fx.naming.consumer("ledger", "sales")).await, 0);
    assert_eq!(letter.deliveries, Some(3));
    assert!(
        letter.reason.contains("downstream is away"),
        "{}",
        letter.reason
    );
    assert!(seen_skus(&fx).await.is_empty());

    // The downstream is back; the operator replays.
    failing.store(false, Ordering::SeqCst);
    letters.replay(letter.sequence).await.unwrap();
    wait_until("the replay is applied", || async {
        seen_skus(&fx).await == vec!["SKU-0"]
    })
    .await;
    assert_eq!(letters.depth().await.unwrap(), 0);
    assert_eq!(depth(fx.naming.consumer("sales", "catalog")).await, 0);
    stop.cancel();
}

#[tokio::test]
async fn a_malformed_event_goes_to_the_dead_letters_at_once() {
    let fx = Fixture::shared().await;
    stream_ready(&fx).await;
    let stop = start_consumer(&fx, Arc::new(AtomicBool::new(false))).await;
    // No ce-id, not JSON: nothing a handler could apply.
    fx.js()
        .publish(
            format!("{}.catalog.product.Garbage", fx.naming.prefix()),
            "garbage".into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let letters = DeadLetters::new(fx.client.clone(), fx.naming.clone());
    wait_until("the garbage is dead-lettered", || async {
        letters.depth().await.unwrap() == 1
    })
    .await;
    let letter = letters.list(1).await.unwrap().remove(0);
    assert!(letter.reason.contains("ce-id"), "{}", letter.reason);
    assert_eq!(letter.deliveries, Some(1));
    letters.drop_letter(letter.sequence).await.unwrap();
    assert_eq!(letters.depth().await.unwrap(), 0);
    stop.cancel();
}

/// A fixture with the tables `RecordChunks` writes: the SKUs seen, and each call with the
/// events it was given.
async fn chunk_fixture() -> Fixture {
    let fx = Fixture::shared().await;
    stream_ready(&fx).await;
    for table in [
        "CREATE TABLE seen (sku text NOT NULL)",
        "CREATE TABLE calls (kind text NOT NULL, events int NOT NULL)",
    ] {
        sqlx::query(table).execute(fx.store.pool()).await.unwrap();
    }
    fx
}

/// Applies whole chunks with one statement, but declines any chunk holding `SKU-7`, which
/// then goes event by event through `handle`.
#[derive(Clone)]
struct RecordChunks;

impl Handler for RecordChunks {
    const HANDLES_CHUNKS: bool = true;

    async fn handle(&self, tx: &mut PgConnection, event: &InboundEvent) -> Handled {
        let data = event.json().map_err(HandlerError::Reject)?;
        sqlx::query("INSERT INTO seen (sku) VALUES ($1)")
            .bind(data["sku"].as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO calls (kind, events) VALUES ('event', 1)")
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    async fn handle_chunk(&self, tx: &mut PgConnection, events: &[&InboundEvent]) -> ChunkHandled {
        let skus = events
            .iter()
            .map(|e| {
                Ok(e.json().map_err(HandlerError::Reject)?["sku"]
                    .as_str()
                    .map(str::to_owned))
            })
            .collect::<Result<Vec<_>, HandlerError>>()?;
        if skus.iter().any(|s| s.as_deref() == Some("SKU-7")) {
            return Ok(false);
        }
        sqlx::query("INSERT INTO seen (sku) SELECT * FROM unnest($1::text[])")
            .bind(&skus)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO calls (kind, events) VALUES ('chunk', $1)")
            .bind(i32::try_from(events.len()).unwrap())
            .execute(&mut *tx)
            .await?;
        Ok(true)
    }
}

#[tokio::test]
async fn a_chunk_is_applied_at_once_and_one_it_declines_goes_event_by_event() {
    let fx = chunk_fixture().await;
    // A backlog before the consumer starts, so it arrives in chunks.
    fx.append_products(0, 40).await;
    let relay = fx.relay();
    fx.publish_everything(&relay).await;
    let mut config = ConsumerConfig::new(fx.naming.clone(), "sales", "chunks", SERVICE);
    config.batch_size = 10;
    let consumer = Consumer::new(
        fx.store.pool().clone(),
        fx.client.clone(),
        RecordChunks,
        config,
    );
    let stop = CancellationToken::new();
    tokio::spawn(consumer.run(stop.clone()));
    wait_until("forty applied", || async {
        seen_skus(&fx).await.len() == 40
    })
    .await;

    // Redelivered, the whole backlog has no second effect, chunk or not.
    relay
        .republish_from(tillstream_eventstore::Cursor::START)
        .await
        .unwrap();
    fx.publish_everything(&relay).await;
    all_acknowledged(&fx, "chunks").await;
    stop.cancel();
    let mut expected: Vec<String> = (0..40).map(|n| format!("SKU-{n}")).collect();
    expected.sort();
    assert_eq!(seen_skus(&fx).await, expected);
    let calls: Vec<(String, i64)> =
        sqlx::query_as("SELECT kind, sum(events)::bigint FROM calls GROUP BY kind ORDER BY kind")
            .fetch_all(fx.store.pool())
            .await
            .unwrap();
    let chunked = calls.iter().find(|(k, _)| k == "chunk").map_or(0, |c| c.1);
    let one_by_one = calls.iter().find(|(k, _)| k == "event").map_or(0, |c| c.1);
    assert_eq!(chunked + one_by_one, 40, "{calls:?}");
    assert!(chunked > 1, "some events went in chunks: {calls:?}");
    assert!(
        one_by_one >= 1,
        "the chunk with SKU-7 went event by event: {calls:?}"
    );
}

/// `RecordChunks`, noting each `lock_first` in `calls`; for a batch holding `SKU-23` it
/// writes a row and fails, which must cost neither that row's rollback nor the batch.
struct LocksFirst;

impl Handler for LocksFirst {
    const HANDLES_CHUNKS: bool = true;

    async fn lock_first(
        &self,
        tx: &mut PgConnection,
        events: &[&InboundEvent],
        chunked: bool,
    ) -> Handled {
        let skus: Vec<String> = events
            .iter()
            .filter_map(|e| Some(e.json().ok()?["sku"].as_str()?.to_owned()))
            .collect();
        let failing = skus.iter().any(|sku| sku == "SKU-23");
        let kind = match (failing, chunked) {
            (true, _) => "left behind",
            (false, true) => "locked before a chunk",
            (false, false) => "locked one by one",
        };
        sqlx::query("INSERT INTO calls (kind, events) VALUES ($1, $2)")
            .bind(kind)
            .bind(i32::try_from(events.len()).unwrap())
            .execute(&mut *tx)
            .await?;
        if failing {
            return Err(HandlerError::Retry("no lock for SKU-23".into()));
        }
        Ok(())
    }

    async fn handle(&self, tx: &mut PgConnection, event: &InboundEvent) -> Handled {
        RecordChunks.handle(tx, event).await
    }

    async fn handle_chunk(&self, tx: &mut PgConnection, events: &[&InboundEvent]) -> ChunkHandled {
        RecordChunks.handle_chunk(tx, events).await
    }
}

#[tokio::test]
async fn rows_are_locked_first_again_before_one_by_one_and_a_failed_lock_holds_nothing_up() {
    let fx = chunk_fixture().await;
    // A backlog before the consumer starts, so it arrives in chunks.
    fx.append_products(0, 40).await;
    fx.publish_everything(&fx.relay()).await;
    let mut config = ConsumerConfig::new(fx.naming.clone(), "sales", "locks", SERVICE);
    config.batch_size = 10;
    let stop = run(&fx, LocksFirst, config).await;
    wait_until("forty applied", || async {
        seen_skus(&fx).await.len() == 40
    })
    .await;
    stop.cancel();
    let mut expected: Vec<String> = (0..40).map(|n| format!("SKU-{n}")).collect();
    expected.sort();
    assert_eq!(seen_skus(&fx).await, expected, "every event applied once");
    let calls: Vec<(String, i64)> =
        sqlx::query_as("SELECT kind, max(events)::bigint FROM calls GROUP BY kind ORDER BY kind")
            .fetch_all(fx.store.pool())
            .await
            .unwrap();
    let most = |kind: &str| calls.iter().find(|(k, _)| k == kind).map(|c| c.1);
    assert_eq!(
        most("left behind"),
        None,
        "a failed lock's writes are kept: {calls:?}"
    );
    assert!(most("locked before a chunk") > Some(1), "{calls:?}");
    // The chunk with SKU-7, declined, is locked again before it goes event by event.
    assert!(most("locked one by one") > Some(1), "{calls:?}");
}

/// A consumer that keeps up lets events gather after a fetch that was not full: the events
/// published meanwhile, one by one, are applied in one commit rather than one each.
#[tokio::test]
async fn events_published_while_a_consumer_gathers_are_applied_together() {
    let fx = chunk_fixture().await;
    let mut config = ConsumerConfig::new(fx.naming.clone(), "sales", "gathering", SERVICE);
    // Far longer than six appends and publishes take, however loaded the machine.
    config.gather = Duration::from_secs(3);
    let stop = run(&fx, RecordChunks, config).await;
    let relay = fx.relay();
    fx.append_products(0, 1).await;
    fx.publish_everything(&relay).await;
    wait_until("the first applied", || async {
        seen_skus(&fx).await.len() == 1
    })
    .await;
    for n in 1..7 {
        fx.append_products(n, 1).await;
        fx.publish_everything(&relay).await;
    }
    wait_until("all seven applied", || async {
        seen_skus(&fx).await.len() == 7
    })
    .await;
    stop.cancel();
    let calls: Vec<(String, i32)> = sqlx::query_as("SELECT kind, events FROM calls ORDER BY ctid")
        .fetch_all(fx.store.pool())
        .await
        .unwrap();
    // One commit for the six, unless the client happened to hand the fetched six on in
    // two reads; without gathering, seven.
    assert_eq!(calls.first(), Some(&("event".to_owned(), 1)), "{calls:?}");
    assert!(
        calls.len() <= 3,
        "the six were one or two commits: {calls:?}"
    );
}

/// Records the SKUs of even-numbered products only.
struct EvenOnly(RecordSkus);

impl Handler for EvenOnly {
    fn wants(&self, event: &InboundEvent) -> bool {
        event
            .stream_id
            .as_deref()
            .is_some_and(|s| s.ends_with(['0', '2', '4', '6', '8']))
    }

    async fn handle(&self, tx: &mut PgConnection, event: &InboundEvent) -> Handled {
        self.0.handle(tx, event).await
    }
}

#[tokio::test]
async fn events_a_handler_does_not_want_are_acknowledged_without_an_inbox_row() {
    let fx = Fixture::shared().await;
    stream_ready(&fx).await;
    seen_table(&fx).await;
    let config = ConsumerConfig::new(fx.naming.clone(), "sales", "catalog", SERVICE);
    let handler = EvenOnly(RecordSkus {
        failing: Arc::new(AtomicBool::new(false)),
        panics_on: None,
    });
    let stop = run(&fx, handler, config).await;
    fx.append_products(0, 6).await;
    fx.publish_everything(&fx.relay()).await;
    all_acknowledged(&fx, "catalog").await;
    stop.cancel();

    assert_eq!(seen_skus(&fx).await, vec!["SKU-0", "SKU-2", "SKU-4"]);
    let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
        .fetch_one(fx.store.pool())
        .await
        .unwrap();
    assert_eq!(
        inbox, 3,
        "an inbox row for each wanted event, none for the others"
    );
}
