//! `locations`, written inline with `CreateLocation`.

use sqlx::{PgConnection, PgPool};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct LocationRow {
    pub id: String,
    pub code: String,
    pub name: String,
}

pub async fn insert(tx: &mut PgConnection, row: &LocationRow) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO locations (id, code, name) VALUES ($1, $2, $3)")
        .bind(&row.id)
        .bind(&row.code)
        .bind(&row.name)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn exists(pool: &PgPool, id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM locations WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
}

pub async fn all(pool: &PgPool) -> Result<Vec<LocationRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, code, name FROM locations ORDER BY code")
        .fetch_all(pool)
        .await
}
