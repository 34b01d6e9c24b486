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
         ON CONFLICT (id) DO UPDATE SET sku = EXCLUDED.sku, name = EXCLUDED.name, price = EXCLUDED.price,
             currency = EXCLUDED.currency, tax_rate = EXCLUDED.tax_rate, barcodes = EXCLUDED.barcodes,
             status = EXCLUDED.status",
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
