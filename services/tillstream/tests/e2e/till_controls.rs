//! Till controls through the gateway: a cashier cannot sell below the catalog's price or
//! beyond the store's discount limit without a manager, cannot date a live sale into another
//! day, and cannot ring a sale up under anyone else's name, over REST or the gRPC mirror,
//! whatever metadata it forges. A manager's own token needs no approval.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::sales_service_client::SalesServiceClient;
use tillstream_test_support::eventually;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;

use crate::api::Api;
use crate::system::System;

struct Store {
    api: Api,
    cashier: String,
    manager: String,
    location: String,
    coffee: String,
}

impl Store {
    /// One 12.99 coffee, paid in cash, with `extra` fields merged in (and `line` into the
    /// line).
    fn sale(&self, extra: Value, line: Value) -> Value {
        let mut first = json!({"product_id": self.coffee, "quantity": "1"});
        merge(&mut first, line);
        let mut sale = json!({
            "location_id": self.location,
            "lines": [first],
            "payments": [{"method": "cash", "amount": "20.00"}]
        });
        merge(&mut sale, extra);
        sale
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}

async fn open_store(system: &System) -> Store {
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    for (name, role) in [("carol", "cashier"), ("maya", "manager")] {
        let body = json!({"username": name, "password": "till-pass-123", "role": role});
        api.create("/api/v1/users", &admin, &body).await;
    }
    let location = api.create_location(&admin, "S1").await;
    let coffee = api.create_product(&admin, "COF", "12.99", "0").await;
    let store = Store {
        cashier: api.login("carol", "till-pass-123").await,
        manager: api.login("maya", "till-pass-123").await,
        api,
        location,
        coffee,
    };
    // The first sale waits for sales' copy of the catalog.
    eventually("sales knows the coffee", || async {
        let sale = store.sale(json!({}), json!({}));
        let answer = store.api.post("/api/v1/sales", &store.cashier, &sale).await;
        (answer.status == StatusCode::CREATED).then_some(())
    })
    .await;
    store
}

/// The cashier's till asks `username` (password `till-pass-123`) to approve `action`.
async fn ask(store: &Store, username: &str, action: &str) -> crate::api::Answer {
    let body = json!({"username": username, "password": "till-pass-123", "action": action});
    store
        .api
        .post("/api/v1/auth/approvals", &store.cashier, &body)
        .await
}

/// The cashier sells the coffee at 9.99 with `approvals` in `X-Approval`.
async fn sell_overridden(store: &Store, approvals: String) -> crate::api::Answer {
    let sale = store.sale(json!({}), json!({"unit_price": "9.99"}));
    store
        .api
        .call(
            reqwest::Method::POST,
            "/api/v1/sales",
            Some(&store.cashier),
            Some(&sale),
            &[("X-Approval", approvals.as_str())],
        )
        .await
}

fn assert_needs_approval(answer: &crate::api::Answer, field: &str) {
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    let error = &answer.body["error"];
    assert_eq!(error["code"], "approval_required", "{}", answer.body);
    assert_eq!(error["details"][0]["field"], field, "{}", answer.body);
}

#[tokio::test]
async fn a_cashier_needs_a_manager_to_give_goods_away_and_cannot_backdate_a_sale() {
    let system = System::up().await;
    let store = open_store(&system).await;
    let api = &store.api;

    // 12.99 rung at 0.01: the cashier is refused, the manager may.
    let cheap = store.sale(json!({}), json!({"unit_price": "0.01"}));
    let refused = api.post("/api/v1/sales", &store.cashier, &cheap).await;
    assert_needs_approval(&refused, "lines[0].unit_price");
    let overridden = api.post("/api/v1/sales", &store.manager, &cheap).await;
    assert_eq!(
        overridden.status,
        StatusCode::CREATED,
        "{}",
        overridden.body
    );
    assert_eq!(overridden.body["total"], "0.01");

    // A discount up to the limit (20 %) is the cashier's; beyond it, the manager's.
    let at_limit = store.sale(json!({"discount": {"percent": "20"}}), json!({}));
    let given = api.post("/api/v1/sales", &store.cashier, &at_limit).await;
    assert_eq!(given.status, StatusCode::CREATED, "{}", given.body);
    let beyond = store.sale(json!({"discount": {"percent": "25"}}), json!({}));
    let refused = api.post("/api/v1/sales", &store.cashier, &beyond).await;
    assert_needs_approval(&refused, "discount");
    let given = api.post("/api/v1/sales", &store.manager, &beyond).await;
    assert_eq!(given.status, StatusCode::CREATED, "{}", given.body);

    // A live sale is rung up now: not into 2020's closed day, nor tomorrow.
    for at in ["2020-01-01T10:00:00Z", "2099-01-01T10:00:00Z"] {
        let dated = store.sale(json!({"captured_at": at}), json!({}));
        let refused = api.post("/api/v1/sales", &store.cashier, &dated).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(refused.body["error"]["details"][0]["field"], "captured_at");
    }
    let moments_ago = chrono::Utc::now() - chrono::TimeDelta::minutes(2);
    let dated = store.sale(json!({"captured_at": moments_ago.to_rfc3339()}), json!({}));
    let rung = api.post("/api/v1/sales", &store.cashier, &dated).await;
    assert_eq!(rung.status, StatusCode::CREATED, "{}", rung.body);

    // Nothing refused was recorded: the sales are the five that succeeded.
    let listed = api.get("/api/v1/sales", &store.manager).await;
    assert_eq!(listed.body["meta"]["total"], 5, "{}", listed.body);
    system.stop().await;
}

#[tokio::test]
async fn who_rang_a_sale_up_is_the_token_whatever_the_grpc_mirror_is_told() {
    let system = System::up().await;
    let store = open_store(&system).await;
    let me = store.api.get("/api/v1/auth/me", &store.cashier).await;
    let cashier_id = me.body["id"].as_str().unwrap().to_owned();
    let manager = store.api.get("/api/v1/auth/me", &store.manager).await;
    let manager_id = manager.body["id"].as_str().unwrap().to_owned();

    let channel = Channel::from_shared(system.grpc_url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let bearer: MetadataValue<Ascii> = format!("Bearer {}", store.cashier).parse().unwrap();
    let forged: MetadataValue<Ascii> = manager_id.parse().unwrap();
    let mut sales =
        SalesServiceClient::with_interceptor(channel, move |mut request: tonic::Request<()>| {
            let metadata = request.metadata_mut();
            metadata.insert("authorization", bearer.clone());
            metadata.insert("x-actor", forged.clone());
            metadata.insert("x-client-addr", "10.0.0.1".parse().unwrap());
            Ok(request)
        });
    let line = pb::SaleLineRequest {
        product: Some(pb::sale_line_request::Product::ProductId(
            store.coffee.clone(),
        )),
        quantity: "1".into(),
        ..Default::default()
    };
    let request = pb::CreateSaleRequest {
        location_id: store.location.clone(),
        lines: vec![line.clone()],
        payments: vec![pb::PaymentRequest {
            method: "cash".into(),
            amount: "20.00".into(),
            ..Default::default()
        }],
        cashier_id: manager_id.clone(),
        ..Default::default()
    };
    let sale = sales
        .create_sale(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sale.cashier_id, cashier_id, "the token's user rang it up");

    // The mirror's cashier is held to the same controls as REST's.
    let cheap = pb::CreateSaleRequest {
        lines: vec![pb::SaleLineRequest {
            unit_price: "0.01".into(),
            ..line
        }],
        ..request
    };
    let refused = sales.create_sale(cheap).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    assert_eq!(
        refused.metadata().get("tillstream-reason").unwrap(),
        "approval_required"
    );
    system.stop().await;
}

#[tokio::test]
async fn a_managers_approval_lets_a_cashier_override_once_and_only_for_its_action() {
    let system = System::up().await;
    let store = open_store(&system).await;
    let api = &store.api;
    let ask = |username: &'static str, action: &'static str| ask(&store, username, action);
    let sell_with = |approvals: String| sell_overridden(&store, approvals);

    // A cashier cannot approve, not even for themselves; an action must be one of the list;
    // a wrong password is a 401 (counted by the approver's lockout).
    let own = ask("carol", "price_override").await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.body);
    assert_eq!(own.body["error"]["code"], "approver_not_allowed");
    let unknown = ask("maya", "free_lunch").await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
    let wrong = api
        .post(
            "/api/v1/auth/approvals",
            &store.cashier,
            &json!({"username": "maya", "password": "guess", "action": "discount"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);

    // An approval for another action approves nothing here.
    let discount = ask("maya", "discount").await;
    assert_eq!(discount.status, StatusCode::CREATED, "{}", discount.body);
    assert_eq!(discount.body["expires_in"], 120);
    let token = discount.body["approval_token"].as_str().unwrap().to_owned();
    assert_needs_approval(&sell_with(token).await, "lines[0].unit_price");

    // The right one lets the sale through once, and the sale names the approver.
    let approval = ask("maya", "price_override").await;
    assert_eq!(approval.body["approver"]["username"], "maya");
    let token = approval.body["approval_token"].as_str().unwrap().to_owned();
    let sold = sell_with(token.clone()).await;
    assert_eq!(sold.status, StatusCode::CREATED, "{}", sold.body);
    // Presented with the request, the approval sends the sale straight to the transaction
    // that spends it: its reads made once, not first outside it.
    let timing = sold.server_timing.clone().unwrap_or_default();
    let stages = tillstream_telemetry::timing::parse(&timing);
    let count = |stage: &str| stages.iter().filter(|(name, _)| name == stage).count();
    assert_eq!(
        (count("sales.begin"), count("sales.start")),
        (1, 1),
        "{timing}"
    );
    let used = &sold.body["approvals"][0];
    assert_eq!(used["action"], "price_override", "{}", sold.body);
    assert_eq!(used["approval_id"], approval.body["approval_id"]);
    assert_eq!(used["approver_id"], approval.body["approver"]["id"]);
    let again = sell_with(token.clone()).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(again.body["error"]["code"], "approval_used");

    // An approval token opens nothing as an access token.
    let me = api.get("/api/v1/auth/me", &token).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.body);
    system.stop().await;
}

/// The cashier posts `body` to `path` with `approvals` in `X-Approval`.
async fn as_cashier(
    store: &Store,
    path: &str,
    body: Value,
    approvals: &[&str],
) -> crate::api::Answer {
    let joined = approvals.join(",");
    let headers: Vec<(&str, &str)> = if joined.is_empty() {
        Vec::new()
    } else {
        vec![("X-Approval", joined.as_str())]
    };
    store
        .api
        .call(
            reqwest::Method::POST,
            path,
            Some(&store.cashier),
            Some(&body),
            &headers,
        )
        .await
}

fn token(answer: &crate::api::Answer) -> String {
    answer.body["approval_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_cashier_returns_and_voids_with_a_managers_approval_and_refunds_follow_the_tenders() {
    let system = System::up().await;
    let store = open_store(&system).await;
    let plain = store.sale(json!({}), json!({}));
    let rung = as_cashier(&store, "/api/v1/sales", plain.clone(), &[]).await;
    let returns = format!(
        "/api/v1/sales/{}/returns",
        rung.body["id"].as_str().unwrap()
    );
    let cash_back = json!({"lines": [{"line_no": 1, "quantity": "1"}],
                           "refunds": [{"method": "cash", "amount": "12.99"}]});
    let card_back = json!({"lines": [{"line_no": 1, "quantity": "1"}],
                           "refunds": [{"method": "card", "amount": "12.99"}]});

    // An invalid return is a 422 whoever asks; a valid one needs the manager.
    let too_many = json!({"lines": [{"line_no": 1, "quantity": "2"}],
                          "refunds": [{"method": "cash", "amount": "25.98"}]});
    let invalid = as_cashier(&store, &returns, too_many, &[]).await;
    assert_eq!(
        invalid.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        invalid.body
    );
    let refused = as_cashier(&store, &returns, cash_back.clone(), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.body["error"]["code"], "approval_required");

    // Paid in cash, refunded to a card: the return's approval is not enough.
    let to_return = token(&ask(&store, "maya", "return").await);
    let other_tender = as_cashier(&store, &returns, card_back, &[&to_return]).await;
    assert_needs_approval(&other_tender, "refunds");
    let returned = as_cashier(&store, &returns, cash_back, &[&to_return]).await;
    assert_eq!(returned.status, StatusCode::CREATED, "{}", returned.body);
    assert_eq!(returned.body["refund_total"], "12.99");

    // A second sale, voided by the cashier with the manager's approval.
    let rung = as_cashier(&store, "/api/v1/sales", plain, &[]).await;
    let void = format!("/api/v1/sales/{}/void", rung.body["id"].as_str().unwrap());
    let reason = json!({"reason": "rung twice"});
    let refused = as_cashier(&store, &void, reason.clone(), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let to_void = token(&ask(&store, "maya", "void").await);
    let voided = as_cashier(&store, &void, reason, &[&to_void]).await;
    assert_eq!(voided.status, StatusCode::OK, "{}", voided.body);
    assert_eq!(voided.body["status"], "voided");
    system.stop().await;
}

#[tokio::test]
async fn a_cashier_sells_and_takes_returns_only_at_their_own_locations() {
    let system = System::up().await;
    let store = open_store(&system).await;
    let api = &store.api;
    let admin = api.login("admin", &system.admin_password).await;
    let other = api.create_location(&admin, "S2").await;

    // Dan works at S2 only; S1 (the store's) is foreign to him, as is a location that does
    // not exist.
    let body = json!({"username": "dan", "password": "till-pass-123", "role": "cashier",
                      "location_ids": [other]});
    let dan = api.create("/api/v1/users", &admin, &body).await;
    assert_eq!(dan["location_ids"], json!([other]));
    let bad = json!({"username": "eve", "password": "till-pass-123", "role": "cashier",
                     "location_ids": ["store-1"]});
    let refused = api.post("/api/v1/users", &admin, &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["error"]["details"][0]["field"], "location_ids");
    let token = api.login("dan", "till-pass-123").await;
    let me = api.get("/api/v1/auth/me", &token).await;
    assert_eq!(me.body["location_ids"], json!([other]));

    let at_s1 = store.sale(json!({}), json!({}));
    let nowhere = store.sale(
        json!({"location_id": "01JD5W2N8Q3V6R1T4Y7Z0A9B2C"}),
        json!({}),
    );
    for sale in [&at_s1, &nowhere] {
        let answer = api.post("/api/v1/sales", &token, sale).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
        assert_eq!(answer.body["error"]["code"], "location_not_allowed");
        assert_eq!(answer.body["error"]["details"][0]["field"], "location_id");
    }
    let offline = store.sale(
        json!({"id": "01JD5W2N8Q3V6R1T4Y7Z0A9B2D", "captured_at": "2026-11-24T09:00:00Z"}),
        json!({}),
    );
    let batch = api
        .post("/api/v1/sales/batch", &token, &json!({"sales": [offline]}))
        .await;
    assert_eq!(batch.status, StatusCode::OK, "{}", batch.body);
    assert_eq!(batch.body["results"][0]["status"], "rejected");
    assert_eq!(
        batch.body["results"][0]["error"]["code"],
        "location_not_allowed"
    );

    // Carol's sale at S1 cannot be returned or voided by Dan, even with a manager's approval.
    let rung = api.post("/api/v1/sales", &store.cashier, &at_s1).await;
    let sale = rung.body["id"].as_str().unwrap().to_owned();
    for (path, action, body) in [
        (
            format!("/api/v1/sales/{sale}/returns"),
            "return",
            json!({"lines": [{"line_no": 1, "quantity": "1"}],
                   "refunds": [{"method": "cash", "amount": "12.99"}]}),
        ),
        (
            format!("/api/v1/sales/{sale}/void"),
            "void",
            json!({"reason": "rung twice"}),
        ),
    ] {
        let approval = json!({"username": "maya", "password": "till-pass-123", "action": action});
        let approval = api.post("/api/v1/auth/approvals", &token, &approval).await;
        let answer = api
            .call(
                reqwest::Method::POST,
                &path,
                Some(&token),
                Some(&body),
                &[("X-Approval", self::token(&approval).as_str())],
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
        assert_eq!(answer.body["error"]["code"], "location_not_allowed");
    }

    // Given S1 as well, his next token sells there.
    let path = format!("/api/v1/users/{}", dan["id"].as_str().unwrap());
    let both = json!({"location_ids": [other, store.location]});
    let patched = api
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(&admin),
            Some(&both),
            &[],
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let token = api.login("dan", "till-pass-123").await;
    let answer = api.post("/api/v1/sales", &token, &at_s1).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(answer.body["cashier_id"], dan["id"]);
    system.stop().await;
}
