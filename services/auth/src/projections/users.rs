//! `users`: what login reads, written with each user event.

use sqlx::{PgConnection, PgPool};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub role: String,
    pub disabled: bool,
    pub password_hash: String,
}

pub async fn insert(tx: &mut PgConnection, row: &UserRow) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (id, username, role, disabled, password_hash) VALUES ($1, $2, $3, $4, $5)")
        .bind(&row.id)
        .bind(&row.username)
        .bind(&row.role)
        .bind(row.disabled)
        .bind(&row.password_hash)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn by_username(pool: &PgPool, username: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, username, role, disabled, password_hash FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(pool)
    .await
}

pub async fn any(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
        .fetch_one(pool)
        .await
}
