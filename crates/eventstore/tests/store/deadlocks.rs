//! A transaction PostgreSQL rolls back to break a lock cycle is done again, not refused.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::{Connection, PgConnection};
use tillstream_eventstore::{Done, EventStore, StoreError, Transaction};

use crate::support::store;

/// Takes row 1, then row 2 of `pairs`; counts its attempts.
struct OneThenTwo {
    attempts: AtomicUsize,
}

impl Transaction for OneThenTwo {
    type Output = usize;
    type Error = StoreError;

    async fn run(
        &self,
        _store: &EventStore,
        tx: &mut PgConnection,
    ) -> Result<Done<usize>, StoreError> {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        for id in [1, 2] {
            sqlx::query("UPDATE pairs SET touched = touched + 1 WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        Ok(Done {
            answer: attempt,
            written: None,
        })
    }
}

#[tokio::test]
async fn a_transaction_chosen_to_break_a_deadlock_is_done_again() {
    let (store, db) = store().await;
    sqlx::raw_sql(
        "CREATE TABLE pairs (id int PRIMARY KEY, touched int NOT NULL);
         INSERT INTO pairs VALUES (1, 0), (2, 0);",
    )
    .execute(store.pool())
    .await
    .unwrap();

    // The other side holds row 2 first, and asks for row 1 only once the work waits for
    // row 2. Whichever backend runs its deadlock check first is rolled back; the other
    // side's check waits a minute, so on a loaded machine too it is the work's (after the
    // default second), and the other side's wait is then granted.
    let url = format!("{}/{}", db.server_url.trim_end_matches('/'), db.name);
    let mut other = PgConnection::connect(&url).await.unwrap();
    sqlx::query("SET deadlock_timeout = '60s'")
        .execute(&mut other)
        .await
        .unwrap();
    let mut watcher = PgConnection::connect(&url).await.unwrap();
    let mut other_tx = other.begin().await.unwrap();
    sqlx::query("UPDATE pairs SET touched = touched + 10 WHERE id = 2")
        .execute(&mut *other_tx)
        .await
        .unwrap();
    let work = OneThenTwo {
        attempts: AtomicUsize::new(0),
    };
    let (answer, ()) = tokio::join!(store.transact(&work, None, false), async {
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(&mut watcher)
            .await
            .unwrap();
            if waiting == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sqlx::query("UPDATE pairs SET touched = touched + 10 WHERE id = 1")
            .execute(&mut *other_tx)
            .await
            .unwrap();
        other_tx.commit().await.unwrap();
    });

    assert_eq!(
        answer.unwrap().value,
        2,
        "refused once, done on the second try"
    );
    let touched: Vec<i32> = sqlx::query_scalar("SELECT touched FROM pairs ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(touched, vec![11, 11], "both sides' updates, each once");
}
