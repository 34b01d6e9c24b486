//! The ledger's entries mark their sales posted a chunk at a time, or one by one when a
//! chunk declines. Two writers that share sales (two leaders overlapping in a handover)
//! take the rows they share in id order, so one queues behind the other instead of
//! PostgreSQL breaking a lock cycle between them.

use prost::Message;
use sqlx::PgPool;
use tillstream_messaging::{Handler, InboundEvent};
use tillstream_proto::ledger::v1 as ledger;
use tillstream_sales::consumers::ledger_entries::LedgerEntries;
use tillstream_sales::projections::sales::mark_all_posted;
use tillstream_test_support::{HeldRow, holding, inbound_event};

use super::*;

const FIRST: &str = "01LOCKORDERSALE1";
const SECOND: &str = "01LOCKORDERSALE2";

/// Two sales, written second first (a plan that walks the table or the entries in their
/// order would take the second's row first), and another writer holding the first's row,
/// as it would before taking the second's.
async fn two_sales_the_first_held(stack: &mut Stack) -> (PgPool, HeldRow) {
    let pool = stack.services.database("sales").await;
    for (id, number) in [(SECOND, "LOCK-2"), (FIRST, "LOCK-1")] {
        sqlx::query(
            "INSERT INTO sales (id, sale_number, location_id, created_at, document)
             VALUES ($1, $2, 'LOCK', now(), '{}')",
        )
        .bind(id)
        .bind(number)
        .execute(&pool)
        .await
        .unwrap();
    }
    let lock = "SELECT 1 FROM sales WHERE id = $1 FOR UPDATE";
    let held = holding(&pool, lock, FIRST).await;
    (pool, held)
}

async fn both_posted(pool: &PgPool) {
    let rows: Vec<(String, String, Vec<String>)> =
        sqlx::query_as("SELECT id, ledger_status, ledger_entry_ids FROM sales ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(
        rows,
        vec![
            (FIRST.into(), "posted".into(), vec!["01ENTRY1".into()]),
            (SECOND.into(), "posted".into(), vec!["01ENTRY2".into()]),
        ]
    );
}

fn entry_posted(sale_id: &str, entry_id: &str) -> InboundEvent {
    let posted = ledger::EntryPosted {
        entry: Some(ledger::Entry {
            id: entry_id.into(),
            source_type: "sale".into(),
            source_id: sale_id.into(),
            ..Default::default()
        }),
    };
    let data = posted.encode_to_vec();
    inbound_event("tillstream.ledger.v1.EntryPosted", entry_id, data)
}

#[tokio::test]
async fn a_chunk_takes_the_sales_it_marks_posted_in_id_order() {
    let mut stack = start().await;
    let (pool, held) = two_sales_the_first_held(&mut stack).await;

    // The chunk's entries name the second sale first.
    let posted = vec![
        (SECOND.to_owned(), "01ENTRY2".to_owned()),
        (FIRST.to_owned(), "01ENTRY1".to_owned()),
    ];
    let writer = pool.clone();
    let marked = tokio::spawn(async move {
        let mut tx = writer.begin().await?;
        mark_all_posted(&mut tx, &posted).await?;
        tx.commit().await
    });
    let taken = held.next_once_queued(SECOND).await;
    assert!(
        taken.is_ok(),
        "the chunk took the second sale's row before the first's: {taken:?}"
    );
    marked.await.unwrap().unwrap();
    both_posted(&pool).await;
}

#[tokio::test]
async fn entries_marked_one_by_one_take_their_sales_in_id_order_first() {
    let mut stack = start().await;
    let (pool, held) = two_sales_the_first_held(&mut stack).await;

    let writer = pool.clone();
    let marked = tokio::spawn(async move {
        let events = [
            entry_posted(SECOND, "01ENTRY2"),
            entry_posted(FIRST, "01ENTRY1"),
        ];
        let events: Vec<&InboundEvent> = events.iter().collect();
        let mut tx = writer.begin().await.unwrap();
        LedgerEntries
            .lock_first(&mut tx, &events, false)
            .await
            .unwrap();
        for event in events {
            LedgerEntries.handle(&mut tx, event).await.unwrap();
        }
        tx.commit().await.unwrap();
    });
    let taken = held.next_once_queued(SECOND).await;
    assert!(
        taken.is_ok(),
        "the entries took the second sale's row before the first's: {taken:?}"
    );
    marked.await.unwrap();
    both_posted(&pool).await;
}
