//! `tillstream projection rebuild` while a till rings up sales: the rebuilt `product_sales`
//! ends with exactly the rows the sales, a return and a void make — nothing lost in the
//! swap, nothing counted twice.

use std::collections::BTreeMap;
use std::str::FromStr;

use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tillstream_test_support::{database_server_url, eventually};
use tokio_util::sync::CancellationToken;

use crate::api::Api;
use crate::system::System;

/// (UTC day, product) → (sold, returned, revenue, sales).
type Rows = BTreeMap<(String, String), (Decimal, Decimal, Decimal, i64)>;

fn amount(value: &Value) -> Decimal {
    Decimal::from_str(value.as_str().unwrap()).unwrap()
}

fn add_sale(rows: &mut Rows, sale: &Value, sign: i64) {
    let day = sale["created_at"].as_str().unwrap()[..10].to_owned();
    for line in sale["lines"].as_array().unwrap() {
        let row = rows
            .entry((day.clone(), line["product_id"].as_str().unwrap().to_owned()))
            .or_default();
        let factor = Decimal::from(sign);
        row.0 += factor * amount(&line["quantity"]);
        row.2 += factor * (amount(&line["line_total"]) - amount(&line["tax"]));
        row.3 += sign;
    }
}

async fn projected(pool: &sqlx::PgPool) -> Rows {
    let rows: Vec<(String, String, Decimal, Decimal, Decimal, i32)> = sqlx::query_as(
        "SELECT day::text, product_id, sold, returned, revenue, sales FROM product_sales",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(day, product, sold, returned, revenue, sales)| {
            ((day, product), (sold, returned, revenue, i64::from(sales)))
        })
        .collect()
}

#[tokio::test]
async fn a_projection_rebuilt_while_sales_are_rung_up_ends_with_exactly_their_rows() {
    // One till ringing up as fast as the system answers can pass a user's 50 requests a
    // second on a quiet machine: the limit is not what this test is about.
    let system = System::up_with_env(
        &[],
        &[
            ("TILLSTREAM_RATE_LIMIT_USER_RPS", "0"),
            ("TILLSTREAM_RATE_LIMIT_ADDR_RPS", "0"),
        ],
    )
    .await;
    let api = Api::new(&system.url);
    let admin = api.login("admin", &system.admin_password).await;
    let location = api.create_location(&admin, "S1").await;
    let mut products = Vec::new();
    for (sku, price, rate) in [("TEA", "3.50", "0.08"), ("JAM", "3.00", "0.111")] {
        let product = api
            .create(
                "/api/v1/products",
                &admin,
                &json!({"sku": sku, "name": sku, "price": price, "tax_rate": rate}),
            )
            .await;
        products.push(product["id"].as_str().unwrap().to_owned());
    }
    let sale_body = |n: usize| {
        json!({"location_id": location,
               "lines": [{"product_id": products[0], "quantity": 1 + n % 3},
                         {"product_id": products[1], "quantity": 1 + n % 2}],
               "payments": [{"method": "cash", "amount": "50.00"}]})
    };
    let first: Value = eventually("sales knows the products", || async {
        let answer = api.post("/api/v1/sales", &admin, &sale_body(0)).await;
        (answer.status == StatusCode::CREATED).then_some(answer.body)
    })
    .await;

    // A till rings up sales until told to stop.
    let stop = CancellationToken::new();
    let till = tokio::spawn({
        let (api, admin, stop) = (Api::new(&system.url), admin.clone(), stop.clone());
        let bodies: Vec<Value> = (1..2_000).map(sale_body).collect();
        async move {
            let mut sales = Vec::new();
            for body in bodies {
                if stop.is_cancelled() {
                    break;
                }
                let answer = api.post("/api/v1/sales", &admin, &body).await;
                assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
                sales.push(answer.body);
            }
            sales
        }
    });

    // Two rebuilds while it does, with a return and a void between them.
    let rebuilt = system
        .cli_ok(&["projection", "rebuild", "product_sales"])
        .await;
    assert_eq!(rebuilt[0]["generation"], 2, "{rebuilt:?}");
    let first_id = first["id"].as_str().unwrap();
    let returned = api
        .post(
            &format!("/api/v1/sales/{first_id}/returns"),
            &admin,
            &json!({"lines": [{"line_no": 1, "quantity": "1"}],
                    "refunds": [{"method": "cash", "amount": "3.78"}]}),
        )
        .await;
    assert_eq!(returned.status, StatusCode::CREATED, "{}", returned.body);
    let voided = api.post("/api/v1/sales", &admin, &sale_body(7)).await;
    assert_eq!(voided.status, StatusCode::CREATED);
    let voided_id = voided.body["id"].as_str().unwrap();
    let void = api
        .post(
            &format!("/api/v1/sales/{voided_id}/void"),
            &admin,
            &json!({"reason": "rung on the wrong till"}),
        )
        .await;
    assert!(void.status.is_success(), "{}", void.body);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let rebuilt = system
        .cli_ok(&["projection", "rebuild", "product_sales"])
        .await;
    assert_eq!(rebuilt[0]["generation"], 3, "{rebuilt:?}");
    stop.cancel();
    let sales = till.await.unwrap();
    assert!(
        sales.len() > 5,
        "the till rang up sales during the rebuilds"
    );

    let mut expected = Rows::new();
    for sale in sales.iter().chain([&first]) {
        add_sale(&mut expected, sale, 1);
    }
    // The return: one TEA of the first sale, on the day it came back.
    let after = api.get(&format!("/api/v1/sales/{first_id}"), &admin).await;
    let back = &after.body["returns"][0];
    let row = expected
        .entry((
            back["returned_at"].as_str().unwrap()[..10].to_owned(),
            products[0].clone(),
        ))
        .or_default();
    row.1 += Decimal::ONE;
    row.2 -= amount(&back["lines"][0]["revenue"]);
    // The voided sale was rung and taken off again: nothing of it remains.

    let pool = sqlx::PgPool::connect(&format!(
        "{}/{}_sales",
        database_server_url(),
        system.db_prefix
    ))
    .await
    .unwrap();
    eventually("product_sales catches up with every sale", || async {
        (projected(&pool).await == expected).then_some(())
    })
    .await;
    let listed = system.cli_ok(&["projection", "list"]).await;
    assert_eq!(
        (
            &listed[0]["projection"],
            &listed[0]["generation"],
            &listed[0]["lag_events"]
        ),
        (&json!("product_sales"), &json!(3), &json!(0)),
        "{listed:?}"
    );
    pool.close().await;
}
