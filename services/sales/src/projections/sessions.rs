//! `sessions` and `cash_movements`: each session as clients read it. An open session's
//! running figures are on its register's row (`open_totals`), written in the transaction of
//! each document; a closed one keeps its final figures (`totals`) and its Z. A document locks
//! the register's row ([`lock`]), so a sale racing a close is either in the close's figures or
//! finds the session closed.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Row as _};

use crate::domain::controls::Approval;
use crate::domain::session::{CashMovement, Opened, SessionId};
use crate::domain::totals::{Report, SessionTotals};
use crate::projections::registers::Head;

/// A session as clients read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub opened: Opened,
    pub open: bool,
    pub totals: SessionTotals,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub z_report: Option<Report>,
    pub approvals: Vec<Approval>,
    /// The register's perpetual total at its last Z: where an open session's X report
    /// starts its `grand_total`.
    pub register_grand_total: Decimal,
}

/// A session's row as a document of it sees it, locked for the transaction with its
/// register's (the journal's head).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub register_id: String,
    pub location_id: String,
    pub open: bool,
    pub totals: SessionTotals,
    pub head: Head,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Decimal,
    Json<SessionTotals>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<Json<Report>>,
    Json<Vec<Approval>>,
    Decimal,
);

/// `SELECT <a session row> FROM sessions <tail>`, as one static string.
macro_rules! select_sessions {
    ($tail:literal) => {
        concat!(
            "SELECT id, register_id, location_id, status, opened_by, opened_at, opening_float, \
             coalesce((SELECT r.open_totals FROM registers r \
                       WHERE r.id = sessions.register_id AND r.open_session_id = sessions.id), totals), \
             closed_by, closed_at, z_report, approvals, \
             (SELECT r.grand_total FROM registers r WHERE r.id = sessions.register_id) \
             FROM sessions ",
            $tail
        )
    };
}

/// The list's filter, as one static string.
macro_rules! session_filter {
    () => {
        "WHERE ($1::text IS NULL OR register_id = $1) \
         AND ($2::text IS NULL OR location_id = $2) \
         AND ($3::text IS NULL OR status = $3) \
         AND ($4::timestamptz IS NULL OR opened_at >= $4) \
         AND ($5::timestamptz IS NULL OR opened_at < $5) "
    };
}

fn row(currency: tillstream_kernel::Currency, r: Row) -> Option<SessionRow> {
    let (
        id,
        register_id,
        location_id,
        status,
        opened_by,
        opened_at,
        float,
        totals,
        closed_by,
        closed_at,
        z,
        approvals,
        register_grand_total,
    ) = r;
    Some(SessionRow {
        opened: Opened {
            id: id.parse().ok()?,
            register_id: register_id.parse().ok()?,
            location_id,
            opened_by,
            opened_at,
            opening_float: tillstream_kernel::Money::new(float, currency),
        },
        open: status == "open",
        totals: totals.0,
        closed_by,
        closed_at,
        z_report: z.map(|z| z.0),
        approvals: approvals.0,
        register_grand_total,
    })
}

pub async fn insert(tx: &mut PgConnection, opened: &Opened) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, register_id, location_id, status, opened_by, opened_at, opening_float)
         VALUES ($1, $2, $3, 'open', $4, $5, $6)",
    )
    .bind(opened.id.to_string())
    .bind(opened.register_id.to_string())
    .bind(&opened.location_id)
    .bind(&opened.opened_by)
    .bind(opened.opened_at)
    .bind(opened.opening_float.amount())
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn find(
    pool: &PgPool,
    currency: tillstream_kernel::Currency,
    id: &str,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let found: Option<Row> = sqlx::query_as(select_sessions!("WHERE id = $1"))
        .bind(id.trim())
        .fetch_optional(pool)
        .await?;
    Ok(found.and_then(|r| row(currency, r)))
}

/// Which sessions to list; absent fields match every session.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub register_id: Option<String>,
    pub location_id: Option<String>,
    pub open: Option<bool>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// A page of sessions, newest first, and how many match.
pub async fn list(
    pool: &PgPool,
    currency: tillstream_kernel::Currency,
    filter: &SessionFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SessionRow>, i64), sqlx::Error> {
    let status = filter.open.map(|open| if open { "open" } else { "closed" });
    let rows: Vec<Row> = sqlx::query_as(concat!(
        select_sessions!(""),
        session_filter!(),
        "ORDER BY opened_at DESC, id DESC LIMIT $6 OFFSET $7"
    ))
    .bind(filter.register_id.as_deref())
    .bind(filter.location_id.as_deref())
    .bind(status)
    .bind(filter.from)
    .bind(filter.until)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(concat!("SELECT count(*) FROM sessions ", session_filter!()))
        .bind(filter.register_id.as_deref())
        .bind(filter.location_id.as_deref())
        .bind(status)
        .bind(filter.from)
        .bind(filter.until)
        .fetch_one(pool)
        .await?;
    Ok((
        rows.into_iter().filter_map(|r| row(currency, r)).collect(),
        total,
    ))
}

/// A session as a document of it sees it, its register's row locked: the journal's head, the
/// open session and its running figures are all on that row, so a document waiting on it
/// sees what a close committed meanwhile.
macro_rules! lock_session {
    ($id:literal) => {
        concat!(
            "SELECT s.register_id, s.location_id, \
                    CASE WHEN r.open_session_id = s.id THEN 'open' ELSE 'closed' END, \
                    CASE WHEN r.open_session_id = s.id THEN r.open_totals ELSE s.totals END, \
                    r.journal_seq, r.journal_hash, r.z_count, r.grand_total \
             FROM sessions s JOIN registers r ON r.id = s.register_id \
             WHERE s.id = ",
            $id,
            " FOR NO KEY UPDATE OF r"
        )
    };
}
pub(crate) use lock_session;

type LockedRow = (
    String,
    String,
    String,
    Json<SessionTotals>,
    i64,
    String,
    i32,
    Decimal,
);

fn locked(
    (register_id, location_id, status, totals, journal_seq, journal_hash, z_count, grand_total): LockedRow,
) -> Locked {
    Locked {
        head: Head {
            location_id: location_id.clone(),
            journal_seq,
            journal_hash,
            z_count,
            grand_total,
        },
        register_id,
        location_id,
        open: status == "open",
        totals: totals.0,
    }
}

/// Locks session `id` and its register for the transaction, in one statement; `None` when
/// there is none.
pub async fn lock(tx: &mut PgConnection, id: &str) -> Result<Option<Locked>, sqlx::Error> {
    let found: Option<LockedRow> = sqlx::query_as(lock_session!("$1"))
        .bind(id)
        .fetch_optional(tx)
        .await?;
    Ok(found.map(locked))
}

/// Draws the next sale number of `location_id` on `day` and, when the sale is rung up in
/// `session_id`, locks that session and its register, in one round trip: the number's
/// counter first, as every sale takes it.
pub async fn number_and_lock(
    tx: &mut PgConnection,
    location_id: &str,
    day: chrono::NaiveDate,
    session_id: &str,
) -> Result<(i64, Option<Locked>), sqlx::Error> {
    let row = sqlx::query(concat!(
        "WITH n AS (",
        crate::projections::sale_numbers::draw!(),
        ") SELECT n.last, x.* FROM n LEFT JOIN LATERAL (",
        lock_session!("$3"),
        ") x ON true"
    ))
    .bind(location_id)
    .bind(day)
    .bind(session_id)
    .fetch_one(tx)
    .await?;
    Ok((row.try_get(0)?, locked_at(&row, 1)?))
}

/// The lock's columns in `row` from `first` on (`LEFT JOIN LATERAL (lock_session!(..)) x
/// ON true`); `None` when there is no such session.
pub fn locked_at(row: &PgRow, first: usize) -> Result<Option<Locked>, sqlx::Error> {
    let Some(register_id) = row.try_get::<Option<String>, _>(first)? else {
        return Ok(None);
    };
    Ok(Some(locked((
        register_id,
        row.try_get(first + 1)?,
        row.try_get(first + 2)?,
        row.try_get(first + 3)?,
        row.try_get(first + 4)?,
        row.try_get(first + 5)?,
        row.try_get(first + 6)?,
        row.try_get(first + 7)?,
    ))))
}

/// Closes the session's row, keeping its final figures (until now on its register's row).
pub async fn close(
    tx: &mut PgConnection,
    id: &SessionId,
    closed_by: &str,
    closed_at: DateTime<Utc>,
    report: &Report,
    approvals: &[Approval],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sessions SET status = 'closed', closed_by = $2, closed_at = $3, z_report = $4, approvals = $5,
                totals = (SELECT r.open_totals FROM registers r WHERE r.id = sessions.register_id)
         WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(closed_by)
    .bind(closed_at)
    .bind(Json(report))
    .bind(Json(approvals))
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn insert_movement(
    tx: &mut PgConnection,
    session_id: &SessionId,
    movement: &CashMovement,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO cash_movements (id, session_id, kind, amount, reason, by_user, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&movement.id)
    .bind(session_id.to_string())
    .bind(movement.kind.name())
    .bind(movement.amount.amount())
    .bind(&movement.reason)
    .bind(&movement.by)
    .bind(movement.at)
    .execute(tx)
    .await?;
    Ok(())
}

/// The open session of register `register_id`, read in the caller's transaction.
pub async fn open_in(
    tx: &mut PgConnection,
    register_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM sessions WHERE register_id = $1 AND status = 'open'")
        .bind(register_id)
        .fetch_optional(tx)
        .await
}
