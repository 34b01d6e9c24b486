//! Drawing on and crediting stored value inside the transaction of the sale, return or void
//! that moves it (decision 0011): each gift card's row, then the customer's, locked in a
//! fixed order, so concurrent tills queue instead of racing, a balance never goes below zero,
//! and a draw exists exactly when its sale does.
//!
//! The locked row is the stream's state: it is written with every event of its stream, in the
//! event's transaction, and holds the stream's version. Deciding on it instead of loading the
//! stream saves two round trips and the fold per draw; the append still checks the version.

use std::collections::BTreeMap;

use sqlx::PgConnection;
use tillstream_eventstore::{AppendRequest, EventMetadata, EventStore, NewEvent, StoreError};
use tillstream_kernel::time::{DateTime, Utc};
use tillstream_kernel::{Decider, DomainEvent, Money, Tender};

use crate::domain::pricing::Payment;
use crate::domain::stored_value::StoredValueError;
use crate::domain::stored_value::account::{self, Account, Movement};
use crate::domain::stored_value::gift_card::{self, GiftCard, GiftCardId};
use crate::error::AppError;
use crate::projections::customers::{self, LockedAccount};
use crate::projections::gift_cards::{self, LockedCard};

/// Which way a document moves stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A sale's payments draw.
    Draw,
    /// A return's refunds, or a void's reversal of the sale's payments, credit.
    Credit,
}

/// What one document does to stored value: per card (by code) and per account movement, the
/// sum and the first payment that named it (for the error's field).
#[derive(Debug, Default)]
struct Moves {
    cards: BTreeMap<String, (Money, usize)>,
    account: BTreeMap<&'static str, (Movement, Money, usize)>,
}

/// Whether any of `payments` moves stored value (a gift card, store credit, an account).
pub(crate) fn moves_any(payments: &[Payment]) -> bool {
    payments.iter().any(|payment| {
        matches!(
            payment.method,
            Tender::GiftCard | Tender::StoreCredit | Tender::OnAccount
        )
    })
}

fn moves(payments: &[Payment], direction: Direction) -> Result<Moves, AppError> {
    let mut moves = Moves::default();
    for (index, payment) in payments.iter().enumerate() {
        let add = |sum: &mut Money| -> Result<(), AppError> {
            *sum = sum
                .checked_add(payment.amount)
                .map_err(|e| AppError::invalid("payments", e.to_string()))?;
            Ok(())
        };
        let zero = Money::zero(payment.amount.currency());
        let movement = match (payment.method, direction) {
            (Tender::GiftCard, _) => {
                let code = payment.reference.clone().unwrap_or_default();
                let entry = moves.cards.entry(code).or_insert((zero, index));
                add(&mut entry.0)?;
                continue;
            }
            (Tender::StoreCredit, Direction::Draw) => Movement::StoreCreditSpent,
            (Tender::StoreCredit, Direction::Credit) => Movement::StoreCreditAdded,
            (Tender::OnAccount, Direction::Draw) => Movement::Charge,
            (Tender::OnAccount, Direction::Credit) => Movement::ChargeReversed,
            _ => continue,
        };
        let entry = moves
            .account
            .entry(movement.as_str())
            .or_insert((movement, zero, index));
        add(&mut entry.1)?;
    }
    Ok(moves)
}

/// A document that moves stored value: its id (the sale or the return), its payments or
/// refunds, and whose account they move.
#[derive(Debug)]
pub struct Document<'a> {
    pub source_id: &'a str,
    pub payments: &'a [Payment],
    /// `payments` or `refunds`, as the client named the list.
    pub list: &'a str,
    pub customer_id: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Applies `document`'s stored-value payments in the caller's transaction.
pub async fn apply(
    store: &EventStore,
    tx: &mut PgConnection,
    document: &Document<'_>,
    direction: Direction,
    metadata: &EventMetadata,
) -> Result<(), AppError> {
    let moves = moves(document.payments, direction)?;
    for (code, (amount, index)) in &moves.cards {
        let field = format!("{}[{index}]", document.list);
        let card = gift_cards::lock(&mut *tx, code)
            .await
            .map_err(StoreError::from)?
            .ok_or_else(|| {
                AppError::invalid(format!("{field}.reference"), "no gift card with this code")
            })?;
        let command = match direction {
            Direction::Draw => gift_card::Command::Redeem {
                sale_id: document.source_id.to_owned(),
                amount: *amount,
                at: document.at,
            },
            Direction::Credit => gift_card::Command::Credit {
                source_id: document.source_id.to_owned(),
                amount: *amount,
                at: document.at,
            },
        };
        on_card(
            store,
            tx,
            &card,
            &command,
            &format!("{field}.amount"),
            metadata,
        )
        .await?;
    }
    if moves.account.is_empty() {
        return Ok(());
    }
    let customer_id = document.customer_id.ok_or_else(|| {
        AppError::invalid("customer_id", "store credit and accounts need a customer")
    })?;
    let mut locked = customers::lock(&mut *tx, customer_id)
        .await
        .map_err(StoreError::from)?
        .ok_or_else(|| AppError::invalid("customer_id", "no such customer"))?;
    for (movement, amount, index) in moves.account.values() {
        let command = account::Command::Move {
            movement: *movement,
            amount: *amount,
            source_id: document.source_id.to_owned(),
            credit_limit: Money::new(locked.credit_limit, amount.currency()),
            at: document.at,
        };
        let field = format!("{}[{index}].amount", document.list);
        locked = on_account(store, tx, customer_id, &locked, &command, &field, metadata).await?;
    }
    Ok(())
}

/// Why stored value refused, as a 422 naming `field`.
pub fn refused(error: StoredValueError, field: &str) -> AppError {
    match error {
        StoredValueError::NotFound => AppError::invalid(field, "no such gift card"),
        StoredValueError::Exists => AppError::Conflict("it exists already".into()),
        other => AppError::invalid(field, other.to_string()),
    }
}

/// Appends `events` to `stream` at `version` in the caller's transaction.
async fn append<E: DomainEvent>(
    store: &EventStore,
    tx: &mut PgConnection,
    stream: String,
    version: i64,
    events: &[E],
    metadata: &EventMetadata,
) -> Result<(), AppError> {
    let new_events = events
        .iter()
        .map(NewEvent::from_domain)
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::from)?;
    let request = AppendRequest::new(stream, version, new_events).with_metadata(metadata.clone());
    store.append_in(tx, &request).await?;
    Ok(())
}

fn version_after<E>(version: i64, events: &[E]) -> i64 {
    version.saturating_add(i64::try_from(events.len()).unwrap_or(i64::MAX))
}

/// A new card: its stream's first event and its row.
pub async fn issue_card(
    store: &EventStore,
    tx: &mut PgConnection,
    issue: gift_card::Issue,
    metadata: &EventMetadata,
) -> Result<(), AppError> {
    let stream = issue.id.stream_id();
    let events = GiftCard::decide(
        &GiftCard::default(),
        &gift_card::Command::Issue(Box::new(issue)),
    )
    .map_err(|e| refused(e, "amount"))?;
    append(store, tx, stream, 0, &events, metadata).await?;
    for event in &events {
        if let gift_card::Event::GiftCardIssued(issue) = event {
            gift_cards::insert(&mut *tx, issue, version_after(0, &events))
                .await
                .map_err(StoreError::from)?;
        }
    }
    Ok(())
}

/// `command` decided on the locked card, appended, and its row written.
async fn on_card(
    store: &EventStore,
    tx: &mut PgConnection,
    card: &LockedCard,
    command: &gift_card::Command,
    field: &str,
    metadata: &EventMetadata,
) -> Result<(), AppError> {
    let state = GiftCard {
        balance: Some(card.balance),
    };
    let events = GiftCard::decide(&state, command).map_err(|e| refused(e, field))?;
    let stream = format!("{}-{}", GiftCardId::STREAM_PREFIX, card.id);
    append(store, tx, stream, card.version, &events, metadata).await?;
    let after = events.iter().fold(state, GiftCard::evolve);
    let balance = after
        .balance
        .map_or(rust_decimal::Decimal::ZERO, |m| m.amount());
    gift_cards::set_balance(
        &mut *tx,
        &card.id,
        balance,
        version_after(card.version, &events),
    )
    .await
    .map_err(StoreError::from)?;
    Ok(())
}

/// `command` decided on the customer's locked account, appended, and its figures and entries
/// written; the account as it is after.
pub async fn on_account(
    store: &EventStore,
    tx: &mut PgConnection,
    customer_id: &str,
    locked: &LockedAccount,
    command: &account::Command,
    field: &str,
    metadata: &EventMetadata,
) -> Result<LockedAccount, AppError> {
    let currency = match command {
        account::Command::Move { amount, .. } => amount.currency(),
        account::Command::Pay(payment) => payment.amount.currency(),
    };
    let state = Account {
        balance: Some(Money::new(locked.balance, currency)),
        store_credit: Some(Money::new(locked.store_credit, currency)),
    };
    let events = Account::decide(&state, command).map_err(|e| refused(e, field))?;
    append(
        store,
        tx,
        account::stream_id(customer_id),
        locked.version,
        &events,
        metadata,
    )
    .await?;
    let after = events.iter().fold(state, Account::evolve);
    let next = LockedAccount {
        credit_limit: locked.credit_limit,
        balance: after.balance.map_or(locked.balance, |m| m.amount()),
        store_credit: after
            .store_credit
            .map_or(locked.store_credit, |m| m.amount()),
        version: version_after(locked.version, &events),
    };
    for (event, version) in events.iter().zip(locked.version.saturating_add(1)..) {
        let (kind, amount, reference, at) = match event {
            account::Event::AccountMoved {
                movement,
                amount,
                source_id,
                at,
                ..
            } => {
                let signed = match movement {
                    Movement::Charge | Movement::StoreCreditAdded => amount.amount(),
                    Movement::ChargeReversed | Movement::StoreCreditSpent => -amount.amount(),
                };
                (movement.as_str(), signed, source_id.as_str(), *at)
            }
            account::Event::AccountPaid { payment, .. } => (
                "payment",
                -payment.amount.amount(),
                payment.payment_id.as_str(),
                payment.paid_at,
            ),
        };
        customers::record_movement(
            &mut *tx,
            customer_id,
            &next,
            customers::AccountEntry {
                seq: version,
                at,
                kind,
                amount,
                reference,
            },
        )
        .await
        .map_err(StoreError::from)?;
    }
    Ok(next)
}
