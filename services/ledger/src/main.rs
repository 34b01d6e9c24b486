//! `tillstream-ledger`: the service, configured from the environment.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tillstream_service::run_main(
        tillstream_ledger::SERVICE,
        tillstream_ledger::DEFAULT_ADDR,
        tillstream_ledger::serve,
    )
    .await
}
