//! `tillstream dlq list|replay|drop`: the dead letters of every consumer under the prefix.
//! A letter is an event a consumer could not apply (malformed, or failing past its
//! retries); replaying republishes it to its subject, where only the consumer that failed
//! acts on it (the others find it in their inbox).

use std::process::ExitCode;

use tillstream_messaging::{DeadLetter, DeadLetters};
use tillstream_service::{ServiceSettings, addrs};

use crate::cli::DlqCommand;

pub async fn run(command: DlqCommand) -> ExitCode {
    let outcome = async {
        let letters = connect().await?;
        let done: Result<(), String> = match command {
            DlqCommand::List { limit } => {
                let listed = letters.list(limit).await.map_err(|e| e.to_string())?;
                for letter in &listed {
                    println!("{}", line(letter));
                }
                if listed.is_empty() {
                    eprintln!("tillstream: no dead letters");
                }
                Ok(())
            }
            DlqCommand::Replay { sequence } => {
                letters.replay(sequence).await.map_err(|e| e.to_string())?;
                eprintln!("tillstream: letter {sequence} replayed");
                Ok(())
            }
            DlqCommand::Drop { sequence } => {
                letters
                    .drop_letter(sequence)
                    .await
                    .map_err(|e| e.to_string())?;
                eprintln!("tillstream: letter {sequence} dropped");
                Ok(())
            }
        };
        done
    }
    .await;
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tillstream: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn connect() -> Result<DeadLetters, String> {
    // Any service's settings carry the broker's URL and the stack's prefix.
    let settings = ServiceSettings::from_env("sales", addrs::SALES).map_err(|e| e.to_string())?;
    let client = tillstream_service::nats_client(&settings.nats_url).await?;
    Ok(DeadLetters::new(client, settings.naming))
}

/// One letter as a JSON line, for people and for `jq`.
fn line(letter: &DeadLetter) -> String {
    serde_json::json!({
        "sequence": letter.sequence,
        "consumer": letter.consumer,
        "reason": letter.reason,
        "subject": letter.original_subject,
        "event_id": letter.event_id,
        "type": letter.ce_type,
        "deliveries": letter.deliveries,
        "bytes": letter.data.len(),
    })
    .to_string()
}
