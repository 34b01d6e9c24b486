//! A repair's row is taken by two consumers (parts fitted, on inventory's stream; its
//! collection, on sales'), each naming repairs in its stream's order: each batch takes the
//! rows of all the repairs it names first, in id order, so the two wait for each other
//! instead of PostgreSQL breaking a lock cycle between them.

use prost::Message;
use tillstream_proto::inventory::v1 as inventory;
use tillstream_test_support::{TestPrefix, TestStack, eventually, holding};

use super::backlog::{Movement, publish_movements, streams_of};

fn fitted(repair_id: &str) -> Movement {
    let part = inventory::StockFittedToRepair {
        product_id: "SCREEN".into(),
        location_id: "01TESTLOCATION0000000000000".into(),
        quantity: "1".into(),
        unit_cost: "4.00".into(),
        repair_id: repair_id.into(),
        repair_number: format!("R-{repair_id}"),
    };
    let id = ulid::Ulid::generate().to_string();
    ("StockFittedToRepair", id, part.encode_to_vec())
}

#[tokio::test]
async fn a_batch_of_parts_takes_its_repairs_rows_in_id_order_whatever_its_order() {
    let prefix = TestPrefix::new();
    let (naming, js) = streams_of(&prefix).await;
    let mut services = TestStack::on(prefix);
    let settings = services.settings("ledger");
    let pool = tillstream_service::connect_database(&settings, &tillstream_ledger::MIGRATOR)
        .await
        .unwrap();
    sqlx::query("INSERT INTO repair_costs (repair_id) VALUES ('REPAIR-A'), ('REPAIR-B')")
        .execute(&pool)
        .await
        .unwrap();

    // The sales consumer's batch, holding repair A's row and about to take B's.
    let lock = "SELECT 1 FROM repair_costs WHERE repair_id = $1 FOR UPDATE";
    let collections = holding(&pool, lock, "REPAIR-A").await;

    // Parts fitted to B, then to A, published before the ledger starts: its first fetch
    // brings both, one batch. (Were they ever delivered one by one, this would prove
    // nothing, but it would not fail.)
    publish_movements(&js, &naming, &[fitted("REPAIR-B"), fitted("REPAIR-A")], 0).await;
    services.start("ledger", tillstream_ledger::serve).await;
    let taken = collections.next_once_queued("REPAIR-B").await;
    assert!(
        taken.is_ok(),
        "the parts took repair B's row before A's: {taken:?}"
    );
    eventually("both parts posted", || {
        let pool = pool.clone();
        async move {
            let open: Vec<(String, String)> =
                sqlx::query_as("SELECT repair_id, open::text FROM repair_costs ORDER BY repair_id")
                    .fetch_all(&pool)
                    .await
                    .ok()?;
            let posted = [("REPAIR-A", "4.00"), ("REPAIR-B", "4.00")]
                .map(|(id, open)| (id.to_owned(), open.to_owned()));
            (open == posted).then_some(())
        }
    })
    .await;
}
