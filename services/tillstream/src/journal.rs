//! `tillstream journal export|verify`: a register's fiscal journal straight from the sales
//! database, for an auditor. `export` writes a period's entries as JSON lines, oldest first,
//! each with the hash of the one before, so the chain can be checked from the file alone.

use std::io::Write;
use std::process::ExitCode;

use tillstream_sales::projections::journal;
use tillstream_service::moments::{range_end, range_start};

use crate::cli::JournalCommand;
use crate::projection::store_of;

/// Entries read per query.
const PAGE: i64 = 5_000;

pub async fn run(command: JournalCommand) -> ExitCode {
    let outcome = match command {
        JournalCommand::Export { register, from, to } => {
            export(&register, from.as_deref(), to.as_deref()).await
        }
        JournalCommand::Verify { register } => verify(&register).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tillstream: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn export(register: &str, from: Option<&str>, to: Option<&str>) -> Result<(), String> {
    let from = range_start(from.unwrap_or_default()).map_err(|e| format!("--from: {e}"))?;
    let until = range_end(to.unwrap_or_default()).map_err(|e| format!("--to: {e}"))?;
    let store = store_of("sales").await?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut after = 0;
    let mut exported = 0u64;
    loop {
        let entries = journal::period(store.pool(), register, after, from, until, PAGE)
            .await
            .map_err(|e| e.to_string())?;
        for entry in &entries {
            let line = serde_json::json!({
                "register_id": register,
                "seq": entry.seq,
                "kind": entry.kind,
                "document_id": entry.document_id,
                "recorded_at": entry.recorded_at,
                "content": entry.content,
                "prev_hash": entry.prev_hash,
                "hash": entry.hash,
            });
            writeln!(out, "{line}").map_err(|e| e.to_string())?;
        }
        exported += entries.len() as u64;
        match entries.last() {
            Some(last) if entries.len() as i64 == PAGE => after = last.seq,
            _ => break,
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    eprintln!("tillstream: exported {exported} entries of register {register}");
    Ok(())
}

async fn verify(register: &str) -> Result<(), String> {
    let store = store_of("sales").await?;
    let verified = journal::verify(store.pool(), register)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::json!({
            "register_id": register,
            "entries": verified.entries,
            "last_seq": verified.last_seq,
            "last_hash": verified.last_hash,
            "valid": verified.broken_at_seq.is_none(),
            "broken_at_seq": verified.broken_at_seq,
        })
    );
    match verified.broken_at_seq {
        None => Ok(()),
        Some(seq) => Err(format!("the journal breaks at entry {seq}")),
    }
}
