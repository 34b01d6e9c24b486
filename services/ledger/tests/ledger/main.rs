//! One sale through catalog, inventory, sales and the ledger over the real PostgreSQL and
//! NATS: stock drops, the ledger posts balanced entries once, and the sale shows them.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod backlog;
mod repair_locks;
mod trace;

use tillstream_proto::catalog::v1 as catalog;
use tillstream_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use tillstream_proto::inventory::v1 as inventory;
use tillstream_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use tillstream_proto::ledger::v1 as pb;
use tillstream_proto::ledger::v1::ledger_service_client::LedgerServiceClient;
use tillstream_proto::sales::v1 as sales;
use tillstream_proto::sales::v1::sales_service_client::SalesServiceClient;
use tillstream_test_support::grpc::Authed;
use tillstream_test_support::{TestStack, eventually};
use tokio_util::sync::CancellationToken;

struct Stack {
    channels: Vec<Authed>,
    services: TestStack,
    /// Stops the ledger alone.
    ledger_stop: CancellationToken,
}

async fn start() -> Stack {
    let mut stack = start_without_ledger().await;
    stack.start_ledger().await;
    stack
}

/// Catalog, inventory and sales; the ledger is started later (or never).
async fn start_without_ledger() -> Stack {
    let mut services = TestStack::new();
    let urls = [
        services.start("catalog", tillstream_catalog::serve).await,
        services
            .start("inventory", tillstream_inventory::serve)
            .await,
        services.start("sales", tillstream_sales::serve).await,
    ];
    let mut channels = Vec::new();
    for url in &urls {
        channels.push(services.admin(url).await);
    }
    Stack {
        channels,
        ledger_stop: services.stop.child_token(),
        services,
    }
}

impl Stack {
    async fn start_ledger(&mut self) {
        let stop = self.ledger_stop.clone();
        let url = self
            .services
            .start_until("ledger", tillstream_ledger::serve, stop)
            .await;
        self.channels.push(self.services.admin(&url).await);
        let ledger = LedgerServiceClient::new(self.channels[3].clone());
        eventually("the ledger answers", || {
            let mut ledger = ledger.clone();
            async move {
                ledger
                    .get_trial_balance(pb::GetTrialBalanceRequest::default())
                    .await
                    .ok()
            }
        })
        .await;
    }
}

#[tokio::test]
async fn a_sale_drops_stock_posts_balanced_entries_once_and_shows_as_posted() {
    let stack = start().await;
    let mut catalog = CatalogServiceClient::new(stack.channels[0].clone());
    let mut inventory = InventoryServiceClient::new(stack.channels[1].clone());
    let sales_client = SalesServiceClient::new(stack.channels[2].clone());
    let ledger = LedgerServiceClient::new(stack.channels[3].clone());

    let tea = catalog
        .create_product(catalog::CreateProductRequest {
            sku: "TEA".into(),
            name: "Tea".into(),
            price: "3.50".into(),
            tax_rate: "0.08".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let location = inventory
        .create_location(inventory::CreateLocationRequest {
            code: "S12".into(),
            name: "Main".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let receipt = inventory::ReceiveStockRequest {
        location_id: location.id.clone(),
        lines: vec![inventory::ReceiptLine {
            product_id: tea.id.clone(),
            quantity: "10".into(),
            unit_cost: "1.25".into(),
        }],
        ..Default::default()
    };
    eventually("inventory knows the product", || {
        let (mut inventory, receipt) = (inventory.clone(), receipt.clone());
        async move { inventory.receive_stock(receipt).await.ok() }
    })
    .await;

    let sale_request = sales::CreateSaleRequest {
        location_id: location.id.clone(),
        lines: vec![sales::SaleLineRequest {
            product: Some(sales::sale_line_request::Product::ProductId(tea.id.clone())),
            quantity: "2".into(),
            discount: None,
            unit_price: String::new(),
        }],
        payments: vec![
            sales::PaymentRequest {
                method: "card".into(),
                amount: "5.00".into(),
                reference: "AUTH".into(),
            },
            sales::PaymentRequest {
                method: "cash".into(),
                amount: "5.00".into(),
                reference: String::new(),
            },
        ],
        cashier_id: "cashier".into(),
        ..Default::default()
    };
    let sale = eventually("sales knows the product and location", || {
        let (mut sales, request) = (sales_client.clone(), sale_request.clone());
        async move { sales.create_sale(request).await.ok() }
    })
    .await
    .into_inner();
    assert_eq!(
        (sale.total.as_str(), sale.change.as_str()),
        ("7.56", "2.44")
    );

    // Stock dropped by the sale.
    let level = eventually("stock drops", || {
        let (mut inventory, request) = (
            inventory.clone(),
            inventory::GetStockRequest {
                product_id: tea.id.clone(),
                ..Default::default()
            },
        );
        async move {
            let levels = inventory.get_stock(request).await.ok()?.into_inner().levels;
            levels.into_iter().find(|l| l.on_hand == "8")
        }
    })
    .await;
    assert_eq!(level.avg_cost, "1.25");

    // The sale is posted, with the entry's id.
    let posted = eventually("the sale shows as posted", || {
        let (mut sales, id) = (sales_client.clone(), sale.id.clone());
        async move {
            let sale = sales
                .get_sale(sales::GetSaleRequest { id_or_number: id })
                .await
                .ok()?
                .into_inner();
            (sale.ledger_status == "posted").then_some(sale)
        }
    })
    .await;
    assert_eq!(posted.ledger_entry_ids.len(), 1);

    let mut ledger = ledger.clone();
    let entries = ledger
        .list_entries(pb::ListEntriesRequest {
            source_id: sale.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(entries.len(), 1, "one entry per sale");
    assert_eq!(entries[0].id, posted.ledger_entry_ids[0]);
    let lines: Vec<(&str, &str, &str)> = entries[0]
        .lines
        .iter()
        .map(|l| (l.account.as_str(), l.debit.as_str(), l.credit.as_str()))
        .collect();
    // Cash kept 5.00 − 2.44 change; card 5.00; revenue 7.00; tax 0.56.
    assert_eq!(
        lines,
        vec![
            ("1000", "2.56", "0.00"),
            ("1010", "5.00", "0.00"),
            ("4000", "0.00", "7.00"),
            ("2100", "0.00", "0.56")
        ]
    );

    // The cost side: receipt 10 × 1.25 and the sale's 2 × 1.25, and the books balance.
    let trial = eventually("the cost entries are posted", || {
        let mut ledger = ledger.clone();
        async move {
            let trial = ledger
                .get_trial_balance(pb::GetTrialBalanceRequest::default())
                .await
                .ok()?
                .into_inner();
            let cogs = trial.accounts.iter().find(|a| a.code == "5000")?;
            (cogs.balance == "2.50").then_some(trial)
        }
    })
    .await;
    assert_eq!(
        trial.total_debits, trial.total_credits,
        "the trial balance is zero"
    );
    let balance = |code: &str| {
        trial
            .accounts
            .iter()
            .find(|a| a.code == code)
            .unwrap()
            .balance
            .clone()
    };
    assert_eq!(balance("1200"), "10.00", "12.50 received less 2.50 sold");
    // The sale's cost in one entry of its own, whatever its lines.
    let costs = ledger
        .list_entries(pb::ListEntriesRequest {
            source_id: format!("sale_cost-{}", sale.id),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(costs.len(), 1, "one cost entry per sale: {costs:?}");
    assert_eq!(costs[0].source_type, "stock_sold");
    assert_eq!(balance("2000"), "-12.50");
    assert_eq!(balance("4000"), "-7.00");
}

#[tokio::test]
async fn sales_go_on_while_the_ledger_is_down_and_each_posts_once_when_it_returns() {
    let mut stack = start_without_ledger().await;
    let mut catalog = CatalogServiceClient::new(stack.channels[0].clone());
    let mut inventory = InventoryServiceClient::new(stack.channels[1].clone());
    let sales_client = SalesServiceClient::new(stack.channels[2].clone());
    let tea = catalog
        .create_product(catalog::CreateProductRequest {
            sku: "TEA".into(),
            name: "Tea".into(),
            price: "2.00".into(),
            tax_rate: "0".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let location = inventory
        .create_location(inventory::CreateLocationRequest {
            code: "S7".into(),
            name: "Seven".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let request = sales::CreateSaleRequest {
        location_id: location.id.clone(),
        lines: vec![sales::SaleLineRequest {
            product: Some(sales::sale_line_request::Product::ProductId(tea.id.clone())),
            quantity: "1".into(),
            discount: None,
            unit_price: String::new(),
        }],
        payments: vec![sales::PaymentRequest {
            method: "cash".into(),
            amount: "2.00".into(),
            reference: String::new(),
        }],
        ..Default::default()
    };
    // No ledger process: sales still succeed and answer pending.
    let mut sale_ids = Vec::new();
    for _ in 0..3 {
        let sale = eventually("sales knows the product and location", || {
            let (mut sales, request) = (sales_client.clone(), request.clone());
            async move { sales.create_sale(request).await.ok() }
        })
        .await
        .into_inner();
        assert_eq!(sale.ledger_status, "pending");
        sale_ids.push(sale.id);
    }

    stack.start_ledger().await;
    let ledger = LedgerServiceClient::new(stack.channels[3].clone());
    for id in &sale_ids {
        eventually("each sale shows as posted", || {
            let (mut sales, id) = (sales_client.clone(), id.clone());
            async move {
                let sale = sales
                    .get_sale(sales::GetSaleRequest { id_or_number: id })
                    .await
                    .ok()?
                    .into_inner();
                (sale.ledger_status == "posted").then_some(())
            }
        })
        .await;
        let mut ledger = ledger.clone();
        let entries = ledger
            .list_entries(pb::ListEntriesRequest {
                source_id: id.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .entries;
        assert_eq!(entries.len(), 1, "sale {id} is posted exactly once");
    }
    let mut ledger = ledger.clone();
    let trial = ledger
        .get_trial_balance(pb::GetTrialBalanceRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(trial.total_debits, trial.total_credits);
    let revenue = trial.accounts.iter().find(|a| a.code == "4000").unwrap();
    assert_eq!(revenue.balance, "-6.00", "three sales of 2.00, once each");
}
