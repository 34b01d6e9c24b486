//! A consumer whose handler wants nothing fetches nothing, stays caught up, and delivers
//! what is published once something is wanted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::{PgConnection, PgPool};
use tillstream_messaging::{ConsumerConfig, Handled, Handler, InboundEvent};

use crate::consumers::{
    RecordSkus, all_acknowledged, run, seen_skus, seen_table, stream_ready, wait_until,
};
use crate::support::{Fixture, SERVICE};

/// Wants every event while `subscribed` is set (as read by `refresh`), none otherwise, as
/// the webhooks' fan-out does with its subscriptions.
struct WhenSubscribed {
    subscribed: Arc<AtomicBool>,
    /// What the last refresh read; everything until the first.
    read: AtomicBool,
    record: RecordSkus,
}

impl Handler for WhenSubscribed {
    fn wants(&self, _event: &InboundEvent) -> bool {
        self.read.load(Ordering::SeqCst)
    }

    async fn refresh(&self, _pool: &PgPool) {
        self.read
            .store(self.subscribed.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    fn idle(&self) -> bool {
        !self.read.load(Ordering::SeqCst)
    }

    async fn handle(&self, tx: &mut PgConnection, event: &InboundEvent) -> Handled {
        self.record.handle(tx, event).await
    }
}

#[tokio::test]
async fn a_consumer_that_wants_nothing_skips_it_and_delivers_what_comes_once_something_is_wanted() {
    let fx = Fixture::shared().await;
    stream_ready(&fx).await;
    seen_table(&fx).await;
    let subscribed = Arc::new(AtomicBool::new(false));
    let handler = WhenSubscribed {
        subscribed: subscribed.clone(),
        read: AtomicBool::new(true),
        record: RecordSkus {
            failing: Arc::new(AtomicBool::new(false)),
            panics_on: None,
        },
    };
    let config = ConsumerConfig::new(fx.naming.clone(), "sales", "catalog", SERVICE);
    let stop = run(&fx, handler, config).await;
    let relay = fx.relay();

    // Fetched and ignored; then published while the consumer sleeps, and skipped: the
    // broker has nothing waiting for it either way.
    fx.append_products(0, 3).await;
    fx.publish_everything(&relay).await;
    all_acknowledged(&fx, "catalog").await;
    fx.append_products(3, 4).await;
    fx.publish_everything(&relay).await;
    all_acknowledged(&fx, "catalog").await;
    let inbox = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM inbox")
            .fetch_one(fx.store.pool())
            .await
            .unwrap()
    };
    assert_eq!(seen_skus(&fx).await, Vec::<String>::new());
    assert_eq!(inbox().await, 0);

    // Wanted from now on: whatever is published after it is delivered, once.
    subscribed.store(true, Ordering::SeqCst);
    fx.append_products(7, 2).await;
    fx.publish_everything(&relay).await;
    wait_until("the two published after are applied", || async {
        seen_skus(&fx).await.len() >= 2
    })
    .await;
    all_acknowledged(&fx, "catalog").await;
    stop.cancel();
    assert_eq!(seen_skus(&fx).await, vec!["SKU-7", "SKU-8"]);
    assert_eq!(inbox().await, 2);
}
