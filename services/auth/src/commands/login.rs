//! Logging in: the same answer, and about the same time, for an unknown user, a wrong
//! password and a disabled user.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;
use tillstream_eventstore::EventStore;

use crate::api::error::AppError;
use crate::commands::register_user::hash_password;
use crate::domain::user::normalize_username;
use crate::keys;
use crate::projections::users;
use crate::tokens;

/// Issues an access token, or `Unauthenticated` whatever was wrong.
pub async fn login(store: &EventStore, username: &str, password: &str) -> Result<String, AppError> {
    let user = match normalize_username(username) {
        Ok(name) => users::by_username(store.pool(), &name)
            .await
            .map_err(|e| AppError::Store(e.into()))?,
        Err(_) => None,
    };
    // Verify against a dummy hash when there is no user, so timing does not tell.
    let hash = match &user {
        Some(user) => user.password_hash.clone(),
        None => dummy_hash().await?,
    };
    let matches = verify(password, &hash).await?;
    let Some(user) = user.filter(|u| matches && !u.disabled) else {
        return Err(AppError::Unauthenticated);
    };
    let key = keys::current(store.pool())
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let role = user
        .role
        .parse()
        .map_err(|e: tillstream_access::UnknownRole| AppError::Internal(e.to_string()))?;
    tokens::issue(
        &key,
        &user.id,
        &user.username,
        role,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|e| AppError::Internal(e.to_string()))
}

async fn verify(password: &str, hash: &str) -> Result<bool, AppError> {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))
}

async fn dummy_hash() -> Result<String, AppError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash.clone());
    }
    let hash = hash_password("not a password anyone has").await?;
    Ok(DUMMY.get_or_init(|| hash).clone())
}
