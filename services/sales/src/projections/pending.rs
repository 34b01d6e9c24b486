//! Sales the ledger has not booked yet, as gauges an operator can alert on: all pending,
//! and those pending longer than [`OVERDUE_AFTER`] (the ledger is down or stuck).

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// A sale normally shows `posted` within a second; after this it counts as overdue.
pub const OVERDUE_AFTER: Duration = Duration::from_secs(60);
const EVERY: Duration = Duration::from_secs(15);

/// (pending, overdue) right now.
pub async fn counts(pool: &PgPool) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE created_at < now() - make_interval(secs => $1))
         FROM sales WHERE ledger_status = 'pending' AND status = 'completed'",
    )
    .bind(OVERDUE_AFTER.as_secs_f64())
    .fetch_one(pool)
    .await
}

/// Refreshes `tillstream_sales_ledger_pending` and `…_overdue` until `shutdown` (the end of
/// this replica's term as leader), then zeroes them: only the leader reports.
pub async fn watch(pool: PgPool, shutdown: CancellationToken) {
    loop {
        match counts(&pool).await {
            Ok((pending, overdue)) => {
                metrics::gauge!("tillstream_sales_ledger_pending").set(pending as f64);
                metrics::gauge!("tillstream_sales_ledger_pending_overdue").set(overdue as f64);
                if overdue > 0 {
                    tracing::warn!(overdue, "sales waiting for the ledger longer than a minute");
                }
            }
            Err(error) => tracing::warn!(%error, "counting sales pending in the ledger failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => {
                metrics::gauge!("tillstream_sales_ledger_pending").set(0.0);
                metrics::gauge!("tillstream_sales_ledger_pending_overdue").set(0.0);
                return;
            }
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}
