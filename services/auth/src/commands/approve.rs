//! Approvals: a manager authorises one action at a cashier's till with their PIN or
//! password. The answer is a signed token for that action, lasting 120 s; the service where
//! the action happens verifies it and spends it, once, in the transaction of the action.

use tillstream_access::{APPROVAL_ACTIONS, APPROVAL_TTL_SECONDS, Role};
use tillstream_eventstore::EventStore;

use crate::commands::login::{Secret, authenticate};
use crate::error::AppError;
use crate::keys;
use crate::tokens::{self, ApproverRef};

/// An approval as the till receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub token: String,
    pub id: String,
    pub approver_id: String,
    pub approver_username: String,
    pub approver_role: Role,
    pub action: String,
    pub expires_in: i64,
}

/// Checks the approver's secret (counted by the lockout like a login), their role (a
/// manager or above) and the action, and signs the approval.
pub async fn approve(
    store: &EventStore,
    username: &str,
    secret: Secret<'_>,
    action: &str,
    client_addr: Option<&str>,
) -> Result<Approval, AppError> {
    let action = action.trim();
    if !APPROVAL_ACTIONS.contains(&action) {
        return Err(AppError::invalid(
            "action",
            format!(
                "`{action}` is not an action; one of {}",
                APPROVAL_ACTIONS.join(", ")
            ),
        ));
    }
    let approver = authenticate(store, username, secret, client_addr).await?;
    let role: Role = approver
        .role
        .parse()
        .map_err(|e: tillstream_access::UnknownRole| AppError::Internal(e.to_string()))?;
    if !role.allows(Role::Manager) {
        metrics::counter!("tillstream_approvals_total", "action" => action.to_owned(), "outcome" => "approver_not_allowed")
            .increment(1);
        return Err(AppError::Denied {
            reason: "approver_not_allowed",
            field: Some("username".into()),
            message: "only a manager or an admin approves".into(),
        });
    }
    let key = keys::current(store.pool()).await.map_err(AppError::from)?;
    let id = tillstream_kernel::Ulid::generate().to_string();
    let by = ApproverRef {
        id: &approver.id,
        username: &approver.username,
        role,
    };
    let now = chrono::Utc::now().timestamp();
    let token = tokens::issue_approval(&key, &by, action, &id, now)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    tracing::info!(approval_id = %id, approver = %approver.id, action, "approval given");
    metrics::counter!("tillstream_approvals_total", "action" => action.to_owned(), "outcome" => "given")
        .increment(1);
    Ok(Approval {
        token,
        id,
        approver_id: approver.id,
        approver_username: approver.username,
        approver_role: role,
        action: action.to_owned(),
        expires_in: APPROVAL_TTL_SECONDS,
    })
}
