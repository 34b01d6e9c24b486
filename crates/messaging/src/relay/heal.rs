//! Noticing a broker that lost acknowledged messages, and republishing them from the store.
//!
//! Three ways to lose: the stream was recreated (its sequence restarts), the server crashed
//! before flushing (its last sequence falls behind what it acknowledged) or the stream was
//! purged (sequences continue, the messages are gone). The relay remembers the sequence of
//! its last acknowledged publish and checks it on every (re)connect and now and then.

use async_nats::jetstream::stream::{RawMessageErrorKind, Stream};
use tillstream_eventstore::Cursor;
use tracing::warn;

use super::{Checkpoint, Relay};
use crate::{MessagingError, headers};

/// What a broker check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealOutcome {
    /// The stream holds what the relay last published.
    Intact,
    /// Messages were lost; the relay will republish everything after `from`.
    Healed { from: Cursor, reason: String },
}

impl Relay {
    /// Compares the stream with the relay's last acknowledged publish and rewinds the
    /// relay if the broker lost messages.
    pub async fn verify_broker(&self) -> Result<HealOutcome, MessagingError> {
        let checkpoint = Checkpoint::load(self.store.pool(), &self.stream_name).await?;
        if checkpoint.last_stream_seq == 0 {
            return Ok(HealOutcome::Intact);
        }
        let stream = self
            .js
            .get_stream(&self.stream_name)
            .await
            .map_err(MessagingError::nats)?;
        let state = stream.get_info().await.map_err(MessagingError::nats)?.state;
        let acked = checkpoint.last_stream_seq;

        let (from, reason) = if state.last_sequence < acked {
            // Recreated or lost its tail: what is left is older than anything lost, so
            // resume after the newest survivor.
            let from = if state.messages == 0 {
                Cursor::START
            } else {
                self.cursor_of_message(&stream, state.last_sequence)
                    .await?
                    .unwrap_or(Cursor::START)
            };
            let reason = format!(
                "stream's last sequence {} is behind the acknowledged {acked}",
                state.last_sequence
            );
            (from, reason)
        } else if !self.message_present(&stream, acked).await? {
            // Purged: every message up to the acknowledged one may be gone, and anything
            // after it is newer; republish from the start.
            (
                Cursor::START,
                format!("acknowledged message {acked} is missing (purged?)"),
            )
        } else {
            return Ok(HealOutcome::Intact);
        };
        warn!(stream = %self.stream_name, %reason, ?from, "broker lost messages; republishing from the store");
        metrics::counter!("tillstream_relay_heals_total", "service" => self.config.service.clone())
            .increment(1);
        Checkpoint::rewind(
            self.store.pool(),
            &self.stream_name,
            from,
            Some(state.last_sequence),
        )
        .await?;
        Ok(HealOutcome::Healed { from, reason })
    }

    /// A publish was acknowledged at or below the last acknowledged sequence: the stream
    /// restarted under us. Everything below `first_fresh` survived; resume after it.
    pub(super) async fn heal_after_rewind(
        &self,
        checkpoint: &Checkpoint,
        first_fresh: u64,
    ) -> Result<(), MessagingError> {
        let stream = self
            .js
            .get_stream(&self.stream_name)
            .await
            .map_err(MessagingError::nats)?;
        let from = match first_fresh.checked_sub(1) {
            Some(seq) if seq > 0 => self
                .cursor_of_message(&stream, seq)
                .await?
                .unwrap_or(Cursor::START),
            _ => Cursor::START,
        };
        warn!(
            stream = %self.stream_name,
            acked = checkpoint.last_stream_seq,
            first_fresh,
            ?from,
            "stream sequence went backwards; republishing from the store"
        );
        metrics::counter!("tillstream_relay_heals_total", "service" => self.config.service.clone())
            .increment(1);
        let state = stream.get_info().await.map_err(MessagingError::nats)?.state;
        Checkpoint::rewind(
            self.store.pool(),
            &self.stream_name,
            from,
            Some(state.last_sequence),
        )
        .await
    }

    async fn message_present(&self, stream: &Stream, seq: u64) -> Result<bool, MessagingError> {
        match stream.get_raw_message(seq).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == RawMessageErrorKind::NoMessageFound => Ok(false),
            Err(e) => Err(MessagingError::nats(e)),
        }
    }

    /// The store cursor of the event a stream message carries.
    async fn cursor_of_message(
        &self,
        stream: &Stream,
        seq: u64,
    ) -> Result<Option<Cursor>, MessagingError> {
        let message = match stream.get_raw_message(seq).await {
            Ok(message) => message,
            Err(e) if e.kind() == RawMessageErrorKind::NoMessageFound => return Ok(None),
            Err(e) => return Err(MessagingError::nats(e)),
        };
        Ok(message
            .headers
            .get(headers::LOG_CURSOR)
            .and_then(|v| parse_cursor(v.as_str())))
    }
}

fn parse_cursor(text: &str) -> Option<Cursor> {
    let (tx_id, position) = text.split_once('.')?;
    Some(Cursor {
        tx_id: tx_id.parse().ok()?,
        position: position.parse().ok()?,
    })
}
