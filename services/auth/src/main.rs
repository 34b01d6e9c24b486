//! `tillstream-auth`: the service, configured from the environment.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let options = match tillstream_auth::AuthOptions::from_env() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("tillstream-auth: {error}");
            return ExitCode::from(2);
        }
    };
    tillstream_service::run_main(
        tillstream_auth::SERVICE,
        tillstream_auth::DEFAULT_ADDR,
        |launch| tillstream_auth::serve(launch, options),
    )
    .await
}
