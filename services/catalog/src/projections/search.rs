//! Product search over the `products` read model: the name case- and accent-insensitive,
//! by prefix or anywhere in it; the SKU by prefix; a barcode exactly; filtered by category
//! and status; paged. Names that start with the query come first.

use sqlx::PgPool;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::products::ProductRow;

/// A name as search compares it: decomposed, without combining marks, lower case.
/// `Café Crème` → `cafe creme`.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase()
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub text: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
    /// Rows to skip and to return.
    pub offset: i64,
    pub limit: i64,
}

/// One page of matches and how many there are in all.
pub async fn search(
    pool: &PgPool,
    query: &SearchQuery,
) -> Result<(Vec<ProductRow>, i64), sqlx::Error> {
    let text = query
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let folded = text.map(fold);
    // `LIKE` patterns: the user's `%` and `_` are literal.
    let pattern = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    };
    let rows: Vec<SearchRow> = sqlx::query_as(
        "SELECT id, sku, name, price, currency, tax_rate, barcodes, category, reorder_point, \
                status, version, count(*) OVER () AS total \
           FROM products \
          WHERE ($1::text IS NULL \
                 OR search_name LIKE '%' || $2 || '%' \
                 OR lower(sku) LIKE lower($3) || '%' \
                 OR barcodes @> ARRAY[$1]::text[]) \
            AND ($4::text IS NULL OR lower(category) = lower($4)) \
            AND ($5::text IS NULL OR status = $5) \
          ORDER BY ($2::text IS NOT NULL AND search_name LIKE $2 || '%') DESC, search_name, sku \
          OFFSET $6 LIMIT $7",
    )
    .bind(text)
    .bind(folded.as_deref().map(pattern))
    .bind(text.map(pattern))
    .bind(
        query
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty()),
    )
    .bind(query.status.as_deref())
    .bind(query.offset)
    .bind(query.limit)
    .fetch_all(pool)
    .await?;
    let total = match rows.first() {
        Some(row) => row.total,
        // A page past the end still tells how many there are.
        None if query.offset > 0 => {
            let everything = SearchQuery {
                offset: 0,
                limit: 1,
                ..query.clone()
            };
            return Box::pin(search(pool, &everything))
                .await
                .map(|(_, total)| (Vec::new(), total));
        }
        None => 0,
    };
    Ok((rows.into_iter().map(|r| r.product).collect(), total))
}

#[derive(sqlx::FromRow)]
struct SearchRow {
    #[sqlx(flatten)]
    product: ProductRow,
    total: i64,
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folding_drops_case_and_accents() {
        assert_eq!(fold("Café Crème"), "cafe creme");
        assert_eq!(fold("ÅNGSTRÖM"), "angstrom");
        assert_eq!(fold("Ça va"), "ca va");
    }
}
