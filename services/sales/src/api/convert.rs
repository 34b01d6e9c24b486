//! Between the protobuf messages and the domain: parsing requests (naming the field that
//! fails) and rendering sales.

use chrono::{DateTime, Utc};
use tillstream_kernel::time::rfc3339;
use tillstream_kernel::{Currency, Money, Quantity, Tender, parse_percent};
use tillstream_proto::sales::v1 as pb;

use crate::commands::create_sale::{LineRequest, SaleRequest};
use crate::domain::controls::Locations;
use crate::domain::pricing::{Discount, Payment};
use crate::domain::returns::{ReturnLineRequest, ReturnRecord};
use crate::domain::sale::{SaleId, SaleRecord};
use crate::error::AppError;
use crate::projections::catalog_copy::ProductRef;
use crate::projections::sales::SaleView;

pub fn sale_request(
    request: &pb::CreateSaleRequest,
    currency: Currency,
) -> Result<SaleRequest, AppError> {
    let id = match request.id.trim() {
        "" => None,
        text => Some(
            text.parse::<SaleId>()
                .map_err(|e| AppError::invalid("id", e.to_string()))?,
        ),
    };
    let lines = request
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| line_request(i, line, currency))
        .collect::<Result<Vec<_>, _>>()?;
    if lines.is_empty() {
        return Err(AppError::invalid("lines", "a sale needs at least one line"));
    }
    let payments = payments(&request.payments, currency, "payments")?;
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(SaleRequest {
        id,
        location_id: request.location_id.trim().to_owned(),
        // Who rings it up comes from the verified token: the handler sets it.
        cashier_id: String::new(),
        lines,
        discount: discount(request.discount.as_ref(), currency, "discount")?,
        payments,
        customer_id: text(&request.customer_id),
        customer_name: text(&request.customer_name),
        customer_email: text(&request.customer_email),
        customer_digest: None,
        notes: text(&request.notes),
        captured_at: match request.captured_at.trim() {
            "" => None,
            at => Some(
                DateTime::parse_from_rfc3339(at)
                    .map_err(|_| {
                        AppError::invalid("captured_at", format!("`{at}` is not an RFC 3339 time"))
                    })?
                    .with_timezone(&Utc),
            ),
        },
        offline: false,
        // Like the cashier, set by the handler from the verified token.
        controls: None,
        locations: Locations::every(),
        session_id: text(&request.session_id),
        require_session: false,
        repair_id: None,
    })
}

/// Payments or refunds, each method and amount checked; `field` names the list.
pub fn payments(
    requested: &[pb::PaymentRequest],
    currency: Currency,
    field: &str,
) -> Result<Vec<Payment>, AppError> {
    requested
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Ok(Payment {
                method: tender(&p.method).ok_or_else(|| {
                    AppError::invalid(
                        format!("{field}[{i}].method"),
                        "use cash, card, voucher, other, gift_card, store_credit or on_account",
                    )
                })?,
                amount: money(&p.amount, currency, &format!("{field}[{i}].amount"))?,
                reference: Some(p.reference.trim().to_owned()).filter(|r| !r.is_empty()),
            })
        })
        .collect()
}

/// A return request, parsed: the lines asked back and the refunds.
pub fn return_request(
    request: &pb::ReturnSaleRequest,
    currency: Currency,
) -> Result<(Vec<ReturnLineRequest>, Vec<Payment>), AppError> {
    let lines = request
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let line_no = u32::try_from(line.line_no).map_err(|_| {
                AppError::invalid(format!("lines[{i}].line_no"), "a line number from 1")
            })?;
            let quantity = line
                .quantity
                .parse::<Quantity>()
                .map_err(|e| AppError::invalid(format!("lines[{i}].quantity"), e.to_string()))?;
            Ok(ReturnLineRequest { line_no, quantity })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok((lines, payments(&request.refunds, currency, "refunds")?))
}

pub fn sale_return(record: &ReturnRecord) -> pb::SaleReturn {
    pb::SaleReturn {
        id: record.id.clone(),
        returned_at: rfc3339(&record.returned_at),
        lines: record
            .lines
            .iter()
            .map(|l| pb::ReturnedLine {
                line_no: i32::try_from(l.line_no).unwrap_or(i32::MAX),
                product_id: l.product_id.clone(),
                quantity: l.quantity.to_string(),
                refund: l.refund.to_string(),
                tax: l.tax.to_string(),
                revenue: l.revenue.to_string(),
            })
            .collect(),
        refunds: record.refunds.iter().map(payment).collect(),
        restock: record.restock,
        reason: record.reason.clone().unwrap_or_default(),
        refund_total: record.refund_total.to_string(),
        tax: record.tax.to_string(),
        revenue: record.revenue.to_string(),
        session_id: record.session_id.clone().unwrap_or_default(),
    }
}

/// A payment as clients and events read it. A gift card's code is a bearer secret: only
/// its last four digits leave the service.
pub fn payment(p: &Payment) -> pb::Payment {
    let reference = p.reference.clone().unwrap_or_default();
    pb::Payment {
        method: p.method.as_str().to_owned(),
        amount: p.amount.to_string(),
        reference: if p.method == Tender::GiftCard {
            mask_code(&reference)
        } else {
            reference
        },
    }
}

/// `************1234`.
pub fn mask_code(code: &str) -> String {
    let shown = code.len().saturating_sub(4);
    let last: String = code.chars().skip(shown).collect();
    format!("{}{last}", "*".repeat(shown))
}

fn line_request(
    index: usize,
    line: &pb::SaleLineRequest,
    currency: Currency,
) -> Result<LineRequest, AppError> {
    use pb::sale_line_request::Product;
    let (product, product_key) = match &line.product {
        Some(Product::ProductId(id)) => (ProductRef::Id(id.clone()), id.clone()),
        Some(Product::Sku(sku)) => (ProductRef::Sku(sku.clone()), sku.clone()),
        Some(Product::Barcode(code)) => (ProductRef::Barcode(code.clone()), code.clone()),
        None => {
            return Err(AppError::invalid(
                format!("lines[{index}].product_id"),
                "give a product_id, sku or barcode",
            ));
        }
    };
    let quantity_field = format!("lines[{index}].quantity");
    let quantity: Quantity =
        line.quantity
            .parse()
            .map_err(|e: tillstream_kernel::QuantityError| {
                AppError::invalid(&quantity_field, e.to_string())
            })?;
    let unit_price = match line.unit_price.trim() {
        "" => None,
        price => Some(money(
            price,
            currency,
            &format!("lines[{index}].unit_price"),
        )?),
    };
    if unit_price.is_some_and(|p| p.is_negative()) {
        return Err(AppError::invalid(
            format!("lines[{index}].unit_price"),
            "a price cannot be negative",
        ));
    }
    Ok(LineRequest {
        product,
        product_key,
        quantity,
        unit_price,
        discount: discount(
            line.discount.as_ref(),
            currency,
            &format!("lines[{index}].discount"),
        )?,
    })
}

fn discount(
    discount: Option<&pb::Discount>,
    currency: Currency,
    field: &str,
) -> Result<Option<Discount>, AppError> {
    use pb::discount::Kind;
    match discount.and_then(|d| d.kind.as_ref()) {
        None => Ok(None),
        Some(Kind::Percent(text)) => parse_percent(text)
            .map(|p| Some(Discount::Percent(p)))
            .map_err(|e| AppError::invalid(field, e.to_string())),
        Some(Kind::Amount(text)) => Ok(Some(Discount::Amount(money(text, currency, field)?))),
    }
}

fn money(text: &str, currency: Currency, field: &str) -> Result<Money, AppError> {
    Money::parse(text, currency).map_err(|e| AppError::invalid(field, e.to_string()))
}

fn tender(method: &str) -> Option<Tender> {
    Tender::ALL
        .into_iter()
        .find(|t| t.as_str() == method.trim())
}

pub fn sale(record: &SaleRecord, ledger_status: &str, ledger_entry_ids: Vec<String>) -> pb::Sale {
    let session = record.session.as_ref();
    pb::Sale {
        id: record.id.to_string(),
        sale_number: record.sale_number.clone(),
        status: "completed".to_owned(),
        location_id: record.location_id.clone(),
        cashier_id: record.cashier_id.clone(),
        created_at: rfc3339(&record.completed_at),
        lines: record
            .lines
            .iter()
            .map(|l| pb::SaleLine {
                line_no: i32::try_from(l.line_no).unwrap_or(i32::MAX),
                product_id: l.line.product_id.clone(),
                sku: l.line.sku.clone(),
                name: l.line.name.clone(),
                quantity: l.line.quantity.to_string(),
                unit_price: l.line.unit_price.to_string(),
                gross: l.amounts.gross.to_string(),
                discount: l.amounts.discount.to_string(),
                net: l.amounts.net.to_string(),
                tax_rate: l.line.tax_rate.normalize().to_string(),
                tax: l.amounts.tax.to_string(),
                line_total: l.amounts.line_total.to_string(),
                revenue: l.amounts.revenue.to_string(),
                catalog_price: l
                    .line
                    .catalog_price
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
            })
            .collect(),
        subtotal: record.subtotal.to_string(),
        discount_total: record.discount_total.to_string(),
        tax_total: record.tax_total.to_string(),
        total: record.total.to_string(),
        payments: record.payments.iter().map(payment).collect(),
        change: record.change.to_string(),
        ledger_status: ledger_status.to_owned(),
        ledger_entry_ids,
        currency: record.total.currency().code().to_owned(),
        returns: Vec::new(),
        approvals: record
            .approvals
            .iter()
            .map(|a| pb::ApprovalRef {
                action: a.action.name().to_owned(),
                approver_id: a.approver_id.clone(),
                approval_id: a.approval_id.clone(),
            })
            .collect(),
        session_id: session.map(|s| s.session_id.clone()).unwrap_or_default(),
        register_id: session.map(|s| s.register_id.clone()).unwrap_or_default(),
        receipt_no: session.map(|s| s.receipt_no).unwrap_or_default(),
        late: session.is_some_and(|s| s.late),
        customer_id: record.customer_id.clone().unwrap_or_default(),
        repair_id: record.repair_id.clone().unwrap_or_default(),
    }
}

pub fn sale_view(view: SaleView) -> pb::Sale {
    let mut answer = sale(&view.record, &view.ledger_status, view.ledger_entry_ids);
    answer.status = view.status;
    answer.returns = view.returns.iter().map(sale_return).collect();
    answer
}
