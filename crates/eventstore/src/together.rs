//! An append in one statement, with what goes with it: the idempotency record and a
//! caller's read-model row are data-modifying statements over the events just inserted, so
//! a command that keeps its answer and shows its result at once still costs one round trip.
//! A key a concurrent request's answer holds fails the whole statement (SQLSTATE `TS409`,
//! `idempotency_key_live`), so the statement is safe outside a transaction too.

use serde_json::Value;
use serde_json::value::RawValue;
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::QueryAs;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection};
use uuid::Uuid;

use crate::AppendRequest;
use crate::append::{insert_events, insert_one_event};
use crate::draw::{self, Draw};
use crate::idempotency::{IdempotencyKey, keep_unless_live, ttl_ms};

/// The SQLSTATE of an append whose key a concurrent request's answer holds.
pub(crate) const KEY_LIVE: &str = "TS409";

/// What the statement inserted: each event's position, and the value it drew.
pub(crate) struct Inserted {
    pub positions: Vec<i64>,
    pub drawn: Option<String>,
}

type Statement<'q> = QueryAs<'q, Postgres, (i64, Option<String>), PgArguments>;

/// Inserts `request`'s events and what goes with them; `draw` only with a single event
/// (ignored otherwise: [`crate::EventStore::append_drawing`] refuses more).
pub(crate) async fn insert(
    conn: &mut PgConnection,
    request: &AppendRequest,
    metadata: &Value,
    draw: Option<&Draw>,
) -> Result<Inserted, sqlx::Error> {
    let single = matches!(request.events.as_slice(), [_]);
    // A value is drawn into one event; the statement for several never binds a draw.
    let draw = draw.filter(|_| single);
    let keep = request.idempotency.is_some();
    let sql = match draw {
        Some(draw) => draw::statement(draw, keep, request.row),
        None => statement(single, keep, request.row),
    };
    // The arrays only for several events: a single one (most commands) binds its fields.
    let columns;
    let query = match request.events.as_slice() {
        [event] => sqlx::query_as(AssertSqlSafe(sql))
            .bind(&request.stream_id)
            .bind(request.expected_version)
            .bind(Uuid::from(event.event_id))
            .bind(&event.event_type)
            .bind(event.schema_version)
            .bind(&event.payload)
            .bind(metadata),
        _ => {
            columns = Columns::of(request);
            sqlx::query_as(AssertSqlSafe(sql))
                .bind(&request.stream_id)
                .bind(request.expected_version)
                .bind(&columns.ids)
                .bind(&columns.types)
                .bind(&columns.schemas)
                .bind(&columns.payloads)
                .bind(metadata)
        }
    };
    let query = bind_key(query, request.idempotency.as_ref());
    let query = match draw {
        Some(draw) => query
            .bind(&draw.args)
            .bind(draw.payload_path)
            .bind(draw.answer_path),
        None => query,
    };
    let rows = query.fetch_all(&mut *conn).await?;
    Ok(Inserted {
        drawn: rows.first().and_then(|(_, drawn)| drawn.clone()),
        positions: rows.into_iter().map(|(position, _)| position).collect(),
    })
}

fn bind_key<'q>(
    query: Statement<'q>,
    key: Option<&'q (IdempotencyKey, Box<RawValue>)>,
) -> Statement<'q> {
    match key {
        None => query,
        Some((key, response)) => query
            .bind(&key.key)
            .bind(&key.request_hash)
            .bind(response)
            .bind(ttl_ms(key)),
    }
}

/// Several events' fields, as the arrays the insert unnests.
struct Columns<'r> {
    ids: Vec<Uuid>,
    types: Vec<&'r str>,
    schemas: Vec<i32>,
    payloads: Vec<Json<&'r RawValue>>,
}

impl<'r> Columns<'r> {
    fn of(request: &'r AppendRequest) -> Columns<'r> {
        let events = &request.events;
        Columns {
            ids: events.iter().map(|e| Uuid::from(e.event_id)).collect(),
            types: events.iter().map(|e| e.event_type.as_str()).collect(),
            schemas: events.iter().map(|e| e.schema_version).collect(),
            payloads: events.iter().map(|e| Json(&*e.payload)).collect(),
        }
    }
}

/// `$1`–`$7` are the events' (as in the plain append), `$8`–`$11` the key's.
fn statement(single: bool, keep: bool, row: Option<&str>) -> String {
    let insert = if single {
        insert_one_event!()
    } else {
        insert_events!()
    };
    if !keep && row.is_none() {
        return format!("{insert} RETURNING position, NULL::text");
    }
    let mut sql = format!(
        "WITH appended AS ({insert} RETURNING position, stream_id, version, event_type, payload)"
    );
    if keep {
        sql.push_str(&kept("$10"));
    }
    push_row(&mut sql, row);
    sql.push_str(&finish(keep, "NULL::text"));
    sql
}

/// The key kept with `answer` (an expression over `$10`) once the events are in.
pub(crate) fn kept(answer: &str) -> String {
    format!(
        concat!(
            ", kept AS (INSERT INTO idempotency_keys (key, request_hash, response, stream_id, expires_at)
               SELECT $8, $9, {answer}, $1, now() + make_interval(secs => $11::float8 / 1000)
               WHERE EXISTS (SELECT 1 FROM appended) ",
            keep_unless_live!(),
            " RETURNING 1)"
        ),
        answer = answer
    )
}

/// The caller's read-model row over `appended`.
pub(crate) fn push_row(sql: &mut String, row: Option<&str>) {
    if let Some(row) = row {
        sql.push_str(", read_model_row AS (");
        sql.push_str(row);
        sql.push(')');
    }
}

/// Each event's position and `drawn`; with a key, the statement fails unless it was kept.
pub(crate) fn finish(keep: bool, drawn: &str) -> String {
    if keep {
        format!(
            " SELECT position, {drawn} FROM appended
              WHERE CASE WHEN EXISTS (SELECT 1 FROM kept) THEN true ELSE idempotency_key_live($8) END"
        )
    } else {
        format!(" SELECT position, {drawn} FROM appended")
    }
}
