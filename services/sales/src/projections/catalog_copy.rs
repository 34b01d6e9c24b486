//! Sales' copies of the catalog and of locations, fed by consumers, so a sale is priced
//! without waiting on another service.

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CatalogProduct {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub price: Decimal,
    pub currency: String,
    pub tax_rate: Decimal,
    pub status: String,
}

/// How a sale line names its product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductRef {
    Id(String),
    Sku(String),
    Barcode(String),
}

impl ProductRef {
    /// The request field that names the product, for errors.
    pub fn field(&self) -> &'static str {
        match self {
            ProductRef::Id(_) => "product_id",
            ProductRef::Sku(_) => "sku",
            ProductRef::Barcode(_) => "barcode",
        }
    }
}

pub async fn upsert_product(
    tx: &mut PgConnection,
    product: &CatalogProduct,
    barcodes: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO catalog_products (id, sku, name, price, currency, tax_rate, barcodes, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&product.id)
    .bind(&product.sku)
    .bind(&product.name)
    .bind(product.price)
    .bind(&product.currency)
    .bind(product.tax_rate)
    .bind(barcodes)
    .bind(&product.status)
    .execute(tx)
    .await?;
    Ok(())
}

/// One step of a product's stream, as far as the sales copy cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyChange {
    Name(String),
    Price(Decimal),
    TaxRate(Decimal),
    AddBarcode(String),
    RemoveBarcode(String),
    Status(&'static str),
    /// A step that changes nothing sales keeps (category, reorder point): only the version.
    Nothing,
}

/// What applying a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Now,
    /// The copy already reflects this step (a redelivery).
    Before,
    /// An earlier step (or the product itself) has not arrived yet.
    Gap,
}

/// Applies step `version` of product `id`, only on top of step `version - 1`.
pub async fn apply_change(
    tx: &mut PgConnection,
    id: &str,
    version: i64,
    change: &CopyChange,
) -> Result<Applied, sqlx::Error> {
    let text = |sql: &'static str, value: &str| {
        sqlx::query(sql)
            .bind(id.to_owned())
            .bind(version)
            .bind(value.to_owned())
    };
    let number = |sql: &'static str, value: Decimal| {
        sqlx::query(sql)
            .bind(id.to_owned())
            .bind(version)
            .bind(value)
    };
    let query = match change {
        CopyChange::Name(name) => text(
            "UPDATE catalog_products SET name = $3, version = $2 WHERE id = $1 AND version = $2 - 1",
            name,
        ),
        CopyChange::Price(price) => number(
            "UPDATE catalog_products SET price = $3, version = $2 WHERE id = $1 AND version = $2 - 1",
            *price,
        ),
        CopyChange::TaxRate(rate) => number(
            "UPDATE catalog_products SET tax_rate = $3, version = $2 WHERE id = $1 AND version = $2 - 1",
            *rate,
        ),
        CopyChange::AddBarcode(code) => text(
            "UPDATE catalog_products SET barcodes = array_append(array_remove(barcodes, $3), $3), \
             version = $2 WHERE id = $1 AND version = $2 - 1",
            code,
        ),
        CopyChange::RemoveBarcode(code) => text(
            "UPDATE catalog_products SET barcodes = array_remove(barcodes, $3), version = $2 \
             WHERE id = $1 AND version = $2 - 1",
            code,
        ),
        CopyChange::Status(status) => text(
            "UPDATE catalog_products SET status = $3, version = $2 WHERE id = $1 AND version = $2 - 1",
            status,
        ),
        CopyChange::Nothing => sqlx::query(
            "UPDATE catalog_products SET version = $2 WHERE id = $1 AND version = $2 - 1",
        )
        .bind(id.to_owned())
        .bind(version),
    };
    if query.execute(&mut *tx).await?.rows_affected() == 1 {
        return Ok(Applied::Now);
    }
    let current: Option<i64> =
        sqlx::query_scalar("SELECT version FROM catalog_products WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    Ok(match current {
        Some(current) if current >= version => Applied::Before,
        _ => Applied::Gap,
    })
}

pub async fn find_product(
    pool: &PgPool,
    reference: &ProductRef,
) -> Result<Option<CatalogProduct>, sqlx::Error> {
    let (sql, key) = match reference {
        ProductRef::Id(id) => (
            "SELECT id, sku, name, price, currency, tax_rate, status FROM catalog_products WHERE id = $1",
            id,
        ),
        ProductRef::Sku(sku) => (
            "SELECT id, sku, name, price, currency, tax_rate, status FROM catalog_products WHERE sku = $1",
            sku,
        ),
        ProductRef::Barcode(code) => (
            "SELECT id, sku, name, price, currency, tax_rate, status FROM catalog_products
             WHERE barcodes @> ARRAY[$1]::text[]",
            code,
        ),
    };
    sqlx::query_as(sql)
        .bind(key.trim())
        .fetch_optional(pool)
        .await
}

/// The products of `ids` that the copy holds, by id: one query for a sale's lines.
pub async fn find_products_by_id(
    pool: &PgPool,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, CatalogProduct>, sqlx::Error> {
    let found: Vec<CatalogProduct> = sqlx::query_as(
        "SELECT id, sku, name, price, currency, tax_rate, status FROM catalog_products
         WHERE id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(found.into_iter().map(|p| (p.id.clone(), p)).collect())
}

pub async fn upsert_location(
    tx: &mut PgConnection,
    id: &str,
    code: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO known_locations (id, code) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET code = EXCLUDED.code",
    )
    .bind(id)
    .bind(code)
    .execute(tx)
    .await?;
    Ok(())
}

/// The location's code, if sales has heard of it.
pub async fn location_code(pool: &PgPool, id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT code FROM known_locations WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}
