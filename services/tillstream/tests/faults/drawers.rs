//! The registers' invariants, after the tills rang every sale up in sessions: each
//! register's journal verifies, each session sale's receipt number is its journal entry,
//! every closed drawer was counted exactly, and what the sessions' figures say came into
//! and went out of the drawers in cash is what the ledger booked to cash for those sales.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use tillstream_sales::projections::journal;

use crate::invariants::{Checked, Stores};

pub async fn check(stores: &Stores, checked: &mut Checked) -> Result<(), sqlx::Error> {
    let registers: Vec<(String,)> = sqlx::query_as("SELECT id FROM registers")
        .fetch_all(&stores.sales)
        .await?;
    for (register,) in &registers {
        let verified = journal::verify(&stores.sales, register).await?;
        checked.expect(verified.broken_at_seq.is_none(), || {
            format!(
                "register {register}'s journal breaks at {:?}",
                verified.broken_at_seq
            )
        });
    }

    let unmatched: Vec<(String,)> = sqlx::query_as(
        "SELECT s.id FROM sales s
         WHERE s.document ? 'session'
           AND NOT EXISTS (
             SELECT 1 FROM journal_entries j
             WHERE j.register_id = s.document->'session'->>'register_id'
               AND j.seq = (s.document->'session'->>'receipt_no')::bigint
               AND j.kind = 'sale' AND j.document_id = s.id)",
    )
    .fetch_all(&stores.sales)
    .await?;
    checked.expect(unmatched.is_empty(), || {
        format!("sales whose receipt number is not their journal entry: {unmatched:?}")
    });

    let miscounted: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, z_report->>'difference' FROM sessions
         WHERE status = 'closed' AND (z_report->>'difference')::numeric <> 0",
    )
    .fetch_all(&stores.sales)
    .await?;
    checked.expect(miscounted.is_empty(), || {
        format!("drawers counted exactly closed with a difference: {miscounted:?}")
    });

    // Cash per register: the sessions' figures (the Z of a closed one, the running figures
    // of one still open)…
    let by_sessions: Vec<(String, Decimal)> = sqlx::query_as(
        "WITH figures AS (
             SELECT s.register_id,
                    CASE WHEN r.open_session_id = s.id THEN r.open_totals ELSE s.totals END AS t
             FROM sessions s JOIN registers r ON r.id = s.register_id)
         SELECT register_id,
                sum(coalesce((t->'by_tender'->>'cash')::numeric, 0)
                  - coalesce((t->'refunds_by_tender'->>'cash')::numeric, 0)
                  + coalesce((t->>'paid_in')::numeric, 0)
                  - coalesce((t->>'paid_out')::numeric, 0))
         FROM figures GROUP BY register_id",
    )
    .fetch_all(&stores.sales)
    .await?;
    // … against the ledger's cash lines for the sessions' sales, their returns and voids.
    let session_sales: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, document->'session'->>'register_id' FROM sales
         WHERE document ? 'session'
           AND NOT coalesce((document->'session'->>'late')::boolean, false)",
    )
    .fetch_all(&stores.sales)
    .await?;
    let cash: Vec<(String, Decimal)> = sqlx::query_as(
        "SELECT e.source_id, sum(l.debit - l.credit) FROM journal_entries e
         JOIN journal_lines l ON l.entry_id = e.id
         WHERE l.account = '1000' AND e.source_type IN ('sale', 'sale_return', 'sale_void')
         GROUP BY e.source_id",
    )
    .fetch_all(&stores.ledger)
    .await?;
    let cash: BTreeMap<String, Decimal> = cash.into_iter().collect();
    let mut booked: BTreeMap<String, Decimal> = BTreeMap::new();
    for (sale, register) in session_sales {
        *booked.entry(register).or_default() += cash.get(&sale).copied().unwrap_or_default();
    }
    for (register, expected) in by_sessions {
        let found = booked.get(&register).copied().unwrap_or_default();
        checked.expect(found == expected, || {
            format!("register {register}: its sessions took {expected} in cash, the ledger booked {found}")
        });
    }
    Ok(())
}
