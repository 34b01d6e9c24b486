//! `tillstream`: the ops CLI.

mod bench;
mod bounds;
mod cli;
mod dlq;
mod journal;
mod projection;
mod relay;
mod rest;
mod seed;
mod serve;
mod streams;
mod tail;
mod up;
mod user;

use std::future::Future;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// Every service runs in this binary (`tillstream serve <service>`): its many small,
/// short-lived allocations across threads are what mimalloc is built for.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match Cli::parse().command {
        // `up` supervises children from the main thread: a child's parent-death signal
        // fires when the thread that spawned it ends, so that must be the last to end.
        Command::Up { replicas } => on_this_thread(up::up(replicas)),
        Command::Migrate => on_this_thread(up::migrate()),
        Command::Serve { process } => serve::serve(process),
        Command::Keys { command } => on_this_thread(user::keys(command)),
        Command::User { command } => on_this_thread(user::run(command)),
        Command::Dlq { command } => on_this_thread(dlq::run(command)),
        Command::Projection { command } => on_this_thread(projection::run(command)),
        Command::Journal { command } => on_this_thread(journal::run(command)),
        Command::Streams => on_this_thread(streams::run()),
        Command::Asyncapi => {
            println!("{:#}", tillstream_gateway::asyncapi::document());
            ExitCode::SUCCESS
        }
        Command::Openapi => {
            println!("{}", tillstream_gateway::openapi::document());
            ExitCode::SUCCESS
        }
        Command::Bounds => on_this_thread(bounds::run()),
        Command::Seed {
            command:
                cli::SeedCommand::Demo {
                    url,
                    products,
                    days,
                    sales_per_day,
                },
        } => match std::env::var("TILLSTREAM_ADMIN_PASSWORD") {
            Ok(admin_password) => on_this_thread(seed::run(seed::SeedOptions {
                url,
                admin_password,
                products,
                days,
                sales_per_day,
            })),
            Err(_) => {
                eprintln!("tillstream: set TILLSTREAM_ADMIN_PASSWORD to the admin's password");
                ExitCode::from(2)
            }
        },
        Command::Bench {
            url,
            tills,
            rate,
            seconds,
            locations,
            products,
            no_watch,
            baselines,
            accepted_out,
            sessions,
        } => match std::env::var("TILLSTREAM_ADMIN_PASSWORD") {
            Ok(admin_password) => on_this_thread(bench::run(bench::BenchOptions {
                url,
                admin_password,
                tills,
                rate,
                seconds,
                locations,
                products,
                watch: !no_watch,
                baselines,
                accepted_out,
                sessions,
            })),
            Err(_) => {
                eprintln!("tillstream: set TILLSTREAM_ADMIN_PASSWORD to the admin's password");
                ExitCode::from(2)
            }
        },
        Command::Relay {
            command: cli::RelayCommand::Republish { from, service },
        } => on_this_thread(relay::republish(&from, service.as_deref())),
        Command::Tail {
            service,
            event_type,
            from_start,
            no_follow,
        } => on_this_thread(tail::run(tail::TailOptions {
            service,
            event_type,
            from_start,
            no_follow,
        })),
    }
}

/// Runs `work` on a runtime on the main thread.
fn on_this_thread(work: impl Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(work),
        Err(error) => {
            eprintln!("tillstream: no runtime: {error}");
            ExitCode::FAILURE
        }
    }
}
