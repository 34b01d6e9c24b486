//! A document of several stock items takes their rows in the order a chunk of sales takes
//! them (stream order), whatever the order of its lines: the two wait for each other
//! instead of PostgreSQL breaking a lock cycle between them.

use super::*;

#[tokio::test]
async fn a_receipt_takes_its_items_in_stream_order_whatever_its_line_order() {
    let mut stack = start().await;
    let shop = stack.location("LOCKS").await;
    let tea = stack.product("LOCK-TEA", "0").await;
    let jam = stack.product("LOCK-JAM", "0").await;
    stack.receive(&shop, &tea, "5", "1.00").await;
    stack.receive(&shop, &jam, "5", "2.00").await;
    let stream = |product: &str| format!("stock-{product}:{shop}");
    let (first, second) = if stream(&tea) < stream(&jam) {
        (tea.clone(), jam.clone())
    } else {
        (jam.clone(), tea.clone())
    };

    // A chunk of sales that has taken the first item's snapshot row, not yet the second's.
    let pool = stack.services.database("inventory").await;
    let mut chunk = pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM snapshots WHERE stream_id = $1 FOR UPDATE")
        .bind(stream(&first))
        .fetch_one(&mut *chunk)
        .await
        .unwrap();

    // A receipt whose lines list the second item first.
    let mut request = receipt(&shop, &second, "3", "2.00");
    request
        .lines
        .extend(receipt(&shop, &first, "3", "1.00").lines);
    let mut client = stack.inventory.clone();
    let recorded = tokio::spawn(async move { client.receive_stock(request).await });
    eventually("the receipt waits for the chunk", || {
        let pool = pool.clone();
        async move {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                 WHERE NOT l.granted AND a.datname = current_database()",
            )
            .fetch_one(&pool)
            .await
            .ok()?;
            (waiting > 0).then_some(())
        }
    })
    .await;

    // The receipt waits for the first item before taking the second: the chunk goes on.
    let taken = sqlx::query("SELECT 1 FROM snapshots WHERE stream_id = $1 FOR UPDATE NOWAIT")
        .bind(stream(&second))
        .fetch_one(&mut *chunk)
        .await;
    assert!(
        taken.is_ok(),
        "the receipt took the second item's row before the first's: {taken:?}"
    );
    chunk.commit().await.unwrap();
    recorded.await.unwrap().unwrap();
    assert_eq!(stack.level(&shop, &tea).await.on_hand, "8");
    assert_eq!(stack.level(&shop, &jam).await.on_hand, "8");
}
