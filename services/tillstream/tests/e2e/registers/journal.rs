//! The journal of a shift checked as an auditor would: recomputed from its entries alone,
//! paged, exported by the CLI, verified on the server, shown on the receipt, then edited
//! and cut in the database, which verify names.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Shop;
use crate::system::System;

/// The journal of `shop`'s register after the shift test: ten entries, `cash_id` the
/// first sale.
pub async fn audit(system: &System, shop: &Shop, cash_id: &str) {
    let api = &shop.api;
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
}
