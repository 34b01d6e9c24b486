//! Listening, and the end of every `main`.

use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::stop_on_signal;

/// Listens on `addr`; says why not in the log (and the exit code to end with).
pub async fn listen(addr: SocketAddr) -> Result<TcpListener, ExitCode> {
    TcpListener::bind(addr).await.map_err(|error| {
        tracing::error!(%error, %addr, "cannot listen");
        ExitCode::FAILURE
    })
}

/// Runs `serve` until Ctrl-C or SIGTERM cancels its token, logs how it stopped and flushes
/// the traces: the end of every process's `main`.
pub async fn serve_until_signal<F, Fut, E>(serve: F) -> ExitCode
where
    F: FnOnce(CancellationToken) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    let code = match serve(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "stopped");
            ExitCode::FAILURE
        }
    };
    tillstream_telemetry::flush_traces();
    code
}

/// `listener` with `TCP_NODELAY` on every connection. gRPC answers in several small writes
/// (headers, data, trailers); with Nagle's algorithm against the client's delayed ACK each
/// call waited ~40 ms for nothing.
pub fn without_nagle(
    listener: TcpListener,
) -> axum::serve::TapIo<TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    listener.tap_io(set_nodelay as fn(&mut tokio::net::TcpStream))
}

fn set_nodelay(stream: &mut tokio::net::TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "cannot set TCP_NODELAY");
    }
}
