//! `tillstream streams`: the stack's JetStream streams and their durable consumers with
//! what each still has to do, one JSON object per line (for people, `jq` and alerts).

use std::process::ExitCode;

use futures::TryStreamExt;
use tillstream_service::{ServiceSettings, addrs};

pub async fn run() -> ExitCode {
    match list().await {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("tillstream: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn list() -> Result<Vec<serde_json::Value>, String> {
    // Any service's settings carry the broker's URL and the stack's prefix.
    let settings = ServiceSettings::from_env("sales", addrs::SALES).map_err(|e| e.to_string())?;
    let client = tillstream_service::nats_client(&settings.nats_url).await?;
    let js = async_nats::jetstream::new(client);
    let ours = format!("{}_", settings.naming.prefix());
    let mut streams: Vec<_> = js
        .streams()
        .try_collect::<Vec<_>>()
        .await
        .map_err(|e| format!("listing streams: {e}"))?
        .into_iter()
        .filter(|info| info.config.name.starts_with(&ours))
        .collect();
    streams.sort_by(|a, b| a.config.name.cmp(&b.config.name));
    let mut lines = Vec::new();
    for info in streams {
        let name = info.config.name.clone();
        lines.push(serde_json::json!({
            "stream": name,
            "messages": info.state.messages,
            "bytes": info.state.bytes,
            "first_sequence": info.state.first_sequence,
            "last_sequence": info.state.last_sequence,
            "consumers": info.state.consumer_count,
        }));
        let stream = js
            .get_stream(&name)
            .await
            .map_err(|e| format!("stream {name}: {e}"))?;
        let mut consumers: Vec<_> = stream
            .consumers()
            .try_collect::<Vec<_>>()
            .await
            .map_err(|e| format!("consumers of {name}: {e}"))?;
        consumers.sort_by(|a, b| a.name.cmp(&b.name));
        for consumer in consumers {
            lines.push(serde_json::json!({
                "stream": name,
                "consumer": consumer.name,
                // Messages not yet delivered: the consumer's lag.
                "pending": consumer.num_pending,
                "ack_pending": consumer.num_ack_pending,
                "redelivered": consumer.num_redelivered,
                "delivered_sequence": consumer.delivered.stream_sequence,
                "ack_floor_sequence": consumer.ack_floor.stream_sequence,
            }));
        }
    }
    Ok(lines)
}
