//! An append in one statement, with what goes with it: the idempotency record and a
//! caller's read-model row are data-modifying statements over the events just inserted, so
//! a command that keeps its answer and shows its result at once still costs one round trip.

use serde_json::Value;
use serde_json::value::RawValue;
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::QueryAs;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection};
use uuid::Uuid;

use crate::AppendRequest;
use crate::append::{insert_events, insert_one_event};
use crate::idempotency::{IdempotencyKey, keep_unless_live, ttl_ms};

/// What the statement inserted: each event's position, and whether the key was kept (a
/// live key of a concurrent request leaves it unwritten: an `IdempotencyRace`).
pub(crate) struct Inserted {
    pub positions: Vec<i64>,
    pub kept: bool,
}

type Statement<'q> = QueryAs<'q, Postgres, (i64, bool), PgArguments>;

pub(crate) async fn insert(
    conn: &mut PgConnection,
    request: &AppendRequest,
    metadata: &Value,
) -> Result<Inserted, sqlx::Error> {
    let sql = statement(
        matches!(request.events.as_slice(), [_]),
        request.idempotency.is_some(),
        request.row,
    );
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
    let rows = bind_key(query, request.idempotency.as_ref())
        .fetch_all(&mut *conn)
        .await?;
    Ok(Inserted {
        kept: rows.iter().all(|(_, kept)| *kept),
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
        return format!("{insert} RETURNING position, true");
    }
    let mut sql = format!(
        "WITH appended AS ({insert} RETURNING position, stream_id, version, event_type, payload)"
    );
    if keep {
        sql.push_str(concat!(
            ", kept AS (INSERT INTO idempotency_keys (key, request_hash, response, stream_id, expires_at)
               SELECT $8, $9, $10, $1, now() + make_interval(secs => $11::float8 / 1000)
               WHERE EXISTS (SELECT 1 FROM appended) ",
            keep_unless_live!(),
            " RETURNING 1)"
        ));
    }
    if let Some(row) = row {
        sql.push_str(", read_model_row AS (");
        sql.push_str(row);
        sql.push(')');
    }
    sql.push_str(if keep {
        " SELECT position, EXISTS (SELECT 1 FROM kept) FROM appended"
    } else {
        " SELECT position, true FROM appended"
    });
    sql
}
