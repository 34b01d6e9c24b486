//! `tillstream-auth`: the service, configured from the environment.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // The bootstrap admin's password; generated and printed once when unset.
    let admin_password = std::env::var("TILLSTREAM_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    tillstream_service::run_main(
        tillstream_auth::SERVICE,
        tillstream_auth::DEFAULT_ADDR,
        |settings, listener, shutdown| {
            tillstream_auth::serve(settings, admin_password, listener, shutdown)
        },
    )
    .await
}
