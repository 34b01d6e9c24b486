//! Registers and sessions through the gateway: a drawer's shift from the float to the
//! count, the X and Z reports against figures worked out by hand, the races a store has
//! (two opens, two closes, a sale against a close, a crash mid-close), late batch sales, the
//! fiscal journal checked the way an auditor would, and bad input on every route.

mod bounds;
mod drawer;
mod journal;
mod races;
mod shift;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tillstream_test_support::eventually;

use crate::api::{Answer, Api};
use crate::system::System;

pub struct Shop {
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

pub fn created(answer: &Answer) -> String {
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    answer.body["id"].as_str().unwrap().to_owned()
}

pub fn code(answer: &Answer) -> (StatusCode, String) {
    (
        answer.status,
        answer.body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}
