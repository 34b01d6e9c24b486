//! A manager's own entries: manual postings (balanced, accounts from the chart) and
//! reversals. Entries are never edited or deleted; a reversal is a new entry with every
//! line on the other side, linked both ways, at most one per entry.

use tillstream_eventstore::{EventMetadata, EventStore, StoreError};
use tillstream_kernel::{Currency, Money, Ulid};

use super::post_entry::{Posting, post_entry};
use crate::domain::accounts::Account;
use crate::domain::entry::{EntryLine, Lines};
use crate::domain::journal::{EntryId, Source};
use crate::error::AppError;
use crate::projections::journal;

/// A line as the manager wrote it: an account code and decimal strings (one may be empty).
#[derive(Debug, Clone)]
pub struct LineRequest {
    pub account: String,
    pub debit: String,
    pub credit: String,
}

fn parse_lines(currency: Currency, lines: &[LineRequest]) -> Result<Lines, AppError> {
    let amount = |text: &str, field: String| match text.trim() {
        "" => Ok(Money::zero(currency)),
        text => Money::parse(text, currency).map_err(|e| AppError::invalid(field, e.to_string())),
    };
    let parsed = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let account = Account::from_code(&line.account).ok_or_else(|| {
                AppError::invalid(
                    format!("lines[{i}].account"),
                    format!("`{}` is not an account of the chart", line.account.trim()),
                )
            })?;
            Ok(EntryLine {
                account,
                debit: amount(&line.debit, format!("lines[{i}].debit"))?,
                credit: amount(&line.credit, format!("lines[{i}].credit"))?,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(Lines::new(currency, parsed)?)
}

/// Posts a manual entry; its id. The same `idempotency_key` again answers the first entry.
pub async fn post_manual(
    store: &EventStore,
    currency: Currency,
    memo: &str,
    lines: &[LineRequest],
    idempotency_key: Option<&str>,
    metadata: EventMetadata,
) -> Result<String, AppError> {
    let memo = memo.trim();
    if memo.is_empty() {
        return Err(AppError::invalid("memo", "say what the entry is for"));
    }
    let lines = parse_lines(currency, lines)?;
    let event_id = match idempotency_key {
        Some(key) => format!("manual:{key}"),
        None => format!("manual:{}", Ulid::generate()),
    };
    let id = EntryId::generate().to_string();
    let source = Source {
        kind: "manual".into(),
        id: id.clone(),
        event_id: event_id.clone(),
    };
    let mut tx = store.pool().begin().await.map_err(StoreError::from)?;
    let posted = post_entry(
        store,
        &mut tx,
        Posting {
            source,
            memo: memo.to_owned(),
            lines,
            metadata,
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    store.announce();
    match posted {
        Some(entry) => Ok(entry.id.to_string()),
        None => journal::id_by_source_event(store.pool(), &event_id)
            .await?
            .ok_or_else(|| AppError::Conflict("the same entry is being posted; retry".into())),
    }
}

/// Reverses entry `id`; the reversal's id.
pub async fn reverse(
    store: &EventStore,
    currency: Currency,
    id: &str,
    reason: &str,
    metadata: EventMetadata,
) -> Result<String, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "say why the entry is reversed"));
    }
    let filter = journal::EntryFilter {
        id: Some(id.trim().to_owned()),
        ..Default::default()
    };
    let (found, _) = journal::entries(store.pool(), &filter, 1, 0).await?;
    let Some((entry, rows)) = found.into_iter().next() else {
        return Err(AppError::NotFound(format!("no entry `{}`", id.trim())));
    };
    if entry.source_type == "reversal" {
        return Err(AppError::Refused(
            "a reversal is not reversed; post a new entry instead".into(),
        ));
    }
    let original = rows
        .iter()
        .map(|row| {
            let account = Account::from_code(&row.account)
                .ok_or_else(|| AppError::Refused(format!("unknown account {}", row.account)))?;
            Ok(EntryLine {
                account,
                debit: Money::new(row.debit, currency),
                credit: Money::new(row.credit, currency),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let reversal = Lines::new(currency, original)?.reversed();
    let source = Source {
        kind: "reversal".into(),
        id: entry.id.clone(),
        event_id: format!("reversal:{}", entry.id),
    };
    let memo = format!("Reversal of {}: {reason}", entry.id);
    let mut tx = store.pool().begin().await.map_err(StoreError::from)?;
    let posted = post_entry(
        store,
        &mut tx,
        Posting {
            source,
            memo,
            lines: reversal,
            metadata,
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    store.announce();
    posted
        .map(|e| e.id.to_string())
        .ok_or_else(|| AppError::Refused(format!("entry {} is already reversed", entry.id)))
}
