//! Register sessions' cash → money entries (api.md, "Registers"): a paid-in debits cash
//! and credits cash in transit, a paid-out debits paid-out expenses, a close's difference
//! goes to cash over and short. Each entry's source is the movement or the session.

use tillstream_kernel::{Currency, Money};
use tillstream_messaging::{HandlerError, InboundEvent};
use tillstream_proto::sales::v1 as sales;

use super::metadata_for;
use crate::commands::post_entry::Posting;
use crate::domain::journal::Source;
use crate::domain::posting::{DrawerCash, drawer_entry};

pub const PAID_IN: &str = "tillstream.sales.v1.CashPaidIn";
pub const PAID_OUT: &str = "tillstream.sales.v1.CashPaidOut";
pub const CLOSED: &str = "tillstream.sales.v1.SessionClosed";

/// The entry a drawer event books; `None` for a close that balanced.
pub fn posting(event: &InboundEvent) -> Result<Option<Posting>, HandlerError> {
    let reject =
        |context: &str, e: &dyn std::fmt::Display| HandlerError::Reject(format!("{context}: {e}"));
    let (kind, id, currency, cash, memo) = if event.ce_type == CLOSED {
        let closed = event.decode::<sales::SessionClosed>()?;
        let context = format!("close of session {}", closed.session_id);
        let currency: Currency = closed.currency.parse().map_err(|e| reject(&context, &e))?;
        let difference = closed
            .report
            .as_ref()
            .and_then(|r| r.difference.clone())
            .unwrap_or_default();
        let amount = Money::parse(&difference, currency).map_err(|e| reject(&context, &e))?;
        let memo = format!(
            "Cash over/short at the close of session {}",
            closed.session_id
        );
        (
            "session_close",
            closed.session_id,
            currency,
            DrawerCash::Difference(amount),
            memo,
        )
    } else {
        let moved = event.decode::<sales::CashMoved>()?;
        let movement = moved.movement.unwrap_or_default();
        let context = format!("cash movement {}", movement.id);
        let currency: Currency = moved.currency.parse().map_err(|e| reject(&context, &e))?;
        let amount = Money::parse(&movement.amount, currency).map_err(|e| reject(&context, &e))?;
        let (kind, cash) = if event.ce_type == PAID_IN {
            ("cash_paid_in", DrawerCash::PaidIn(amount))
        } else {
            ("cash_paid_out", DrawerCash::PaidOut(amount))
        };
        let memo = format!("{}: {}", movement.kind.replace('_', "-"), movement.reason);
        (kind, movement.id, currency, cash, memo)
    };
    let Some(lines) = drawer_entry(currency, cash).map_err(|e| reject(&id, &e))? else {
        return Ok(None);
    };
    Ok(Some(Posting {
        source: Source {
            kind: kind.into(),
            id,
            event_id: event.event_id.to_string(),
        },
        memo,
        lines,
        metadata: metadata_for(event),
    }))
}
