//! `tillstream user create` and `tillstream keys rotate`: straight into the auth database.
//! A user for the first manager of a store or an admin who lost their password, through the
//! auth service's own command, so the username claim, the password policy and the event are
//! the same; a new signing key through auth's own key store.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use tillstream_eventstore::{EventMetadata, EventStore};
use tillstream_service::{ServiceSettings, addrs, connect_database};

use crate::cli::{KeysCommand, UserCommand};

pub async fn keys(command: KeysCommand) -> ExitCode {
    let KeysCommand::Rotate = command;
    let outcome = async {
        let store = auth_store().await?;
        tillstream_auth::keys::rotate(store.pool())
            .await
            .map_err(|e| format!("cannot rotate: {e}"))
    }
    .await;
    match outcome {
        Ok(key) => {
            println!("tillstream: key {} signs from now on", key.kid);
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("tillstream: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn auth_store() -> Result<EventStore, String> {
    let settings = ServiceSettings::from_env("auth", addrs::AUTH).map_err(|e| e.to_string())?;
    let pool = connect_database(&settings, &tillstream_auth::MIGRATOR)
        .await
        .map_err(|e| format!("auth database {}: {e}", settings.database))?;
    Ok(EventStore::new(pool))
}

pub async fn run(command: UserCommand) -> ExitCode {
    let UserCommand::Create { username, role } = command;
    match create(&username, &role).await {
        Ok(message) => {
            println!("tillstream: {message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("tillstream: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn create(username: &str, role: &str) -> Result<String, String> {
    let role = role
        .parse()
        .map_err(|e: tillstream_access::UnknownRole| e.to_string())?;
    let password = read_password()?;
    let store = auth_store().await?;
    let metadata = EventMetadata {
        actor: Some("tillstream-cli".into()),
        ..Default::default()
    };
    let row = tillstream_auth::commands::register_user::register_user(
        &store,
        username,
        &password,
        role,
        &[],
        metadata,
    )
    .await
    .map_err(|e| format!("cannot create `{username}`: {e}"))?;
    Ok(format!(
        "created user `{}` ({}) with role {}",
        row.username, row.id, row.role
    ))
}

/// The password: prompted twice without echo on a terminal, else one line of stdin.
fn read_password() -> Result<String, String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("reading the password: {e}"))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = prompt("Password: ")?;
    let second = prompt("Again: ")?;
    if first != second {
        return Err("the two passwords differ".into());
    }
    Ok(first)
}

fn prompt(text: &str) -> Result<String, String> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    eprint!("{text}");
    let _ = std::io::stderr().flush();
    let saved = tcgetattr(&stdin).map_err(|e| e.to_string())?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet).map_err(|e| e.to_string())?;
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
    eprintln!();
    read.map_err(|e| format!("reading the password: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
