//! The relay's row in `relay_checkpoints`: its cursor into the log, the stream sequence
//! of its last acknowledged publish, and the heal epoch that suffixes message ids.

use sqlx::PgPool;
use tillstream_eventstore::Cursor;
use tillstream_kernel::Ulid;
use uuid::Uuid;

use crate::MessagingError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    pub relay: String,
    pub cursor: Cursor,
    pub last_stream_seq: u64,
    pub last_event_id: Option<Ulid>,
    pub heal_epoch: i32,
    /// Events acknowledged since this relay last loaded its checkpoint (in memory only).
    pub events_since_load: usize,
}

impl Checkpoint {
    /// The relay's row, created on its first load: one statement on every later one.
    pub async fn load(pool: &PgPool, relay: &str) -> Result<Self, MessagingError> {
        if let Some(checkpoint) = Self::read(pool, relay).await? {
            return Ok(checkpoint);
        }
        sqlx::query("INSERT INTO relay_checkpoints (relay) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(relay)
            .execute(pool)
            .await?;
        // Only a row deleted between the two statements is missing here.
        Self::read(pool, relay)
            .await?
            .ok_or(MessagingError::Database(sqlx::Error::RowNotFound))
    }

    async fn read(pool: &PgPool, relay: &str) -> Result<Option<Self>, MessagingError> {
        let row: Option<(i64, i64, i64, Option<Uuid>, i32)> = sqlx::query_as(
            "SELECT tx_id::text::bigint, position, last_stream_seq, last_event_id, heal_epoch
                 FROM relay_checkpoints WHERE relay = $1",
        )
        .bind(relay)
        .fetch_optional(pool)
        .await?;
        Ok(row.map(
            |(tx_id, position, last_seq, last_event, heal_epoch)| Checkpoint {
                relay: relay.to_owned(),
                cursor: Cursor { tx_id, position },
                last_stream_seq: u64::try_from(last_seq).unwrap_or(0),
                last_event_id: last_event.map(Ulid::from),
                heal_epoch,
                events_since_load: 0,
            },
        ))
    }

    /// The broker's dedup key for an event: its id, suffixed after a heal.
    pub fn message_id(&self, event_id: Ulid) -> String {
        if self.heal_epoch == 0 {
            event_id.to_string()
        } else {
            format!("{event_id}.{}", self.heal_epoch)
        }
    }

    /// Moves the checkpoint forward unless someone rewound it meanwhile (then false).
    pub async fn advance(
        &self,
        pool: &PgPool,
        cursor: Cursor,
        last_stream_seq: u64,
        last_event_id: Ulid,
    ) -> Result<bool, MessagingError> {
        let done = sqlx::query(
            "UPDATE relay_checkpoints
             SET tx_id = $2::bigint::text::xid8, position = $3, last_stream_seq = $4,
                 last_event_id = $5, updated_at = now()
             WHERE relay = $1 AND tx_id = $6::bigint::text::xid8 AND position = $7 AND heal_epoch = $8",
        )
        .bind(&self.relay)
        .bind(cursor.tx_id)
        .bind(cursor.position)
        .bind(i64::try_from(last_stream_seq).unwrap_or(i64::MAX))
        .bind(Uuid::from(last_event_id))
        .bind(self.cursor.tx_id)
        .bind(self.cursor.position)
        .bind(self.heal_epoch)
        .execute(pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// This checkpoint after `events` more were acknowledged, up to `cursor`.
    pub fn advanced(
        self,
        cursor: Cursor,
        last_stream_seq: u64,
        last_event_id: Ulid,
        events: usize,
    ) -> Self {
        Checkpoint {
            cursor,
            last_stream_seq,
            last_event_id: Some(last_event_id),
            events_since_load: self.events_since_load + events,
            ..self
        }
    }

    /// Sets the cursor back to `from` and starts a new heal epoch. `stream_seq`, when
    /// known, becomes the new baseline for noticing the next loss.
    pub async fn rewind(
        pool: &PgPool,
        relay: &str,
        from: Cursor,
        stream_seq: Option<u64>,
    ) -> Result<(), MessagingError> {
        sqlx::query("INSERT INTO relay_checkpoints (relay) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(relay)
            .execute(pool)
            .await?;
        sqlx::query(
            "UPDATE relay_checkpoints
             SET tx_id = $2::bigint::text::xid8, position = $3,
                 last_stream_seq = coalesce($4, last_stream_seq),
                 heal_epoch = heal_epoch + 1, updated_at = now()
             WHERE relay = $1",
        )
        .bind(relay)
        .bind(from.tx_id)
        .bind(from.position)
        .bind(stream_seq.map(|s| i64::try_from(s).unwrap_or(i64::MAX)))
        .execute(pool)
        .await?;
        // No append says so: wake the relay (of whichever replica leads) to republish now.
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(tillstream_eventstore::APPENDED_CHANNEL)
            .execute(pool)
            .await?;
        Ok(())
    }
}
