//! The gRPC side of every service's error mapping: statuses that name the request field
//! at fault (in the `tillstream-field` metadata entry, which the gateway turns into the
//! JSON error's `details`), and one mapping of event-store failures.

use tillstream_access::{ApprovalClaims, Claims, Role};
use tillstream_eventstore::StoreError;
use tillstream_process::RefreshingKeys;
use tonic::{Code, Status};

pub use tillstream_process::field::{
    FIELD_METADATA, REASON_METADATA, field_of, reason_of, status_with_field, status_with_reason,
};

/// Maps an event-store failure. `claim_field` names the request field of a unique claim
/// (`sku` → `sku`, `barcode` → `barcodes`). Internal failures are logged here, once, and
/// answered opaquely.
pub fn store_status(error: StoreError, claim_field: impl Fn(&str) -> String) -> Status {
    match error {
        StoreError::Duplicate { claim, value } => status_with_field(
            Code::AlreadyExists,
            Some(&claim_field(&claim)),
            format!("{claim} `{value}` is already taken"),
        ),
        StoreError::IdempotencyMismatch { .. } => status_with_field(
            Code::AlreadyExists,
            Some("idempotency_key"),
            "the idempotency key was used with a different request",
        ),
        StoreError::Conflict { .. } | StoreError::IdempotencyRace { .. } => {
            Status::aborted("changed meanwhile; retry")
        }
        // Rolled back to break a lock cycle: nothing was kept, and the same call may well
        // succeed at once (the gateway answers 503 with `Retry-After`).
        error if error.is_deadlock() => {
            tracing::warn!(%error, "rolled back to break a lock cycle");
            tillstream_process::field::lock_cycle()
        }
        StoreError::Database(error) if database_unavailable(&error) => {
            tracing::warn!(%error, "the database is unavailable");
            Status::unavailable("the database is unavailable; retry shortly")
        }
        // A stored number that no longer fits the type it is read into (written before
        // today's bounds, or around the API): the data is at fault, not the request, and
        // the operator finds it with `tillstream bounds`.
        StoreError::Database(error @ sqlx::Error::ColumnDecode { .. }) => {
            tracing::warn!(%error, "a stored value is out of range");
            Status::data_loss(
                "a stored value is out of range and cannot be read; `tillstream bounds` lists it",
            )
        }
        other => {
            tracing::error!(error = %other, "internal error");
            Status::internal("internal error")
        }
    }
}

/// Whether `error` says the database cannot be reached right now (down, restarting, out of
/// connections) rather than that the request or the code is wrong: the caller may retry,
/// and the gateway answers 503 with `Retry-After` instead of 500.
pub fn database_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // Class 08: connection exceptions; 57P01-57P03: shutting down or starting up.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// The caller the guard verified: the claims of the call's access token, which the guard put
/// in the request's extensions. Who acted is taken from here and nowhere else.
pub fn caller_of<T>(request: &tonic::Request<T>) -> Result<Claims, Status> {
    request
        .extensions()
        .get::<Claims>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("an access token is required"))
}

/// The metadata entry (the REST header `X-Approval`) a call presents approvals in.
pub const APPROVAL_METADATA: &str = "x-approval";

/// The approvals a call presents, comma-separated, each verified with the keys its access
/// token was (signed by auth, unexpired, by a manager or above). One that does not verify
/// is left out, and the action it was for asks for an approval again.
pub async fn approvals_of<T>(request: &tonic::Request<T>) -> Vec<ApprovalClaims> {
    let Some(keys) = request.extensions().get::<RefreshingKeys>() else {
        return Vec::new();
    };
    let Some(tokens) = request
        .metadata()
        .get(APPROVAL_METADATA)
        .and_then(|v| v.to_str().ok())
    else {
        return Vec::new();
    };
    let mut approvals = Vec::new();
    for token in tokens
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .take(8)
    {
        match keys.verify_approval(token).await {
            Ok(claims) if claims.role.allows(Role::Manager) => approvals.push(claims),
            Ok(claims) => tracing::warn!(approver = %claims.sub, "an approval by a non-manager"),
            Err(error) => tracing::info!(%error, "an approval that does not verify"),
        }
    }
    approvals
}

/// Who and what caused the events a call records: the verified caller as the actor (never
/// a header a client can set, such as `x-actor`), the W3C `traceparent` and
/// `x-correlation-id`.
pub fn metadata_of<T>(request: &tonic::Request<T>) -> tillstream_kernel::EventMetadata {
    let header = |name: &str| {
        request
            .metadata()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    tillstream_kernel::EventMetadata {
        // A client's malformed one is dropped; the store starts a trace of its own instead.
        traceparent: header("traceparent").filter(|t| tillstream_kernel::trace_id_of(t).is_some()),
        correlation_id: header("x-correlation-id"),
        actor: request.extensions().get::<Claims>().map(|c| c.sub.clone()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_that_cannot_be_reached_is_unavailable_not_internal() {
        let unreachable = [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset)),
        ];
        for error in unreachable {
            let status = store_status(StoreError::Database(error), str::to_owned);
            assert_eq!(status.code(), Code::Unavailable);
        }
        let bug = store_status(
            StoreError::Database(sqlx::Error::Protocol("nonsense".into())),
            str::to_owned,
        );
        assert_eq!(bug.code(), Code::Internal);
    }
}
