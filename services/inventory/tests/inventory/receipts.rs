//! Receipts: stock rises, the average cost moves, bad lines name their field.

use tillstream_proto::catalog::v1 as catalog;
use tillstream_proto::inventory::v1 as pb;
use tillstream_service::grpc::field_of;
use tillstream_test_support::eventually;
use tonic::Code;

use crate::{receipt, start};

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
            ..Default::default()
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
