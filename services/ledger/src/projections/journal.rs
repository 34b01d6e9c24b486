//! `journal_entries` and `journal_lines`, written with each entry; balances are sums.

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};

use tillstream_kernel::{Currency, Money};

use crate::domain::accounts::Account;
use crate::domain::entry::EntryLine;
use crate::domain::journal::PostedEntry;

pub async fn insert(tx: &mut PgConnection, entry: &PostedEntry) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO journal_entries (id, posted_at, source_type, source_id, source_event_id, memo)
         VALUES ($1, $2::timestamptz, $3, $4, $5, $6)",
    )
    .bind(entry.id.to_string())
    .bind(&entry.posted_at)
    .bind(&entry.source.kind)
    .bind(&entry.source.id)
    .bind(&entry.source.event_id)
    .bind(&entry.memo)
    .execute(&mut *tx)
    .await?;
    let lines = entry.lines.as_slice();
    let accounts: Vec<&str> = lines.iter().map(|l| l.account.code()).collect();
    let debits: Vec<Decimal> = lines.iter().map(|l| l.debit.amount()).collect();
    let credits: Vec<Decimal> = lines.iter().map(|l| l.credit.amount()).collect();
    sqlx::query(
        "INSERT INTO journal_lines (entry_id, line_no, account, debit, credit)
         SELECT $1, l.ord, l.account, l.debit, l.credit
         FROM unnest($2::text[], $3::numeric[], $4::numeric[]) WITH ORDINALITY AS l(account, debit, credit, ord)",
    )
    .bind(entry.id.to_string())
    .bind(&accounts)
    .bind(&debits)
    .bind(&credits)
    .execute(tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EntryRow {
    pub id: String,
    pub posted_at: String,
    pub source_type: String,
    pub source_id: String,
    pub source_event_id: String,
    pub memo: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LineRow {
    pub entry_id: String,
    pub account: String,
    pub debit: Decimal,
    pub credit: Decimal,
}

/// Entries (newest first, at most 500) matching the filters, with their lines.
pub async fn entries(
    pool: &PgPool,
    source_id: Option<&str>,
    account: Option<&str>,
) -> Result<Vec<(EntryRow, Vec<LineRow>)>, sqlx::Error> {
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT id, to_char(posted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS posted_at,
                source_type, source_id, source_event_id, memo
         FROM journal_entries e
         WHERE ($1::text IS NULL OR source_id = $1)
           AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM journal_lines l WHERE l.entry_id = e.id AND l.account = $2))
         ORDER BY posted_at DESC, id DESC LIMIT 500",
    )
    .bind(source_id)
    .bind(account)
    .fetch_all(pool)
    .await?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT entry_id, account, debit, credit FROM journal_lines WHERE entry_id = ANY($1) ORDER BY entry_id, line_no",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mine = lines
                .iter()
                .filter(|l| l.entry_id == row.id)
                .cloned()
                .collect();
            (row, mine)
        })
        .collect())
}

/// Σ debit and Σ credit per account.
pub async fn account_totals(pool: &PgPool) -> Result<Vec<(String, Decimal, Decimal)>, sqlx::Error> {
    sqlx::query_as("SELECT account, sum(debit), sum(credit) FROM journal_lines GROUP BY account ORDER BY account")
        .fetch_all(pool)
        .await
}

/// The lines of the entry posted for a source (e.g. a sale's money entry), if any, in
/// `currency` (the store's).
pub async fn entry_of_source(
    conn: &mut PgConnection,
    source_type: &str,
    source_id: &str,
    currency: Currency,
) -> Result<Option<Vec<EntryLine>>, sqlx::Error> {
    let rows: Vec<(String, Decimal, Decimal)> = sqlx::query_as(
        "SELECT l.account, l.debit, l.credit FROM journal_entries e
         JOIN journal_lines l ON l.entry_id = e.id
         WHERE e.source_type = $1 AND e.source_id = $2
           AND e.id = (SELECT id FROM journal_entries
                       WHERE source_type = $1 AND source_id = $2 ORDER BY posted_at LIMIT 1)
         ORDER BY l.line_no",
    )
    .bind(source_type)
    .bind(source_id)
    .fetch_all(conn)
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let lines = rows
        .into_iter()
        .filter_map(|(account, debit, credit)| {
            Some(EntryLine {
                account: Account::from_code(&account)?,
                debit: Money::new(debit, currency),
                credit: Money::new(credit, currency),
            })
        })
        .collect();
    Ok(Some(lines))
}
