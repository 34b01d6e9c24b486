//! `journal_entries` and `journal_lines`, written with each entry; balances are sums.

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use tillstream_kernel::{Currency, Money};

use tillstream_kernel::time::rfc3339;

use crate::domain::accounts::Account;
use crate::domain::entry::EntryLine;
use crate::domain::journal::PostedEntry;

/// Writes `entries` and their lines: two statements however many there are.
pub async fn insert(tx: &mut PgConnection, entries: &[PostedEntry]) -> Result<(), sqlx::Error> {
    let ids: Vec<String> = entries.iter().map(|e| e.id.to_string()).collect();
    let posted_at: Vec<String> = entries.iter().map(|e| rfc3339(&e.posted_at)).collect();
    let kinds: Vec<&str> = entries.iter().map(|e| e.source.kind.as_str()).collect();
    let source_ids: Vec<&str> = entries.iter().map(|e| e.source.id.as_str()).collect();
    let event_ids: Vec<&str> = entries.iter().map(|e| e.source.event_id.as_str()).collect();
    let memos: Vec<&str> = entries.iter().map(|e| e.memo.as_str()).collect();
    sqlx::query(
        "INSERT INTO journal_entries (id, posted_at, source_type, source_id, source_event_id, memo)
         SELECT id, posted_at::timestamptz, source_type, source_id, source_event_id, memo
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
              AS e(id, posted_at, source_type, source_id, source_event_id, memo)",
    )
    .bind(&ids)
    .bind(&posted_at)
    .bind(&kinds)
    .bind(&source_ids)
    .bind(&event_ids)
    .bind(&memos)
    .execute(&mut *tx)
    .await?;
    let (mut entry_ids, mut line_nos, mut accounts, mut debits, mut credits) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (entry, id) in entries.iter().zip(&ids) {
        for (line_no, line) in (1_i32..).zip(entry.lines.as_slice()) {
            entry_ids.push(id.as_str());
            line_nos.push(line_no);
            accounts.push(line.account.code());
            debits.push(line.debit.amount());
            credits.push(line.credit.amount());
        }
    }
    sqlx::query(
        "INSERT INTO journal_lines (entry_id, line_no, account, debit, credit)
         SELECT * FROM unnest($1::text[], $2::int4[], $3::text[], $4::numeric[], $5::numeric[])",
    )
    .bind(&entry_ids)
    .bind(&line_nos)
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
    /// The reversal of this entry, if any.
    pub reversed_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LineRow {
    pub entry_id: String,
    pub account: String,
    pub debit: Decimal,
    pub credit: Decimal,
}

/// Which entries to list; `None` matches all.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub id: Option<String>,
    pub source_id: Option<String>,
    pub account: Option<String>,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub until: Option<DateTime<Utc>>,
}

const MATCHING: &str = "
    FROM journal_entries e
    WHERE ($1::text IS NULL OR e.id = $1)
      AND ($2::text IS NULL OR e.source_id = $2)
      AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM journal_lines l WHERE l.entry_id = e.id AND l.account = $3))
      AND ($4::timestamptz IS NULL OR e.posted_at >= $4)
      AND ($5::timestamptz IS NULL OR e.posted_at < $5)";

/// One page of the entries matching `filter` (newest first) with their lines, and the total.
pub async fn entries(
    pool: &PgPool,
    filter: &EntryFilter,
    limit: u32,
    offset: u64,
) -> Result<(Vec<(EntryRow, Vec<LineRow>)>, u64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) {MATCHING}")))
        .bind(filter.id.as_deref())
        .bind(filter.source_id.as_deref())
        .bind(filter.account.as_deref())
        .bind(filter.from)
        .bind(filter.until)
        .fetch_one(pool)
        .await?;
    let rows: Vec<EntryRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT e.id, to_char(e.posted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS posted_at,
                e.source_type, e.source_id, e.source_event_id, e.memo,
                (SELECT r.id FROM journal_entries r
                 WHERE r.source_type = 'reversal' AND r.source_id = e.id LIMIT 1) AS reversed_by
         {MATCHING}
         ORDER BY e.posted_at DESC, e.id DESC LIMIT $6 OFFSET $7"
    )))
    .bind(filter.id.as_deref())
    .bind(filter.source_id.as_deref())
    .bind(filter.account.as_deref())
    .bind(filter.from)
    .bind(filter.until)
    .bind(i64::from(limit))
    .bind(i64::try_from(offset).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT entry_id, account, debit, credit FROM journal_lines WHERE entry_id = ANY($1) ORDER BY entry_id, line_no",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let entries = rows
        .into_iter()
        .map(|row| {
            let mine = lines
                .iter()
                .filter(|l| l.entry_id == row.id)
                .cloned()
                .collect();
            (row, mine)
        })
        .collect();
    Ok((entries, u64::try_from(total).unwrap_or(0)))
}

/// The entry posted from `source_event_id` (a manual entry's idempotency), if any.
pub async fn id_by_source_event(
    pool: &PgPool,
    source_event_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM journal_entries WHERE source_event_id = $1")
        .bind(source_event_id)
        .fetch_optional(pool)
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
