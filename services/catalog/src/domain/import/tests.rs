#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use super::*;
use crate::domain::product::Product;
use tillstream_test_support::NASTY_CSV;

/// The nasty file, with a bad check digit and a blank line at the end.
fn nasty() -> String {
    format!("{NASTY_CSV}BAD-1;Bad barcode;1.00;0.08;4006381333932;\r\n\r\n")
}

fn validated(rows: &[CsvRow]) -> Vec<Result<ProductDetails, RowError>> {
    rows.iter()
        .map(|row| {
            let details = product_of(row, Currency::USD)?;
            // The creation rules too, as the import applies them.
            Product::decide(
                &Product::default(),
                &crate::domain::product::Command::Create {
                    id: crate::domain::product::ProductId::generate(),
                    details: details.clone(),
                },
            )
            .map_err(|e| match e {
                crate::domain::product::ProductError::Invalid { field, message } => {
                    RowError::new(row, &field, message)
                }
                other => RowError::new(row, "row", other.to_string()),
            })?;
            Ok(details)
        })
        .collect()
}

use tillstream_kernel::Decider;

#[test]
fn a_nasty_file_reads_row_by_row_with_exact_errors() {
    let rows = parse_csv(nasty().as_bytes()).unwrap();
    assert_eq!(rows.len(), 8, "the blank line is skipped");
    assert_eq!(rows[0].row, 2, "the header is row 1");
    assert_eq!(rows[0].get("name"), "Café \"Crème\"; 1 kg");
    let results = validated(&rows);
    let coffee = results[0].as_ref().unwrap();
    assert_eq!(coffee.price.to_string(), "12.50");
    assert_eq!(coffee.tax_rate.to_string(), "0.08");
    assert_eq!(coffee.barcodes, ["4006381333931"]);
    let bread = results[6].as_ref().unwrap();
    assert_eq!(
        (bread.name.as_str(), bread.price.to_string()),
        ("Ψωμί 🍞", "2.40".into())
    );
    assert_eq!(bread.category.as_deref(), Some("Bäckerei"));

    let errors: Vec<(u32, &str, &str)> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| (e.row, e.sku.as_str(), e.field.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            (4, "NEG-1", "price"),
            (6, "EMP-1", "name"),
            (7, "SHT-1", "row"),
            (9, "BAD-1", "barcodes[0]"),
        ]
    );
    // The duplicate SKU on row 5 is valid on its own; the import refuses it against row 2.
    assert!(results[3].is_ok());
}

#[test]
fn commas_lf_and_no_bom_read_the_same() {
    let text = "sku,name,price,tax_rate,barcode,category\n\"A,1\",\"Name, with comma\",1.5,0,,\n";
    let rows = parse_csv(text.as_bytes()).unwrap();
    assert_eq!(
        (rows[0].sku(), rows[0].get("name")),
        ("A,1", "Name, with comma")
    );
    assert_eq!(
        product_of(&rows[0], Currency::USD)
            .unwrap()
            .price
            .to_string(),
        "1.50"
    );
}

#[test]
fn files_that_cannot_be_imported_are_refused_whole() {
    assert_eq!(parse_csv(b""), Err(CsvError::Empty));
    assert!(matches!(
        parse_csv(b"code,title,price\nA,B,1\n"),
        Err(CsvError::BadHeader(_))
    ));
    assert_eq!(parse_csv(b"sku,name\xff"), Err(CsvError::NotUtf8));
    let mut many = String::from("sku,name,price,tax_rate,barcode,category\n");
    for i in 0..=MAX_ROWS {
        many.push_str(&format!("S{i},N,1,0,,\n"));
    }
    assert_eq!(parse_csv(many.as_bytes()), Err(CsvError::TooManyRows));
}

#[test]
fn ambiguous_numbers_are_row_errors() {
    let rows = parse_csv(
        b"sku,name,price,tax_rate,barcode,category\nA,B,\"1,234.50\",0,,\nC,D,12.505,0,,\n",
    )
    .unwrap();
    assert_eq!(
        product_of(&rows[0], Currency::USD).unwrap_err().field,
        "price"
    );
    assert_eq!(
        product_of(&rows[1], Currency::USD).unwrap_err().field,
        "price"
    );
}
