//! Logging in: the same answer, and about the same time, for an unknown user, a wrong
//! password and a disabled user.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;
use tillstream_eventstore::EventStore;

use crate::commands::register_user::{hash_password, with_argon2};
use crate::commands::sessions::{self, Tokens};
use crate::commands::{change_user, lockout};
use crate::domain::user::normalize_username;
use crate::error::AppError;
use crate::projections::users::{self, UserRow};

/// What a user proves themselves with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret<'a> {
    Password(&'a str),
    /// A till PIN; only users with one set can use it.
    Pin(&'a str),
}

/// Starts a session, or answers `Unauthenticated` whatever was wrong, or `LockedOut` after
/// too many failures for the username or from `client_addr`.
pub async fn login(
    store: &EventStore,
    username: &str,
    secret: Secret<'_>,
    client_addr: Option<&str>,
) -> Result<Tokens, AppError> {
    let user = authenticate(store, username, secret, client_addr).await?;
    sessions::start(store.pool(), &user).await
}

/// The user whose `secret` this is, counted by the lockout like a login (an approval by PIN
/// is one): `Unauthenticated` whatever was wrong, `LockedOut` after too many failures.
pub async fn authenticate(
    store: &EventStore,
    username: &str,
    secret: Secret<'_>,
    client_addr: Option<&str>,
) -> Result<UserRow, AppError> {
    let pool = store.pool();
    // Counted as a failure from here on, unless it succeeds.
    let attempt = lockout::admit(pool, username, client_addr).await?;
    let user = match normalize_username(username) {
        Ok(name) => users::by_username(pool, &name).await?,
        Err(_) => None,
    };
    let stored = user.as_ref().and_then(|u| match secret {
        Secret::Password(_) => Some(u.password_hash.clone()),
        Secret::Pin(_) => u.pin_hash.clone(),
    });
    // Verify against a dummy hash when there is nothing to verify against, so timing does
    // not tell an unknown user from a wrong secret.
    let hash = match stored {
        Some(hash) => hash,
        None => dummy_hash().await?,
    };
    let given = match secret {
        Secret::Password(password) => password,
        Secret::Pin(pin) => pin,
    };
    let matches = verify(given, &hash).await?
        && user
            .as_ref()
            .is_some_and(|u| matches!(secret, Secret::Password(_)) || u.pin_hash.is_some());
    let Some(user) = user.filter(|u| matches && !u.disabled) else {
        return Err(crate::error::BAD_CREDENTIALS);
    };
    lockout::succeeded(pool, username, attempt).await?;
    if matches!(secret, Secret::Password(_)) && needs_rehash(&user.password_hash) {
        rehash(store, &user.id, given).await;
    }
    Ok(user)
}

/// Whether `hash` was made with other than the current Argon2id parameters (OWASP's
/// recommendation moves; hashes follow at the next login, when the password is at hand).
pub fn needs_rehash(hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return true;
    };
    let current = argon2::Params::default();
    parsed.algorithm.as_str() != "argon2id"
        || argon2::Params::try_from(&parsed).map_or(true, |params| {
            (params.m_cost(), params.t_cost(), params.p_cost())
                != (current.m_cost(), current.t_cost(), current.p_cost())
        })
}

/// A login never fails for want of a rehash; the next one tries again.
async fn rehash(store: &EventStore, user_id: &str, password: &str) {
    let outcome = match hash_password(password).await {
        Ok(hash) => change_user::rehash_password(store, user_id, hash)
            .await
            .map(|_| ()),
        Err(error) => Err(error),
    };
    match outcome {
        Ok(()) => tracing::info!(%user_id, "password rehashed with the current parameters"),
        Err(error) => tracing::warn!(%user_id, %error, "password rehash failed"),
    }
}

async fn verify(password: &str, hash: &str) -> Result<bool, AppError> {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    with_argon2(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
}

async fn dummy_hash() -> Result<String, AppError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash.clone());
    }
    let hash = hash_password("not a password anyone has").await?;
    Ok(DUMMY.get_or_init(|| hash).clone())
}
