//! Dead letters: events a consumer gave up on, kept in `<prefix>_dlq` with the reason, for
//! an operator to inspect, replay or drop. JetStream itself only raises an advisory and
//! leaves the message where it was; copying it here is ours to do.

use async_nats::HeaderMap;
use async_nats::jetstream::{self, stream::RawMessageErrorKind};
use futures::StreamExt;

use crate::{
    ConsumerConfig, MessagingError, Naming, StreamSettings, ensure_dead_letter_stream, headers,
};

/// One dead letter as an operator sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// Its sequence in the dead-letter stream: the handle for replay and drop.
    pub sequence: u64,
    pub consumer: String,
    pub reason: String,
    pub original_subject: String,
    pub event_id: Option<String>,
    pub ce_type: Option<String>,
    pub deliveries: Option<i64>,
    pub data: bytes::Bytes,
}

/// How many letters `consumer` (a durable name) filed that nobody has replayed or dropped
/// yet; 0 while there is no dead-letter stream.
pub async fn dead_letter_depth(
    js: &jetstream::Context,
    naming: &Naming,
    consumer: &str,
) -> Result<usize, MessagingError> {
    let Ok(stream) = js.get_stream(naming.dead_letter_stream()).await else {
        return Ok(0);
    };
    let subjects = stream
        .info_with_subjects(naming.dead_letter_subject(consumer))
        .await
        .map_err(MessagingError::nats)?;
    Ok(subjects
        .filter_map(|entry| async move { entry.ok().map(|(_, count)| count) })
        .fold(0, |total, count| async move { total + count })
        .await)
}

/// Puts `dead_letter_depth` into `tillstream_dead_letters{consumer}`.
pub(crate) async fn report_depth(js: &jetstream::Context, config: &ConsumerConfig) {
    let consumer = config.durable_name();
    if let Ok(depth) = dead_letter_depth(js, &config.naming, &consumer).await {
        metrics::gauge!("tillstream_dead_letters", "consumer" => consumer).set(depth as f64);
    }
}

/// Copies `message` to the consumer's dead-letter subject with the reason. The message id
/// is the consumer and the source sequence, so a crash before the ack does not file it twice.
pub(crate) async fn send_to_dead_letters(
    js: &jetstream::Context,
    config: &ConsumerConfig,
    message: &jetstream::Message,
    reason: &str,
) -> Result<(), MessagingError> {
    ensure_dead_letter_stream(js, &config.naming, &StreamSettings::default()).await?;
    let consumer = config.durable_name();
    let (stream_seq, deliveries) = message
        .info()
        .map(|i| (i.stream_sequence, i.delivered))
        .unwrap_or((0, 0));
    let mut h = match &message.headers {
        Some(original) => copy_headers(original, |_| true),
        None => HeaderMap::new(),
    };
    h.insert(headers::MSG_ID, format!("{consumer}.{stream_seq}").as_str());
    h.insert(headers::DLQ_REASON, truncate(reason, 1000));
    h.insert(headers::DLQ_CONSUMER, consumer.as_str());
    h.insert(headers::DLQ_SUBJECT, message.subject.as_str());
    h.insert(headers::DLQ_STREAM_SEQ, stream_seq.to_string().as_str());
    h.insert(headers::DLQ_DELIVERIES, deliveries.to_string().as_str());
    js.publish_with_headers(
        config.naming.dead_letter_subject(&consumer),
        h,
        message.payload.clone(),
    )
    .await
    .map_err(MessagingError::nats)?
    .await
    .map_err(MessagingError::nats)?;
    tracing::warn!(%consumer, stream_seq, reason, "event dead-lettered");
    Ok(())
}

/// The headers `keep` accepts, never the old `Nats-Msg-Id` (the copy gets its own).
fn copy_headers(original: &HeaderMap, keep: impl Fn(&str) -> bool) -> HeaderMap {
    let mut copy = HeaderMap::new();
    for (name, values) in original.iter() {
        let name_str: &str = name.as_ref();
        if keep(name_str) && !name_str.eq_ignore_ascii_case(headers::MSG_ID) {
            for value in values {
                copy.append(name.clone(), value.clone());
            }
        }
    }
    copy
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

/// The dead-letter stream of one prefix.
#[derive(Debug, Clone)]
pub struct DeadLetters {
    js: jetstream::Context,
    naming: Naming,
}

impl DeadLetters {
    pub fn new(client: async_nats::Client, naming: Naming) -> Self {
        DeadLetters {
            js: jetstream::new(client),
            naming,
        }
    }

    /// Up to `limit` dead letters, oldest first.
    pub async fn list(&self, limit: usize) -> Result<Vec<DeadLetter>, MessagingError> {
        let stream =
            ensure_dead_letter_stream(&self.js, &self.naming, &StreamSettings::default()).await?;
        let state = stream.state;
        let stream = self
            .js
            .get_stream(self.naming.dead_letter_stream())
            .await
            .map_err(MessagingError::nats)?;
        let mut letters = Vec::new();
        let mut seq = state.first_sequence;
        while seq <= state.last_sequence && letters.len() < limit {
            match stream.get_raw_message(seq).await {
                Ok(message) => letters.push(to_dead_letter(seq, &message.headers, message.payload)),
                // Deleted (replayed or dropped) letters leave holes.
                Err(e) if e.kind() == RawMessageErrorKind::NoMessageFound => {}
                Err(e) => return Err(MessagingError::nats(e)),
            }
            seq += 1;
        }
        Ok(letters)
    }

    /// How many dead letters are waiting.
    pub async fn depth(&self) -> Result<u64, MessagingError> {
        let info =
            ensure_dead_letter_stream(&self.js, &self.naming, &StreamSettings::default()).await?;
        Ok(info.state.messages)
    }

    /// Publishes the letter's event again to its original subject, then removes the
    /// letter. Consumers that already applied it find it in their inbox; the one that
    /// failed gets another go. The message id is new so the duplicate window lets it in.
    pub async fn replay(&self, sequence: u64) -> Result<(), MessagingError> {
        let stream = self
            .js
            .get_stream(self.naming.dead_letter_stream())
            .await
            .map_err(MessagingError::nats)?;
        let message = stream
            .get_raw_message(sequence)
            .await
            .map_err(MessagingError::nats)?;
        let letter = to_dead_letter(sequence, &message.headers, message.payload.clone());
        let mut h = copy_headers(&message.headers, |name| {
            !name.starts_with("Tillstream-Dlq-")
        });
        let replay_id = format!(
            "{}.replay.{sequence}",
            letter.event_id.as_deref().unwrap_or("unknown")
        );
        h.insert(headers::MSG_ID, replay_id.as_str());
        self.js
            .publish_with_headers(letter.original_subject.clone(), h, message.payload)
            .await
            .map_err(MessagingError::nats)?
            .await
            .map_err(MessagingError::nats)?;
        stream
            .delete_message(sequence)
            .await
            .map_err(MessagingError::nats)?;
        tracing::info!(sequence, subject = %letter.original_subject, "dead letter replayed");
        Ok(())
    }

    /// Removes a letter without replaying it.
    pub async fn drop_letter(&self, sequence: u64) -> Result<(), MessagingError> {
        let stream = self
            .js
            .get_stream(self.naming.dead_letter_stream())
            .await
            .map_err(MessagingError::nats)?;
        stream
            .delete_message(sequence)
            .await
            .map_err(MessagingError::nats)?;
        Ok(())
    }
}

fn to_dead_letter(sequence: u64, h: &HeaderMap, data: bytes::Bytes) -> DeadLetter {
    let get = |name: &str| h.get(name).map(|v| v.as_str().to_owned());
    DeadLetter {
        sequence,
        consumer: get(headers::DLQ_CONSUMER).unwrap_or_default(),
        reason: get(headers::DLQ_REASON).unwrap_or_default(),
        original_subject: get(headers::DLQ_SUBJECT).unwrap_or_default(),
        event_id: get(headers::ID),
        ce_type: get(headers::TYPE),
        deliveries: get(headers::DLQ_DELIVERIES).and_then(|v| v.parse().ok()),
        data,
    }
}
