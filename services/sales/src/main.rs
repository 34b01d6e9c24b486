//! `tillstream-sales`: the service, configured from the environment.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tillstream_service::run_main(
        tillstream_sales::SERVICE,
        tillstream_sales::DEFAULT_ADDR,
        tillstream_sales::serve,
    )
    .await
}
