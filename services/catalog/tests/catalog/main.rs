//! The catalog service over gRPC, against the real PostgreSQL and NATS: a database and a
//! subject prefix of its own per test.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod replicas;

use std::time::Duration;

use async_nats::jetstream;
use prost::Message;
use tillstream_catalog::{SERVICE, serve};
use tillstream_messaging::{Naming, headers};
use tillstream_proto::catalog::v1 as pb;
use tillstream_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use tillstream_test_support::grpc::Authed;
use tillstream_test_support::{TestStack, eventually};
use tonic::Code;

struct Running {
    client: CatalogServiceClient<Authed>,
    url: String,
    naming: Naming,
    /// The catalog's database, prefix and shutdown, cleaned up after the test.
    _services: TestStack,
}

async fn start() -> Running {
    let mut services = TestStack::new();
    let url = services.start(SERVICE, serve).await;
    let channel = services.admin(&url).await;
    // Connected is not ready: wait until a call is answered.
    let client = eventually("the catalog answers", || {
        let mut client = CatalogServiceClient::new(channel.clone());
        async move {
            client
                .get_product(pb::GetProductRequest { id: "none".into() })
                .await
                .is_err_and(|s| s.code() == Code::NotFound)
                .then_some(client)
        }
    })
    .await;
    Running {
        client,
        naming: services.naming(),
        url,
        _services: services,
    }
}

#[tokio::test]
async fn the_service_checks_the_callers_token_and_role_itself() {
    use tillstream_access::Role;
    use tillstream_access::testing::TestSigner;
    use tillstream_test_support::grpc::authed;

    let catalog = start().await;
    let channel = tonic::transport::Channel::from_shared(catalog.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut anonymous = CatalogServiceClient::new(channel.clone());
    let status = anonymous.create_product(coffee()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    let mut cashier = CatalogServiceClient::new(authed(channel.clone(), Role::Cashier));
    let status = cashier.create_product(coffee()).await.unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "{}",
        status.message()
    );
    // A cashier may read.
    let status = cashier
        .get_product(pb::GetProductRequest { id: "none".into() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    // A token signed by a key the service does not trust.
    let stranger = TestSigner::new("test-support", [7; 32]);
    let mut request = tonic::Request::new(coffee());
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", stranger.token(Role::Admin))
            .parse()
            .unwrap(),
    );
    let status = anonymous.create_product(request).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

fn coffee() -> pb::CreateProductRequest {
    pb::CreateProductRequest {
        sku: "COFFEE-1KG".into(),
        name: "Café molido 1 kg".into(),
        price: "12.5".into(),
        tax_rate: "0.08".into(),
        barcodes: vec!["4006381333931".into()],
        category: "Coffee".into(),
        reorder_point: "5".into(),
        idempotency_key: String::new(),
    }
}

fn field(status: &tonic::Status) -> &str {
    status
        .metadata()
        .get("tillstream-field")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn a_created_product_reads_back_by_id_sku_and_barcode_and_is_published() {
    let mut svc = start().await;
    let created = svc
        .client
        .create_product(coffee())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            created.price.as_str(),
            created.tax_rate.as_str(),
            created.status.as_str()
        ),
        ("12.50", "0.08", "active")
    );
    assert_eq!(
        (
            created.version,
            created.currency.as_str(),
            created.reorder_point.as_str()
        ),
        (1, "USD", "5")
    );

    let by_id = svc
        .client
        .get_product(pb::GetProductRequest {
            id: created.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_id, created, "read your writes");
    let scan = pb::LookupProductRequest {
        key: Some(pb::lookup_product_request::Key::Barcode(
            "4006381333931".into(),
        )),
    };
    assert_eq!(
        svc.client
            .lookup_product(scan)
            .await
            .unwrap()
            .into_inner()
            .id,
        created.id
    );
    let sku = pb::LookupProductRequest {
        key: Some(pb::lookup_product_request::Key::Sku("COFFEE-1KG".into())),
    };
    assert_eq!(
        svc.client
            .lookup_product(sku)
            .await
            .unwrap()
            .into_inner()
            .id,
        created.id
    );

    // The event is on the catalog's stream as a protobuf CloudEvent.
    let js = jetstream::new(
        async_nats::connect(tillstream_test_support::nats_url())
            .await
            .unwrap(),
    );
    let stream_name = svc.naming.service_stream("catalog");
    let message = 'wait: {
        for _ in 0..100 {
            if let Ok(stream) = js.get_stream(&stream_name).await
                && let Ok(message) = stream.get_raw_message(1).await
            {
                break 'wait message;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("ProductCreated was never published");
    };
    assert_eq!(
        message.headers.get(headers::TYPE).unwrap().as_str(),
        "tillstream.catalog.v1.ProductCreated"
    );
    assert_eq!(
        message
            .headers
            .get(headers::DATACONTENTTYPE)
            .unwrap()
            .as_str(),
        "application/protobuf"
    );
    let event = pb::ProductCreated::decode(message.payload).unwrap();
    assert_eq!(
        (event.product_id, event.sku),
        (created.id, "COFFEE-1KG".to_owned())
    );
    assert_eq!(event.price.unwrap().amount, "12.50");
}

#[tokio::test]
async fn duplicates_and_bad_input_are_refused_naming_the_field() {
    let mut svc = start().await;
    svc.client.create_product(coffee()).await.unwrap();

    let same_sku = svc
        .client
        .create_product(pb::CreateProductRequest {
            barcodes: vec![],
            ..coffee()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (same_sku.code(), field(&same_sku)),
        (Code::AlreadyExists, "sku")
    );
    let same_barcode = svc
        .client
        .create_product(pb::CreateProductRequest {
            sku: "OTHER".into(),
            ..coffee()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (same_barcode.code(), field(&same_barcode)),
        (Code::AlreadyExists, "barcodes")
    );

    let cases = [
        (
            pb::CreateProductRequest {
                sku: "A".into(),
                price: "12.505".into(),
                barcodes: vec![],
                ..coffee()
            },
            "price",
        ),
        (
            pb::CreateProductRequest {
                sku: "B".into(),
                price: "-1".into(),
                barcodes: vec![],
                ..coffee()
            },
            "price",
        ),
        (
            pb::CreateProductRequest {
                sku: "C".into(),
                tax_rate: "abc".into(),
                barcodes: vec![],
                ..coffee()
            },
            "tax_rate",
        ),
        (
            pb::CreateProductRequest {
                sku: "D".into(),
                name: " ".into(),
                barcodes: vec![],
                ..coffee()
            },
            "name",
        ),
        (
            pb::CreateProductRequest {
                sku: "E".into(),
                barcodes: vec!["4006381333932".into()],
                ..coffee()
            },
            "barcodes[0]",
        ),
    ];
    for (request, expected) in cases {
        let status = svc.client.create_product(request).await.unwrap_err();
        assert_eq!(
            (status.code(), field(&status)),
            (Code::InvalidArgument, expected),
            "{}",
            status.message()
        );
    }
    let missing = svc
        .client
        .get_product(pb::GetProductRequest {
            id: "01JD0000000000000000000000".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn a_retried_create_with_its_idempotency_key_answers_the_first_product() {
    let mut svc = start().await;
    let request = pb::CreateProductRequest {
        idempotency_key: "till-7-42".into(),
        ..coffee()
    };
    let first = svc
        .client
        .create_product(request.clone())
        .await
        .unwrap()
        .into_inner();
    let retry = svc
        .client
        .create_product(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retry, first);
    let other = pb::CreateProductRequest {
        name: "Something else".into(),
        ..request
    };
    let status = svc.client.create_product(other).await.unwrap_err();
    assert_eq!(
        (status.code(), field(&status)),
        (Code::AlreadyExists, "idempotency_key")
    );
}

#[tokio::test]
async fn search_finds_names_without_case_or_accents_skus_and_barcodes_in_pages() {
    let mut catalog = start().await;
    let product =
        |sku: &str, name: &str, category: &str, barcodes: Vec<String>| pb::CreateProductRequest {
            sku: sku.into(),
            name: name.into(),
            price: "1.00".into(),
            tax_rate: "0".into(),
            barcodes,
            category: category.into(),
            reorder_point: String::new(),
            idempotency_key: String::new(),
        };
    let mut ids = Vec::new();
    for request in [
        product(
            "CAF-1",
            "Café Crème",
            "Coffee",
            vec!["4006381333931".into()],
        ),
        product("CAF-2", "Cafetière 1 l", "Kitchen", vec![]),
        product("DEC-1", "Decaf coffee", "coffee", vec![]),
        product("TEA-1", "Green tea", "Tea", vec![]),
    ] {
        ids.push(
            catalog
                .client
                .create_product(request)
                .await
                .unwrap()
                .into_inner()
                .id,
        );
    }
    let search =
        |q: &str, category: &str, status: &str, page: u32, limit: u32| pb::SearchProductsRequest {
            q: q.into(),
            category: category.into(),
            status: status.into(),
            page,
            limit,
        };
    let names = |answer: pb::SearchProductsResponse| {
        (
            answer
                .products
                .into_iter()
                .map(|p| p.name)
                .collect::<Vec<_>>(),
            answer.total,
        )
    };
    let mut client = catalog.client.clone();
    let mut run =
        async |request| names(client.search_products(request).await.unwrap().into_inner());

    assert_eq!(
        run(search("CAF", "", "", 1, 50)).await,
        (
            vec![
                "Café Crème".to_owned(),
                "Cafetière 1 l".into(),
                "Decaf coffee".into()
            ],
            3
        ),
        "prefix matches first, then anywhere in the name, accents and case ignored"
    );
    assert_eq!(run(search("crème", "", "", 1, 50)).await.0, ["Café Crème"]);
    assert_eq!(
        run(search("tea-", "", "", 1, 50)).await.0,
        ["Green tea"],
        "SKU prefix"
    );
    assert_eq!(
        run(search("4006381333931", "", "", 1, 50)).await.0,
        ["Café Crème"]
    );
    assert_eq!(
        run(search("", "COFFEE", "", 1, 50)).await.0,
        ["Café Crème", "Decaf coffee"],
        "category, any case"
    );
    assert_eq!(
        run(search("100%", "", "", 1, 50)).await.1,
        0,
        "% is literal"
    );
    assert_eq!(
        run(search("", "", "", 2, 3)).await,
        (vec!["Green tea".to_owned()], 4),
        "the second page of three"
    );
    assert_eq!(
        run(search("", "", "", 9, 3)).await,
        (vec![], 4),
        "past the end"
    );

    catalog
        .client
        .discontinue_product(pb::ProductStatusRequest {
            id: ids[3].clone(),
            expected_version: 0,
        })
        .await
        .unwrap();
    assert_eq!(
        run(search("", "", "discontinued", 1, 50)).await.0,
        ["Green tea"]
    );
    assert_eq!(run(search("", "", "active", 1, 50)).await.1, 3);
    let bad = catalog
        .client
        .search_products(search("", "", "gone", 1, 50))
        .await
        .unwrap_err();
    assert_eq!(tillstream_service::grpc::field_of(&bad), Some("status"));
}
