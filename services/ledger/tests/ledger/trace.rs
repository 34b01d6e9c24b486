//! One sale is one trace: the `traceparent` a sale is rung up with reaches the spans of the
//! consumers that apply it — inventory's (stock) and the ledger's (the money entry, and the
//! cost entry from inventory's `SaleCosted`) — so their log lines carry its trace id.

use std::sync::{Arc, Mutex, PoisonError};

use tillstream_proto::catalog::v1 as catalog;
use tillstream_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use tillstream_proto::inventory::v1 as inventory;
use tillstream_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use tillstream_proto::sales::v1 as sales;
use tillstream_proto::sales::v1::sales_service_client::SalesServiceClient;
use tillstream_test_support::eventually;
use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::start;

/// The `consume` spans opened: (consumer, trace id).
#[derive(Debug, Clone, Default)]
struct ConsumeSpans(Arc<Mutex<Vec<(String, String)>>>);

#[derive(Default)]
struct Fields {
    consumer: String,
    trace_id: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "consumer" => self.consumer = format!("{value:?}"),
            "trace_id" => self.trace_id = format!("{value:?}").trim_matches('"').to_owned(),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "trace_id" {
            self.trace_id = value.to_owned();
        }
    }
}

impl<S: Subscriber> Layer<S> for ConsumeSpans {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        if attrs.metadata().name() == "consume" {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((fields.consumer, fields.trace_id));
        }
    }
}

impl ConsumeSpans {
    fn consumers_with(&self, trace_id: &str) -> Vec<String> {
        let spans = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut consumers: Vec<String> = spans
            .iter()
            .filter(|(_, id)| id == trace_id)
            .map(|(consumer, _)| consumer.clone())
            .collect();
        consumers.sort();
        consumers.dedup();
        consumers
    }
}

#[tokio::test]
async fn a_sales_trace_id_reaches_the_inventory_and_ledger_consumers_spans() {
    let spans = ConsumeSpans::default();
    // nextest runs each test in a process of its own: this subscriber sees only this test.
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(spans.clone()))
        .unwrap();
    let stack = start().await;
    let mut catalog = CatalogServiceClient::new(stack.channels[0].clone());
    let inventory = InventoryServiceClient::new(stack.channels[1].clone());
    let sales_client = SalesServiceClient::new(stack.channels[2].clone());

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
        .clone()
        .create_location(inventory::CreateLocationRequest {
            code: "S1".into(),
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

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let sale_request = sales::CreateSaleRequest {
        location_id: location.id.clone(),
        lines: vec![sales::SaleLineRequest {
            product: Some(sales::sale_line_request::Product::ProductId(tea.id.clone())),
            quantity: "1".into(),
            ..Default::default()
        }],
        payments: vec![sales::PaymentRequest {
            method: "cash".into(),
            amount: "5.00".into(),
            reference: String::new(),
        }],
        cashier_id: "cashier".into(),
        ..Default::default()
    };
    eventually("the sale is rung up", || {
        let (mut sales, mut request) = (
            sales_client.clone(),
            tonic::Request::new(sale_request.clone()),
        );
        request.metadata_mut().insert(
            "traceparent",
            format!("00-{trace_id}-00f067aa0ba902b7-01")
                .parse()
                .unwrap(),
        );
        async move { sales.create_sale(request).await.ok() }
    })
    .await;

    // Inventory's stock, the ledger's money entry, and its cost entry from the sale's
    // `SaleCosted` (sales' own reaction to the posting may show up too).
    let expected = ["_inventory_sales", "_ledger_sales", "_ledger_sale_costs"];
    let consumers = eventually("the consumers applied the sale", || {
        let consumers = spans.consumers_with(trace_id);
        let all = expected
            .iter()
            .all(|name| consumers.iter().any(|c| c.contains(name)));
        async move { all.then_some(consumers) }
    })
    .await;
    for name in expected {
        assert!(
            consumers.iter().any(|c| c.contains(name)),
            "{name}: {consumers:?}"
        );
    }
}
