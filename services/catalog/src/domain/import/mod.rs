//! Product imports, pure: reading the CSV (header `sku,name,price,tax_rate,barcode,category`,
//! UTF-8 with or without BOM, quoted fields, CRLF or LF, comma or semicolon, detected) and
//! validating each row on its own into a product, or a row error naming the field.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tillstream_kernel::{Currency, Money, parse_tax_rate};

use super::product::{ProductChanges, ProductDetails};

/// The columns, in the header's order.
pub const COLUMNS: [&str; 6] = ["sku", "name", "price", "tax_rate", "barcode", "category"];
pub const MAX_ROWS: usize = 100_000;
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// One data row as written: its number (the header is row 1) and its fields by column name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvRow {
    pub row: u32,
    pub fields: Vec<String>,
}

impl CsvRow {
    pub fn get(&self, column: &str) -> &str {
        COLUMNS
            .iter()
            .position(|c| *c == column)
            .and_then(|i| self.fields.get(i))
            .map_or("", |s| s.trim())
    }

    pub fn sku(&self) -> &str {
        self.get("sku")
    }
}

/// A file that cannot be imported at all (as opposed to a bad row).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than 20 MB")]
    TooLarge,
    #[error("the file has more than {MAX_ROWS} rows")]
    TooManyRows,
    #[error("the file is not UTF-8 text")]
    NotUtf8,
    #[error("the header must be `sku,name,price,tax_rate,barcode,category`, not `{0}`")]
    BadHeader(String),
    #[error("row {row}: {message}")]
    Unreadable { row: u64, message: String },
}

/// What is wrong with one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub row: u32,
    pub sku: String,
    pub field: String,
    pub message: String,
}

impl RowError {
    pub fn new(row: &CsvRow, field: &str, message: impl Into<String>) -> Self {
        RowError {
            row: row.row,
            sku: row.sku().to_owned(),
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Splits a file into rows, refusing it only when it cannot be read as a whole.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<CsvRow>, CsvError> {
    if bytes.len() > MAX_BYTES {
        return Err(CsvError::TooLarge);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| CsvError::NotUtf8)?;
    let header_line = text.lines().next().unwrap_or_default();
    if header_line.trim().is_empty() {
        return Err(CsvError::Empty);
    }
    let delimiter = if header_line.matches(';').count() > header_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| CsvError::Unreadable {
            row: 1,
            message: e.to_string(),
        })?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if header != COLUMNS {
        return Err(CsvError::BadHeader(header_line.trim().to_owned()));
    }
    let mut rows = Vec::new();
    // Rows are numbered as a spreadsheet shows them: the header is row 1.
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| CsvError::Unreadable {
            row: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        if record.iter().all(|f| f.trim().is_empty()) {
            continue; // a blank line, as spreadsheets leave at the end
        }
        if rows.len() == MAX_ROWS {
            return Err(CsvError::TooManyRows);
        }
        let row = u32::try_from(index + 2).unwrap_or(u32::MAX);
        rows.push(CsvRow {
            row,
            fields: record.iter().map(str::to_owned).collect(),
        });
    }
    Ok(rows)
}

/// A row as a new product, or what is wrong with it.
pub fn product_of(row: &CsvRow, currency: Currency) -> Result<ProductDetails, RowError> {
    if row.fields.len() != COLUMNS.len() {
        return Err(RowError::new(
            row,
            "row",
            format!(
                "expected {} fields, found {}",
                COLUMNS.len(),
                row.fields.len()
            ),
        ));
    }
    let price = money(row, currency)?;
    let tax_rate = tax_rate(row)?;
    let barcode = row.get("barcode");
    let category = row.get("category");
    Ok(ProductDetails {
        sku: row.sku().to_owned(),
        name: row.get("name").to_owned(),
        price,
        tax_rate,
        barcodes: if barcode.is_empty() {
            Vec::new()
        } else {
            vec![barcode.to_owned()]
        },
        category: (!category.is_empty()).then(|| category.to_owned()),
        reorder_point: None,
    })
}

/// The same row as an edit of an existing product (upsert mode): every column replaces the
/// product's value; an empty barcode or category clears it.
pub fn changes_of(details: &ProductDetails) -> ProductChanges {
    ProductChanges {
        name: Some(details.name.clone()),
        price: Some(details.price),
        tax_rate: Some(details.tax_rate),
        barcodes: Some(details.barcodes.clone()),
        category: Some(details.category.clone()),
        reorder_point: None,
    }
}

fn money(row: &CsvRow, currency: Currency) -> Result<Money, RowError> {
    let text = decimal_text(row.get("price"));
    Money::parse(&text, currency).map_err(|e| RowError::new(row, "price", e.to_string()))
}

fn tax_rate(row: &CsvRow) -> Result<Decimal, RowError> {
    parse_tax_rate(&decimal_text(row.get("tax_rate")))
        .map_err(|e| RowError::new(row, "tax_rate", e.to_string()))
}

/// A decimal comma (`12,50`, as European spreadsheets write it) read as a point; a number
/// with both separators is left as it is, and refused as ambiguous.
fn decimal_text(text: &str) -> String {
    if text.contains(',') && !text.contains('.') && text.matches(',').count() == 1 {
        text.replace(',', ".")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests;
