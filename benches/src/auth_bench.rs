//! The auth benchmark, in one run on one machine:
//! - access-token verifications per second on one core (`KeySet::verify`: header, key
//!   lookup, Ed25519 signature, claims), beside the bare Ed25519 signature check it is built
//!   on;
//! - login latency through the auth service over gRPC against the real PostgreSQL, beside
//!   the Argon2id verification that dominates it.
//!
//! `cargo run --release -p tillstream-benches --bin auth-bench -- [--seconds N] [--logins N]`

#![allow(clippy::float_arithmetic, reason = "rates and ratios, never money")]

use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use ed25519_dalek::{Signer, SigningKey, Verifier};
use hdrhistogram::Histogram;
use tillstream_access::testing::TestSigner;
use tillstream_access::{Role, VerifiedTokens};
use tillstream_benches::parse_counts;
use tillstream_proto::auth::v1 as pb;
use tillstream_proto::auth::v1::auth_service_client::AuthServiceClient;
use tillstream_service::Launch;
use tillstream_test_support::{TestDatabase, TestPrefix, stack_env, unique_name};
use tokio_util::sync::CancellationToken;

struct Options {
    seconds: u64,
    logins: usize,
}

fn options() -> anyhow::Result<Options> {
    let (mut seconds, mut logins) = (2, 40);
    parse_counts(&mut [("seconds", &mut seconds), ("logins", &mut logins)])?;
    Ok(Options {
        seconds: u64::try_from(seconds)?,
        logins,
    })
}

/// Calls `work` in a loop on this thread for `seconds`; calls per second.
fn rate(seconds: u64, mut work: impl FnMut() -> bool) -> anyhow::Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut done = 0u64;
    while Instant::now() < deadline {
        for _ in 0..256 {
            anyhow::ensure!(work(), "a verification failed");
        }
        done += 256;
    }
    Ok(done as f64 / started.elapsed().as_secs_f64())
}

fn millis(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    histogram.value_at_quantile(quantile) as f64 / 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    println!("## Access tokens on one core\n");
    let signer = TestSigner::new("bench", [5; 32]);
    let keys = signer.key_set();
    let token = signer.token(Role::Cashier);
    let verifications = rate(options.seconds, || keys.verify(&token).is_ok())?;
    let key = SigningKey::from_bytes(&[5; 32]);
    let message = token.as_bytes();
    let signature = key.sign(message);
    let public = key.verifying_key();
    let bare = rate(options.seconds, || {
        public.verify(message, &signature).is_ok()
    })?;
    let cache = VerifiedTokens::default();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
    };
    let cached = rate(options.seconds, || {
        cache.verify(&keys, &token, now()).is_ok()
    })?;
    println!("| what | per second | ratio |\n|---|---|---|");
    println!("| bare Ed25519 signature check (baseline) | {bare:.0} | 1.00 |");
    println!(
        "| `KeySet::verify` (header, kid, signature, claims), every token new | {verifications:.0} | {:.2} |",
        verifications / bare
    );
    println!(
        "| `VerifiedTokens::verify`, the same token again (what the gateway does) | {cached:.0} | {:.2} |\n",
        cached / bare
    );

    println!("## Login latency ({} logins)\n", options.logins);
    let hash = Argon2::default()
        .hash_password(b"correct horse battery")
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .to_string();
    let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut argon = Histogram::<u64>::new(3)?;
    for _ in 0..options.logins {
        let started = Instant::now();
        Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        argon.record(u64::try_from(started.elapsed().as_micros())?)?;
    }

    let prefix = TestPrefix::new();
    let env = stack_env(&prefix.prefix, &unique_name("bench"));
    let settings = tillstream_auth::Settings::from_lookup("auth", "127.0.0.1:0", env)?;
    let _db = TestDatabase {
        server_url: settings.database_url.clone(),
        name: settings.database.clone(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let stop = CancellationToken::new();
    let server = tokio::spawn(tillstream_auth::serve(
        Launch {
            settings,
            listener,
            shutdown: stop.clone(),
        },
        tillstream_auth::AuthOptions::with_admin_password("correct horse battery"),
    ));
    let mut client = loop {
        if let Ok(client) = AuthServiceClient::connect(url.clone()).await {
            break client;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut login = Histogram::<u64>::new(3)?;
    for _ in 0..options.logins {
        let started = Instant::now();
        client
            .login(pb::LoginRequest {
                username: "admin".into(),
                password: "correct horse battery".into(),
            })
            .await?;
        login.record(u64::try_from(started.elapsed().as_micros())?)?;
    }
    stop.cancel();
    let _ = server.await;

    println!("| what | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|");
    for (name, h) in [
        (
            "Argon2id verify alone (baseline; m=19 MiB, t=2, p=1)",
            &argon,
        ),
        (
            "login over gRPC (lockout check, Argon2id, session, token)",
            &login,
        ),
    ] {
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.1} |",
            millis(h, 0.5),
            millis(h, 0.95),
            millis(h, 0.99),
            h.max() as f64 / 1000.0
        );
    }
    println!(
        "\nlogin p50 / Argon2id p50 = {:.2}",
        millis(&login, 0.5) / millis(&argon, 0.5)
    );
    Ok(())
}
