//! Drawing on and crediting stored value inside the transaction of the sale, return or void
//! that moves it (decision 0011): each gift card's row, then the customer's, locked in a
//! fixed order before its stream is loaded, so concurrent tills queue instead of racing, a
//! balance never goes below zero, and a draw exists exactly when its sale does.

use std::collections::BTreeMap;

use sqlx::PgConnection;
use tillstream_eventstore::{
    Decided, EventMetadata, EventStore, RunOptions, Snapshots, StoreError, UseCase,
};
use tillstream_kernel::time::{DateTime, Utc};
use tillstream_kernel::{Decider, Money, Tender};

use crate::domain::pricing::Payment;
use crate::domain::stored_value::StoredValueError;
use crate::domain::stored_value::account::{self, Account, Movement};
use crate::domain::stored_value::gift_card::{self, GiftCard, GiftCardId};
use crate::error::AppError;
use crate::projections::{customers, gift_cards};

/// Card and account streams grow with every use: a snapshot every 50 events keeps a load short.
const SNAPSHOTS: Snapshots = Snapshots {
    state_schema: 1,
    every: 50,
};

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
    let options = RunOptions {
        metadata: metadata.clone(),
        ..RunOptions::default()
    };
    for (code, (amount, index)) in &moves.cards {
        let field = format!("{}[{index}]", document.list);
        let id = gift_cards::lock(&mut *tx, code)
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
        let case = OnCard {
            id,
            command,
            field: format!("{field}.amount"),
        };
        store.run_in(&mut *tx, &case, &options).await?;
    }
    if moves.account.is_empty() {
        return Ok(());
    }
    let customer_id = document.customer_id.ok_or_else(|| {
        AppError::invalid("customer_id", "store credit and accounts need a customer")
    })?;
    let credit_limit = customers::lock(&mut *tx, customer_id)
        .await
        .map_err(StoreError::from)?
        .ok_or_else(|| AppError::invalid("customer_id", "no such customer"))?;
    for (movement, amount, index) in moves.account.values() {
        let currency = amount.currency();
        let case = OnAccount {
            customer_id: customer_id.to_owned(),
            command: account::Command::Move {
                movement: *movement,
                amount: *amount,
                source_id: document.source_id.to_owned(),
                credit_limit: Money::new(credit_limit, currency),
                at: document.at,
            },
            field: format!("{}[{index}].amount", document.list),
        };
        store.run_in(&mut *tx, &case, &options).await?;
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

/// A command on one gift card, whose row the caller locked.
#[derive(Debug)]
pub struct OnCard {
    pub id: String,
    pub command: gift_card::Command,
    /// The field a refusal names.
    pub field: String,
}

impl UseCase for OnCard {
    type Aggregate = GiftCard;
    type Output = Option<Money>;
    type Error = AppError;

    fn stream_id(&self) -> String {
        format!("{}-{}", GiftCardId::STREAM_PREFIX, self.id)
    }

    fn snapshots(&self) -> Snapshots {
        SNAPSHOTS
    }

    fn decide(&self, state: &GiftCard) -> Result<Vec<gift_card::Event>, AppError> {
        GiftCard::decide(state, &self.command).map_err(|e| refused(e, &self.field))
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, GiftCard>,
    ) -> Result<Option<Money>, AppError> {
        for event in decided.events {
            match event {
                gift_card::Event::GiftCardIssued(issue) => {
                    gift_cards::insert(&mut *tx, issue).await
                }
                gift_card::Event::GiftCardRedeemed { balance, .. }
                | gift_card::Event::GiftCardCredited { balance, .. } => {
                    gift_cards::set_balance(&mut *tx, &self.id, balance.amount()).await
                }
            }
            .map_err(StoreError::from)?;
        }
        Ok(decided.state.balance)
    }
}

/// A command on one customer's account, whose customer row the caller locked.
#[derive(Debug)]
pub struct OnAccount {
    pub customer_id: String,
    pub command: account::Command,
    pub field: String,
}

impl UseCase for OnAccount {
    type Aggregate = Account;
    type Output = Account;
    type Error = AppError;

    fn stream_id(&self) -> String {
        account::stream_id(&self.customer_id)
    }

    fn snapshots(&self) -> Snapshots {
        SNAPSHOTS
    }

    fn decide(&self, state: &Account) -> Result<Vec<account::Event>, AppError> {
        Account::decide(state, &self.command).map_err(|e| refused(e, &self.field))
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, Account>,
    ) -> Result<Account, AppError> {
        let state = decided.state;
        for event in decided.events {
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
            let zero = rust_decimal::Decimal::ZERO;
            customers::record_movement(
                &mut *tx,
                &self.customer_id,
                state.balance.map_or(zero, |m| m.amount()),
                state.store_credit.map_or(zero, |m| m.amount()),
                customers::AccountEntry {
                    at,
                    kind,
                    amount,
                    reference,
                },
            )
            .await
            .map_err(StoreError::from)?;
        }
        Ok(state.clone())
    }
}
