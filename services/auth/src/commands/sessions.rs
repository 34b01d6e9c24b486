//! Sessions: an access token plus a rotating refresh token. Refresh tokens are 256 random
//! bits, kept as SHA-256 hashes; each use spends one and issues the next in the same family.
//! A spent token presented again was copied: its whole family is revoked, so the thief and
//! the victim both have to log in again. Disabling a user or changing their password revokes
//! every family of theirs.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

use crate::error::AppError;
use crate::keys;
use crate::projections::users::{self, UserRow};
use crate::tokens::{self, ACCESS_TOKEN_TTL};

/// How long a refresh token lives unused.
pub const REFRESH_TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

const INVALID: AppError = AppError::Unauthenticated("the refresh token is not valid");

/// What a login or a refresh answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: Duration,
}

/// A new session for `user` (after a successful login).
pub async fn start(pool: &PgPool, user: &UserRow) -> Result<Tokens, AppError> {
    let family = ulid::Ulid::generate().to_string();
    let mut tx = pool.begin().await?;
    let refresh_token = issue_refresh(&mut tx, &user.id, &family).await?;
    tx.commit().await?;
    Ok(Tokens {
        access_token: access_token(pool, user).await?,
        refresh_token,
        expires_in: ACCESS_TOKEN_TTL,
    })
}

/// Spends `token` for a new pair, with the user's current role.
pub async fn refresh(pool: &PgPool, token: &str) -> Result<Tokens, AppError> {
    let mut tx = pool.begin().await?;
    let row: Option<TokenRow> = sqlx::query_as(
        "SELECT family_id, user_id, expires_at < now() AS expired, spent_at IS NOT NULL AS spent, \
                revoked_at IS NOT NULL AS revoked \
           FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(hash(token).as_slice())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Err(INVALID);
    };
    if row.revoked || row.expired {
        return Err(INVALID);
    }
    if row.spent {
        tracing::warn!(user_id = %row.user_id, family = %row.family_id, "a spent refresh token was reused; revoking its family");
        revoke_family(&mut tx, &row.family_id).await?;
        tx.commit().await?;
        return Err(INVALID);
    }
    let user = users::by_id(pool, &row.user_id).await?;
    let Some(user) = user.filter(|u| !u.disabled) else {
        revoke_family(&mut tx, &row.family_id).await?;
        tx.commit().await?;
        return Err(INVALID);
    };
    sqlx::query("UPDATE refresh_tokens SET spent_at = now() WHERE token_hash = $1")
        .bind(hash(token).as_slice())
        .execute(&mut *tx)
        .await?;
    let refresh_token = issue_refresh(&mut tx, &user.id, &row.family_id).await?;
    tx.commit().await?;
    Ok(Tokens {
        access_token: access_token(pool, &user).await?,
        refresh_token,
        expires_in: ACCESS_TOKEN_TTL,
    })
}

/// Ends the session `token` belongs to, if it belongs to `user_id`. Unknown tokens are
/// ignored: logging out twice is not an error.
pub async fn logout(pool: &PgPool, token: &str, user_id: &str) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() \
          WHERE revoked_at IS NULL AND family_id = \
                (SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2)",
    )
    .bind(hash(token).as_slice())
    .bind(user_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Revokes every session of `user_id`, in the caller's transaction.
pub async fn revoke_user(tx: &mut PgConnection, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .execute(tx)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    family_id: String,
    user_id: String,
    expired: bool,
    spent: bool,
    revoked: bool,
}

async fn issue_refresh(
    tx: &mut PgConnection,
    user_id: &str,
    family: &str,
) -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| AppError::Internal(e.to_string()))?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at) \
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
    )
    .bind(hash(&token).as_slice())
    .bind(family)
    .bind(user_id)
    .bind(REFRESH_TOKEN_TTL.as_secs_f64())
    .execute(tx)
    .await?;
    Ok(token)
}

async fn revoke_family(tx: &mut PgConnection, family: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
    )
    .bind(family)
    .execute(tx)
    .await?;
    Ok(())
}

async fn access_token(pool: &PgPool, user: &UserRow) -> Result<String, AppError> {
    let key = keys::current(pool).await.map_err(AppError::from)?;
    let role = user
        .role
        .parse()
        .map_err(|e: tillstream_access::UnknownRole| AppError::Internal(e.to_string()))?;
    tokens::issue(
        &key,
        &user.id,
        &user.username,
        role,
        &user.location_ids,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|e| AppError::Internal(e.to_string()))
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
