//! Journal entries: balanced, non-negative, one side per line, immutable once posted.

use serde::{Deserialize, Serialize};
use tillstream_kernel::{Currency, Money};

use super::accounts::Account;

/// One line of an entry: a debit or a credit to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryLine {
    pub account: Account,
    pub debit: Money,
    pub credit: Money,
}

impl EntryLine {
    pub fn debit(account: Account, amount: Money) -> Self {
        EntryLine {
            account,
            debit: amount,
            credit: Money::zero(amount.currency()),
        }
    }

    pub fn credit(account: Account, amount: Money) -> Self {
        EntryLine {
            account,
            debit: Money::zero(amount.currency()),
            credit: amount,
        }
    }
}

/// Why an entry cannot be posted; `line` is the index in the request's `lines`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("an entry needs at least two lines")]
    TooFewLines,
    #[error("debits ({debits}) and credits ({credits}) differ")]
    Unbalanced { debits: Money, credits: Money },
    #[error("amounts cannot be negative")]
    NegativeAmount { line: usize },
    #[error("a line is either a debit or a credit, not both")]
    BothSides { line: usize },
    #[error("a line needs a debit or a credit")]
    ZeroLine { line: usize },
    #[error("the amount is not in the ledger's currency")]
    WrongCurrency { line: usize },
    #[error(transparent)]
    Money(#[from] tillstream_kernel::MoneyError),
}

impl EntryError {
    /// The request field at fault, as the API's error details name it.
    pub fn field(&self) -> String {
        match self {
            EntryError::TooFewLines | EntryError::Unbalanced { .. } | EntryError::Money(_) => {
                "lines".to_owned()
            }
            EntryError::NegativeAmount { line }
            | EntryError::BothSides { line }
            | EntryError::ZeroLine { line }
            | EntryError::WrongCurrency { line } => format!("lines[{line}]"),
        }
    }
}

/// A validated, balanced set of lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lines(Vec<EntryLine>);

impl Lines {
    /// Validates `lines`: each one-sided and non-negative, all in `currency`, Σ debit = Σ credit.
    pub fn new(currency: Currency, lines: Vec<EntryLine>) -> Result<Self, EntryError> {
        if lines.len() < 2 {
            return Err(EntryError::TooFewLines);
        }
        for (index, line) in lines.iter().enumerate() {
            if line.debit.currency() != currency || line.credit.currency() != currency {
                return Err(EntryError::WrongCurrency { line: index });
            }
            if line.debit.is_negative() || line.credit.is_negative() {
                return Err(EntryError::NegativeAmount { line: index });
            }
            match (line.debit.is_zero(), line.credit.is_zero()) {
                (false, false) => return Err(EntryError::BothSides { line: index }),
                (true, true) => return Err(EntryError::ZeroLine { line: index }),
                _ => {}
            }
        }
        let debits = Money::sum(currency, lines.iter().map(|l| l.debit))?;
        let credits = Money::sum(currency, lines.iter().map(|l| l.credit))?;
        if debits != credits {
            return Err(EntryError::Unbalanced { debits, credits });
        }
        Ok(Lines(lines))
    }

    /// Builds from lines some of which may be zero (a sale without tax): zero lines are
    /// dropped, and lines to the same account on the same side are merged.
    pub fn from_postings(currency: Currency, lines: Vec<EntryLine>) -> Result<Self, EntryError> {
        let mut merged: Vec<EntryLine> = Vec::with_capacity(lines.len());
        for line in lines
            .into_iter()
            .filter(|l| !(l.debit.is_zero() && l.credit.is_zero()))
        {
            let same = merged
                .iter_mut()
                .find(|m| m.account == line.account && m.debit.is_zero() == line.debit.is_zero());
            match same {
                Some(m) => {
                    m.debit = m.debit.checked_add(line.debit)?;
                    m.credit = m.credit.checked_add(line.credit)?;
                }
                None => merged.push(line),
            }
        }
        Lines::new(currency, merged)
    }

    pub fn as_slice(&self) -> &[EntryLine] {
        &self.0
    }

    /// The same amounts on the other side: a reversal.
    pub fn reversed(&self) -> Lines {
        Lines(
            self.0
                .iter()
                .map(|l| EntryLine {
                    account: l.account,
                    debit: l.credit,
                    credit: l.debit,
                })
                .collect(),
        )
    }

    pub fn total_debits(&self) -> Money {
        let currency = self.0.first().map_or(Currency::USD, |l| l.debit.currency());
        // Validated in `new`: one currency and no overflow.
        Money::sum(currency, self.0.iter().map(|l| l.debit)).unwrap_or(Money::zero(currency))
    }
}
