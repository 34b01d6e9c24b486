//! `tillstream-webhooks`: the service, configured from the environment.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tillstream_service::run_main(
        tillstream_webhooks::SERVICE,
        tillstream_webhooks::DEFAULT_ADDR,
        tillstream_webhooks::serve,
    )
    .await
}
