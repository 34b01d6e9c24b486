//! Inventory over gRPC with the real catalog beside it: products reach inventory's copy of
//! the catalog through NATS; sales events are published on the sales stream as the sales
//! service would.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod lock_order;
mod movements;
mod property;
mod receipts;
mod sales;

use async_nats::HeaderMap;
use prost::Message;
use tillstream_messaging::{Naming, StreamSettings, ensure_service_stream, headers};
use tillstream_proto::catalog::v1 as catalog;
use tillstream_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use tillstream_proto::inventory::v1 as pb;
use tillstream_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use tillstream_test_support::grpc::{Authed, connect_as_admin};
use tillstream_test_support::{TestStack, eventually};
use tonic::Code;

struct Stack {
    catalog: CatalogServiceClient<Authed>,
    inventory: InventoryServiceClient<Authed>,
    services: TestStack,
}

async fn start() -> Stack {
    let mut services = TestStack::new();
    let catalog_url = services.start("catalog", tillstream_catalog::serve).await;
    let inventory_url = services
        .start("inventory", tillstream_inventory::serve)
        .await;
    let inventory = eventually("the service answers", || async {
        let mut client =
            InventoryServiceClient::new(connect_as_admin(inventory_url.clone()).await?);
        client
            .list_locations(pb::ListLocationsRequest {})
            .await
            .ok()?;
        Some(client)
    })
    .await;
    let catalog = eventually("the service answers", || async {
        let mut client = CatalogServiceClient::new(connect_as_admin(catalog_url.clone()).await?);
        let probe = client
            .get_product(catalog::GetProductRequest { id: "none".into() })
            .await;
        probe
            .is_err_and(|s| s.code() == Code::NotFound)
            .then_some(client)
    })
    .await;
    Stack {
        catalog,
        inventory,
        services,
    }
}

impl Stack {
    async fn location(&mut self, code: &str) -> String {
        let request = pb::CreateLocationRequest {
            code: code.into(),
            name: format!("Store {code}"),
        };
        self.inventory
            .create_location(request)
            .await
            .unwrap()
            .into_inner()
            .id
    }

    /// A catalog product, once inventory's copy knows it.
    async fn product(&mut self, sku: &str, reorder_point: &str) -> String {
        let request = catalog::CreateProductRequest {
            sku: sku.into(),
            name: format!("Product {sku}"),
            price: "5.00".into(),
            tax_rate: "0.08".into(),
            reorder_point: reorder_point.into(),
            ..Default::default()
        };
        let id = self
            .catalog
            .create_product(request)
            .await
            .unwrap()
            .into_inner()
            .id;
        // A count of nothing at a location nobody uses tells when the copy has it.
        let probe = self.location(&format!("PROBE-{sku}")).await;
        let inventory = self.inventory.clone();
        eventually("inventory knows the product", || {
            let mut client = inventory.clone();
            let request = pb::GetStockRequest::default();
            let count = pb::CountStockRequest {
                location_id: probe.clone(),
                lines: vec![pb::CountLine {
                    product_id: id.clone(),
                    counted: "0".into(),
                }],
                counted_at: String::new(),
                ..Default::default()
            };
            async move {
                let answer = client.count_stock(count).await;
                answer.ok()?;
                client.get_stock(request).await.ok()
            }
        })
        .await;
        id
    }

    async fn receive(&mut self, location: &str, product: &str, quantity: &str, cost: &str) {
        self.inventory
            .receive_stock(receipt(location, product, quantity, cost))
            .await
            .unwrap();
    }

    async fn level(&mut self, location: &str, product: &str) -> pb::StockLevel {
        let request = pb::GetStockRequest {
            location_id: location.into(),
            product_id: product.into(),
            ..Default::default()
        };
        let mut levels = self
            .inventory
            .get_stock(request)
            .await
            .unwrap()
            .into_inner()
            .levels;
        assert_eq!(levels.len(), 1, "one level for the item");
        levels.remove(0)
    }

    async fn movements(&mut self, location: &str, product: &str) -> Vec<pb::Movement> {
        let request = pb::ListMovementsRequest {
            location_id: location.into(),
            product_id: product.into(),
            page: 1,
            limit: 200,
        };
        self.inventory
            .list_movements(request)
            .await
            .unwrap()
            .into_inner()
            .movements
    }

    /// Publishes a sales event as the sales service's relay would; `event_id` is the
    /// inbox's key, so publishing it again is a redelivery.
    async fn publish_sales_event(&self, event_id: &str, name: &str, sale_id: &str, data: Vec<u8>) {
        let client = async_nats::connect(&self.services.prefix.url)
            .await
            .unwrap();
        let js = async_nats::jetstream::new(client);
        let naming = Naming::new(self.services.prefix.prefix.clone()).unwrap();
        ensure_service_stream(&js, &naming, "sales", &StreamSettings::default())
            .await
            .unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            headers::MSG_ID,
            tillstream_kernel::Ulid::generate().to_string().as_str(),
        );
        h.insert(headers::SPECVERSION, "1.0");
        h.insert(headers::ID, event_id);
        h.insert(
            headers::TYPE,
            format!("tillstream.sales.v1.{name}").as_str(),
        );
        h.insert(headers::SUBJECT, format!("sale-{sale_id}").as_str());
        h.insert(headers::DATACONTENTTYPE, "application/protobuf");
        let subject = naming.event_subject("sales", "sale", name);
        js.publish_with_headers(subject, h, data.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
}

/// A fresh event id.
fn event_id() -> String {
    tillstream_kernel::Ulid::generate().to_string()
}

/// A sale of `lines` (product, quantity) at `location`, as `SaleCompleted`'s bytes.
fn sale_completed(sale_id: &str, location: &str, lines: &[(&str, &str)]) -> Vec<u8> {
    use tillstream_proto::sales::v1 as sales;
    let lines = (1..)
        .zip(lines)
        .map(|(line_no, (product_id, quantity))| sales::SaleLine {
            line_no,
            product_id: (*product_id).into(),
            quantity: (*quantity).into(),
            ..Default::default()
        })
        .collect();
    sales::SaleCompleted {
        sale: Some(sales::Sale {
            id: sale_id.into(),
            location_id: location.into(),
            lines,
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

fn receipt(
    location_id: &str,
    product_id: &str,
    quantity: &str,
    unit_cost: &str,
) -> pb::ReceiveStockRequest {
    pb::ReceiveStockRequest {
        location_id: location_id.into(),
        supplier: "Roastery".into(),
        reference: "PO-1".into(),
        lines: vec![pb::ReceiptLine {
            product_id: product_id.into(),
            quantity: quantity.into(),
            unit_cost: unit_cost.into(),
        }],
        ..Default::default()
    }
}
