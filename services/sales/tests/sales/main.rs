//! Sales over gRPC with the real catalog and inventory beside it: products and locations
//! reach sales' copies through NATS, and a split-tender sale prices to the cent.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use async_nats::jetstream;
use prost::Message;
use tillstream_messaging::{Naming, headers};
use tillstream_proto::catalog::v1 as catalog;
use tillstream_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use tillstream_proto::inventory::v1 as inventory;
use tillstream_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::sales_service_client::SalesServiceClient;
use tillstream_service::grpc::field_of;
use tillstream_test_support::grpc::Authed;
use tillstream_test_support::{TestStack, eventually};
use tonic::Code;

mod numbers;
mod posted_order;

struct Stack {
    catalog: CatalogServiceClient<Authed>,
    inventory: InventoryServiceClient<Authed>,
    sales: SalesServiceClient<Authed>,
    naming: Naming,
    services: TestStack,
}

async fn start() -> Stack {
    let mut services = TestStack::new();
    let catalog = services.start("catalog", tillstream_catalog::serve).await;
    let inventory = services
        .start("inventory", tillstream_inventory::serve)
        .await;
    let sales = services.start("sales", tillstream_sales::serve).await;
    let catalog = CatalogServiceClient::new(services.admin(&catalog).await);
    let inventory = InventoryServiceClient::new(services.admin(&inventory).await);
    let sales = SalesServiceClient::new(services.admin(&sales).await);
    let stack = Stack {
        catalog,
        inventory,
        sales,
        naming: services.naming(),
        services,
    };
    // Every service answers (migrations done) before the test starts.
    let mut s = stack.sales.clone();
    eventually("the service answers", || {
        let mut s = s.clone();
        async move {
            s.get_sale(pb::GetSaleRequest {
                id_or_number: "none".into(),
            })
            .await
            .is_err_and(|e| e.code() == Code::NotFound)
            .then_some(())
        }
    })
    .await;
    let _ = &mut s;
    stack
}

fn product(sku: &str, price: &str, barcodes: &[&str]) -> catalog::CreateProductRequest {
    catalog::CreateProductRequest {
        sku: sku.into(),
        name: format!("{sku} name"),
        price: price.into(),
        tax_rate: "0.08".into(),
        barcodes: barcodes.iter().map(|b| (*b).to_owned()).collect(),
        ..Default::default()
    }
}

fn line(product: pb::sale_line_request::Product, quantity: &str) -> pb::SaleLineRequest {
    pb::SaleLineRequest {
        product: Some(product),
        quantity: quantity.into(),
        ..Default::default()
    }
}

fn pay(method: &str, amount: &str) -> pb::PaymentRequest {
    pb::PaymentRequest {
        method: method.into(),
        amount: amount.into(),
        reference: String::new(),
    }
}

#[tokio::test]
async fn a_split_tender_sale_prices_to_the_cent_and_is_published_once() {
    let mut stack = start().await;
    let tea = stack
        .catalog
        .create_product(product("TEA", "3.50", &[]))
        .await
        .unwrap()
        .into_inner();
    stack
        .catalog
        .create_product(product("MUG", "10.00", &["4006381333931"]))
        .await
        .unwrap();
    let location = stack
        .inventory
        .create_location(inventory::CreateLocationRequest {
            code: "S12".into(),
            name: "Main".into(),
        })
        .await
        .unwrap()
        .into_inner();

    use pb::sale_line_request::Product;
    let request = pb::CreateSaleRequest {
        id: "01JD0000000000000000000042".into(),
        location_id: location.id.clone(),
        lines: vec![
            line(Product::ProductId(tea.id.clone()), "2"),
            line(Product::Barcode("4006381333931".into()), "1"),
        ],
        payments: vec![pay("card", "10.00"), pay("cash", "10")],
        cashier_id: "cashier-1".into(),
        ..Default::default()
    };
    // The products and the location reach sales through NATS; retry until they have.
    let sales = stack.sales.clone();
    let sale = eventually("sales knows the products and the location", || {
        let (mut sales, request) = (sales.clone(), request.clone());
        async move { sales.create_sale(request).await.ok() }
    })
    .await
    .into_inner();

    let figures = [
        &sale.subtotal,
        &sale.discount_total,
        &sale.tax_total,
        &sale.total,
        &sale.change,
    ];
    assert_eq!(figures, ["17.00", "0.00", "1.36", "18.36", "1.64"]);
    assert_eq!(
        (
            sale.lines[0].gross.as_str(),
            sale.lines[0].tax.as_str(),
            sale.lines[0].line_total.as_str()
        ),
        ("7.00", "0.56", "7.56")
    );
    assert_eq!(sale.lines[1].sku, "MUG");
    assert!(
        sale.sale_number.starts_with("S12-") && sale.sale_number.ends_with("-000001"),
        "{}",
        sale.sale_number
    );
    assert_eq!(
        (sale.status.as_str(), sale.ledger_status.as_str()),
        ("completed", "pending")
    );

    // Read your writes, by id and by number; a retry answers the same sale.
    let by_number = stack
        .sales
        .get_sale(pb::GetSaleRequest {
            id_or_number: sale.sale_number.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_number, sale);
    let retried = stack
        .sales
        .create_sale(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retried, sale);
    let changed = pb::CreateSaleRequest {
        payments: vec![pay("cash", "50")],
        ..request
    };
    let reused = stack.sales.create_sale(changed).await.unwrap_err();
    assert_eq!(
        (reused.code(), field_of(&reused)),
        (Code::AlreadyExists, Some("idempotency_key"))
    );

    // Exactly one SaleCompleted on the sales stream, with the same figures.
    let js = jetstream::new(
        async_nats::connect(tillstream_test_support::nats_url())
            .await
            .unwrap(),
    );
    let stream = stack.naming.service_stream("sales");
    let message = eventually("SaleCompleted is published", || {
        let js = js.clone();
        let stream = stream.clone();
        async move {
            js.get_stream(&stream)
                .await
                .ok()?
                .get_raw_message(1)
                .await
                .ok()
        }
    })
    .await;
    assert_eq!(
        message.headers.get(headers::TYPE).unwrap().as_str(),
        "tillstream.sales.v1.SaleCompleted"
    );
    let published = pb::SaleCompleted::decode(message.payload)
        .unwrap()
        .sale
        .unwrap();
    assert_eq!((published.id, published.total), (sale.id, sale.total));
    let info = js
        .get_stream(&stream)
        .await
        .unwrap()
        .get_info()
        .await
        .unwrap();
    assert_eq!(info.state.messages, 1, "the retry published nothing");
}

#[tokio::test]
async fn a_bad_sale_is_refused_naming_the_field() {
    let mut stack = start().await;
    stack
        .catalog
        .create_product(product("TEA", "3.50", &[]))
        .await
        .unwrap();
    let location = stack
        .inventory
        .create_location(inventory::CreateLocationRequest {
            code: "S1".into(),
            name: "One".into(),
        })
        .await
        .unwrap()
        .into_inner();
    use pb::sale_line_request::Product;
    let base = pb::CreateSaleRequest {
        location_id: location.id.clone(),
        lines: vec![line(Product::Sku("TEA".into()), "1")],
        payments: vec![pay("cash", "5")],
        ..Default::default()
    };
    let sales = stack.sales.clone();
    eventually("the service answers", || {
        let (mut sales, request) = (sales.clone(), base.clone());
        async move { sales.create_sale(request).await.ok() }
    })
    .await;

    let cases = [
        (
            pb::CreateSaleRequest {
                payments: vec![pay("card", "1.00")],
                ..base.clone()
            },
            "payments",
        ),
        (
            pb::CreateSaleRequest {
                payments: vec![pay("card", "50.00")],
                ..base.clone()
            },
            "payments[0].amount",
        ),
        (
            pb::CreateSaleRequest {
                payments: vec![pay("bitcoin", "5")],
                ..base.clone()
            },
            "payments[0].method",
        ),
        (
            pb::CreateSaleRequest {
                payments: vec![pay("cash", "5.001")],
                ..base.clone()
            },
            "payments[0].amount",
        ),
        (
            pb::CreateSaleRequest {
                lines: vec![line(Product::Sku("NOPE".into()), "1")],
                ..base.clone()
            },
            "lines[0].sku",
        ),
        (
            pb::CreateSaleRequest {
                lines: vec![line(Product::Sku("TEA".into()), "0")],
                ..base.clone()
            },
            "lines[0].quantity",
        ),
        (
            pb::CreateSaleRequest {
                lines: vec![line(Product::Sku("TEA".into()), "2.5e3")],
                ..base.clone()
            },
            "lines[0].quantity",
        ),
        (
            pb::CreateSaleRequest {
                lines: vec![],
                ..base.clone()
            },
            "lines",
        ),
        (
            pb::CreateSaleRequest {
                location_id: "elsewhere".into(),
                ..base.clone()
            },
            "location_id",
        ),
        (
            pb::CreateSaleRequest {
                id: "not-a-ulid".into(),
                ..base.clone()
            },
            "id",
        ),
        (
            pb::CreateSaleRequest {
                discount: Some(pb::Discount {
                    kind: Some(pb::discount::Kind::Amount("9.00".into())),
                }),
                ..base.clone()
            },
            "discount",
        ),
    ];
    for (request, expected) in cases {
        let status = stack.sales.create_sale(request).await.unwrap_err();
        assert_eq!(
            (status.code(), field_of(&status)),
            (Code::InvalidArgument, Some(expected)),
            "{}",
            status.message()
        );
    }
}

#[tokio::test]
async fn with_sessions_required_a_cashier_rings_up_only_in_a_session() {
    use tillstream_proto::sales::v1::register_service_client::RegisterServiceClient;
    use tillstream_service::Role;
    use tillstream_test_support::grpc::authed;

    let mut services = TestStack::new();
    let sales = services
        .start("sales", |mut launch| {
            launch.settings.require_session = true;
            tillstream_sales::serve(launch)
        })
        .await;
    let channel = eventually("sales listens", || {
        let url = sales.clone();
        async move {
            tonic::transport::Channel::from_shared(url)
                .ok()?
                .connect()
                .await
                .ok()
        }
    })
    .await;
    let sale = pb::CreateSaleRequest {
        location_id: "01JD5W2N8Q3V6R1T4Y7Z0A9B2C".into(),
        lines: vec![line(
            pb::sale_line_request::Product::Sku("NONE".into()),
            "1",
        )],
        payments: vec![pay("cash", "1.00")],
        ..Default::default()
    };
    let as_cashier = SalesServiceClient::new(authed(channel.clone(), Role::Cashier));
    let refused = eventually("sales answers", || {
        let (mut client, sale) = (as_cashier.clone(), sale.clone());
        async move {
            let status = client.create_sale(sale).await.err()?;
            (status.code() != Code::Unavailable).then_some(status)
        }
    })
    .await;
    assert_eq!(
        (refused.code(), field_of(&refused)),
        (Code::InvalidArgument, Some("session_id"))
    );
    // A manager is not held to it: the sale goes on to be priced (and fails on the product).
    let mut as_manager = SalesServiceClient::new(authed(channel.clone(), Role::Manager));
    let priced = as_manager.create_sale(sale).await.unwrap_err();
    assert_ne!(field_of(&priced), Some("session_id"));

    // A register needs a location sales knows.
    let mut registers = RegisterServiceClient::new(authed(channel, Role::Manager));
    let unknown = registers
        .create_register(pb::CreateRegisterRequest {
            location_id: "01JD5W2N8Q3V6R1T4Y7Z0A9B2C".into(),
            code: "T1".into(),
            name: "Front".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (unknown.code(), field_of(&unknown)),
        (Code::InvalidArgument, Some("location_id"))
    );
}
