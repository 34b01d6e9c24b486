//! Random sequences of every movement kind, through the real service: the level the read
//! model answers is the fold of the recorded movements, and both equal a model of what
//! each movement does.

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use prost::Message;
use rust_decimal::Decimal;
use tillstream_proto::inventory::v1 as pb;
use tillstream_proto::sales::v1 as sales;
use tillstream_test_support::eventually;

use crate::{Stack, event_id, receipt, sale_completed, start};

#[derive(Debug, Clone)]
enum Op {
    Receive {
        item: usize,
        quantity: i64,
    },
    Adjust {
        item: usize,
        delta: i64,
    },
    Count {
        item: usize,
        counted: i64,
    },
    Transfer {
        item: usize,
        quantity: i64,
    },
    Sell {
        item: usize,
        quantity: i64,
    },
    Return {
        sale: usize,
        quantity: i64,
        restock: bool,
    },
    Void {
        sale: usize,
    },
}

/// Items are (product, location) pairs: 2 products × 2 locations.
const ITEMS: usize = 4;

fn op() -> impl Strategy<Value = Op> {
    let item = 0..ITEMS;
    let quantity = 1i64..5_000; // thousandths
    prop_oneof![
        (item.clone(), quantity.clone())
            .prop_map(|(item, quantity)| Op::Receive { item, quantity }),
        (
            item.clone(),
            (-3_000i64..3_000).prop_filter("moves", |d| *d != 0)
        )
            .prop_map(|(item, delta)| Op::Adjust { item, delta }),
        (item.clone(), 0i64..10_000).prop_map(|(item, counted)| Op::Count { item, counted }),
        (item.clone(), quantity.clone())
            .prop_map(|(item, quantity)| Op::Transfer { item, quantity }),
        (item, quantity.clone()).prop_map(|(item, quantity)| Op::Sell { item, quantity }),
        (0usize..8, quantity, any::<bool>()).prop_map(|(sale, quantity, restock)| Op::Return {
            sale,
            quantity,
            restock
        }),
        (0usize..8).prop_map(|sale| Op::Void { sale }),
    ]
}

fn qty(thousandths: i64) -> Decimal {
    Decimal::new(thousandths, 3)
}

struct Sale {
    id: String,
    item: usize,
    open: Decimal,
    voided: bool,
}

struct Model {
    items: Vec<(String, String)>,
    level: HashMap<usize, Decimal>,
    movements: HashMap<usize, u64>,
    sales: Vec<Sale>,
}

impl Model {
    fn moved(&mut self, item: usize, delta: Decimal) {
        *self.level.entry(item).or_default() += delta;
        *self.movements.entry(item).or_default() += 1;
    }

    /// The item at the other location, same product.
    fn partner(item: usize) -> usize {
        item ^ 1
    }
}

async fn movements_reach(stack: &Stack, (product, location): &(String, String), count: u64) {
    let inventory = stack.inventory.clone();
    eventually(&format!("{count} movements recorded"), || {
        let mut client = inventory.clone();
        let request = pb::ListMovementsRequest {
            product_id: product.clone(),
            location_id: location.clone(),
            page: 1,
            limit: 1,
        };
        async move {
            let total = client
                .list_movements(request)
                .await
                .ok()?
                .into_inner()
                .total;
            (total == count).then_some(())
        }
    })
    .await;
}

async fn run(stack: &mut Stack, model: &mut Model, ops: Vec<Op>) {
    for op in ops {
        match op {
            Op::Receive { item, quantity } => {
                let (p, l) = model.items[item].clone();
                let request = receipt(&l, &p, &qty(quantity).to_string(), "1.25");
                stack.inventory.receive_stock(request).await.unwrap();
                model.moved(item, qty(quantity));
            }
            Op::Adjust { item, delta } => {
                let (p, l) = model.items[item].clone();
                let request = pb::AdjustStockRequest {
                    location_id: l,
                    product_id: p,
                    delta: qty(delta).to_string(),
                    reason: "property".into(),
                    ..Default::default()
                };
                stack.inventory.adjust_stock(request).await.unwrap();
                model.moved(item, qty(delta));
            }
            Op::Count { item, counted } => {
                let (p, l) = model.items[item].clone();
                let request = pb::CountStockRequest {
                    location_id: l,
                    lines: vec![pb::CountLine {
                        product_id: p,
                        counted: qty(counted).to_string(),
                    }],
                    counted_at: String::new(),
                    ..Default::default()
                };
                stack.inventory.count_stock(request).await.unwrap();
                let before = model.level.get(&item).copied().unwrap_or_default();
                model.moved(item, qty(counted) - before);
            }
            Op::Transfer { item, quantity } => {
                let ((p, from), (_, to)) = (
                    model.items[item].clone(),
                    model.items[Model::partner(item)].clone(),
                );
                let request = pb::TransferStockRequest {
                    from_location_id: from,
                    to_location_id: to,
                    lines: vec![pb::TransferLine {
                        product_id: p,
                        quantity: qty(quantity).to_string(),
                    }],
                    reference: String::new(),
                    ..Default::default()
                };
                stack.inventory.transfer_stock(request).await.unwrap();
                model.moved(item, -qty(quantity));
                model.moved(Model::partner(item), qty(quantity));
            }
            Op::Sell { item, quantity } => {
                let (p, l) = model.items[item].clone();
                let id = event_id();
                let data = sale_completed(&id, &l, &[(&p, &qty(quantity).to_string())]);
                stack
                    .publish_sales_event(&event_id(), "SaleCompleted", &id, data)
                    .await;
                model.moved(item, -qty(quantity));
                model.sales.push(Sale {
                    id,
                    item,
                    open: qty(quantity),
                    voided: false,
                });
                movements_reach(stack, &model.items[item], model.movements[&item]).await;
            }
            Op::Return {
                sale,
                quantity,
                restock,
            } => {
                let Some(sale) = model.sales.get_mut(sale).filter(|s| !s.voided) else {
                    continue;
                };
                let quantity = qty(quantity).min(sale.open);
                if quantity.is_zero() {
                    continue;
                }
                sale.open -= quantity;
                let (id, item) = (sale.id.clone(), sale.item);
                let (p, l) = model.items[item].clone();
                let data = sales::SaleReturned {
                    sale_id: id.clone(),
                    return_id: event_id(),
                    location_id: l,
                    lines: vec![sales::ReturnedLine {
                        line_no: 1,
                        product_id: p,
                        quantity: quantity.to_string(),
                        ..Default::default()
                    }],
                    restock,
                    ..Default::default()
                };
                stack
                    .publish_sales_event(&event_id(), "SaleReturned", &id, data.encode_to_vec())
                    .await;
                if restock {
                    model.moved(item, quantity);
                    movements_reach(stack, &model.items[item], model.movements[&item]).await;
                }
            }
            Op::Void { sale } => {
                // The sales service refuses a void after a return; so does the model.
                let Some(sale) = model
                    .sales
                    .get_mut(sale)
                    .filter(|s| !s.voided && s.open > Decimal::ZERO)
                else {
                    continue;
                };
                sale.voided = true;
                let (id, item, quantity) = (sale.id.clone(), sale.item, sale.open);
                let l = model.items[item].1.clone();
                let data = sales::SaleVoided {
                    sale_id: id.clone(),
                    location_id: l,
                    ..Default::default()
                };
                stack
                    .publish_sales_event(&event_id(), "SaleVoided", &id, data.encode_to_vec())
                    .await;
                model.moved(item, quantity);
                movements_reach(stack, &model.items[item], model.movements[&item]).await;
            }
        }
    }
}

#[tokio::test]
async fn the_level_read_is_the_fold_of_the_movements_for_random_sequences() {
    let mut stack = start().await;
    let products = [
        stack.product("P1", "2").await,
        stack.product("P2", "").await,
    ];
    let mut runner = TestRunner::deterministic();
    for case in 0..3 {
        let locations = [
            stack.location(&format!("A{case}")).await,
            stack.location(&format!("B{case}")).await,
        ];
        let items = products
            .iter()
            .flat_map(|p| locations.iter().map(move |l| (p.clone(), l.clone())))
            .collect();
        let ops = prop::collection::vec(op(), 30..60)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let mut model = Model {
            items,
            level: HashMap::new(),
            movements: HashMap::new(),
            sales: Vec::new(),
        };
        run(&mut stack, &mut model, ops.clone()).await;

        for (index, (product, location)) in model.items.clone().iter().enumerate() {
            let Some(expected) = model.level.get(&index).copied() else {
                continue;
            };
            let history = stack.movements(location, product).await;
            let folded: Decimal = history
                .iter()
                .map(|m| m.quantity.parse::<Decimal>().unwrap())
                .sum();
            let level: Decimal = stack
                .level(location, product)
                .await
                .on_hand
                .parse()
                .unwrap();
            assert_eq!(
                level, folded,
                "case {case}, item {index}: read model vs movements; {ops:?}"
            );
            assert_eq!(
                level, expected,
                "case {case}, item {index}: vs the model; {ops:?}"
            );
            assert_eq!(history.len() as u64, model.movements[&index]);
            let last = history
                .first()
                .unwrap()
                .on_hand_after
                .parse::<Decimal>()
                .unwrap();
            assert_eq!(last, level, "the last movement left the level");
        }
    }
}
