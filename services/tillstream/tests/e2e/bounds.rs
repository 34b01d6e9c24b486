//! Every numeric field of every route, driven with values at and beyond the contract's
//! bounds: beyond them (and malformed: exponents, `NaN`, too many places) each is a 422
//! naming the field and appends nothing to any store; at them, the request goes through.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tillstream_test_support::eventually;

use crate::api::{Answer, Api};
use crate::bounds_values::{Kind, beyond, random_beyond};
use crate::system::System;

use tillstream_service::addrs::SERVICES;

/// The numeric fields of a request: a JSON pointer and what it holds.
type Fields = Vec<(&'static str, Kind)>;

/// A request with a numeric field at `pointer`.
struct Route {
    method: Method,
    path: String,
    body: Value,
    pointer: &'static str,
    kind: Kind,
}

impl Route {
    fn new(method: Method, path: String, body: Value, pointer: &'static str, kind: Kind) -> Self {
        Route {
            method,
            path,
            body,
            pointer,
            kind,
        }
    }

    /// The field as error details name it: `/lines/0/quantity` → `lines[0].quantity`.
    fn field(&self) -> String {
        let mut field = String::new();
        for part in self.pointer.trim_start_matches('/').split('/') {
            if part.chars().all(|c| c.is_ascii_digit()) {
                field.push_str(&format!("[{part}]"));
            } else {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(part);
            }
        }
        field
    }

    fn with(&self, value: Value) -> Value {
        let mut body = self.body.clone();
        *body.pointer_mut(self.pointer).unwrap() = value;
        body
    }
}

/// A call that waits out the rate limit, so the test is about bounds and nothing else.
async fn call(api: &Api, token: &str, method: Method, path: &str, body: &Value) -> Answer {
    loop {
        let answer = api
            .call(method.clone(), path, Some(token), Some(body), &[])
            .await;
        if answer.status != StatusCode::TOO_MANY_REQUESTS {
            return answer;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn events_appended(system: &System) -> Vec<i64> {
    let mut counts = Vec::new();
    for service in SERVICES {
        let db = system.database(service).await;
        counts.push(
            sqlx::query_scalar("SELECT count(*) FROM events")
                .fetch_one(&db)
                .await
                .unwrap(),
        );
        db.close().await;
    }
    counts
}

#[tokio::test]
async fn numbers_beyond_the_bounds_are_refused_on_every_route_and_nothing_is_appended() {
    let system = System::up().await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let loc = &api.create_location(&admin, "B1").await;
    let other = &api.create_location(&admin, "B2").await;
    let id = &api
        .create_product(&admin, "BOUND-1", "10000000000", "0")
        .await;

    // At the bounds: a million units at the largest cost, the largest price, a sale of
    // one at ten billion.
    let received = api
        .receive_stock(
            &admin,
            &json!({"location_id": loc, "lines": [
                {"product_id": id, "quantity": "1000000", "unit_cost": "10000000000.0000"}]}),
        )
        .await;
    assert_eq!(received["levels"][0]["on_hand"], "1000000", "{received}");
    let sale_body = |quantity: Value, amount: &str| {
        json!({"location_id": loc, "lines": [{"product_id": id, "quantity": quantity,
               "discount": {"percent": "0"}}],
               "discount": {"amount": "0"},
               "payments": [{"method": "cash", "amount": amount}]})
    };
    let sale: Value = eventually("sales knows the product", || async {
        let answer = api
            .post(
                "/api/v1/sales",
                &admin,
                &sale_body(json!("1"), "10000000000"),
            )
            .await;
        (answer.status == StatusCode::CREATED).then_some(answer.body)
    })
    .await;
    assert_eq!(sale["total"], "10000000000.00");
    let sale_id = sale["id"].as_str().unwrap();
    // Two units of the largest price: a total beyond the range, refused.
    let over = api
        .post(
            "/api/v1/sales",
            &admin,
            &sale_body(json!("2"), "10000000000"),
        )
        .await;
    assert_eq!(
        over.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        over.body
    );

    // Two registers: one with an open session (its cash movements and close), one without
    // (the opening float).
    let register = |code: &'static str| {
        let body = json!({"location_id": loc, "code": code, "name": code});
        let api = &api;
        let admin = &admin;
        async move {
            api.create("/api/v1/registers", admin, &body).await["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (with_session, without) = (register("T1").await, register("T2").await);
    let session = api
        .create(
            &format!("/api/v1/registers/{with_session}/sessions"),
            &admin,
            &json!({"opening_float": "100.00"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let open = format!("/api/v1/registers/{without}/sessions");
    let movements = format!("/api/v1/sessions/{session}/cash-movements");
    let close = format!("/api/v1/sessions/{session}/close");

    // Purchasing: a supplier, an order sent with two units in (to receive and invoice
    // against), and a draft (to change).
    let supplier = api
        .create(
            "/api/v1/suppliers",
            &admin,
            &json!({"code": "BOUNDS", "name": "Bounds"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let order_body = json!({"supplier_id": supplier, "location_id": loc,
                            "lines": [{"product_id": id, "quantity": "10", "unit_cost": "1.00"}]});
    let order_id = |order: Value| order["id"].as_str().unwrap().to_owned();
    let sent = order_id(
        api.create("/api/v1/purchase-orders", &admin, &order_body)
            .await,
    );
    let draft = order_id(
        api.create("/api/v1/purchase-orders", &admin, &order_body)
            .await,
    );
    let submitted = api
        .post(
            &format!("/api/v1/purchase-orders/{sent}/submit"),
            &admin,
            &json!({}),
        )
        .await;
    assert_eq!(submitted.status, StatusCode::OK, "{}", submitted.body);
    let receipts = format!("/api/v1/purchase-orders/{sent}/receipts");
    let line = json!({"lines": [{"line_no": 1, "quantity": "2"}]});
    api.create(&receipts, &admin, &line).await;
    let invoices = format!("/api/v1/purchase-orders/{sent}/invoices");
    let draft_path = format!("/api/v1/purchase-orders/{draft}");
    let payments = format!("/api/v1/suppliers/{supplier}/payments");

    // Customers and stored value: a customer to change and to pay in for (a payment beyond
    // the bounds is refused before the balance is looked at).
    let customer = api
        .create("/api/v1/customers", &admin, &json!({"name": "Bounds"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let customer_path = format!("/api/v1/customers/{customer}");
    let account_payments = format!("/api/v1/customers/{customer}/account/payments");

    // Repairs: one taken in for that customer, to fit parts to, log labor on and collect
    // (a number beyond the bounds is refused before the repair's state is looked at: it is
    // still `received`, which no collection is made from).
    let repair_body = json!({"customer_id": customer, "location_id": loc, "device": "Phone",
                             "problem": "Bounds", "estimate": "1.00"});
    let repair = api.create("/api/v1/repairs", &admin, &repair_body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let repair_parts = format!("/api/v1/repairs/{repair}/parts");
    let repair_labor = format!("/api/v1/repairs/{repair}/labor");
    let repair_collect = format!("/api/v1/repairs/{repair}/collect");

    let now = chrono::Utc::now().to_rfc3339();
    use Kind::{Cost, Money, Percent, Quantity, Rate};
    let product = format!("/api/v1/products/{id}");
    let returns = format!("/api/v1/sales/{sale_id}/returns");
    let entry = json!({"memo": "bounds", "lines": [
        {"account": "1000", "debit": "1.00", "credit": "0"},
        {"account": "4000", "debit": "0", "credit": "1.00"}]});
    let batch = json!({"sales": [{"id": tillstream_kernel::Ulid::generate().to_string(),
        "captured_at": now, "location_id": loc,
        "lines": [{"product_id": id, "quantity": "1", "unit_price": "1.00"}],
        "payments": [{"method": "cash", "amount": "10000000000"}]}]});
    // Each request, valid but for the field under test, and its numeric fields.
    let table: Vec<(Method, &str, Value, Fields)> = vec![
        (
            Method::POST,
            "/api/v1/products",
            json!({"sku": "NEW-1", "name": "New", "price": "1.00", "tax_rate": "0.08", "reorder_point": "5"}),
            vec![
                ("/price", Money),
                ("/tax_rate", Rate),
                ("/reorder_point", Quantity),
            ],
        ),
        (
            Method::PATCH,
            &product,
            json!({"price": "1.00", "tax_rate": "0.1", "reorder_point": "1"}),
            vec![
                ("/price", Money),
                ("/tax_rate", Rate),
                ("/reorder_point", Quantity),
            ],
        ),
        (
            Method::POST,
            "/api/v1/stock/receipts",
            json!({"location_id": loc, "lines": [{"product_id": id, "quantity": "1", "unit_cost": "1.00"}]}),
            vec![
                ("/lines/0/quantity", Quantity),
                ("/lines/0/unit_cost", Cost),
            ],
        ),
        (
            Method::POST,
            "/api/v1/stock/adjustments",
            json!({"location_id": loc, "product_id": id, "delta": "1", "reason": "found"}),
            vec![("/delta", Quantity)],
        ),
        (
            Method::POST,
            "/api/v1/stock/counts",
            json!({"location_id": loc, "lines": [{"product_id": id, "counted": "1"}]}),
            vec![("/lines/0/counted", Quantity)],
        ),
        (
            Method::POST,
            "/api/v1/stock/transfers",
            json!({"from_location_id": loc, "to_location_id": other, "lines": [{"product_id": id, "quantity": "1"}]}),
            vec![("/lines/0/quantity", Quantity)],
        ),
        (
            Method::POST,
            "/api/v1/sales",
            sale_body(json!("1"), "10000000000"),
            vec![
                ("/lines/0/quantity", Quantity),
                ("/lines/0/discount/percent", Percent),
                ("/discount/amount", Money),
                ("/payments/0/amount", Money),
            ],
        ),
        (
            Method::POST,
            &returns,
            json!({"lines": [{"line_no": 1, "quantity": "1"}], "refunds": [{"method": "cash", "amount": "10000000000"}]}),
            vec![
                ("/lines/0/quantity", Quantity),
                ("/refunds/0/amount", Money),
            ],
        ),
        (
            Method::POST,
            "/api/v1/ledger/entries",
            entry,
            vec![("/lines/0/debit", Money), ("/lines/1/credit", Money)],
        ),
        (
            Method::POST,
            "/api/v1/sales/batch",
            batch,
            vec![("/sales/0/lines/0/unit_price", Money)],
        ),
        (
            Method::POST,
            &open,
            json!({"opening_float": "100.00"}),
            vec![("/opening_float", Money)],
        ),
        (
            Method::POST,
            &movements,
            json!({"kind": "paid_in", "amount": "1.00", "reason": "bounds"}),
            vec![("/amount", Money)],
        ),
        (
            Method::POST,
            &close,
            json!({"counted_cash": "100.00"}),
            vec![("/counted_cash", Money)],
        ),
        (
            Method::POST,
            "/api/v1/purchase-orders",
            order_body.clone(),
            vec![
                ("/lines/0/quantity", Quantity),
                ("/lines/0/unit_cost", Cost),
            ],
        ),
        (
            Method::PATCH,
            &draft_path,
            json!({"lines": [{"product_id": id, "quantity": "1", "unit_cost": "1.00"}]}),
            vec![
                ("/lines/0/quantity", Quantity),
                ("/lines/0/unit_cost", Cost),
            ],
        ),
        (
            Method::POST,
            &receipts,
            json!({"lines": [{"line_no": 1, "quantity": "1"}]}),
            vec![("/lines/0/quantity", Quantity)],
        ),
        (
            Method::POST,
            &invoices,
            json!({"number": "B-1", "lines": [{"line_no": 1, "quantity": "1", "unit_cost": "1.00"}]}),
            vec![
                ("/lines/0/quantity", Quantity),
                ("/lines/0/unit_cost", Cost),
            ],
        ),
        (
            Method::POST,
            &payments,
            json!({"amount": "1.00", "method": "bank"}),
            vec![("/amount", Money)],
        ),
        (
            Method::POST,
            "/api/v1/customers",
            json!({"name": "New", "credit_limit": "1.00"}),
            vec![("/credit_limit", Money)],
        ),
        (
            Method::PATCH,
            &customer_path,
            json!({"credit_limit": "1.00"}),
            vec![("/credit_limit", Money)],
        ),
        (
            Method::POST,
            &account_payments,
            json!({"amount": "1.00", "method": "cash"}),
            vec![("/amount", Money)],
        ),
        (
            Method::POST,
            "/api/v1/gift-cards",
            json!({"amount": "1.00", "location_id": loc,
                   "payments": [{"method": "cash", "amount": "1.00"}]}),
            vec![("/amount", Money), ("/payments/0/amount", Money)],
        ),
        (
            Method::POST,
            "/api/v1/repairs",
            repair_body.clone(),
            vec![("/estimate", Money)],
        ),
        (
            Method::POST,
            &repair_parts,
            json!({"product_id": id, "quantity": "1"}),
            vec![("/quantity", Quantity)],
        ),
        (
            Method::POST,
            &repair_labor,
            json!({"description": "Bounds", "amount": "1.00"}),
            vec![("/amount", Money)],
        ),
        (
            Method::POST,
            &repair_collect,
            json!({"payments": [{"method": "cash", "amount": "1.00"}]}),
            vec![("/payments/0/amount", Money)],
        ),
    ];
    let routes: Vec<Route> = table
        .into_iter()
        .flat_map(|(method, path, body, fields)| {
            fields.into_iter().map(move |(pointer, kind)| {
                Route::new(method.clone(), path.to_owned(), body.clone(), pointer, kind)
            })
        })
        .collect();

    // Whatever the consumers still do with the setup's events, let it finish first: every
    // consumer at rest and the stores unchanged across it (a consumer's append is relayed
    // and may wake another).
    let mut settled = events_appended(&system).await;
    loop {
        system.consumers_settled().await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let now = events_appended(&system).await;
        if now == settled {
            break;
        }
        settled = now;
    }

    let mut refused = 0;
    for route in &routes {
        let mut values = beyond(route.kind);
        values.extend(random_beyond(route.kind));
        if ["reorder_point", "debit", "credit", "unit_price"]
            .iter()
            .any(|optional| route.pointer.ends_with(optional))
        {
            // Empty means none (a reorder point, the catalog price) or zero (one side of a
            // journal line): a value with a meaning of its own, not one beyond a bound.
            values.retain(|v| v.as_str().is_none_or(|t| !t.trim().is_empty()));
        }
        for value in values {
            let body = route.with(value.clone());
            let answer = call(&api, &admin, route.method.clone(), &route.path, &body).await;
            let field = route.field();
            if route.path.ends_with("/batch") && answer.status == StatusCode::OK {
                // A batch answers per sale; each bad one is a 422 of its own (a wrong JSON
                // type is the whole body's 422, as on any route).
                let result = &answer.body["results"][0];
                assert_eq!(result["status"], "rejected", "{value}: {result}");
                let named = result["error"]["details"][0]["field"]
                    .as_str()
                    .unwrap_or("");
                assert!(named.starts_with(&field), "{value}: {named} is not {field}");
            } else {
                assert_eq!(
                    answer.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{} {} with {value}: {}",
                    route.method,
                    route.path,
                    answer.body
                );
                let named = answer.body["error"]["details"][0]["field"]
                    .as_str()
                    .unwrap_or("");
                // A discount's percent or amount is named as its discount.
                let expected = field
                    .trim_end_matches(".percent")
                    .trim_end_matches(".amount");
                let expected = if expected.ends_with("discount") {
                    expected
                } else {
                    &field
                };
                assert!(
                    named.starts_with(expected),
                    "{} with {value}: the error names {named:?}, not {expected}",
                    route.path
                );
            }
            refused += 1;
        }
    }
    assert!(refused > 1_000, "only {refused} requests were tried");
    assert_eq!(
        events_appended(&system).await,
        settled,
        "a refused request appended an event"
    );
}
