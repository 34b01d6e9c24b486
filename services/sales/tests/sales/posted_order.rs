//! The ledger's entries mark their sales posted a chunk at a time. Two chunks that share
//! sales (two leaders overlapping in a handover) take the rows they share in id order, so
//! one queues behind the other instead of PostgreSQL breaking a lock cycle between them.

use tillstream_sales::projections::sales::mark_all_posted;

use super::*;

#[tokio::test]
async fn a_chunk_marks_its_sales_posted_in_id_order_whatever_its_entry_order() {
    let mut stack = start().await;
    let pool = stack._services.database("sales").await;
    let (first, second) = ("01LOCKORDERSALE1", "01LOCKORDERSALE2");
    // Written second first: a plan that walks the table or the entries in their order
    // would take the second sale's row first.
    for (id, number) in [(second, "LOCK-2"), (first, "LOCK-1")] {
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
    // The other chunk holds the first sale's row, as it would before taking the second.
    let lock = "SELECT 1 FROM sales WHERE id = $1 FOR UPDATE";
    let other = tillstream_test_support::holding(&pool, lock, first).await;

    // This chunk's entries name the second sale first.
    let posted = vec![
        (second.to_owned(), "01ENTRY2".to_owned()),
        (first.to_owned(), "01ENTRY1".to_owned()),
    ];
    let writer = pool.clone();
    let marked = tokio::spawn(async move {
        let mut tx = writer.begin().await?;
        mark_all_posted(&mut tx, &posted).await?;
        tx.commit().await
    });
    let taken = other.next_once_queued(second).await;
    assert!(
        taken.is_ok(),
        "the chunk took the second sale's row before the first's: {taken:?}"
    );
    marked.await.unwrap().unwrap();

    let rows: Vec<(String, String, Vec<String>)> =
        sqlx::query_as("SELECT id, ledger_status, ledger_entry_ids FROM sales ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        rows,
        vec![
            (first.into(), "posted".into(), vec!["01ENTRY1".into()]),
            (second.into(), "posted".into(), vec!["01ENTRY2".into()]),
        ]
    );
}
