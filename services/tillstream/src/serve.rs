//! `tillstream serve <process>`: one process of the system, exactly as its own binary runs it.

use std::process::ExitCode;

use tillstream_service::run_main;

use crate::cli::Process;

pub fn serve(process: Process) -> ExitCode {
    if let Some(parent) = std::env::var(SUPERVISED)
        .ok()
        .and_then(|pid| pid.parse::<i32>().ok())
    {
        die_with_parent(parent);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tillstream: no runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match process {
            Process::Auth => {
                let options = match tillstream_auth::AuthOptions::from_env() {
                    Ok(options) => options,
                    Err(error) => {
                        eprintln!("tillstream: {error}");
                        return ExitCode::from(2);
                    }
                };
                run_main(
                    tillstream_auth::SERVICE,
                    tillstream_auth::DEFAULT_ADDR,
                    |launch| tillstream_auth::serve(launch, options),
                )
                .await
            }
            Process::Catalog => {
                run_main(
                    tillstream_catalog::SERVICE,
                    tillstream_catalog::DEFAULT_ADDR,
                    tillstream_catalog::serve,
                )
                .await
            }
            Process::Inventory => {
                run_main(
                    tillstream_inventory::SERVICE,
                    tillstream_inventory::DEFAULT_ADDR,
                    tillstream_inventory::serve,
                )
                .await
            }
            Process::Sales => {
                run_main(
                    tillstream_sales::SERVICE,
                    tillstream_sales::DEFAULT_ADDR,
                    tillstream_sales::serve,
                )
                .await
            }
            Process::Ledger => {
                run_main(
                    tillstream_ledger::SERVICE,
                    tillstream_ledger::DEFAULT_ADDR,
                    tillstream_ledger::serve,
                )
                .await
            }
            Process::Webhooks => {
                run_main(
                    tillstream_webhooks::SERVICE,
                    tillstream_webhooks::DEFAULT_ADDR,
                    tillstream_webhooks::serve,
                )
                .await
            }
            Process::Gateway => tillstream_gateway::run_main().await,
        }
    })
}

/// Set by `up` in its children's environment, to its own process id.
pub const SUPERVISED: &str = "TILLSTREAM_SUPERVISED";

/// A child of `up` stops when `up` does, even when `up` is killed with SIGKILL and cannot
/// stop it: the kernel sends SIGTERM when the parent goes.
fn die_with_parent(parent: i32) {
    use nix::sys::signal::Signal;
    if let Err(error) = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM) {
        eprintln!("tillstream: cannot follow the parent's death: {error}");
    }
    // The parent may have gone before the signal was armed; then another process adopted us.
    if nix::unistd::getppid() != nix::unistd::Pid::from_raw(parent) {
        std::process::exit(0);
    }
}
