//! `suppliers`, `purchase_orders` and `purchase_order_lines`, written inline with the
//! purchasing commands, and the reorder suggestions read from them beside stock levels and
//! recent sales.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};

use crate::domain::purchase_order::{PurchaseOrder, Status};
use crate::domain::supplier::Supplier;

/// A supplier as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct SupplierRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lead_time_days: i32,
    pub version: i64,
}

impl SupplierRow {
    pub fn of(supplier: &Supplier, version: i64) -> Self {
        SupplierRow {
            id: supplier.id.map(|id| id.to_string()).unwrap_or_default(),
            code: supplier.code.clone(),
            name: supplier.details.name.clone(),
            email: supplier.details.email.clone(),
            phone: supplier.details.phone.clone(),
            lead_time_days: i32::try_from(supplier.details.lead_time_days).unwrap_or(i32::MAX),
            version,
        }
    }
}

pub async fn upsert_supplier(tx: &mut PgConnection, row: &SupplierRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO suppliers (id, code, name, email, phone, lead_time_days, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email,
             phone = EXCLUDED.phone, lead_time_days = EXCLUDED.lead_time_days,
             version = EXCLUDED.version",
    )
    .bind(&row.id)
    .bind(&row.code)
    .bind(&row.name)
    .bind(&row.email)
    .bind(&row.phone)
    .bind(row.lead_time_days)
    .bind(row.version)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn supplier(pool: &PgPool, id: &str) -> Result<Option<SupplierRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, code, name, email, phone, lead_time_days, version FROM suppliers WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A page of suppliers by code, and how many there are.
pub async fn suppliers(
    pool: &PgPool,
    offset: i64,
    limit: i64,
) -> Result<(Vec<SupplierRow>, u64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM suppliers")
        .fetch_one(pool)
        .await?;
    let rows = sqlx::query_as(
        "SELECT id, code, name, email, phone, lead_time_days, version FROM suppliers
         ORDER BY code LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok((rows, u64::try_from(total).unwrap_or(0)))
}

/// An order as GET answers it: the folded order and its stream's version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub order: PurchaseOrder,
    pub version: i64,
}

/// Writes the order's row and its lines' rows as they stand after `view`'s version;
/// `lines_changed` when it was drafted or its lines replaced, which makes it its products'
/// latest order.
pub async fn upsert_order(
    tx: &mut PgConnection,
    view: &OrderView,
    lines_changed: bool,
) -> Result<(), sqlx::Error> {
    let order = &view.order;
    let id = order.id.map(|id| id.to_string()).unwrap_or_default();
    let created_at = order.created_at.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let document = serde_json::to_value(order).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO purchase_orders
             (id, number, status, supplier_id, location_id, created_at, version, document)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, version = EXCLUDED.version,
             document = EXCLUDED.document",
    )
    .bind(&id)
    .bind(&order.number)
    .bind(order.status.as_str())
    .bind(&order.supplier_id)
    .bind(&order.location_id)
    .bind(created_at)
    .bind(view.version)
    .bind(&document)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM purchase_order_lines WHERE purchase_order_id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    let open = matches!(order.status, Status::Ordered | Status::PartiallyReceived);
    let line_nos: Vec<i32> = order
        .lines
        .iter()
        .map(|l| i32::try_from(l.line_no).unwrap_or(i32::MAX))
        .collect();
    let products: Vec<&str> = order.lines.iter().map(|l| l.product_id.as_str()).collect();
    let quantities: Vec<Decimal> = order.lines.iter().map(|l| l.quantity).collect();
    let received: Vec<Decimal> = order.lines.iter().map(|l| l.received).collect();
    sqlx::query(
        "INSERT INTO purchase_order_lines
             (purchase_order_id, line_no, product_id, location_id, supplier_id, quantity,
              received, open, ordered_at)
         SELECT $1, line_no, product_id, $2, $3, quantity, received, $4, $5
         FROM unnest($6::int4[], $7::text[], $8::numeric[], $9::numeric[])
              AS l(line_no, product_id, quantity, received)",
    )
    .bind(&id)
    .bind(&order.location_id)
    .bind(&order.supplier_id)
    .bind(open)
    .bind(created_at)
    .bind(&line_nos)
    .bind(&products)
    .bind(&quantities)
    .bind(&received)
    .execute(&mut *tx)
    .await?;
    if !lines_changed {
        return Ok(());
    }
    // Drafting makes an order its products' latest; a later draft elsewhere wins. Rows in
    // product order, as every writer of them takes them.
    sqlx::query(
        "INSERT INTO latest_suppliers (product_id, supplier_id, ordered_at)
         SELECT DISTINCT product_id, $2, $3 FROM unnest($1::text[]) AS p(product_id)
         ORDER BY product_id
         ON CONFLICT (product_id) DO UPDATE
         SET supplier_id = EXCLUDED.supplier_id, ordered_at = EXCLUDED.ordered_at
         WHERE latest_suppliers.ordered_at <= EXCLUDED.ordered_at",
    )
    .bind(&products)
    .bind(&order.supplier_id)
    .bind(created_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn order(pool: &PgPool, id: &str) -> Result<Option<OrderView>, sqlx::Error> {
    let row: Option<(sqlx::types::Json<PurchaseOrder>, i64)> =
        sqlx::query_as("SELECT document, version FROM purchase_orders WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(order, version)| OrderView {
        order: order.0,
        version,
    }))
}

/// Which orders a list shows; `None` matches everything.
#[derive(Debug, Default)]
pub struct OrderFilter {
    pub status: Option<Status>,
    pub supplier_id: Option<String>,
    pub location_id: Option<String>,
}

/// A page of orders, newest first, and how many match.
pub async fn orders(
    pool: &PgPool,
    filter: &OrderFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<OrderView>, u64), sqlx::Error> {
    let rows: Vec<(sqlx::types::Json<PurchaseOrder>, i64, i64)> = sqlx::query_as(
        "SELECT document, version, count(*) OVER () FROM purchase_orders
         WHERE ($1::text IS NULL OR status = $1)
           AND ($2::text IS NULL OR supplier_id = $2)
           AND ($3::text IS NULL OR location_id = $3)
         ORDER BY created_at DESC, id DESC
         LIMIT $4 OFFSET $5",
    )
    .bind(filter.status.map(Status::as_str))
    .bind(&filter.supplier_id)
    .bind(&filter.location_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total = rows.first().map_or(0, |r| u64::try_from(r.2).unwrap_or(0));
    let total = if rows.is_empty() && offset > 0 {
        count_orders(pool, filter).await?
    } else {
        total
    };
    Ok((
        rows.into_iter()
            .map(|(order, version, _)| OrderView {
                order: order.0,
                version,
            })
            .collect(),
        total,
    ))
}

async fn count_orders(pool: &PgPool, filter: &OrderFilter) -> Result<u64, sqlx::Error> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM purchase_orders
         WHERE ($1::text IS NULL OR status = $1)
           AND ($2::text IS NULL OR supplier_id = $2)
           AND ($3::text IS NULL OR location_id = $3)",
    )
    .bind(filter.status.map(Status::as_str))
    .bind(&filter.supplier_id)
    .bind(&filter.location_id)
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(total).unwrap_or(0))
}

/// The next readable order number, `PO-000042`.
pub async fn next_number(pool: &PgPool) -> Result<String, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT nextval('purchase_order_numbers')")
        .fetch_one(pool)
        .await?;
    Ok(format!("PO-{n:06}"))
}

/// A product to reorder at a location, with the figures that say why.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SuggestionRow {
    pub product_id: String,
    pub supplier_id: Option<String>,
    pub on_hand: Decimal,
    pub on_order: Decimal,
    pub reorder_point: Option<Decimal>,
    pub sold_last_28_days: Decimal,
    pub lead_time_days: i32,
    pub suggested_quantity: Decimal,
}

/// Lead time assumed for a product never ordered.
const UNKNOWN_LEAD_TIME_DAYS: i32 = 7;

/// What to reorder at `location_id` (the items stocked or ever ordered there; the sales
/// rate from `recent_sales`, see `refresh_recent_sales`): those whose on hand plus on order is at or below
/// their reorder point, or will be within the lead time at the last 28 days' rate. The
/// quantity brings the item to its reorder point plus the demand of the lead time and four
/// more weeks, at least one unit (whole units, rounded up).
pub async fn suggestions(
    pool: &PgPool,
    location_id: &str,
    offset: i64,
    limit: i64,
) -> Result<(Vec<SuggestionRow>, u64), sqlx::Error> {
    let rows: Vec<(i64, SuggestionRow)> = sqlx::query_as::<_, SuggestionCounted>(
        "WITH ordered AS (
             SELECT product_id, sum(GREATEST(quantity - received, 0)) FILTER (WHERE open)
                 AS on_order
             FROM purchase_order_lines WHERE location_id = $1 GROUP BY product_id
         ), figures AS (
             SELECT coalesce(s.product_id, o.product_id) AS product_id, ls.supplier_id,
                    coalesce(s.on_hand, 0) AS on_hand, coalesce(o.on_order, 0) AS on_order,
                    k.reorder_point, coalesce(r.sold, 0) AS sold,
                    coalesce(sup.lead_time_days, $2) AS lead_time_days
             FROM (SELECT product_id, on_hand FROM stock_levels WHERE location_id = $1) s
             FULL JOIN ordered o ON o.product_id = s.product_id
             LEFT JOIN known_products k ON k.id = coalesce(s.product_id, o.product_id)
             LEFT JOIN recent_sales r
                    ON r.location_id = $1 AND r.product_id = coalesce(s.product_id, o.product_id)
             LEFT JOIN latest_suppliers ls ON ls.product_id = coalesce(s.product_id, o.product_id)
             LEFT JOIN suppliers sup ON sup.id = ls.supplier_id
         )
         SELECT count(*) OVER () AS total, product_id, supplier_id, on_hand, on_order,
                reorder_point, sold AS sold_last_28_days, lead_time_days,
                GREATEST(ceil(coalesce(reorder_point, 0)
                              + sold / 28 * (lead_time_days + 28) - on_hand - on_order), 1)
                    AS suggested_quantity
         FROM figures
         WHERE (reorder_point IS NOT NULL AND on_hand + on_order <= reorder_point)
            OR (sold > 0 AND on_hand + on_order - sold / 28 * lead_time_days
                             <= coalesce(reorder_point, 0))
         ORDER BY product_id
         LIMIT $3 OFFSET $4",
    )
    .bind(location_id)
    .bind(UNKNOWN_LEAD_TIME_DAYS)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|counted| (counted.total, counted.row))
    .collect();
    let total = match rows.first() {
        Some(first) => u64::try_from(first.0).unwrap_or(0),
        // A page past the end still says how many there are.
        None if offset > 0 => Box::pin(suggestions(pool, location_id, 0, 1)).await?.1,
        None => 0,
    };
    Ok((rows.into_iter().map(|(_, row)| row).collect(), total))
}

#[derive(sqlx::FromRow)]
struct SuggestionCounted {
    total: i64,
    #[sqlx(flatten)]
    row: SuggestionRow,
}

/// How often the leader recomputes `recent_sales`: a four-week rate moves slowly.
pub const RECENT_SALES_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// Recomputes units sold per item over the last 28 days from the movements, in one
/// transaction (readers see the old figures or the new, never half). The number of items.
pub async fn refresh_recent_sales(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM recent_sales")
        .execute(&mut *tx)
        .await?;
    let written = sqlx::query(
        "INSERT INTO recent_sales (location_id, product_id, sold)
         SELECT location_id, product_id, -sum(quantity) FROM stock_movements
         WHERE kind = 'sold' AND occurred_at >= now() - interval '28 days'
         GROUP BY location_id, product_id",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(written)
}

/// Keeps `recent_sales` current until `stop`: at once, then every `RECENT_SALES_EVERY`.
pub async fn keep_recent_sales(pool: PgPool, stop: tokio_util::sync::CancellationToken) {
    loop {
        let started = std::time::Instant::now();
        match refresh_recent_sales(&pool).await {
            Ok(items) => tracing::debug!(
                items,
                ms = started.elapsed().as_millis(),
                "recent sales recomputed"
            ),
            Err(error) => tracing::warn!(%error, "could not recompute recent sales; will retry"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(RECENT_SALES_EVERY) => {}
        }
    }
}
