//! Several stock items are taken in the order a chunk of sales takes them (stream order),
//! whatever the order of the lines that name them: a receipt's, a sale's handled on its
//! own, a repair's parts put back. Each waits for a chunk holding the first item without
//! taking the second, so the two queue instead of PostgreSQL breaking a lock cycle between
//! them.

use tillstream_eventstore::EventStore;
use tillstream_inventory::consumers::sales::SalesMovements;
use tillstream_messaging::{Handler, HandlerError, InboundEvent};
use tillstream_proto::sales::v1 as sales;
use tillstream_test_support::{HeldRow, TestDatabase, holding, inbound_event};

use crate::sales::{level_becomes, returned};

use super::*;

/// Two stocked items at one shop, in stream order, and a transaction holding the first's
/// snapshot row as a chunk of sales does before it takes the second's.
struct Held {
    stack: Stack,
    shop: String,
    first: String,
    second: String,
    chunk: HeldRow,
}

fn stream(product: &str, shop: &str) -> String {
    format!("stock-{product}:{shop}")
}

/// Two stocked items at one shop, in stream order.
struct Stocked {
    stack: Stack,
    shop: String,
    first: String,
    second: String,
}

async fn two_stocked_items(code: &str) -> Stocked {
    let mut stack = start().await;
    let shop = stack.location(code).await;
    let tea = stack.product(&format!("{code}-TEA"), "0").await;
    let jam = stack.product(&format!("{code}-JAM"), "0").await;
    stack.receive(&shop, &tea, "5", "1.00").await;
    stack.receive(&shop, &jam, "5", "2.00").await;
    let (first, second) = if stream(&tea, &shop) < stream(&jam, &shop) {
        (tea, jam)
    } else {
        (jam, tea)
    };
    Stocked {
        stack,
        shop,
        first,
        second,
    }
}

impl Stocked {
    async fn hold_the_first_item(mut self) -> Held {
        let pool = self.stack.services.database("inventory").await;
        let lock = "SELECT 1 FROM snapshots WHERE stream_id = $1 FOR UPDATE";
        let chunk = holding(&pool, lock, &stream(&self.first, &self.shop)).await;
        Held {
            stack: self.stack,
            shop: self.shop,
            first: self.first,
            second: self.second,
            chunk,
        }
    }
}

async fn hold_the_first_item(code: &str) -> Held {
    two_stocked_items(code).await.hold_the_first_item().await
}

impl Held {
    /// Once the writer under test waits for the chunk, the chunk takes the second item:
    /// free, unless the writer took it before the first. Then the chunk commits.
    async fn the_second_item_is_free_while_the_writer_waits(self) -> Stack {
        let taken = self
            .chunk
            .next_once_queued(&stream(&self.second, &self.shop))
            .await;
        assert!(
            taken.is_ok(),
            "the writer took the second item's row before the first's: {taken:?}"
        );
        self.stack
    }
}

#[tokio::test]
async fn a_receipt_takes_its_items_in_stream_order_whatever_its_line_order() {
    let held = hold_the_first_item("LOCKR").await;
    let (shop, first, second) = (held.shop.clone(), held.first.clone(), held.second.clone());
    let mut request = receipt(&shop, &second, "3", "2.00");
    let first_line = receipt(&shop, &first, "3", "1.00").lines;
    request.lines.extend(first_line);
    let mut client = held.stack.inventory.clone();
    let recorded = tokio::spawn(async move { client.receive_stock(request).await });

    let mut stack = held.the_second_item_is_free_while_the_writer_waits().await;
    recorded.await.unwrap().unwrap();
    assert_eq!(stack.level(&shop, &first).await.on_hand, "8");
    assert_eq!(stack.level(&shop, &second).await.on_hand, "8");
}

#[tokio::test]
async fn a_sale_taken_on_its_own_takes_its_items_in_stream_order_whatever_its_line_order() {
    let held = hold_the_first_item("LOCKS").await;
    let (shop, first, second) = (held.shop.clone(), held.first.clone(), held.second.clone());
    let sale_id = event_id();
    let lines = [(second.as_str(), "2"), (first.as_str(), "2")];
    let data = sale_completed(&sale_id, &shop, &lines);
    held.stack
        .publish_sales_event(&event_id(), "SaleCompleted", &sale_id, data)
        .await;

    let stack = held.the_second_item_is_free_while_the_writer_waits().await;
    for product in [&first, &second] {
        level_becomes(&stack, &shop, product, "3").await;
    }
}

fn part(part_no: i32, product_id: &str) -> sales::RepairPart {
    sales::RepairPart {
        part_no,
        product_id: product_id.into(),
        quantity: "1".into(),
        ..Default::default()
    }
}

fn part_fitted(repair_id: &str, shop: &str, part: sales::RepairPart) -> sales::RepairPartFitted {
    sales::RepairPartFitted {
        repair_id: repair_id.into(),
        number: format!("R-{repair_id}"),
        location_id: shop.into(),
        part: Some(part),
    }
}

/// A repair whose second part is fitted in the batch that cancels it: the cancellation,
/// which waits for that part before it applies, still names the first part it will put
/// back, so the batch takes both items in stream order before the fitting takes the second.
#[tokio::test]
async fn a_repair_cancelled_in_the_batch_of_its_last_fitting_takes_every_part_in_stream_order() {
    let mut stocked = two_stocked_items("LOCKC").await;
    let (shop, first, second) = (
        stocked.shop.clone(),
        stocked.first.clone(),
        stocked.second.clone(),
    );
    let repair_id = event_id();
    let fitted_first = part_fitted(&repair_id, &shop, part(1, &first)).encode_to_vec();
    stocked
        .stack
        .publish_sales_event(&event_id(), "RepairPartFitted", &repair_id, fitted_first)
        .await;
    level_becomes(&stocked.stack, &shop, &first, "4").await;

    let pool = stocked.stack.services.database("inventory").await;
    let held = stocked.hold_the_first_item().await;
    let cancelled = sales::RepairCancelled {
        repair_id: repair_id.clone(),
        number: format!("R-{repair_id}"),
        location_id: shop.clone(),
        parts: vec![part(1, &first), part(2, &second)],
        ..Default::default()
    };
    let batch = [
        inbound_event(
            "tillstream.sales.v1.RepairPartFitted",
            &repair_id,
            part_fitted(&repair_id, &shop, part(2, &second)).encode_to_vec(),
        ),
        inbound_event(
            "tillstream.sales.v1.RepairCancelled",
            &repair_id,
            cancelled.encode_to_vec(),
        ),
    ];
    let consumer = SalesMovements {
        store: EventStore::new(pool.clone()),
    };
    let applied = tokio::spawn(async move {
        let batch: Vec<&InboundEvent> = batch.iter().collect();
        let mut tx = pool.begin().await.unwrap();
        consumer.lock_first(&mut tx, &batch, false).await.unwrap();
        for event in batch {
            consumer.handle(&mut tx, event).await.unwrap();
        }
        tx.commit().await.unwrap();
    });

    let mut stack = held.the_second_item_is_free_while_the_writer_waits().await;
    applied.await.unwrap();
    assert_eq!(stack.level(&shop, &first).await.on_hand, "5");
    assert_eq!(stack.level(&shop, &second).await.on_hand, "5");
}

/// A read that fails while the batch names its rows (here: in a transaction already
/// aborted) fails the batch, to be delivered again, rather than letting it go on without
/// the rows it could not name.
#[tokio::test]
async fn a_read_failing_while_the_batch_names_its_rows_fails_the_batch() {
    let db = TestDatabase::create().await.unwrap();
    let pool = db.pool(2).await.unwrap();
    let consumer = SalesMovements {
        store: EventStore::new(pool.clone()),
    };
    let sale = event_id();
    let back = inbound_event(
        "tillstream.sales.v1.SaleReturned",
        &sale,
        returned(&sale, "shop", "tea", "1", true),
    );
    let mut tx = pool.begin().await.unwrap();
    assert!(sqlx::query("SELECT 1/0").execute(&mut *tx).await.is_err());

    let named = consumer.lock_first(&mut tx, &[&back], false).await;
    assert!(
        matches!(named, Err(HandlerError::Retry(_))),
        "a failed read is a retry: {named:?}"
    );
}
