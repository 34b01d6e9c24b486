//! Registers and sessions through the gateway: a drawer's shift from the float to the
//! count, the X and Z reports against figures worked out by hand, the races a store has
//! (two opens, two closes), late batch sales, and the fiscal journal checked the way an
//! auditor would, from its entries alone, then tampered with.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tillstream_test_support::eventually;

use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::register_service_client::RegisterServiceClient;

use crate::api::{Answer, Api};
use crate::system::System;

struct Shop {
    api: Api,
    admin: String,
    cashier: String,
    manager: String,
    location: String,
    coffee: String,
    register: String,
}

impl Shop {
    async fn open(system: &System) -> Shop {
        let api = Api::new(&system.url);
        let admin = api.login("admin", &system.admin_password).await;
        for (name, role) in [("carol", "cashier"), ("maya", "manager")] {
            let body = json!({"username": name, "password": "till-pass-123", "role": role});
            api.create("/api/v1/users", &admin, &body).await;
        }
        let location = api.create_location(&admin, "S1").await;
        let coffee = api.create_product(&admin, "COF", "12.99", "0").await;
        let manager = api.login("maya", "till-pass-123").await;
        // The register waits for sales' copy of the location.
        let body = json!({"location_id": location, "code": "T1", "name": "Front till"});
        let register = eventually("sales knows the location", || async {
            let answer = api.post("/api/v1/registers", &manager, &body).await;
            (answer.status == StatusCode::CREATED)
                .then(|| answer.body["id"].as_str().unwrap().to_owned())
        })
        .await;
        let shop = Shop {
            cashier: api.login("carol", "till-pass-123").await,
            api,
            admin,
            manager,
            location,
            coffee,
            register,
        };
        eventually("sales knows the coffee", || async {
            let answer = shop
                .api
                .post(
                    "/api/v1/sales",
                    &shop.cashier,
                    &shop.sale(None, &[("cash", "20.00")]),
                )
                .await;
            (answer.status == StatusCode::CREATED).then_some(())
        })
        .await;
        shop
    }

    /// One coffee (12.99, no tax) in `session`, paid with `payments`.
    fn sale(&self, session: Option<&str>, payments: &[(&str, &str)]) -> Value {
        let payments: Vec<Value> = payments
            .iter()
            .map(|(method, amount)| json!({"method": method, "amount": amount}))
            .collect();
        let mut sale = json!({
            "location_id": self.location,
            "lines": [{"product_id": self.coffee, "quantity": "1"}],
            "payments": payments,
        });
        if let Some(session) = session {
            sale["session_id"] = json!(session);
        }
        sale
    }

    async fn open_session(&self, token: &str, float: &str) -> Answer {
        let path = format!("/api/v1/registers/{}/sessions", self.register);
        self.api
            .post(&path, token, &json!({"opening_float": float}))
            .await
    }
}

fn created(answer: &Answer) -> String {
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    answer.body["id"].as_str().unwrap().to_owned()
}

fn code(answer: &Answer) -> (StatusCode, String) {
    (
        answer.status,
        answer.body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn a_shift_from_float_to_count_adds_up_to_the_cent_and_its_journal_verifies() {
    let system = System::up().await;
    let shop = Shop::open(&system).await;
    let api = &shop.api;

    // Registers: a manager's, one code per location whatever its case.
    let again = json!({"location_id": shop.location, "code": "t1", "name": "Again"});
    assert_eq!(
        api.post("/api/v1/registers", &shop.manager, &again)
            .await
            .status,
        StatusCode::CONFLICT
    );
    let by_cashier = api.post("/api/v1/registers", &shop.cashier, &again).await;
    assert_eq!(by_cashier.status, StatusCode::FORBIDDEN);

    // Two opens at once: one session.
    let (first, second) = tokio::join!(
        shop.open_session(&shop.cashier, "100.00"),
        shop.open_session(&shop.cashier, "100.00")
    );
    let mut answers = [first, second];
    answers.sort_by_key(|a| a.status);
    assert_eq!(
        answers[0].status,
        StatusCode::CREATED,
        "{}",
        answers[0].body
    );
    assert_eq!(
        code(&answers[1]),
        (StatusCode::CONFLICT, "session_open".into())
    );
    let session = created(&answers[0]);
    let listed = api
        .get(
            &format!("/api/v1/registers?location_id={}", shop.location),
            &shop.cashier,
        )
        .await;
    assert_eq!(listed.body["data"][0]["open_session_id"], json!(session));

    // Cash with change, a split, a sale voided, a cash return, a paid-in and a paid-out.
    let cash = api
        .post(
            "/api/v1/sales",
            &shop.cashier,
            &shop.sale(Some(&session), &[("cash", "20.00")]),
        )
        .await;
    let cash_id = created(&cash);
    assert_eq!(cash.body["register_id"], json!(shop.register));
    assert_eq!(
        cash.body["receipt_no"], 2,
        "the session's opening is entry 1"
    );
    let split = shop.sale(Some(&session), &[("card", "10.00"), ("cash", "2.99")]);
    let split_id = created(&api.post("/api/v1/sales", &shop.cashier, &split).await);
    let voided = shop.sale(Some(&session), &[("cash", "12.99")]);
    let voided_id = created(&api.post("/api/v1/sales", &shop.cashier, &voided).await);
    let void = api
        .post(
            &format!("/api/v1/sales/{voided_id}/void"),
            &shop.manager,
            &json!({"reason": "rung twice"}),
        )
        .await;
    assert_eq!(void.status, StatusCode::OK, "{}", void.body);
    let back = json!({"lines": [{"line_no": 1, "quantity": "1"}],
                      "refunds": [{"method": "cash", "amount": "12.99"}],
                      "session_id": session});
    let returned = api
        .post(
            &format!("/api/v1/sales/{cash_id}/returns"),
            &shop.manager,
            &back,
        )
        .await;
    assert_eq!(returned.status, StatusCode::CREATED, "{}", returned.body);
    let movements = format!("/api/v1/sessions/{session}/cash-movements");
    for (kind, amount, reason) in [
        ("paid_in", "20.00", "change from the safe"),
        ("paid_out", "5.50", "milk"),
    ] {
        let body = json!({"kind": kind, "amount": amount, "reason": reason});
        let moved = api.post(&movements, &shop.cashier, &body).await;
        assert_eq!(moved.status, StatusCode::CREATED, "{}", moved.body);
        assert_eq!(moved.body["by"], cash.body["cashier_id"]);
    }
    let no_reason = json!({"kind": "paid_out", "amount": "1.00", "reason": " "});
    let refused = api.post(&movements, &shop.cashier, &no_reason).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["error"]["details"][0]["field"], "reason");

    // The X report, by hand: sales 12.99 (cash, 7.01 change) and 12.99 (10.00 card, 2.99
    // cash); the void leaves nothing; 12.99 refunded in cash;
    // expected = 100.00 + 15.98 − 12.99 + 20.00 − 5.50 = 117.49.
    let x = api
        .get(&format!("/api/v1/sessions/{session}/report"), &shop.cashier)
        .await;
    let expected_x = json!({
        "kind": "x", "z_number": null, "sales_count": 2, "voids_count": 1, "returns_count": 1,
        "gross": "25.98", "discounts": "0.00", "net": "25.98", "tax": "0.00", "returns": "12.99",
        "total": "25.98", "by_tender": {"card": "10.00", "cash": "15.98"},
        "refunds_by_tender": {"cash": "12.99"}, "opening_float": "100.00", "paid_in": "20.00",
        "paid_out": "5.50", "cash_sales": "15.98", "other_cash_in": "0.00",
        "cash_refunds": "12.99", "expected_cash": "117.49", "counted_cash": null,
        "difference": null, "grand_total": "12.99"
    });
    for (field, value) in expected_x.as_object().unwrap() {
        assert_eq!(&x.body[field], value, "X report `{field}`: {}", x.body);
    }

    // The count matches: closed, Z number 1; a second close is refused; so is a live sale
    // in it and a void of its sale. A batch sale naming it is kept, late, outside the Z.
    let close = format!("/api/v1/sessions/{session}/close");
    let closed = api
        .post(&close, &shop.cashier, &json!({"counted_cash": "117.49"}))
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(
        (
            &closed.body["status"],
            &closed.body["z_number"],
            &closed.body["difference"]
        ),
        (&json!("closed"), &json!(1), &json!("0.00"))
    );
    assert_eq!(closed.body["report"]["kind"], "z");
    let twice = api
        .post(&close, &shop.cashier, &json!({"counted_cash": "117.49"}))
        .await;
    assert_eq!(
        code(&twice),
        (StatusCode::CONFLICT, "session_closed".into())
    );
    let live = api
        .post(
            "/api/v1/sales",
            &shop.cashier,
            &shop.sale(Some(&session), &[("cash", "12.99")]),
        )
        .await;
    assert_eq!(code(&live), (StatusCode::CONFLICT, "session_closed".into()));
    let void = api
        .post(
            &format!("/api/v1/sales/{split_id}/void"),
            &shop.manager,
            &json!({"reason": "too late"}),
        )
        .await;
    assert_eq!(code(&void), (StatusCode::CONFLICT, "session_closed".into()));
    let mut late = shop.sale(Some(&session), &[("cash", "12.99")]);
    late["id"] = json!("01JD5W2N8Q3V6R1T4Y7Z0A9B2E");
    late["captured_at"] = json!(closed.body["opened_at"]);
    let batch = api
        .post(
            "/api/v1/sales/batch",
            &shop.cashier,
            &json!({"sales": [late]}),
        )
        .await;
    assert_eq!(
        batch.body["results"][0]["status"], "created",
        "{}",
        batch.body
    );
    assert_eq!(batch.body["results"][0]["sale"]["late"], true);
    let z = api
        .get(&format!("/api/v1/sessions/{session}/report"), &shop.cashier)
        .await;
    assert_eq!(z.body, closed.body["report"], "the Z is final");

    // The journal: opening, three sales, the void, the return, two movements, the close
    // and the late sale; recomputed here from the entries alone.
    let journal = api
        .get(
            &format!("/api/v1/registers/{}/journal", shop.register),
            &shop.manager,
        )
        .await;
    let entries = journal.body["data"].as_array().unwrap();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "session_opened",
            "sale",
            "sale",
            "sale",
            "void",
            "return",
            "paid_in",
            "paid_out",
            "session_closed",
            "sale"
        ]
    );
    let mut prev = "0".repeat(64);
    for (entry, seq) in entries.iter().zip(1..) {
        assert_eq!(entry["seq"], seq);
        assert_eq!(entry["prev_hash"], json!(prev));
        let content = entry["content"].as_str().unwrap();
        let hash = hex::encode(Sha256::digest(format!("{prev}{content}").as_bytes()));
        assert_eq!(entry["hash"], json!(hash), "entry {seq}");
        prev = hash;
    }
    assert_eq!(journal.body["next_after_seq"], Value::Null);
    let paged = api
        .get(
            &format!(
                "/api/v1/registers/{}/journal?after_seq=3&limit=2",
                shop.register
            ),
            &shop.manager,
        )
        .await;
    assert_eq!(paged.body["data"][0]["seq"], 4);
    assert_eq!(paged.body["next_after_seq"], 5);
    let verify = format!("/api/v1/registers/{}/journal/verify", shop.register);
    let verified = api.get(&verify, &shop.manager).await;
    assert_eq!(
        (
            &verified.body["valid"],
            &verified.body["entries"],
            &verified.body["last_hash"]
        ),
        (&json!(true), &json!(10), &json!(prev))
    );

    // The CLI's export of the period carries the same chain, line after line.
    let exported = system
        .cli_ok(&[
            "journal",
            "export",
            "--register",
            &shop.register,
            "--from",
            "2000-01-01",
        ])
        .await;
    assert_eq!(exported.len(), 10);
    for (line, entry) in exported.iter().zip(entries) {
        assert_eq!(
            (&line["seq"], &line["hash"]),
            (&entry["seq"], &entry["hash"])
        );
    }
    let checked = system
        .cli_ok(&["journal", "verify", "--register", &shop.register])
        .await;
    assert_eq!(checked[0]["valid"], true);

    // The receipt names the register, the receipt number and the entry's hash.
    let text = reqwest::Client::new()
        .get(format!("{}/api/v1/sales/{cash_id}/receipt", system.url))
        .bearer_auth(&shop.cashier)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let second_hash = entries[1]["hash"].as_str().unwrap();
    assert!(
        text.contains(&format!("Reg T1 #2 {}", &second_hash[..8])),
        "{text}"
    );

    // Someone edits a sale's total in the database: verify names that entry.
    let pool = system.database("sales").await;
    sqlx::query(
        "UPDATE journal_entries SET content = replace(content, '\"total\":\"12.99\"', '\"total\":\"1.99\"')
         WHERE register_id = $1 AND seq = 3",
    )
    .bind(&shop.register)
    .execute(&pool)
    .await
    .unwrap();
    let broken = api.get(&verify, &shop.manager).await;
    assert_eq!(
        (&broken.body["valid"], &broken.body["broken_at_seq"]),
        (&json!(false), &json!(3)),
        "{}",
        broken.body
    );
    // Put back, then the last entry deleted: the register's head still names it.
    sqlx::query(
        "UPDATE journal_entries SET content = replace(content, '\"total\":\"1.99\"', '\"total\":\"12.99\"')
         WHERE register_id = $1 AND seq = 3",
    )
    .bind(&shop.register)
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(api.get(&verify, &shop.manager).await.body["valid"], true);
    sqlx::query("DELETE FROM journal_entries WHERE register_id = $1 AND seq = 10")
        .bind(&shop.register)
        .execute(&pool)
        .await
        .unwrap();
    let cut = api.get(&verify, &shop.manager).await;
    assert_eq!(
        (&cut.body["valid"], &cut.body["broken_at_seq"]),
        (&json!(false), &json!(10))
    );
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

#[tokio::test]
async fn sales_racing_a_close_are_in_its_z_or_refused_and_two_closes_make_one() {
    let system = System::up().await;
    let shop = Shop::open(&system).await;
    let session = created(&shop.open_session(&shop.cashier, "0.00").await);
    // Each request on a task of its own, so they race for real.
    let post = |path: String, body: Value| {
        let (base, token) = (system.url.clone(), shop.cashier.clone());
        tokio::spawn(async move { Api::new(&base).post(&path, &token, &body).await })
    };
    let sale = shop.sale(Some(&session), &[("card", "12.99")]);
    let close = format!("/api/v1/sessions/{session}/close");
    let mut sales = Vec::new();
    let mut closes = Vec::new();
    for i in 0..20 {
        sales.push(post("/api/v1/sales".into(), sale.clone()));
        if i == 10 || i == 11 {
            closes.push(post(close.clone(), json!({"counted_cash": "0.00"})));
        }
    }
    let mut accepted = 0u32;
    for task in sales {
        let answer = task.await.unwrap();
        if answer.status == StatusCode::CREATED {
            accepted += 1;
        } else {
            assert_eq!(
                code(&answer),
                (StatusCode::CONFLICT, "session_closed".into())
            );
        }
    }
    let mut done = Vec::new();
    for task in closes {
        let answer = task.await.unwrap();
        if answer.status == StatusCode::OK {
            done.push(answer);
        } else {
            assert_eq!(
                code(&answer),
                (StatusCode::CONFLICT, "session_closed".into())
            );
        }
    }
    assert_eq!(done.len(), 1, "one close of two");
    let z = &done[0].body["report"];
    assert_eq!(
        z["sales_count"], accepted,
        "every accepted sale is in the Z: {z}"
    );
    let taken = rust_decimal::Decimal::new(1299, 2) * rust_decimal::Decimal::from(accepted);
    assert_eq!(z["total"], json!(format!("{taken:.2}")));
    system.stop().await;
}

#[tokio::test]
async fn a_close_killed_midway_leaves_the_session_open_or_closed_and_the_journal_whole() {
    let mut system = System::up().await;
    let shop = Shop::open(&system).await;
    let api = &shop.api;
    let session = created(&shop.open_session(&shop.cashier, "100.00").await);
    for _ in 0..5 {
        let sale = shop.sale(Some(&session), &[("cash", "20.00")]);
        created(&api.post("/api/v1/sales", &shop.cashier, &sale).await);
    }
    let report = api
        .get(&format!("/api/v1/sessions/{session}/report"), &shop.cashier)
        .await;
    let count = json!({"counted_cash": report.body["expected_cash"]});
    let close = format!("/api/v1/sessions/{session}/close");

    // The close is sent and sales is killed while it is under way.
    let in_flight = {
        let (base, token, path, body) = (
            system.url.clone(),
            shop.cashier.clone(),
            close.clone(),
            count.clone(),
        );
        tokio::spawn(async move { Api::new(&base).post(&path, &token, &body).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(system.pids["sales"]),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    system.wait_for_line("started sales").await;
    let first = in_flight.await.unwrap();

    // Either it closed or nothing of it happened: then the till closes again.
    let status = eventually("sales answers again", || async {
        let found = api
            .get(&format!("/api/v1/sessions/{session}"), &shop.cashier)
            .await;
        (found.status == StatusCode::OK).then(|| found.body["status"].as_str().unwrap().to_owned())
    })
    .await;
    assert!(
        status == "closed" || first.status != StatusCode::OK,
        "a close answered 200 must have happened: {}",
        first.body
    );
    if status == "open" {
        let again = api.post(&close, &shop.cashier, &count).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    }
    let closed = api
        .get(&format!("/api/v1/sessions/{session}"), &shop.cashier)
        .await;
    assert_eq!(
        (&closed.body["status"], &closed.body["z_number"]),
        (&json!("closed"), &json!(1))
    );
    let verified = api
        .get(
            &format!("/api/v1/registers/{}/journal/verify", shop.register),
            &shop.manager,
        )
        .await;
    assert_eq!(
        (&verified.body["valid"], &verified.body["entries"]),
        (&json!(true), &json!(7)),
        "opened, five sales, one close: {}",
        verified.body
    );
    system.stop().await;
}
