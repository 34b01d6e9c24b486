//! `users`: what login and the user list read, written with each user event.

use sqlx::{PgConnection, PgPool};

use crate::domain::user::Event;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub role: String,
    pub disabled: bool,
    pub password_hash: String,
    pub pin_hash: Option<String>,
    pub location_ids: Vec<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// `SELECT <every column> FROM users <tail>`, as one static string.
macro_rules! select_users {
    ($tail:literal) => {
        concat!(
            "SELECT id, username, role, disabled, password_hash, pin_hash, location_ids, created_at FROM users ",
            $tail
        )
    };
}

pub async fn insert(tx: &mut PgConnection, row: &UserRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, username, role, disabled, password_hash, location_ids, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.id)
    .bind(&row.username)
    .bind(&row.role)
    .bind(row.disabled)
    .bind(&row.password_hash)
    .bind(&row.location_ids)
    .bind(row.created_at)
    .execute(tx)
    .await?;
    Ok(())
}

/// Applies a change event of user `id` to its row.
pub async fn apply(tx: &mut PgConnection, id: &str, event: &Event) -> Result<(), sqlx::Error> {
    let text = |sql, value: &str| sqlx::query(sql).bind(id.to_owned()).bind(value.to_owned());
    let flag = |value: bool| {
        sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
            .bind(id.to_owned())
            .bind(value)
    };
    let query = match event {
        // Registration inserts the row (`insert`), with the username it claimed.
        Event::UserRegistered { .. } => return Ok(()),
        Event::RoleChanged { to, .. } => {
            text("UPDATE users SET role = $2 WHERE id = $1", to.as_str())
        }
        Event::PasswordChanged { password_hash } | Event::PasswordRehashed { password_hash } => {
            text(
                "UPDATE users SET password_hash = $2 WHERE id = $1",
                password_hash,
            )
        }
        Event::PinSet { pin_hash } => {
            text("UPDATE users SET pin_hash = $2 WHERE id = $1", pin_hash)
        }
        Event::LocationsChanged { location_ids } => {
            sqlx::query("UPDATE users SET location_ids = $2 WHERE id = $1")
                .bind(id.to_owned())
                .bind(location_ids.clone())
        }
        Event::UserDisabled => flag(true),
        Event::UserEnabled => flag(false),
    };
    query.execute(tx).await?;
    Ok(())
}

pub async fn by_username(pool: &PgPool, username: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(select_users!("WHERE username = $1"))
        .bind(username)
        .fetch_optional(pool)
        .await
}

pub async fn by_id(pool: &PgPool, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(select_users!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Every user, by username.
pub async fn all(pool: &PgPool) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as(select_users!("ORDER BY username"))
        .fetch_all(pool)
        .await
}

pub async fn any(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
        .fetch_one(pool)
        .await
}
