//! `tillstream`: the ops CLI.

mod cli;
mod serve;
mod up;
mod user;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    match Cli::parse().command {
        // `up` supervises children from the main thread: a child's parent-death signal
        // fires when the thread that spawned it ends, so that must be the last to end.
        Command::Up => match current_thread_runtime() {
            Ok(runtime) => runtime.block_on(up::up()),
            Err(error) => {
                eprintln!("tillstream: no runtime: {error}");
                ExitCode::FAILURE
            }
        },
        Command::Serve { process } => serve::serve(process),
        Command::Keys { command } => match current_thread_runtime() {
            Ok(runtime) => runtime.block_on(user::keys(command)),
            Err(error) => {
                eprintln!("tillstream: no runtime: {error}");
                ExitCode::FAILURE
            }
        },
        Command::User { command } => match current_thread_runtime() {
            Ok(runtime) => runtime.block_on(user::run(command)),
            Err(error) => {
                eprintln!("tillstream: no runtime: {error}");
                ExitCode::FAILURE
            }
        },
    }
}

fn current_thread_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
