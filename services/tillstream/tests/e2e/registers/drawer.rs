//! A short drawer, the ledger's cash postings, and the same registers over gRPC.

use reqwest::StatusCode;
use serde_json::json;
use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::register_service_client::RegisterServiceClient;
use tillstream_test_support::eventually;

use super::{Shop, code, created};
use crate::system::System;

#[tokio::test]
async fn cash_taken_for_a_gift_card_and_an_account_payment_is_in_the_drawer() {
    let system = System::up().await;
    let shop = Shop::open(&system).await;
    let api = &shop.api;
    let session = created(&shop.open_session(&shop.cashier, "50.00").await);
    // 45.00 on a card, paid with 50.00 in cash: 45.00 stays in the drawer.
    let card = api
        .post(
            "/api/v1/gift-cards",
            &shop.cashier,
            &json!({"amount": "45.00", "session_id": session,
                    "payments": [{"method": "cash", "amount": "50.00"}]}),
        )
        .await;
    assert_eq!(card.status, StatusCode::CREATED, "{}", card.body);
    let customer = api
        .create(
            "/api/v1/customers",
            &shop.admin,
            &json!({"name": "Tab Customer", "credit_limit": "100.00"}),
        )
        .await;
    let id = customer["id"].as_str().unwrap();
    let mut on_account = shop.sale(None, &[("on_account", "12.99")]);
    on_account["customer_id"] = json!(id);
    created(&api.post("/api/v1/sales", &shop.cashier, &on_account).await);
    let paid = api
        .post(
            &format!("/api/v1/customers/{id}/account/payments"),
            &shop.cashier,
            &json!({"amount": "10.00", "method": "cash", "session_id": session}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    let closed = api
        .post(
            &format!("/api/v1/sessions/{session}/close"),
            &shop.cashier,
            &json!({"counted_cash": "105.00"}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(closed.body["difference"], "0.00", "{}", closed.body);
    // A closed session takes no more.
    let late = api
        .post(
            "/api/v1/gift-cards",
            &shop.cashier,
            &json!({"amount": "5.00", "session_id": session,
                    "payments": [{"method": "cash", "amount": "5.00"}]}),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    system.stop().await;
}

#[tokio::test]
async fn a_short_drawer_needs_a_manager_and_the_books_take_the_cash_movements() {
    let system = System::up().await;
    let shop = Shop::open(&system).await;
    let api = &shop.api;
    let session = created(&shop.open_session(&shop.cashier, "50.00").await);
    let movements = format!("/api/v1/sessions/{session}/cash-movements");
    for (kind, amount) in [("paid_in", "20.00"), ("paid_out", "5.50")] {
        let body = json!({"kind": kind, "amount": amount, "reason": "float and milk"});
        created(&api.post(&movements, &shop.cashier, &body).await);
    }
    // Expected 64.50; 54.50 counted: 10.00 short, over the 5.00 limit.
    let close = format!("/api/v1/sessions/{session}/close");
    let short = json!({"counted_cash": "54.50"});
    let refused = api.post(&close, &shop.cashier, &short).await;
    assert_eq!(
        code(&refused),
        (StatusCode::FORBIDDEN, "approval_required".into())
    );
    assert_eq!(refused.body["error"]["details"][0]["field"], "counted_cash");
    let ask = json!({"username": "maya", "password": "till-pass-123", "action": "cash_difference"});
    let approval = api
        .post("/api/v1/auth/approvals", &shop.cashier, &ask)
        .await;
    let token = approval.body["approval_token"].as_str().unwrap().to_owned();
    let closed = api
        .call(
            reqwest::Method::POST,
            &close,
            Some(&shop.cashier),
            Some(&short),
            &[("X-Approval", token.as_str())],
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(closed.body["difference"], "-10.00");
    assert_eq!(closed.body["approvals"][0]["action"], "cash_difference");

    let lists = api
        .get(
            &format!("/api/v1/sessions?register_id={}", shop.register),
            &shop.manager,
        )
        .await;
    assert_eq!(lists.body["data"][0]["status"], "closed");
    assert_eq!(
        api.get("/api/v1/sessions", &shop.cashier).await.status,
        StatusCode::FORBIDDEN,
        "listing sessions is a manager's"
    );

    // The gRPC mirror serves the same registers, with the same roles.
    let channel = tonic::transport::Channel::from_shared(system.grpc_url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let as_user = |token: &str| {
        let bearer: tonic::metadata::MetadataValue<tonic::metadata::Ascii> =
            format!("Bearer {token}").parse().unwrap();
        move |mut request: tonic::Request<()>| {
            request
                .metadata_mut()
                .insert("authorization", bearer.clone());
            Ok(request)
        }
    };
    let mut as_manager =
        RegisterServiceClient::with_interceptor(channel.clone(), as_user(&shop.manager));
    let listed = as_manager
        .list_sessions(pb::ListSessionsRequest {
            register_id: shop.register.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.sessions[0].z_number, Some(1));
    assert_eq!(listed.sessions[0].difference.as_deref(), Some("-10.00"));
    let mut as_cashier = RegisterServiceClient::with_interceptor(channel, as_user(&shop.cashier));
    let denied = as_cashier
        .list_sessions(pb::ListSessionsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);

    // The ledger: paid-in 1000/1050, paid-out 6100/1000, the shortfall 5200/1000. Cash
    // also holds the 12.99 of the sale rung up (outside any session) when the shop opened:
    // 12.99 + 20.00 − 5.50 − 10.00.
    let expected = ["-20.00", "5.50", "10.00", "17.49"];
    eventually("the ledger books the drawer's cash", || async {
        let accounts = api.get("/api/v1/ledger/accounts", &shop.admin).await;
        let balance = |code: &str| {
            accounts
                .body
                .as_array()?
                .iter()
                .find(|a| a["code"] == code)?["balance"]
                .as_str()
                .map(str::to_owned)
        };
        let found = [
            balance("1050")?,
            balance("6100")?,
            balance("5200")?,
            balance("1000")?,
        ];
        (found == expected).then_some(())
    })
    .await;
    let balanced = api.get("/api/v1/ledger/trial-balance", &shop.admin).await;
    assert_eq!(
        balanced.body["total_debits"],
        balanced.body["total_credits"]
    );
    system.stop().await;
}
