//! `tillstream-inventory`: the service, configured from the environment.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tillstream_service::run_main(
        tillstream_inventory::SERVICE,
        tillstream_inventory::DEFAULT_ADDR,
        tillstream_inventory::serve,
    )
    .await
}
