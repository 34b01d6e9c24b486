//! Registering a user: the password is hashed with Argon2id (OWASP's parameters, the
//! crate's defaults), the username claimed, the event and the read model written together.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use tillstream_eventstore::{
    AppendRequest, Claim, EventMetadata, EventStore, NewEvent, StoreError,
};
use tillstream_kernel::Decider;

use crate::domain::user::{Command, Role, User, UserId, check_password, normalize_username};
use crate::error::AppError;
use crate::projections::users::{self, UserRow};

pub async fn register_user(
    store: &EventStore,
    username: &str,
    password: &str,
    role: Role,
    metadata: EventMetadata,
) -> Result<UserRow, AppError> {
    let username = normalize_username(username)?;
    check_password(password)?;
    let password_hash = hash_password(password).await?;
    let id = UserId::generate();
    let command = Command::Register {
        id,
        username: username.clone(),
        role,
        password_hash: password_hash.clone(),
    };
    let events = User::decide(&User::default(), &command)?;
    let new_events = events
        .iter()
        .map(NewEvent::from_domain)
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::from)?;
    let request = AppendRequest::new(format!("user-{id}"), 0, new_events)
        .with_claims(vec![Claim::acquire("username", username.clone())])
        .with_metadata(metadata);
    let row = UserRow {
        id: id.to_string(),
        username,
        role: role.to_string(),
        disabled: false,
        password_hash,
        pin_hash: None,
        created_at: chrono::Utc::now(),
    };
    let mut tx = store.pool().begin().await.map_err(StoreError::from)?;
    store.append_in(&mut tx, &request).await?;
    users::insert(&mut tx, &row)
        .await
        .map_err(StoreError::from)?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::info!(user_id = %row.id, username = %row.username, role = %row.role, "user registered");
    Ok(row)
}

/// Argon2id takes tens of milliseconds of CPU by design: off the async workers.
pub async fn hash_password(password: &str) -> Result<String, AppError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(e.to_string()))
}
