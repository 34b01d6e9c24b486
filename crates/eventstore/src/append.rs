//! Appending: events with an expected version, claims and an idempotency record, all in
//! one transaction, so a command either happened completely or not at all.

use serde_json::value::RawValue;
use sqlx::PgConnection;
use sqlx::types::Json;
use tillstream_kernel::EventMetadata;
use uuid::Uuid;

use crate::idempotency::{self, IdempotencyKey};
use crate::together::{self, Inserted};
use crate::{EventStore, NewEvent, StoreError};

/// A named unique value a stream takes or gives up with its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Take `value` under `claim` (e.g. `sku`), failing with `Duplicate` if another stream
    /// holds it. Taking a value the same stream already holds is a no-op.
    Acquire { claim: String, value: String },
    /// Give `value` back (a barcode removed from a product).
    Release { claim: String, value: String },
}

impl Claim {
    pub fn acquire(claim: impl Into<String>, value: impl Into<String>) -> Self {
        Claim::Acquire {
            claim: claim.into(),
            value: value.into(),
        }
    }

    pub fn release(claim: impl Into<String>, value: impl Into<String>) -> Self {
        Claim::Release {
            claim: claim.into(),
            value: value.into(),
        }
    }
}

/// What a command writes.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    pub stream_id: String,
    /// The stream's version when the command was decided; 0 for a new stream.
    pub expected_version: i64,
    pub events: Vec<NewEvent>,
    pub metadata: EventMetadata,
    pub claims: Vec<Claim>,
    pub idempotency: Option<(IdempotencyKey, Box<RawValue>)>,
    /// A read-model row written from the appended events in the append's own statement
    /// (see [`AppendRequest::with_row`]).
    pub row: Option<&'static str>,
}

impl AppendRequest {
    pub fn new(stream_id: impl Into<String>, expected_version: i64, events: Vec<NewEvent>) -> Self {
        AppendRequest {
            stream_id: stream_id.into(),
            expected_version,
            events,
            metadata: EventMetadata::default(),
            claims: Vec::new(),
            idempotency: None,
            row: None,
        }
    }

    pub fn with_metadata(mut self, metadata: EventMetadata) -> Self {
        self.metadata = metadata;
        self
    }

    pub fn with_claims(mut self, claims: Vec<Claim>) -> Self {
        self.claims = claims;
        self
    }

    /// Stores `response` (JSON text, as `serde_json::value::to_raw_value` makes it) under
    /// `key` in the same transaction.
    pub fn with_idempotency(mut self, key: IdempotencyKey, response: Box<RawValue>) -> Self {
        self.idempotency = Some((key, response));
        self
    }

    /// Writes a read-model row in the same statement as the events: `sql` is a
    /// data-modifying statement (an `INSERT ... SELECT`) over `appended`, the events just
    /// inserted (`position`, `stream_id`, `version`, `event_type`, `payload`). It sees
    /// nothing when the version check fails, so a refused append writes no row either.
    /// Written by [`EventStore::append_in`] (and `append`), not by the bulk appends.
    pub fn with_row(mut self, sql: &'static str) -> Self {
        self.row = Some(sql);
        self
    }
}

/// Where the appended events landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The stream's version after the append.
    pub version: i64,
    /// The last event's global position (0 when nothing was appended).
    pub last_position: i64,
}

/// Inserts every event only if the stream is still at the expected version. The version
/// check and the insert are one statement; two writers that both pass the check collide on
/// the (stream_id, version) key instead, so either way exactly one wins.
macro_rules! insert_events {
    () => {
        "INSERT INTO events (stream_id, version, event_id, event_type, schema_version, payload, metadata)
         SELECT $1, $2 + e.ord, e.event_id, e.event_type, e.schema_version, e.payload, $7
         FROM unnest($3::uuid[], $4::text[], $5::int4[], $6::jsonb[])
              WITH ORDINALITY AS e(event_id, event_type, schema_version, payload, ord)
         WHERE $2 = (SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1)"
    };
}

/// The same for the common single-event command, without the arrays.
macro_rules! insert_one_event {
    () => {
        "INSERT INTO events (stream_id, version, event_id, event_type, schema_version, payload, metadata)
         SELECT $1, $2 + 1, $3, $4, $5, $6, $7
         WHERE $2 = (SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1)"
    };
}
pub(crate) use {insert_events, insert_one_event};

impl EventStore {
    /// Appends in a transaction of its own.
    pub async fn append(&self, request: AppendRequest) -> Result<Appended, StoreError> {
        // Events and their key go in one statement, which is its own transaction: one
        // round trip, one commit. Claims, or a key without events, take statements of their own.
        if request.claims.is_empty()
            && (request.idempotency.is_none() || !request.events.is_empty())
        {
            let mut conn = self.pool.acquire().await?;
            let appended = append_events(&mut conn, &request).await?;
            self.announce();
            return Ok(appended);
        }
        let mut tx = self.pool.begin().await?;
        let appended = self.append_in(&mut tx, &request).await?;
        tx.commit().await?;
        self.announce();
        Ok(appended)
    }

    /// Appends inside the caller's transaction, so read models that must show the
    /// command's result at once can be updated in the same commit.
    pub async fn append_in(
        &self,
        tx: &mut PgConnection,
        request: &AppendRequest,
    ) -> Result<Appended, StoreError> {
        write_claims(tx, &request.stream_id, &request.claims).await?;
        // With events, the key is kept by the statement that inserts them.
        if let Some((key, response)) = &request.idempotency
            && request.events.is_empty()
        {
            idempotency::record(tx, key, response, &request.stream_id).await?;
        }
        append_events(tx, request).await
    }

    /// Starts many new streams at once inside the caller's transaction (bulk work such as a
    /// product import): every request's events at versions 1.., and all their claims
    /// (acquisitions only), in two statements. A stream that already exists is a `Conflict`
    /// and a claim held elsewhere a `Duplicate`; either way the caller's transaction must be
    /// rolled back, as some of the rest may be written.
    pub async fn create_streams_in(
        &self,
        tx: &mut PgConnection,
        requests: &[AppendRequest],
    ) -> Result<(), StoreError> {
        let (mut claim_names, mut claim_values, mut owners) = (Vec::new(), Vec::new(), Vec::new());
        for request in requests {
            for claim in &request.claims {
                if let Claim::Acquire { claim, value } = claim {
                    claim_names.push(claim.as_str());
                    claim_values.push(value.as_str());
                    owners.push(request.stream_id.as_str());
                }
            }
        }
        if !claim_names.is_empty() {
            let taken: Vec<(String, String)> = sqlx::query_as(
                "INSERT INTO claims (claim, value, owner) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) \
                 ON CONFLICT (claim, value) DO NOTHING RETURNING claim, value",
            )
            .bind(&claim_names)
            .bind(&claim_values)
            .bind(&owners)
            .fetch_all(&mut *tx)
            .await?;
            if taken.len() < claim_names.len() {
                let missing = claim_names
                    .iter()
                    .zip(&claim_values)
                    .find(|(c, v)| !taken.iter().any(|(tc, tv)| tc == *c && tv == *v));
                let (claim, value) = missing.map_or(("claim", ""), |(c, v)| (*c, *v));
                return Err(StoreError::Duplicate {
                    claim: claim.to_owned(),
                    value: value.to_owned(),
                });
            }
        }
        if let Some(request) = requests.iter().find(|r| r.expected_version != 0) {
            return Err(StoreError::Conflict {
                stream_id: request.stream_id.clone(),
                expected: request.expected_version,
                actual: -1,
            });
        }
        insert_requests(tx, requests, "one of the new streams").await
    }

    /// Appends to many streams at once inside the caller's transaction (a chunk of stock
    /// movements): each request's events after its `expected_version`, all in one
    /// statement. Several requests may follow each other on one stream, each expecting the
    /// version the one before it reaches. Claims and idempotency keys are not written: use
    /// `append_in` for requests that carry them. A stream that moved since it was loaded is
    /// a `Conflict`, and the caller's transaction must be rolled back.
    pub async fn append_many_in(
        &self,
        tx: &mut PgConnection,
        requests: &[AppendRequest],
    ) -> Result<(), StoreError> {
        insert_requests(tx, requests, "one of the streams").await
    }

    /// Which of `values` are held under `claim`, and by which stream.
    pub async fn claims_held(
        &self,
        conn: &mut PgConnection,
        claim: &str,
        values: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT value, owner FROM claims WHERE claim = $1 AND value = ANY($2)")
                .bind(claim)
                .bind(values)
                .fetch_all(conn)
                .await?,
        )
    }

    /// The stream's current version (0 if it has no events).
    pub async fn stream_version(&self, stream_id: &str) -> Result<i64, StoreError> {
        current_version(&mut *self.pool.acquire().await?, stream_id).await
    }
}

async fn append_events(
    conn: &mut PgConnection,
    request: &AppendRequest,
) -> Result<Appended, StoreError> {
    if request.events.is_empty() {
        return Ok(Appended {
            version: request.expected_version,
            last_position: 0,
        });
    }
    let count = request.events.len();
    let metadata = serde_json::to_value(request.metadata.traced())?;
    match together::insert(conn, request, &metadata, None).await {
        Ok(Inserted { positions, .. }) if positions.len() == count => {
            count_appended(&request.events);
            Ok(Appended {
                version: request.expected_version + count as i64,
                last_position: positions.iter().copied().max().unwrap_or_default(),
            })
        }
        // The version check failed: nothing was inserted.
        Ok(_) => Err(version_refused(conn, request).await),
        Err(error) => Err(inserting(conn, request, error).await),
    }
}

/// An append's statement failed: a concurrent writer took the version (`Conflict`), or a
/// concurrent request's answer holds the key (`IdempotencyRace`).
pub(crate) async fn inserting(
    conn: &mut PgConnection,
    request: &AppendRequest,
    error: sqlx::Error,
) -> StoreError {
    match &error {
        sqlx::Error::Database(e) if e.constraint() == Some("events_stream_version_key") => {
            version_refused(conn, request).await
        }
        sqlx::Error::Database(e) if e.code().as_deref() == Some(together::KEY_LIVE) => {
            match &request.idempotency {
                Some((key, _)) => StoreError::IdempotencyRace {
                    key: key.key.clone(),
                },
                None => error.into(),
            }
        }
        _ => error.into(),
    }
}

/// `tillstream_events_appended_total{type}`: written in a transaction (one its caller then
/// rolls back is counted too; the relay's published count is the committed truth).
/// Every request's events at the versions after its `expected_version`, in one statement;
/// a version taken already is a `Conflict` naming `which`.
async fn insert_requests(
    tx: &mut PgConnection,
    requests: &[AppendRequest],
    which: &str,
) -> Result<(), StoreError> {
    let (mut streams, mut versions, mut ids, mut types, mut schemas, mut payloads, mut metas) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for request in requests {
        let metadata = serde_json::to_value(request.metadata.traced())?;
        for (offset, event) in (1i64..).zip(&request.events) {
            streams.push(request.stream_id.as_str());
            versions.push(request.expected_version + offset);
            ids.push(Uuid::from(event.event_id));
            types.push(event.event_type.as_str());
            schemas.push(event.schema_version);
            payloads.push(Json(&*event.payload));
            metas.push(metadata.clone());
        }
    }
    if streams.is_empty() {
        return Ok(());
    }
    let inserted = sqlx::query(
        "INSERT INTO events (stream_id, version, event_id, event_type, schema_version, payload, metadata) \
         SELECT * FROM unnest($1::text[], $2::int8[], $3::uuid[], $4::text[], $5::int4[], $6::jsonb[], $7::jsonb[])",
    )
    .bind(&streams)
    .bind(&versions)
    .bind(&ids)
    .bind(&types)
    .bind(&schemas)
    .bind(&payloads)
    .bind(&metas)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {
            for request in requests {
                count_appended(&request.events);
            }
            Ok(())
        }
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("events_stream_version_key") => {
            Err(StoreError::Conflict {
                stream_id: which.to_owned(),
                expected: 0,
                actual: -1,
            })
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn count_appended(events: &[NewEvent]) {
    for event in events {
        metrics::counter!("tillstream_events_appended_total", "type" => event.event_type.clone())
            .increment(1);
    }
}

/// Builds the conflict error with the stream's actual version. In an aborted transaction
/// the version cannot be read; -1 then says "unknown, but not what you expected".
pub(crate) async fn version_refused(
    conn: &mut PgConnection,
    request: &AppendRequest,
) -> StoreError {
    let actual = current_version(conn, &request.stream_id)
        .await
        .unwrap_or(-1);
    StoreError::Conflict {
        stream_id: request.stream_id.clone(),
        expected: request.expected_version,
        actual,
    }
}

async fn current_version(conn: &mut PgConnection, stream_id: &str) -> Result<i64, StoreError> {
    let version: i64 =
        sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1")
            .bind(stream_id)
            .fetch_one(conn)
            .await?;
    Ok(version)
}

async fn write_claims(
    conn: &mut PgConnection,
    owner: &str,
    claims: &[Claim],
) -> Result<(), StoreError> {
    for claim in claims {
        match claim {
            Claim::Acquire { claim, value } => {
                // ON CONFLICT keeps the transaction usable and lets the owner re-take its own.
                let taken = sqlx::query(
                    "INSERT INTO claims (claim, value, owner) VALUES ($1, $2, $3)
                     ON CONFLICT (claim, value) DO UPDATE SET owner = claims.owner
                     WHERE claims.owner = EXCLUDED.owner",
                )
                .bind(claim)
                .bind(value)
                .bind(owner)
                .execute(&mut *conn)
                .await?;
                if taken.rows_affected() == 0 {
                    return Err(StoreError::Duplicate {
                        claim: claim.clone(),
                        value: value.clone(),
                    });
                }
            }
            Claim::Release { claim, value } => {
                sqlx::query("DELETE FROM claims WHERE claim = $1 AND value = $2 AND owner = $3")
                    .bind(claim)
                    .bind(value)
                    .bind(owner)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    Ok(())
}
