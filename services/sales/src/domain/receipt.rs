//! Receipts, from the amounts the sale stored (never recomputed): 40 columns of plain text
//! for a thermal printer, or a small HTML page for a screen or an e-mail.

use std::fmt::Write;

use tillstream_kernel::time::{DateTime, Utc};

use super::returns::ReturnRecord;
use super::sale::SaleRecord;

/// A thermal printer's line width.
pub const WIDTH: usize = 40;

/// What a receipt shows besides the sale itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptContext<'a> {
    pub location_code: &'a str,
    pub voided: bool,
    pub returns: &'a [ReturnRecord],
    /// The register it was rung up on and its journal entry, as fiscal receipts show them.
    pub fiscal: Option<Fiscal<'a>>,
}

/// A receipt's fiscal line: the register, the receipt number (its journal `seq`) and the
/// start of its entry's hash, so anyone can find and check the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fiscal<'a> {
    pub register_code: &'a str,
    pub receipt_no: i64,
    pub hash: &'a str,
}

impl Fiscal<'_> {
    fn line(&self) -> String {
        let prefix: String = self.hash.chars().take(8).collect();
        format!("Reg {} #{} {prefix}", self.register_code, self.receipt_no)
    }
}

/// `text` cut to `width` characters (a name longer than the paper).
fn fit(text: &str, width: usize) -> String {
    text.chars().take(width).collect()
}

/// `left` and `right` on one line, the right flush with the edge.
fn row(left: &str, right: &str) -> String {
    let right_len = right.chars().count();
    let left = fit(left, WIDTH.saturating_sub(right_len + 1));
    let gap = WIDTH.saturating_sub(left.chars().count() + right_len);
    format!("{left}{}{right}\n", " ".repeat(gap))
}

fn centred(text: &str) -> String {
    let text = fit(text, WIDTH);
    let pad = (WIDTH - text.chars().count()) / 2;
    format!("{}{text}\n", " ".repeat(pad))
}

/// The plain-text receipt: every line at most [`WIDTH`] characters.
pub fn text(sale: &SaleRecord, context: &ReceiptContext<'_>) -> String {
    let rule = format!("{}\n", "-".repeat(WIDTH));
    let mut out = String::new();
    out.push_str(&centred(&format!("STORE {}", context.location_code)));
    out.push_str(&centred(&sale.sale_number));
    if let Some(fiscal) = &context.fiscal {
        out.push_str(&centred(&fit(&fiscal.line(), WIDTH)));
    }
    out.push_str(&row(
        &date_time(&sale.completed_at),
        &format!("#{}", short(&sale.cashier_id)),
    ));
    if context.voided {
        out.push_str(&centred("*** VOIDED ***"));
    }
    out.push_str(&rule);
    for line in &sale.lines {
        out.push_str(&format!("{}\n", fit(&line.line.name, WIDTH)));
        let each = format!("  {} x {}", line.line.quantity, line.line.unit_price);
        out.push_str(&row(&each, &line.amounts.gross.to_string()));
        if !line.amounts.discount.is_zero() {
            out.push_str(&row("  discount", &format!("-{}", line.amounts.discount)));
        }
    }
    out.push_str(&rule);
    out.push_str(&row("Subtotal", &sale.subtotal.to_string()));
    if !sale.discount_total.is_zero() {
        out.push_str(&row("Discounts", &format!("-{}", sale.discount_total)));
    }
    let tax_label = if sale.prices_include_tax {
        "Tax included"
    } else {
        "Tax"
    };
    out.push_str(&row(tax_label, &sale.tax_total.to_string()));
    out.push_str(&row(
        "TOTAL",
        &format!("{} {}", sale.total.currency().code(), sale.total),
    ));
    for payment in &sale.payments {
        out.push_str(&row(
            &title(payment.method.as_str()),
            &payment.amount.to_string(),
        ));
    }
    out.push_str(&row("Change", &sale.change.to_string()));
    for returned in context.returns {
        out.push_str(&rule);
        out.push_str(&row("Returned", &date_time(&returned.returned_at)));
        for line in &returned.lines {
            out.push_str(&row(
                &format!("  line {} x {}", line.line_no, line.quantity),
                &format!("-{}", line.refund),
            ));
        }
        out.push_str(&row("Refunded", &format!("-{}", returned.refund_total)));
    }
    out.push_str(&rule);
    out.push_str(&centred("Thank you"));
    out
}

/// The HTML receipt: the same content, escaped, in a page of its own.
pub fn html(sale: &SaleRecord, context: &ReceiptContext<'_>) -> String {
    let mut out = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Receipt</title></head><body>\n",
    );
    let _ = writeln!(
        out,
        "<h1>Store {}</h1>\n<p>Sale {} &middot; {}</p>",
        escape(context.location_code),
        escape(&sale.sale_number),
        escape(&date_time(&sale.completed_at))
    );
    if let Some(fiscal) = &context.fiscal {
        let _ = writeln!(out, "<p class=\"fiscal\">{}</p>", escape(&fiscal.line()));
    }
    if context.voided {
        out.push_str("<p><strong>Voided</strong></p>\n");
    }
    out.push_str("<table>\n<tr><th>Item</th><th>Qty</th><th>Price</th><th>Discount</th><th>Amount</th></tr>\n");
    for line in &sale.lines {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&line.line.name),
            line.line.quantity,
            line.line.unit_price,
            line.amounts.discount,
            line.amounts.gross
        );
    }
    out.push_str("</table>\n<table>\n");
    let mut total = |label: &str, amount: String| {
        let _ = writeln!(out, "<tr><th>{label}</th><td>{amount}</td></tr>");
    };
    total("Subtotal", sale.subtotal.to_string());
    total("Discounts", sale.discount_total.to_string());
    total("Tax", sale.tax_total.to_string());
    total(
        "Total",
        format!("{} {}", sale.total.currency().code(), sale.total),
    );
    for payment in &sale.payments {
        total(&title(payment.method.as_str()), payment.amount.to_string());
    }
    total("Change", sale.change.to_string());
    for returned in context.returns {
        total(
            &format!("Refunded {}", escape(&date_time(&returned.returned_at))),
            format!("-{}", returned.refund_total),
        );
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

/// `2026-11-24T12:00:05.123456Z` → `2026-11-24 12:00`.
/// To the minute, in UTC, as the sale recorded it.
fn date_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// The last characters of an id: enough to tell cashiers apart on paper.
fn short(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    chars[chars.len().saturating_sub(6)..].iter().collect()
}

fn title(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_flush_right_and_never_wider_than_the_paper() {
        assert_eq!(row("Subtotal", "17.00").chars().count(), WIDTH + 1);
        assert!(row("Subtotal", "17.00").ends_with(" 17.00\n"));
        let long = row(&"Ü".repeat(60), "1234.56");
        assert_eq!(long.chars().count(), WIDTH + 1, "{long}");
        assert_eq!(
            centred("Thank you"),
            format!("{}Thank you\n", " ".repeat(15))
        );
    }

    #[test]
    fn html_escapes_what_a_product_name_may_hold() {
        assert_eq!(
            escape("<b>Tom & Jerry's</b>"),
            "&lt;b&gt;Tom &amp; Jerry&#39;s&lt;/b&gt;"
        );
        assert_eq!(
            date_time(&"2026-11-24T12:00:05.123Z".parse().unwrap()),
            "2026-11-24 12:00"
        );
        assert_eq!(title("cash"), "Cash");
    }
}
