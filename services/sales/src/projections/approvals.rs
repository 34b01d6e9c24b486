//! `approvals_used`: the managers' approvals sales has spent.

use sqlx::PgConnection;

use crate::domain::controls::Approval;

/// Spends `approvals` for what `used_by` (a sale's id) records; `false` when one of them was
/// spent before, and the caller must roll back.
pub async fn spend(
    tx: &mut PgConnection,
    approvals: &[Approval],
    used_by: &str,
) -> Result<bool, sqlx::Error> {
    if approvals.is_empty() {
        return Ok(true);
    }
    let ids: Vec<&str> = approvals.iter().map(|a| a.approval_id.as_str()).collect();
    let actions: Vec<&str> = approvals.iter().map(|a| a.action.name()).collect();
    let spent = sqlx::query(
        "INSERT INTO approvals_used (approval_id, action, used_by) \
         SELECT id, action, $3 FROM unnest($1::text[], $2::text[]) AS a(id, action) \
         ON CONFLICT (approval_id) DO NOTHING",
    )
    .bind(&ids)
    .bind(&actions)
    .bind(used_by)
    .execute(tx)
    .await?;
    let all = spent.rows_affected() == u64::try_from(approvals.len()).unwrap_or(u64::MAX);
    // Counted as the transaction goes; one that rolls back later still tried.
    for approval in approvals {
        let outcome = if all { "spent" } else { "already_used" };
        metrics::counter!("tillstream_approvals_total", "action" => approval.action.name(), "outcome" => outcome)
            .increment(1);
    }
    Ok(all)
}
