//! The trial balance: Σ debits and Σ credits per account over the journal, up to a moment.
//!
//! The sums are taken by PostgreSQL in `numeric`, which cannot overflow, and read back as
//! text; every line is at most [`MAX_AMOUNT`] (the API refuses more), so a sum over
//! billions of lines still fits a `Decimal`. A line beyond that bound can only have been
//! written before the bound existed, or around the API: the balance then answers with an
//! error naming the first such entry instead of failing to decode.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use tillstream_kernel::{Currency, MAX_AMOUNT, Money, MoneyError};

use crate::domain::accounts::Account;

/// Why a trial balance cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum BalanceError {
    #[error(
        "entry {entry_id} holds an amount beyond {MAX_AMOUNT}; the balances cannot be \
         computed until it is reversed (`tillstream bounds` lists such entries)"
    )]
    OutOfRange { entry_id: String },
    #[error("the sums of account {account} do not fit a decimal")]
    SumOverflow { account: String },
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// One account's line of the trial balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountBalance {
    pub account: Account,
    pub debits: Money,
    pub credits: Money,
    /// `debits − credits`.
    pub balance: Money,
}

/// Every account of the chart, with the totals over all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialBalance {
    pub accounts: Vec<AccountBalance>,
    pub total_debits: Money,
    pub total_credits: Money,
}

type TotalsRow = (String, String, String, bool);

/// The trial balance of the entries posted up to `as_of` (all: `None`).
pub async fn trial_balance(
    pool: &PgPool,
    as_of: Option<DateTime<Utc>>,
    currency: Currency,
) -> Result<TrialBalance, BalanceError> {
    let rows: Vec<TotalsRow> = sqlx::query_as(
        "SELECT l.account, sum(l.debit)::text, sum(l.credit)::text,
                bool_or(greatest(abs(l.debit), abs(l.credit)) > $2)
         FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
         WHERE $1::timestamptz IS NULL OR e.posted_at <= $1
         GROUP BY l.account ORDER BY l.account",
    )
    .bind(as_of)
    .bind(MAX_AMOUNT)
    .fetch_all(pool)
    .await?;
    if rows.iter().any(|(_, _, _, beyond)| *beyond) {
        let entry_id = first_entry_out_of_range(pool, as_of).await?;
        return Err(BalanceError::OutOfRange { entry_id });
    }
    let mut totals = Vec::with_capacity(rows.len());
    for (account, debits, credits, _) in rows {
        let sum = |text: &str| {
            Decimal::from_str_exact(text).map_err(|_| BalanceError::SumOverflow {
                account: account.clone(),
            })
        };
        totals.push((account.clone(), sum(&debits)?, sum(&credits)?));
    }
    balance_of(&totals, currency)
}

/// Folds per-account sums into the balance of every account of the chart.
pub fn balance_of(
    totals: &[(String, Decimal, Decimal)],
    currency: Currency,
) -> Result<TrialBalance, BalanceError> {
    let mut total_debits = Money::zero(currency);
    let mut total_credits = Money::zero(currency);
    let mut accounts = Vec::with_capacity(Account::ALL.len());
    for account in Account::ALL {
        let (debits, credits) = totals
            .iter()
            .find(|(code, _, _)| code == account.code())
            .map_or(
                (Money::zero(currency), Money::zero(currency)),
                |(_, d, c)| (Money::new(*d, currency), Money::new(*c, currency)),
            );
        total_debits = total_debits.checked_add(debits)?;
        total_credits = total_credits.checked_add(credits)?;
        accounts.push(AccountBalance {
            account,
            debits,
            credits,
            balance: debits.checked_sub(credits)?,
        });
    }
    Ok(TrialBalance {
        accounts,
        total_debits,
        total_credits,
    })
}

async fn first_entry_out_of_range(
    pool: &PgPool,
    as_of: Option<DateTime<Utc>>,
) -> Result<String, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT l.entry_id FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
         WHERE ($1::timestamptz IS NULL OR e.posted_at <= $1)
           AND greatest(abs(l.debit), abs(l.credit)) > $2
         ORDER BY e.posted_at, l.entry_id LIMIT 1",
    )
    .bind(as_of)
    .bind(MAX_AMOUNT)
    .fetch_one(pool)
    .await
}

#[cfg(test)]
mod tests {
    use rust_decimal::dec;

    use super::*;

    #[test]
    fn sums_of_years_of_entries_at_the_bound_still_balance() {
        // Four billion lines of the largest amount on one account and its other side.
        let lines = Decimal::from(u32::MAX);
        let extreme = MAX_AMOUNT * lines;
        let totals = vec![
            ("1000".to_owned(), extreme, Decimal::ZERO),
            ("4000".to_owned(), Decimal::ZERO, extreme),
        ];
        let balance = balance_of(&totals, Currency::USD).unwrap();
        assert_eq!(balance.total_debits, balance.total_credits);
        assert_eq!(balance.total_debits.amount(), extreme);
    }

    #[test]
    fn sums_beyond_a_decimal_are_an_error_not_a_panic() {
        let totals = vec![
            ("1000".to_owned(), Decimal::MAX, Decimal::ZERO),
            ("1010".to_owned(), Decimal::MAX, Decimal::ZERO),
        ];
        assert!(matches!(
            balance_of(&totals, Currency::USD),
            Err(BalanceError::Money(MoneyError::Overflow))
        ));
        let small = vec![("1000".to_owned(), dec!(1.5), dec!(0.25))];
        let balance = balance_of(&small, Currency::USD).unwrap();
        assert_eq!(balance.total_debits.to_string(), "1.50");
    }
}
