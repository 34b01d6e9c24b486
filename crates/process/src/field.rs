//! The request field a gRPC status is about: named by a service, read by the gateway, which
//! turns it into the JSON error's `details`.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The metadata key that names the request field an error is about.
pub const FIELD_METADATA: &str = "tillstream-field";

/// A status naming `field` twice: as a standard `google.rpc.BadRequest` field violation in
/// the status details (what gRPC clients of the gateway read, with `tonic-types` or any
/// richer-error library), and in the metadata entry (what the gateway maps to JSON).
pub fn status_with_field(code: Code, field: Option<&str>, message: impl Into<String>) -> Status {
    let message = message.into();
    let mut status = match field {
        Some(field) => Status::with_error_details(
            code,
            message.clone(),
            ErrorDetails::with_bad_request_violation(field, message),
        ),
        None => Status::new(code, message),
    };
    if let Some(field) = field
        && let Ok(value) = field.parse()
    {
        status.metadata_mut().insert(FIELD_METADATA, value);
    }
    status
}

/// The field named in a status, if any.
pub fn field_of(status: &Status) -> Option<&str> {
    status
        .metadata()
        .get(FIELD_METADATA)
        .and_then(|v| v.to_str().ok())
}

/// The metadata key that carries a refusal's machine-readable reason (`approval_required`,
/// `location_not_allowed`), which the gateway answers as the JSON error's `code`.
pub const REASON_METADATA: &str = "tillstream-reason";

/// A status with a reason (and the field it is about, if any).
pub fn status_with_reason(
    code: Code,
    reason: &str,
    field: Option<&str>,
    message: impl Into<String>,
) -> Status {
    let mut status = status_with_field(code, field, message);
    if let Ok(value) = reason.parse() {
        status.metadata_mut().insert(REASON_METADATA, value);
    }
    status
}

/// The reason named in a status, if any.
pub fn reason_of(status: &Status) -> Option<&str> {
    status
        .metadata()
        .get(REASON_METADATA)
        .and_then(|v| v.to_str().ok())
}

/// The reason of the `UNAVAILABLE` a service answers when PostgreSQL rolled its transaction
/// back to break a lock cycle: nothing was kept, and the gateway tells the client to send it
/// again rather than that the service is down.
pub const LOCK_CYCLE: &str = "lock_cycle";

/// What a service answers when PostgreSQL rolled its transaction back to break a lock cycle.
pub fn lock_cycle() -> Status {
    status_with_reason(
        Code::Unavailable,
        LOCK_CYCLE,
        None,
        "rolled back to break a lock cycle with a concurrent change; retry",
    )
}
