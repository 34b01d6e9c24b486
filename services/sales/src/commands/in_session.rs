//! Documents rung up in a register session: each locks its register's row (the open
//! session, its running figures and the journal's head are on it), keeps the session's
//! figures and writes its entry in the register's fiscal journal, all in the document's own
//! transaction.

use serde_json::{Value, json};
use sqlx::PgConnection;
use tillstream_eventstore::StoreError;
use tillstream_kernel::{Money, time};

use crate::domain::returns::ReturnRecord;
use crate::domain::sale::SaleRecord;
use crate::domain::totals::SessionTotals;
use crate::error::{AppError, session_closed};
use crate::projections::journal::{self, Document};
use crate::projections::sessions::{self, Locked};

/// A session a document is recorded in, its register's row locked.
#[derive(Debug, Clone)]
pub struct Attached {
    pub session_id: String,
    pub session: Locked,
}

impl Attached {
    /// The `seq` the document's journal entry takes: its receipt number.
    pub fn next_seq(&self) -> i64 {
        self.session.head.journal_seq.saturating_add(1)
    }
}

/// Locks the register of session `session_id` for a document at `location_id`; a session
/// that does not exist or is at another location names `session_id`. `open`: the document
/// needs the session open (409 `session_closed` otherwise).
pub async fn attach(
    tx: &mut PgConnection,
    session_id: &str,
    location_id: &str,
    open: bool,
) -> Result<Attached, AppError> {
    let session_id = session_id.trim();
    let locked = sessions::lock(&mut *tx, session_id)
        .await
        .map_err(StoreError::from)?;
    attached(session_id, locked, location_id, open)
}

/// The session a document at `location_id` is recorded in, as locked (`None`: there is no
/// such session); `open` when the document needs it open.
pub fn attached(
    session_id: &str,
    locked: Option<Locked>,
    location_id: &str,
    open: bool,
) -> Result<Attached, AppError> {
    let session = locked
        .ok_or_else(|| AppError::invalid("session_id", format!("no session `{session_id}`")))?;
    if session.location_id != location_id {
        return Err(AppError::invalid(
            "session_id",
            "the session is at another location",
        ));
    }
    if open && !session.open {
        return Err(session_closed());
    }
    Ok(Attached {
        session_id: session_id.to_owned(),
        session,
    })
}

fn overflow() -> AppError {
    AppError::Refused("the session's figures are too large to add up".into())
}

/// A sale recorded in the session: its read-model row, its figures unless it came late, and
/// its journal entry, in one statement.
pub async fn record_sale(
    tx: &mut PgConnection,
    attached: &Attached,
    sale: &SaleRecord,
) -> Result<(), AppError> {
    let late = !attached.session.open;
    let mut totals = attached.session.totals.clone();
    if !late {
        totals.add_sale(sale).ok_or_else(overflow)?;
    }
    let payments: Vec<Value> = sale
        .payments
        .iter()
        .map(|p| json!({"method": p.method.as_str(), "amount": p.amount.to_string()}))
        .collect();
    let content = json!({
        "session_id": attached.session_id,
        "sale_number": sale.sale_number,
        "cashier_id": sale.cashier_id,
        "completed_at": time::rfc3339(&sale.completed_at),
        "lines": sale.lines.len(),
        "subtotal": sale.subtotal.to_string(),
        "discount_total": sale.discount_total.to_string(),
        "tax_total": sale.tax_total.to_string(),
        "total": sale.total.to_string(),
        "payments": payments,
        "change": sale.change.to_string(),
        "late": late,
    });
    let id = sale.id.to_string();
    let document = Document {
        kind: "sale",
        document_id: &id,
        recorded_at: time::now(),
        content,
    };
    let session = &attached.session;
    let figures = (!late).then_some(&totals);
    journal::append_sale(
        tx,
        &session.register_id,
        &session.head,
        document,
        figures,
        sale,
    )
    .await
    .map_err(StoreError::from)?;
    Ok(())
}

/// A sale of the session voided: out of its figures, and on the journal.
pub async fn record_void(
    tx: &mut PgConnection,
    attached: Attached,
    sale: &SaleRecord,
    reason: &str,
) -> Result<(), AppError> {
    let mut totals = attached.session.totals.clone();
    let late = sale.session.as_ref().is_some_and(|s| s.late);
    if !late {
        totals.void_sale(sale).ok_or_else(overflow)?;
    }
    let content = json!({
        "session_id": attached.session_id,
        "sale_number": sale.sale_number,
        "total": sale.total.to_string(),
        "reason": reason,
    });
    let figures = (!late).then_some(&totals);
    append(
        tx,
        &attached,
        "void",
        &sale.id.to_string(),
        content,
        figures,
    )
    .await
}

/// A return taken in the session: its refunds in the figures, and on the journal.
pub async fn record_return(
    tx: &mut PgConnection,
    attached: Attached,
    sale: &SaleRecord,
    returned: &ReturnRecord,
) -> Result<(), AppError> {
    let mut totals = attached.session.totals.clone();
    totals.add_return(returned).ok_or_else(overflow)?;
    let refunds: Vec<Value> = returned
        .refunds
        .iter()
        .map(|p| json!({"method": p.method.as_str(), "amount": p.amount.to_string()}))
        .collect();
    let content = json!({
        "session_id": attached.session_id,
        "sale_id": sale.id.to_string(),
        "sale_number": sale.sale_number,
        "refund_total": returned.refund_total.to_string(),
        "tax": returned.tax.to_string(),
        "refunds": refunds,
    });
    append(
        tx,
        &attached,
        "return",
        &returned.id,
        content,
        Some(&totals),
    )
    .await
}

/// A session a document outside a sale (a gift card sold, an account paid) is taken in:
/// locked, open, and at `location_id` when one is given.
pub async fn attach_open(
    tx: &mut PgConnection,
    session_id: &str,
    location_id: Option<&str>,
) -> Result<Attached, AppError> {
    let session_id = session_id.trim();
    let locked = sessions::lock(&mut *tx, session_id)
        .await
        .map_err(StoreError::from)?;
    let at = match (location_id, &locked) {
        (Some(location), _) => location.to_owned(),
        (None, Some(locked)) => locked.location_id.clone(),
        (None, None) => String::new(),
    };
    attached(session_id, locked, &at, true)
}

/// Cash taken in the session for something other than a sale (a gift card, an account
/// payment): in the drawer's expected cash, and on the journal.
pub async fn record_other_cash(
    tx: &mut PgConnection,
    attached: Attached,
    kind: &str,
    document_id: &str,
    cash: Money,
    mut content: Value,
) -> Result<(), AppError> {
    let mut totals = attached.session.totals.clone();
    totals.other_cash_in = totals
        .other_cash_in
        .checked_add(cash.amount())
        .ok_or_else(overflow)?;
    content["session_id"] = json!(attached.session_id);
    content["cash"] = json!(cash.to_string());
    append(tx, &attached, kind, document_id, content, Some(&totals)).await
}

async fn append(
    tx: &mut PgConnection,
    attached: &Attached,
    kind: &str,
    document_id: &str,
    content: Value,
    figures: Option<&SessionTotals>,
) -> Result<(), AppError> {
    let document = Document {
        kind,
        document_id,
        recorded_at: time::now(),
        content,
    };
    let session = &attached.session;
    journal::append(tx, &session.register_id, &session.head, document, figures)
        .await
        .map_err(StoreError::from)?;
    Ok(())
}
