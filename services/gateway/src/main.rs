//! `tillstream-gateway`: the REST gateway, configured from the environment.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tillstream_gateway::run_main().await
}
