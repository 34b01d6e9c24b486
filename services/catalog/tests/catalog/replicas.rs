//! Two replicas of the catalog on one database: one leads (holds the election's lock and
//! relays), the other serves requests; when the leader stops, the other takes over and
//! relays what was written meanwhile, once.

use std::time::Duration;

use async_nats::jetstream;
use tillstream_catalog::{SERVICE, serve};
use tillstream_proto::catalog::v1 as pb;
use tillstream_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use tillstream_test_support::{TestStack, eventually};
use tokio_util::sync::CancellationToken;

/// Sessions holding the leader's lock in the catalog's database.
async fn leaders(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
           AND classid = 1414089804 AND objid = 1 \
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

fn product(sku: &str) -> pb::CreateProductRequest {
    pb::CreateProductRequest {
        sku: sku.into(),
        name: sku.into(),
        price: "1.00".into(),
        tax_rate: "0".into(),
        ..Default::default()
    }
}

/// How many events the catalog's stream holds, once it has `expected`.
async fn published(js: &jetstream::Context, stream: &str, expected: u64) -> u64 {
    eventually("the events are published", || async {
        let mut stream = js.get_stream(stream).await.ok()?;
        let count = stream.info().await.ok()?.state.messages;
        (count >= expected).then_some(count)
    })
    .await
}

#[tokio::test]
async fn one_replica_leads_and_the_other_takes_over_when_it_stops() {
    let mut stack = TestStack::new();
    let first_stop = CancellationToken::new();
    let first = stack.start_until(SERVICE, serve, first_stop.clone()).await;
    // The service creates its database as it starts.
    let settings = stack.settings(SERVICE);
    let url = format!("{}/{}", settings.database_url, settings.database);
    let pool = eventually("the catalog's database exists", || async {
        sqlx::PgPool::connect(&url).await.ok()
    })
    .await;
    eventually("the first replica leads", || async {
        (leaders(&pool).await == 1).then_some(())
    })
    .await;
    let second = stack.start(SERVICE, serve).await;
    let mut second_client = CatalogServiceClient::new(stack.admin(&second).await);
    let mut first_client = CatalogServiceClient::new(stack.admin(&first).await);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(leaders(&pool).await, 1, "one leader, whatever the replicas");

    // Written through the follower, relayed by the leader.
    eventually("the follower answers", || {
        let mut client = second_client.clone();
        async move { client.create_product(product("R-1")).await.ok() }
    })
    .await;
    first_client.create_product(product("R-2")).await.unwrap();
    let js = jetstream::new(
        async_nats::connect(tillstream_test_support::nats_url())
            .await
            .unwrap(),
    );
    let stream = stack.naming().service_stream("catalog");
    assert_eq!(published(&js, &stream, 2).await, 2);

    // The leader stops; the follower takes over within seconds and relays what it writes.
    first_stop.cancel();
    second_client.create_product(product("R-3")).await.unwrap();
    eventually("the second replica leads", || async {
        (leaders(&pool).await == 1).then_some(())
    })
    .await;
    assert_eq!(published(&js, &stream, 3).await, 3);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut info = js.get_stream(&stream).await.unwrap();
    assert_eq!(
        info.info().await.unwrap().state.messages,
        3,
        "each event published once"
    );
}
