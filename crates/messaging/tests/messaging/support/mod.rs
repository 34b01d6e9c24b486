//! Shared set-up: a store on its own database, a prefix of its own, a running relay.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use serde_json::json;
use tillstream_eventstore::{AppendRequest, DatabaseConfig, EventStore, NewEvent, connect};
use tillstream_messaging::{JsonWire, Naming, Relay, RelayConfig, StreamSettings, headers};
use tillstream_test_support::{TestDatabase, TestPrefix};
use tokio_util::sync::CancellationToken;

pub const SERVICE: &str = "catalog";

pub struct Fixture {
    pub store: EventStore,
    pub naming: Naming,
    pub client: async_nats::Client,
    pub _db: TestDatabase,
    pub _prefix: TestPrefix,
}

impl Fixture {
    pub async fn on(nats_url: String) -> Self {
        let db = TestDatabase::create().await.unwrap();
        let pool = connect(&DatabaseConfig::new(db.server_url.clone(), db.name.clone()))
            .await
            .unwrap();
        let prefix = TestPrefix::on(nats_url.clone());
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connect(&nats_url)
            .await
            .unwrap();
        Fixture {
            store: EventStore::new(pool),
            naming: Naming::new(prefix.prefix.clone()).unwrap(),
            client,
            _db: db,
            _prefix: prefix,
        }
    }

    pub async fn shared() -> Self {
        Self::on(tillstream_test_support::nats_url()).await
    }

    pub fn relay(&self) -> Relay {
        self.relay_verifying_every(Duration::from_millis(200))
    }

    /// A relay whose periodic check (which also reads the log) comes every `every`.
    pub fn relay_verifying_every(&self, every: Duration) -> Relay {
        self.relay_with(RelayConfig::new(SERVICE, self.naming.clone()), every)
    }

    /// A relay reading `batch_size` events at a time, woken by nothing but the commits.
    pub fn relay_in_batches_of(&self, batch_size: i64) -> Relay {
        let mut config = RelayConfig::new(SERVICE, self.naming.clone());
        config.batch_size = batch_size;
        self.relay_with(config, Duration::from_secs(3600))
    }

    fn relay_with(&self, mut config: RelayConfig, every: Duration) -> Relay {
        config.stream = StreamSettings {
            max_age: Duration::from_secs(600),
            ..Default::default()
        };
        config.verify_every = every;
        config.max_backoff = Duration::from_millis(300);
        Relay::new(
            self.store.clone(),
            self.client.clone(),
            Arc::new(JsonWire),
            config,
        )
    }

    pub fn spawn_relay(&self) -> CancellationToken {
        let token = CancellationToken::new();
        tokio::spawn(self.relay().run(token.clone()));
        token
    }

    /// Appends `count` one-event products; returns their event ids.
    pub async fn append_products(&self, from: usize, count: usize) -> Vec<String> {
        let mut ids = Vec::with_capacity(count);
        for n in from..from + count {
            let event =
                NewEvent::new("ProductCreated", &json!({"sku": format!("SKU-{n}")})).unwrap();
            ids.push(event.event_id.to_string());
            self.store
                .append(AppendRequest::new(format!("product-{n}"), 0, vec![event]))
                .await
                .unwrap();
        }
        ids
    }

    /// Runs the relay's rounds until its checkpoint reaches the end of the log. Not
    /// "until a round publishes nothing": the read horizon is cluster-wide, so another
    /// test's open transaction can hold a round back for a moment.
    pub async fn publish_everything(&self, relay: &Relay) {
        let head = self.store.head().await.unwrap();
        for _ in 0..2000 {
            if relay.publish_batch().await.unwrap() == 0 {
                if relay.position().await.unwrap().0 >= head {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        panic!("the relay never reached the end of the log");
    }

    pub fn js(&self) -> jetstream::Context {
        jetstream::new(self.client.clone())
    }

    /// How many messages the service's stream holds (0 before it exists).
    pub async fn stream_messages(&self) -> u64 {
        match self
            .js()
            .get_stream(self.naming.service_stream(SERVICE))
            .await
        {
            Ok(mut stream) => stream.info().await.map_or(0, |info| info.state.messages),
            Err(_) => 0,
        }
    }

    /// The `ce-id` of every message in the service's stream.
    pub async fn stream_event_ids(&self) -> Vec<String> {
        use async_nats::jetstream::context::GetStreamErrorKind;
        let stream = match self
            .js()
            .get_stream(self.naming.service_stream(SERVICE))
            .await
        {
            Ok(stream) => stream,
            // Deleted by the test; the relay will recreate it.
            Err(e) if matches!(e.kind(), GetStreamErrorKind::JetStream(ref j) if j.code() == 404) =>
            {
                return Vec::new();
            }
            Err(e) => panic!("stream lookup failed: {e}"),
        };
        let state = stream.get_info().await.unwrap().state;
        let mut ids = Vec::new();
        if state.messages == 0 {
            return ids;
        }
        for seq in state.first_sequence..=state.last_sequence {
            use async_nats::jetstream::stream::RawMessageErrorKind;
            match stream.get_raw_message(seq).await {
                Ok(message) => ids.push(
                    message
                        .headers
                        .get(headers::ID)
                        .unwrap()
                        .as_str()
                        .to_owned(),
                ),
                Err(e) if e.kind() == RawMessageErrorKind::NoMessageFound => {}
                Err(e) => panic!("reading message {seq} failed: {e}"),
            }
        }
        ids
    }

    /// Waits until the stream holds every id in `expected`.
    pub async fn wait_for_stream_to_hold(&self, expected: &[String]) -> Vec<String> {
        self.wait_for_stream_to_hold_copies(expected, 1).await
    }

    /// Waits until `relay`'s stored checkpoint reaches the end of the log.
    pub async fn wait_for_checkpoint_at_head(&self, relay: &Relay) {
        let head = self.store.head().await.unwrap();
        for _ in 0..200 {
            if relay.position().await.unwrap().0 >= head {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the relay's checkpoint never reached the end of the log");
    }

    /// Waits until the stream holds every one of `expected` at least `copies` times.
    pub async fn wait_for_stream_to_hold_copies(
        &self,
        expected: &[String],
        copies: usize,
    ) -> Vec<String> {
        let mut held = Vec::new();
        for _ in 0..200 {
            held = self.stream_event_ids().await;
            let count = |id: &String| held.iter().filter(|h| *h == id).count();
            if expected.iter().all(|id| count(id) >= copies) {
                return held;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "stream never held {copies} copies of all {} events; it has {}",
            expected.len(),
            held.len()
        );
    }
}

pub fn assert_each_once(held: &[String], expected: &[String]) {
    let unique: HashSet<&String> = held.iter().collect();
    assert_eq!(unique.len(), held.len(), "no event is in the stream twice");
    let wanted: HashSet<&String> = expected.iter().collect();
    assert_eq!(
        unique, wanted,
        "the stream holds exactly the store's events"
    );
}
