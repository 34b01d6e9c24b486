//! An append that draws a value in its own statement (a sale's number from its location's
//! counter) and writes it into its event and its kept answer. Run as one statement outside
//! a transaction, the counter's row is held only while the statement runs, where a
//! transaction drawing first held it for every round trip after; and an append refused
//! (its stream taken, its key held) draws nothing, so numbers keep no gaps.

use sqlx::PgConnection;

use crate::append::{count_appended, version_refused};
use crate::together::{self, finish, kept, push_row};
use crate::{AppendRequest, Appended, EventStore, StoreError};

/// What an append draws, and where the value goes.
#[derive(Debug, Clone)]
pub struct Draw {
    /// A data-modifying statement over `go` (one row whose column `args` is [`Draw::args`],
    /// there only when the append goes ahead) that returns one row with the drawn text as
    /// `value`.
    pub sql: &'static str,
    pub args: Vec<String>,
    /// Where the value goes in the event's payload (`{"sale", "sale_number"}`).
    pub payload_path: &'static [&'static str],
    /// And in the kept answer.
    pub answer_path: &'static [&'static str],
}

impl EventStore {
    /// Appends `request`'s one event with the value `draw` draws, in one statement on
    /// `conn` outside any transaction (its caller's reads may have gone before on the same
    /// connection); returns where it landed and the value.
    pub async fn append_drawing(
        &self,
        conn: &mut PgConnection,
        request: &AppendRequest,
        draw: &Draw,
    ) -> Result<(Appended, String), StoreError> {
        if request.events.len() != 1 || !request.claims.is_empty() {
            return Err(StoreError::NotDrawable);
        }
        let appended = append(conn, request, draw).await?;
        self.announce();
        Ok(appended)
    }
}

async fn append(
    conn: &mut PgConnection,
    request: &AppendRequest,
    draw: &Draw,
) -> Result<(Appended, String), StoreError> {
    let metadata = serde_json::to_value(request.metadata.traced())?;
    let inserted = together::insert(conn, request, &metadata, Some(draw)).await;
    match inserted {
        Ok(together::Inserted {
            positions,
            drawn: Some(drawn),
        }) if positions.len() == 1 => {
            count_appended(&request.events);
            let appended = Appended {
                version: request.expected_version + 1,
                last_position: positions.iter().copied().max().unwrap_or_default(),
            };
            Ok((appended, drawn))
        }
        // The version check failed: nothing was inserted, nothing drawn.
        Ok(_) => Err(version_refused(conn, request).await),
        Err(error) => Err(crate::append::inserting(conn, request, error).await),
    }
}

/// `$1`–`$7` the event's, `$8`–`$11` the key's when it is kept; then the draw's arguments,
/// the payload's path and the answer's.
pub(crate) fn statement(draw: &Draw, keep: bool, row: Option<&str>) -> String {
    let first = if keep { 12 } else { 8 };
    let (args, payload_path, answer_path) = (first, first + 1, first + 2);
    let mut sql = format!(
        "WITH go AS (
             SELECT ${args}::text[] AS args
             WHERE $2 = (SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1)),
         drawn AS ({draw}),
         appended AS (
             INSERT INTO events (stream_id, version, event_id, event_type, schema_version, payload, metadata)
             SELECT $1, $2 + 1, $3, $4, $5, jsonb_set($6::jsonb, ${payload_path}::text[], to_jsonb(drawn.value)), $7
             FROM drawn
             RETURNING position, stream_id, version, event_type, payload)",
        draw = draw.sql
    );
    if keep {
        sql.push_str(&kept(&format!(
            "jsonb_set($10::jsonb, ${answer_path}::text[], to_jsonb((SELECT value FROM drawn)))"
        )));
    }
    push_row(&mut sql, row);
    sql.push_str(&finish(keep, "(SELECT value FROM drawn)"));
    sql
}
