//! Inventory over gRPC with the real catalog beside it: products reach inventory's copy of
//! the catalog through NATS, receipts raise stock and move the average cost.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use tillstream_proto::catalog::v1 as catalog;
use tillstream_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use tillstream_proto::inventory::v1 as pb;
use tillstream_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use tillstream_service::ServiceSettings;
use tillstream_service::grpc::field_of;
use tillstream_test_support::grpc::{Authed, connect_as_admin};
use tillstream_test_support::{TestDatabase, TestPrefix, eventually, stack_env, unique_name};
use tokio_util::sync::CancellationToken;
use tonic::Code;

struct Stack {
    catalog: CatalogServiceClient<Authed>,
    inventory: InventoryServiceClient<Authed>,
    stop: CancellationToken,
    _prefix: TestPrefix,
    _dbs: Vec<TestDatabase>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn settings(service: &'static str, prefix: &str, db_prefix: &str) -> ServiceSettings {
    ServiceSettings::from_lookup(service, "127.0.0.1:0", stack_env(prefix, db_prefix)).unwrap()
}

async fn start() -> Stack {
    let prefix = TestPrefix::new();
    let db_prefix = unique_name("tst");
    let stop = CancellationToken::new();
    let catalog_settings = settings("catalog", &prefix.prefix, &db_prefix);
    let inventory_settings = settings("inventory", &prefix.prefix, &db_prefix);
    let dbs = [&catalog_settings, &inventory_settings]
        .map(|s| TestDatabase {
            server_url: s.database_url.clone(),
            name: s.database.clone(),
        })
        .into();
    let catalog_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let inventory_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let catalog_url = format!("http://{}", catalog_listener.local_addr().unwrap());
    let inventory_url = format!("http://{}", inventory_listener.local_addr().unwrap());
    tokio::spawn(tillstream_catalog::serve(
        catalog_settings,
        catalog_listener,
        stop.clone(),
    ));
    tokio::spawn(tillstream_inventory::serve(
        inventory_settings,
        inventory_listener,
        stop.clone(),
    ));
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
        stop,
        _prefix: prefix,
        _dbs: dbs,
    }
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
    }
}

#[tokio::test]
async fn receipts_of_a_catalog_product_raise_stock_and_move_the_average_cost() {
    let mut stack = start().await;
    let product = stack
        .catalog
        .create_product(catalog::CreateProductRequest {
            sku: "BEANS".into(),
            name: "Beans".into(),
            price: "9.99".into(),
            tax_rate: "0.08".into(),
            reorder_point: "12".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let location = stack
        .inventory
        .create_location(pb::CreateLocationRequest {
            code: "S12".into(),
            name: "Main Street".into(),
        })
        .await
        .unwrap()
        .into_inner();

    // The product reaches inventory through the catalog's stream; until then it is unknown.
    let mut inventory = stack.inventory.clone();
    let first = eventually("the service answers", || {
        let request = receipt(&location.id, &product.id, "10", "2.00");
        let mut client = inventory.clone();
        async move { client.receive_stock(request).await.ok() }
    })
    .await
    .into_inner();
    assert_eq!(first.levels.len(), 1);
    let second = inventory
        .receive_stock(receipt(&location.id, &product.id, "5", "3.50"))
        .await
        .unwrap()
        .into_inner();
    let level = &second.levels[0];
    assert_eq!(
        (level.on_hand.as_str(), level.avg_cost.as_str()),
        ("15", "2.50")
    );
    assert_eq!(
        (level.reorder_point.as_str(), level.below_reorder),
        ("12", false)
    );

    let stock = inventory
        .get_stock(pb::GetStockRequest {
            location_id: location.id.clone(),
            product_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stock.levels, second.levels, "read your writes");
}

#[tokio::test]
async fn receipts_name_the_field_of_an_unknown_product_location_or_bad_number() {
    let mut stack = start().await;
    let location = stack
        .inventory
        .create_location(pb::CreateLocationRequest {
            code: "S1".into(),
            name: "One".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let duplicate = stack
        .inventory
        .create_location(pb::CreateLocationRequest {
            code: "S1".into(),
            name: "Again".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (duplicate.code(), field_of(&duplicate)),
        (Code::AlreadyExists, Some("code"))
    );

    let unknown_product = "01JD0000000000000000000000";
    let cases = [
        (
            receipt(&location.id, unknown_product, "1", "1"),
            "lines[0].product_id",
        ),
        (
            receipt("01JD0000000000000000000001", unknown_product, "1", "1"),
            "location_id",
        ),
        (
            receipt(&location.id, unknown_product, "many", "1"),
            "lines[0].quantity",
        ),
        (
            receipt(&location.id, unknown_product, "1", "1,50"),
            "lines[0].unit_cost",
        ),
        (
            pb::ReceiveStockRequest {
                location_id: location.id.clone(),
                ..Default::default()
            },
            "lines",
        ),
    ];
    for (request, expected) in cases {
        let status = stack.inventory.receive_stock(request).await.unwrap_err();
        assert_eq!(
            (status.code(), field_of(&status)),
            (Code::InvalidArgument, Some(expected)),
            "{}",
            status.message()
        );
    }
}
