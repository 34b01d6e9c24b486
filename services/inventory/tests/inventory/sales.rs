//! Reactions to sales events: sold, returned to stock, void-reversed; each event once,
//! whatever is redelivered; counts that keep sales rung up while counting.

use prost::Message;
use tillstream_messaging::DeadLetters;
use tillstream_proto::inventory::v1 as pb;
use tillstream_proto::sales::v1 as sales;
use tillstream_test_support::eventually;

use crate::{Stack, event_id, sale_completed, start};

/// Waits until the item's level reads `on_hand`.
pub(crate) async fn level_becomes(stack: &Stack, location: &str, product: &str, on_hand: &str) {
    let inventory = stack.inventory.clone();
    eventually(&format!("the level becomes {on_hand}"), || {
        let mut client = inventory.clone();
        let request = pb::GetStockRequest {
            location_id: location.into(),
            product_id: product.into(),
            ..Default::default()
        };
        async move {
            let levels = client.get_stock(request).await.ok()?.into_inner().levels;
            levels.first().filter(|l| l.on_hand == on_hand).map(|_| ())
        }
    })
    .await;
}

pub(crate) fn returned(
    sale_id: &str,
    location: &str,
    product: &str,
    quantity: &str,
    restock: bool,
) -> Vec<u8> {
    sales::SaleReturned {
        sale_id: sale_id.into(),
        return_id: event_id(),
        location_id: location.into(),
        lines: vec![sales::ReturnedLine {
            line_no: 1,
            product_id: product.into(),
            quantity: quantity.into(),
            ..Default::default()
        }],
        restock,
        ..Default::default()
    }
    .encode_to_vec()
}

#[tokio::test]
async fn sales_returns_and_voids_move_stock_once_at_the_cost_it_left_with() {
    let mut stack = start().await;
    let shop = stack.location("S1").await;
    let beans = stack.product("BEANS", "").await;
    stack.receive(&shop, &beans, "10", "2.00").await;

    // Two lines of the same product in one sale, delivered twice.
    let first_sale = event_id();
    let sold = event_id();
    let data = sale_completed(&first_sale, &shop, &[(&beans, "2"), (&beans, "1")]);
    stack
        .publish_sales_event(&sold, "SaleCompleted", &first_sale, data.clone())
        .await;
    stack
        .publish_sales_event(&sold, "SaleCompleted", &first_sale, data)
        .await;
    level_becomes(&stack, &shop, &beans, "7").await;

    stack.receive(&shop, &beans, "10", "4.00").await; // average now 54 / 17
    let back = event_id();
    let data = returned(&first_sale, &shop, &beans, "1", true);
    stack
        .publish_sales_event(&back, "SaleReturned", &first_sale, data.clone())
        .await;
    stack
        .publish_sales_event(&back, "SaleReturned", &first_sale, data)
        .await;
    let kept = returned(&first_sale, &shop, &beans, "1", false);
    stack
        .publish_sales_event(&event_id(), "SaleReturned", &first_sale, kept)
        .await;
    level_becomes(&stack, &shop, &beans, "18").await;

    let second_sale = event_id();
    let data = sale_completed(&second_sale, &shop, &[(&beans, "4")]);
    stack
        .publish_sales_event(&event_id(), "SaleCompleted", &second_sale, data)
        .await;
    let voided = sales::SaleVoided {
        sale_id: second_sale.clone(),
        location_id: shop.clone(),
        reason: "rang up twice".into(),
        ..Default::default()
    }
    .encode_to_vec();
    stack
        .publish_sales_event(&event_id(), "SaleVoided", &second_sale, voided)
        .await;
    // The last sale's own sold movement, then its reversal: back to 18.
    let inventory = stack.inventory.clone();
    let history = eventually("the void is reversed", || {
        let mut client = inventory.clone();
        let request = pb::ListMovementsRequest {
            location_id: shop.clone(),
            product_id: beans.clone(),
            page: 1,
            limit: 50,
        };
        async move {
            let movements = client
                .list_movements(request)
                .await
                .ok()?
                .into_inner()
                .movements;
            (movements.first()?.kind == "void_reversed").then_some(movements)
        }
    })
    .await;
    let summary: Vec<_> = history
        .iter()
        .map(|m| (m.kind.as_str(), m.quantity.as_str(), m.unit_cost.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("void_reversed", "4", "3.1765"),
            ("sold", "-4", "3.1765"),
            ("returned", "1", "2.00"),
            ("received", "10", "4.00"),
            ("sold", "-1", "2.00"),
            ("sold", "-2", "2.00"),
            ("received", "10", "2.00"),
        ]
    );
    assert_eq!(history[0].reference, second_sale);
    assert_eq!(stack.level(&shop, &beans).await.on_hand, "18");
}

#[tokio::test]
async fn a_sale_of_something_inventory_never_heard_of_is_recorded_and_garbage_is_dead_lettered() {
    let mut stack = start().await;
    let (ghost_product, ghost_shop) = ("01JD00000000000000000GHOST", "01JD000000000000000000SHOP");
    let sale = event_id();
    let data = sale_completed(&sale, ghost_shop, &[(ghost_product, "2")]);
    stack
        .publish_sales_event(&event_id(), "SaleCompleted", &sale, data)
        .await;
    level_becomes(&stack, ghost_shop, ghost_product, "-2").await;

    stack
        .publish_sales_event(
            &event_id(),
            "SaleCompleted",
            &event_id(),
            b"\xff\xfe not protobuf".to_vec(),
        )
        .await;
    let client = async_nats::connect(&stack.services.prefix.url)
        .await
        .unwrap();
    let naming = tillstream_messaging::Naming::new(stack.services.prefix.prefix.clone()).unwrap();
    let letters = DeadLetters::new(client, naming);
    let dead = eventually("the garbage is dead-lettered", || {
        let letters = letters.clone();
        async move { letters.list(10).await.ok().filter(|l| !l.is_empty()) }
    })
    .await;
    assert_eq!(dead.len(), 1, "only the malformed event");
    assert_eq!(stack.level(ghost_shop, ghost_product).await.on_hand, "-2");
}

#[tokio::test]
async fn a_count_keeps_the_sales_rung_up_while_it_was_taken() {
    let mut stack = start().await;
    let shop = stack.location("S1").await;
    let beans = stack.product("BEANS", "").await;
    stack.receive(&shop, &beans, "10", "2.00").await;
    let counted_at = stack.movements(&shop, &beans).await[0].occurred_at.clone();

    // The shelves showed 9 (one missing) when counted; then a till sold 2.
    let sale = event_id();
    let data = sale_completed(&sale, &shop, &[(&beans, "2")]);
    stack
        .publish_sales_event(&event_id(), "SaleCompleted", &sale, data)
        .await;
    level_becomes(&stack, &shop, &beans, "8").await;

    let count = pb::CountStockRequest {
        location_id: shop.clone(),
        lines: vec![pb::CountLine {
            product_id: beans.clone(),
            counted: "9".into(),
        }],
        counted_at,
        ..Default::default()
    };
    let recorded = stack
        .inventory
        .count_stock(count)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        recorded.movements[0].quantity, "-1",
        "counted against the level then"
    );
    assert_eq!(recorded.levels[0].on_hand, "7", "the sale is not lost");
}

#[tokio::test]
async fn a_backlog_of_sales_with_redeliveries_takes_every_line_from_stock_once() {
    let mut stack = start().await;
    let shop = stack.location("S1").await;
    let tea = stack.product("TEA", "").await;
    let jam = stack.product("JAM", "").await;
    stack.receive(&shop, &tea, "1000", "1.00").await;
    stack.receive(&shop, &jam, "1000", "2.00").await;

    // 120 sales, each with the same product on two lines, published back to back so the
    // consumer takes them in chunks; every sixth is delivered again afterwards.
    let mut again = Vec::new();
    for n in 0..120 {
        let (sale, id) = (event_id(), event_id());
        let data = sale_completed(&sale, &shop, &[(&tea, "1"), (&jam, "2"), (&tea, "3")]);
        stack
            .publish_sales_event(&id, "SaleCompleted", &sale, data.clone())
            .await;
        if n % 6 == 0 {
            again.push((id, sale, data));
        }
    }
    for (id, sale, data) in again {
        stack
            .publish_sales_event(&id, "SaleCompleted", &sale, data)
            .await;
    }
    level_becomes(&stack, &shop, &tea, "520").await;
    level_becomes(&stack, &shop, &jam, "760").await;

    // Still so once inventory has acknowledged every delivery, the repeats included.
    stack
        .services
        .prefix
        .consumer_settled("inventory", "sales", "sales")
        .await;
    assert_eq!(stack.level(&shop, &tea).await.on_hand, "520");
    assert_eq!(stack.level(&shop, &jam).await.on_hand, "760");

    // Every write (the chunks, the receipts, the counts of the set-up) left its items'
    // snapshots where it left the items, so a load folds no events.
    let pool = stack.services.database("inventory").await;
    let behind: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT e.stream_id, max(e.version), max(s.version) FROM events e
         LEFT JOIN snapshots s USING (stream_id)
         WHERE e.stream_id LIKE 'stock-%' GROUP BY e.stream_id
         HAVING max(s.version) IS DISTINCT FROM max(e.version)",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(behind, vec![], "snapshots behind their streams");
    let client = async_nats::connect(&stack.services.prefix.url)
        .await
        .unwrap();
    let naming = tillstream_messaging::Naming::new(stack.services.prefix.prefix.clone()).unwrap();
    let js = async_nats::jetstream::new(client);
    if let Ok(mut letters) = js.get_stream(naming.dead_letter_stream()).await {
        let held = letters.info().await.unwrap().state.messages;
        assert_eq!(held, 0, "nothing dead-lettered");
    }
}
