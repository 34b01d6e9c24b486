//! `products`: each product as clients read it, written inline with the command.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};

use std::str::FromStr;

use super::search::fold;
use crate::domain::product::{Product, ProductDetails, ProductId};

/// One product as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ProductRow {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub price: Decimal,
    pub currency: String,
    pub tax_rate: Decimal,
    pub barcodes: Vec<String>,
    pub category: Option<String>,
    pub reorder_point: Option<Decimal>,
    pub status: String,
    pub version: i64,
}

impl ProductRow {
    pub fn created(id: ProductId, details: &ProductDetails, version: i64) -> Self {
        ProductRow {
            id: id.to_string(),
            sku: details.sku.trim().to_owned(),
            name: details.name.trim().to_owned(),
            price: details.price.amount(),
            currency: details.price.currency().code().to_owned(),
            tax_rate: details.tax_rate,
            barcodes: details.barcodes.clone(),
            category: details.category.clone(),
            reorder_point: details.reorder_point,
            status: "active".to_owned(),
            version,
        }
    }
}

impl ProductRow {
    /// The row for a product's folded state at `version`.
    pub fn from_state(id: &str, state: &Product, version: i64) -> Option<Self> {
        let details = state.details.as_ref()?;
        let mut row = ProductRow::created(ProductId::from_str(id).ok()?, details, version);
        if state.discontinued {
            "discontinued".clone_into(&mut row.status);
        }
        Some(row)
    }
}

/// Writes every column of an existing product's row.
pub async fn replace(tx: &mut PgConnection, row: &ProductRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE products SET name = $2, price = $3, tax_rate = $4, barcodes = $5, category = $6, \
                reorder_point = $7, status = $8, version = $9, search_name = $10, updated_at = now() \
          WHERE id = $1",
    )
    .bind(&row.id)
    .bind(&row.name)
    .bind(row.price)
    .bind(row.tax_rate)
    .bind(&row.barcodes)
    .bind(&row.category)
    .bind(row.reorder_point)
    .bind(&row.status)
    .bind(row.version)
    .bind(fold(&row.name))
    .execute(tx)
    .await?;
    Ok(())
}

macro_rules! select_products {
    ($where:literal) => {
        concat!(
            "SELECT id, sku, name, price, currency, tax_rate, barcodes, category, reorder_point, \
             status, version FROM products WHERE ",
            $where
        )
    };
}

pub async fn insert(tx: &mut PgConnection, row: &ProductRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO products (id, sku, name, price, currency, tax_rate, barcodes, category, reorder_point, status, version, search_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&row.id)
    .bind(&row.sku)
    .bind(&row.name)
    .bind(row.price)
    .bind(&row.currency)
    .bind(row.tax_rate)
    .bind(&row.barcodes)
    .bind(&row.category)
    .bind(row.reorder_point)
    .bind(&row.status)
    .bind(row.version)
    .bind(fold(&row.name))
    .execute(tx)
    .await?;
    Ok(())
}

/// Many new products in one statement (an import's chunk).
pub async fn insert_many(tx: &mut PgConnection, rows: &[ProductRow]) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id, "sku": r.sku, "name": r.name, "price": r.price.to_string(),
                "currency": r.currency, "tax_rate": r.tax_rate.to_string(), "barcodes": r.barcodes,
                "category": r.category, "reorder_point": r.reorder_point.map(|p| p.to_string()),
                "status": r.status, "version": r.version, "search_name": fold(&r.name),
            })
        })
        .collect();
    sqlx::query(
        "INSERT INTO products (id, sku, name, price, currency, tax_rate, barcodes, category, \
                              reorder_point, status, version, search_name) \
         SELECT id, sku, name, price, currency, tax_rate, barcodes, category, reorder_point, \
                status, version, search_name \
           FROM jsonb_to_recordset($1) AS p(id text, sku text, name text, price numeric, \
                currency text, tax_rate numeric, barcodes text[], category text, \
                reorder_point numeric, status text, version bigint, search_name text)",
    )
    .bind(serde_json::Value::Array(data))
    .execute(tx)
    .await?;
    Ok(())
}

/// The ids of the products with these SKUs, by SKU.
pub async fn ids_by_sku(
    pool: &PgPool,
    skus: &[String],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT sku, id FROM products WHERE sku = ANY($1)")
        .bind(skus)
        .fetch_all(pool)
        .await
}

pub async fn by_id(pool: &PgPool, id: &str) -> Result<Option<ProductRow>, sqlx::Error> {
    sqlx::query_as(select_products!("id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn by_sku(pool: &PgPool, sku: &str) -> Result<Option<ProductRow>, sqlx::Error> {
    sqlx::query_as(select_products!("sku = $1"))
        .bind(sku.trim())
        .fetch_optional(pool)
        .await
}

pub async fn by_barcode(pool: &PgPool, barcode: &str) -> Result<Option<ProductRow>, sqlx::Error> {
    // Through the barcode's claim (a unique b-tree key, `product-<id>` as owner): the till's
    // scan stays two index lookups however many products there are, where the GIN index on
    // the array left the planner scanning after bulk loads.
    sqlx::query_as(select_products!(
        "id = (SELECT substr(owner, 9) FROM claims WHERE claim = 'barcode' AND value = $1)"
    ))
    .bind(barcode.trim())
    .fetch_optional(pool)
    .await
}
