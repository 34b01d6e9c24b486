//! Stored value's own money entries (api.md, "Customers and stored value"): a gift card sold
//! debits the tenders and credits 2200; an account payment debits cash or card and credits
//! 1100. Spending a card, store credit or an account is the sale's own entry (its tenders).

use tillstream_kernel::{Currency, Money, Tender};
use tillstream_messaging::{HandlerError, InboundEvent};
use tillstream_proto::sales::v1 as sales;

use super::metadata_for;
use crate::commands::post_entry::Posting;
use crate::domain::journal::Source;
use crate::domain::posting::{account_payment_entry, gift_card_entry};

pub const GIFT_CARD_ISSUED: &str = "tillstream.sales.v1.GiftCardIssued";
pub const ACCOUNT_PAID: &str = "tillstream.sales.v1.AccountPaid";

fn reject(context: &str, error: &dyn std::fmt::Display) -> HandlerError {
    HandlerError::Reject(format!("{context}: {error}"))
}

fn tender(method: &str, context: &str) -> Result<Tender, HandlerError> {
    Tender::ALL
        .into_iter()
        .find(|t| t.as_str() == method)
        .ok_or_else(|| reject(context, &format!("unknown tender `{method}`")))
}

/// The entry a stored-value event books.
pub fn posting(event: &InboundEvent) -> Result<Posting, HandlerError> {
    let (kind, id, memo, lines) = if event.ce_type == GIFT_CARD_ISSUED {
        let issued = event.decode::<sales::GiftCardIssued>()?;
        let context = format!("gift card {}", issued.gift_card_id);
        let currency: Currency = issued.currency.parse().map_err(|e| reject(&context, &e))?;
        let money = |text: &str| Money::parse(text, currency).map_err(|e| reject(&context, &e));
        let payments = issued
            .payments
            .iter()
            .map(|p| Ok((tender(&p.method, &context)?, money(&p.amount)?)))
            .collect::<Result<Vec<_>, HandlerError>>()?;
        let lines = gift_card_entry(
            currency,
            &payments,
            money(&issued.change)?,
            money(&issued.amount)?,
        )
        .map_err(|e| reject(&context, &e))?;
        let memo = format!("Gift card …{} sold", issued.code_last4);
        ("gift_card", issued.gift_card_id, memo, lines)
    } else {
        let paid = event.decode::<sales::AccountPaid>()?;
        let context = format!("account payment {}", paid.payment_id);
        let currency: Currency = paid.currency.parse().map_err(|e| reject(&context, &e))?;
        let amount = Money::parse(&paid.amount, currency).map_err(|e| reject(&context, &e))?;
        let lines = account_payment_entry(currency, amount, tender(&paid.method, &context)?)
            .map_err(|e| reject(&context, &e))?;
        let memo = format!("Account payment by customer {}", paid.customer_id);
        ("account_payment", paid.payment_id, memo, lines)
    };
    Ok(Posting {
        source: Source {
            kind: kind.into(),
            id,
            event_id: event.event_id.to_string(),
        },
        memo,
        lines,
        metadata: metadata_for(event),
    })
}
