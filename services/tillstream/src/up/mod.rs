//! `tillstream up`: the whole system on one machine. Prepares what the services need
//! (databases, migrations, streams, the bootstrap admin), starts every service and then the
//! gateway as child processes on free loopback ports (unless `TILLSTREAM_<SERVICE>_ADDR`
//! says where), waits until the gateway is ready, and supervises until Ctrl-C or SIGTERM.

mod plan;
pub mod prepare;
mod private;
mod supervise;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use tillstream_service::stop_on_signal;
use tokio_util::sync::CancellationToken;

pub use plan::Plan;

/// How long the system may take to become ready before `up` gives up.
const READY_WITHIN: Duration = Duration::from_secs(120);

pub async fn up(replicas: u8) -> ExitCode {
    let pool_configured = std::env::var_os("TILLSTREAM_DB_POOL_SIZE").is_some();
    let plan = match Plan::from_env().and_then(|plan| plan.with_replicas(replicas, pool_configured))
    {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("tillstream: {error}");
            return ExitCode::from(2);
        }
    };
    let auth = match tillstream_auth::AuthOptions::from_env() {
        Ok(auth) => auth,
        Err(error) => {
            eprintln!("tillstream: {error}");
            return ExitCode::from(2);
        }
    };
    let private = match private::PrivateServers::ensure(&plan.lookup()).await {
        Ok(private) => private,
        Err(error) => {
            eprintln!("tillstream: {error}");
            return ExitCode::FAILURE;
        }
    };
    let generated_password = match prepare::prepare(plan.lookup(), auth).await {
        Ok(password) => password,
        Err(error) => {
            eprintln!("tillstream: cannot prepare the system: {error}");
            private.stop().await;
            return ExitCode::FAILURE;
        }
    };

    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    let children = supervise::start_all(&plan, &shutdown);

    let started = Instant::now();
    let ready = tokio::select! {
        ready = supervise::wait_ready(plan.http_addr, READY_WITHIN) => ready,
        () = shutdown.cancelled() => false,
    };
    if ready {
        println!(
            "tillstream: ready in {:.1}s; the gateway is at http://{}",
            started.elapsed().as_secs_f64(),
            plan.http_addr
        );
        if let Some(password) = generated_password {
            println!("tillstream: log in as `admin` with password {password} (shown once)");
        }
    } else if !shutdown.is_cancelled() {
        eprintln!(
            "tillstream: the gateway at http://{} was not ready within {}s; stopping",
            plan.http_addr,
            READY_WITHIN.as_secs()
        );
        shutdown.cancel();
    }
    shutdown.cancelled().await;
    println!("tillstream: stopping");
    for child in children {
        let _ = child.await;
    }
    private.stop().await;
    println!("tillstream: stopped");
    if ready {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `tillstream migrate`: what `up` prepares, and nothing else (a deployment's migration job).
pub async fn migrate() -> ExitCode {
    let auth = match tillstream_auth::AuthOptions::from_env() {
        Ok(auth) => auth,
        Err(error) => {
            eprintln!("tillstream: {error}");
            return ExitCode::from(2);
        }
    };
    match prepare::prepare(|name| std::env::var(name).ok(), auth).await {
        Ok(generated) => {
            if let Some(password) = generated {
                println!("tillstream: log in as `admin` with password {password} (shown once)");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("tillstream: cannot prepare the system: {error}");
            ExitCode::FAILURE
        }
    }
}
