//! `journal_entries`: the fiscal journal of each register (the chain is the domain's,
//! `domain::journal`). An entry is appended in the transaction of the document it records,
//! with the register's row locked, so `seq` has no gaps and the chain no forks.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

use crate::domain::journal::{Entry, Verifier, canonical, chain};
use crate::domain::sale::SaleRecord;
use crate::domain::totals::SessionTotals;
use crate::projections::registers::Head;

/// A document's entry, before it is numbered and chained.
#[derive(Debug, Clone)]
pub struct Document<'a> {
    pub kind: &'a str,
    pub document_id: &'a str,
    pub recorded_at: DateTime<Utc>,
    /// What the entry records; completed with the register, `seq`, kind and document, so
    /// each is sealed by the hash.
    pub content: Value,
}

/// An entry numbered and chained after its register's head.
struct Sealed {
    seq: i64,
    content: String,
    hash: String,
}

/// Numbers `document` after `head` and chains it: its content completed with the register,
/// `seq`, kind and document, so each is sealed by the hash.
fn seal(register_id: &str, head: &Head, document: &Document<'_>) -> Sealed {
    let seq = head.journal_seq.saturating_add(1);
    let mut content = document.content.clone();
    if let Value::Object(fields) = &mut content {
        fields.insert("register_id".into(), register_id.into());
        fields.insert("seq".into(), seq.into());
        fields.insert("kind".into(), document.kind.into());
        fields.insert("document_id".into(), document.document_id.into());
        fields.insert(
            "recorded_at".into(),
            tillstream_kernel::time::rfc3339(&document.recorded_at).into(),
        );
    }
    let content = canonical(&content);
    let hash = chain(&head.journal_hash, &content);
    Sealed { seq, content, hash }
}

/// The entry (`$1`–`$8`) and the register's head, with the open session's figures when `$9`
/// is not null.
macro_rules! entry_and_head {
    () => {
        "entry AS (
             INSERT INTO journal_entries (register_id, seq, kind, document_id, recorded_at, content, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)),
         head AS (UPDATE registers SET journal_seq = $2, journal_hash = $8,
                                       open_totals = coalesce($9, open_totals)
                  WHERE id = $1)"
    };
}

type EntryQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Binds `$1`–`$9` of [`entry_and_head`].
fn bind_entry<'q>(
    query: EntryQuery<'q>,
    register_id: &'q str,
    head: &'q Head,
    document: &'q Document<'q>,
    sealed: &'q Sealed,
    figures: Option<&'q SessionTotals>,
) -> EntryQuery<'q> {
    query
        .bind(register_id)
        .bind(sealed.seq)
        .bind(document.kind)
        .bind(document.document_id)
        .bind(document.recorded_at)
        .bind(&sealed.content)
        .bind(&head.journal_hash)
        .bind(&sealed.hash)
        .bind(figures.map(Json))
}

/// Appends `document`'s entry after `head` (locked by the caller) and moves the head, with
/// the open session's new figures when given: one statement. Its `seq`.
pub async fn append(
    tx: &mut PgConnection,
    register_id: &str,
    head: &Head,
    document: Document<'_>,
    figures: Option<&SessionTotals>,
) -> Result<i64, sqlx::Error> {
    let sealed = seal(register_id, head, &document);
    let query = sqlx::query(concat!("WITH ", entry_and_head!(), " SELECT 1"));
    bind_entry(query, register_id, head, &document, &sealed, figures)
        .execute(&mut *tx)
        .await?;
    Ok(sealed.seq)
}

/// As [`append`], for a sale: its read-model row is written in the same statement, so a sale
/// in a session costs no round trip more than one outside any.
pub async fn append_sale(
    tx: &mut PgConnection,
    register_id: &str,
    head: &Head,
    document: Document<'_>,
    figures: Option<&SessionTotals>,
    sale: &SaleRecord,
) -> Result<i64, sqlx::Error> {
    let sealed = seal(register_id, head, &document);
    let query = sqlx::query(concat!(
        "WITH ",
        entry_and_head!(),
        ", sale AS (INSERT INTO sales (id, sale_number, location_id, created_at, document,
                                       customer_id, repair_id)
                    VALUES ($10, $11, $12, $13::timestamptz, $14, $14::jsonb ->> 'customer_id',
                            $14::jsonb ->> 'repair_id'))
         SELECT 1"
    ));
    bind_entry(query, register_id, head, &document, &sealed, figures)
        .bind(sale.id.to_string())
        .bind(&sale.sale_number)
        .bind(&sale.location_id)
        .bind(sale.completed_at)
        .bind(Json(sale))
        .execute(&mut *tx)
        .await?;
    Ok(sealed.seq)
}

type EntryRow = (i64, String, String, DateTime<Utc>, String, String, String);

fn entry((seq, kind, document_id, recorded_at, content, prev_hash, hash): EntryRow) -> Entry {
    Entry {
        seq,
        kind,
        document_id,
        recorded_at: tillstream_kernel::time::rfc3339(&recorded_at),
        content,
        prev_hash,
        hash,
    }
}

/// Up to `limit` entries after `after_seq`, oldest first.
pub async fn page(
    pool: &PgPool,
    register_id: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT seq, kind, document_id, recorded_at, content, prev_hash, hash FROM journal_entries
         WHERE register_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(register_id)
    .bind(after_seq)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(entry).collect())
}

/// What a verification of a register's journal found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub entries: u64,
    pub last_seq: i64,
    pub last_hash: String,
    /// The first entry that does not follow, if any.
    pub broken_at_seq: Option<i64>,
}

/// Recomputes register `register_id`'s chain from its first entry, a page at a time.
pub async fn verify(pool: &PgPool, register_id: &str) -> Result<Verified, sqlx::Error> {
    const PAGE: i64 = 5_000;
    let mut verifier = Verifier::default();
    let mut after = 0;
    loop {
        let entries = page(pool, register_id, after, PAGE).await?;
        for entry in &entries {
            if let Err(seq) = verifier.next(entry) {
                return Ok(Verified {
                    entries: verifier.entries,
                    last_seq: verifier.last_seq,
                    last_hash: verifier.last_hash,
                    broken_at_seq: Some(seq),
                });
            }
        }
        match entries.last() {
            Some(last) if entries.len() as i64 == PAGE => after = last.seq,
            _ => break,
        }
    }
    // The register's row keeps the head: entries deleted from the end (or a head moved
    // past them) break the chain just after the last good entry.
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT journal_seq, journal_hash FROM registers WHERE id = $1")
            .bind(register_id)
            .fetch_optional(pool)
            .await?;
    let at_head =
        head.is_none_or(|(seq, hash)| seq == verifier.last_seq && hash == verifier.last_hash);
    Ok(Verified {
        entries: verifier.entries,
        last_seq: verifier.last_seq,
        broken_at_seq: (!at_head).then(|| verifier.last_seq.saturating_add(1)),
        last_hash: verifier.last_hash,
    })
}

/// The hash of register `register_id`'s entry `seq`, if there is one.
pub async fn hash_of(
    pool: &PgPool,
    register_id: &str,
    seq: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT hash FROM journal_entries WHERE register_id = $1 AND seq = $2")
        .bind(register_id)
        .bind(seq)
        .fetch_optional(pool)
        .await
}

/// Up to `limit` entries after `after_seq` recorded in `[from, until)`, oldest first (an
/// export of a period).
pub async fn period(
    pool: &PgPool,
    register_id: &str,
    after_seq: i64,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT seq, kind, document_id, recorded_at, content, prev_hash, hash FROM journal_entries
         WHERE register_id = $1 AND seq > $2
           AND ($3::timestamptz IS NULL OR recorded_at >= $3)
           AND ($4::timestamptz IS NULL OR recorded_at < $4)
         ORDER BY seq LIMIT $5",
    )
    .bind(register_id)
    .bind(after_seq)
    .bind(from)
    .bind(until)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(entry).collect())
}
