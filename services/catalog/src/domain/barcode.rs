//! Barcodes: EAN-13, EAN-8 and UPC-A check digits are verified when a code is numeric of
//! those lengths; any other code (an internal label, a QR payload) is kept as given.

/// Whether `code` is acceptable as a barcode.
pub fn validate(code: &str) -> Result<(), &'static str> {
    if code.is_empty() || code.len() > 64 {
        return Err("a barcode has 1 to 64 characters");
    }
    if code.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a barcode cannot contain spaces or control characters");
    }
    let is_gtin = matches!(code.len(), 8 | 12 | 13) && code.bytes().all(|b| b.is_ascii_digit());
    if is_gtin && !check_digit_ok(code) {
        return Err("the check digit does not match (EAN-13, EAN-8 or UPC-A)");
    }
    Ok(())
}

/// GTIN check: weights 3 and 1 alternate from the digit left of the check digit.
fn check_digit_ok(code: &str) -> bool {
    let digits: Vec<u32> = code.bytes().map(|b| u32::from(b - b'0')).collect();
    let Some((check, body)) = digits.split_last() else {
        return false;
    };
    check_digit(body) == *check
}

fn check_digit(body: &[u32]) -> u32 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    (10 - sum % 10) % 10
}

/// The `n`th EAN-13 of the in-store range (prefix 20, free for a shop's own labels), with
/// its check digit: for seeding a demo catalog and for benchmarks.
pub fn in_store_ean13(n: usize) -> String {
    let body = format!("20{:010}", n % 10_000_000_000);
    let digits: Vec<u32> = body.bytes().map(|b| u32::from(b - b'0')).collect();
    format!("{body}{}", check_digit(&digits))
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn real_codes_pass_and_a_wrong_check_digit_fails() {
        assert!(validate("4006381333931").is_ok()); // EAN-13
        assert!(validate(&super::in_store_ean13(42)).is_ok());
        assert!(validate(&super::in_store_ean13(9_999_999_999)).is_ok());
        assert!(validate("73513537").is_ok()); // EAN-8
        assert!(validate("036000291452").is_ok()); // UPC-A
        assert!(validate("4006381333932").is_err());
        assert!(validate("73513538").is_err());
        assert!(validate("036000291453").is_err());
    }

    #[test]
    fn other_codes_are_kept_as_given() {
        assert!(validate("SHELF-7/A").is_ok());
        assert!(validate("12345").is_ok());
        assert!(validate("").is_err());
        assert!(validate("with space").is_err());
    }
}
