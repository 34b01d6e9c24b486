//! Several stock items are taken in the order a chunk of sales takes them (stream order),
//! whatever the order of the lines that name them: a receipt's, a sale's handled on its
//! own. Each waits for a chunk holding the first item without taking the second, so the two
//! queue instead of PostgreSQL breaking a lock cycle between them.

use tillstream_test_support::{HeldRow, holding};

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

async fn hold_the_first_item(code: &str) -> Held {
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
    let pool = stack.services.database("inventory").await;
    let lock = "SELECT 1 FROM snapshots WHERE stream_id = $1 FOR UPDATE";
    let chunk = holding(&pool, lock, &stream(&first, &shop)).await;
    Held {
        stack,
        shop,
        first,
        second,
        chunk,
    }
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
        eventually("the sale is taken from stock", || {
            let mut inventory = stack.inventory.clone();
            let request = pb::GetStockRequest {
                location_id: shop.clone(),
                product_id: product.clone(),
                ..Default::default()
            };
            async move {
                let levels = inventory.get_stock(request).await.ok()?.into_inner().levels;
                levels.into_iter().find(|level| level.on_hand == "3")
            }
        })
        .await;
    }
}
