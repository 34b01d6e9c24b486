//! `tillstream-catalog`: the service, configured from the environment.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tillstream_service::run_main(
        tillstream_catalog::SERVICE,
        tillstream_catalog::DEFAULT_ADDR,
        tillstream_catalog::serve,
    )
    .await
}
