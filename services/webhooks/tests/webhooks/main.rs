//! The webhooks service on its own, as deployed (private addresses not allowed): the
//! private-address rule and the contract's 422s over gRPC, and a subscription's events
//! published without its secret.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use futures::StreamExt;
use tillstream_proto::webhooks::v1 as pb;
use tillstream_proto::webhooks::v1::webhooks_service_client::WebhooksServiceClient;
use tillstream_service::grpc::field_of;
use tillstream_test_support::TestStack;
use tillstream_test_support::grpc::Authed;
use tonic::Code;

async fn start(stack: &mut TestStack) -> WebhooksServiceClient<Authed> {
    let url = stack.start("webhooks", tillstream_webhooks::serve).await;
    WebhooksServiceClient::new(stack.admin(&url).await)
}

fn asking(url: &str, types: &[&str]) -> pb::CreateSubscriptionRequest {
    pb::CreateSubscriptionRequest {
        url: url.into(),
        event_types: types.iter().map(|t| (*t).to_owned()).collect(),
        description: "books".into(),
        idempotency_key: String::new(),
    }
}

const SALES: &str = "tillstream.sales.v1.SaleCompleted";

#[tokio::test]
async fn urls_to_this_machine_or_its_networks_are_refused_naming_the_url() {
    let mut stack = TestStack::new();
    let mut client = start(&mut stack).await;
    // This machine's own name resolves to one of its addresses: never public.
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let hostname = hostname.trim();
    let resolved: Vec<_> = tokio::net::lookup_host((hostname, 443))
        .await
        .unwrap()
        .collect();
    assert!(
        resolved
            .iter()
            .all(|a| !tillstream_webhooks::domain::address::is_public(a.ip())),
        "{hostname} resolves to {resolved:?}"
    );
    for url in [
        "http://hooks.example.com/in".to_owned(),
        "https://127.0.0.1/in".to_owned(),
        "https://localhost:8443/in".to_owned(),
        "https://10.0.0.8/in".to_owned(),
        "https://169.254.169.254/latest/meta-data/".to_owned(),
        "https://[::1]/in".to_owned(),
        "https://[::ffff:192.168.1.1]/in".to_owned(),
        "https://0x7f000001/in".to_owned(),
        format!("https://{hostname}/in"),
        "https://hooks.invalid/in".to_owned(),
        "not a url".to_owned(),
        "https://user:secret@hooks.example.com/in".to_owned(),
        format!("https://hooks.example.com/{}", "a".repeat(2_000)),
    ] {
        let refused = client
            .create_subscription(asking(&url, &[SALES]))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{url}: {refused:?}");
        assert_eq!(field_of(&refused), Some("url"), "{url}");
    }
    let listed = client
        .list_subscriptions(pb::ListSubscriptionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total, 0, "nothing half-written");
}

#[tokio::test]
async fn event_types_and_descriptions_are_checked_and_the_secret_is_shown_once() {
    let mut stack = TestStack::new();
    let mut client = start(&mut stack).await;
    // A public address given literally needs no name lookup.
    let public = "https://93.184.215.14/tillstream";
    let too_long = "d".repeat(501);
    for (request, field) in [
        (asking(public, &[]), "event_types"),
        (asking(public, &["SaleCompleted"]), "event_types"),
        (
            asking(public, &["tillstream.sales.v1.SaleExploded"]),
            "event_types",
        ),
        (asking(public, &["*", SALES]), "event_types"),
        (
            pb::CreateSubscriptionRequest {
                description: too_long,
                ..asking(public, &[SALES])
            },
            "description",
        ),
    ] {
        let refused = client.create_subscription(request).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert_eq!(field_of(&refused), Some(field));
    }
    let naming = stack.naming();
    let nats = async_nats::connect(tillstream_test_support::nats_url())
        .await
        .unwrap();
    let mut published = nats
        .subscribe(format!("{}.webhooks.>", naming.prefix()))
        .await
        .unwrap();
    let made = client
        .create_subscription(asking(public, &[SALES, SALES]))
        .await
        .unwrap()
        .into_inner();
    assert!(made.secret.starts_with("whsec_"));
    assert_eq!(made.event_types, vec![SALES.to_owned()], "each type once");
    let shown = client
        .get_subscription(pb::GetSubscriptionRequest {
            id: made.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown.secret, "", "shown only when made");
    assert_eq!(shown.url, made.url);
    // The published event names the subscription, never its secret.
    let message = tokio::time::timeout(std::time::Duration::from_secs(10), published.next())
        .await
        .expect("WebhookSubscribed is published")
        .unwrap();
    assert!(
        message.subject.ends_with(".WebhookSubscribed"),
        "{}",
        message.subject
    );
    let event: pb::WebhookSubscribed = prost::Message::decode(message.payload.clone()).unwrap();
    assert_eq!(event.subscription_id, made.id);
    let secret = made.secret.as_bytes();
    assert!(!message.payload.windows(secret.len()).any(|w| w == secret));

    // At most a hundred live subscriptions; a removed one frees its place.
    for _ in 1..100 {
        client
            .create_subscription(asking(public, &["*"]))
            .await
            .unwrap();
    }
    let full = client
        .create_subscription(asking(public, &["*"]))
        .await
        .unwrap_err();
    assert_eq!(full.code(), Code::FailedPrecondition, "{full:?}");
    client
        .delete_subscription(pb::DeleteSubscriptionRequest {
            id: made.id.clone(),
        })
        .await
        .unwrap();
    client
        .create_subscription(asking(public, &["*"]))
        .await
        .unwrap();
    for status in [
        client
            .delete_subscription(pb::DeleteSubscriptionRequest {
                id: made.id.clone(),
            })
            .await
            .unwrap_err(),
        client
            .get_subscription(pb::GetSubscriptionRequest {
                id: made.id.clone(),
            })
            .await
            .unwrap_err(),
        client
            .delete_subscription(pb::DeleteSubscriptionRequest {
                id: "nonsense".into(),
            })
            .await
            .unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
    }
}
