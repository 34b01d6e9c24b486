//! The registers benchmark, in one run on one machine, through the gateway: what ringing a
//! sale up in a register session (its session's figures and its fiscal journal entry, in
//! the sale's transaction) adds to a sale, against the same sale without a session, one
//! till alternating between the two; and the X report and the close of a session holding
//! 1,000 and 100,000 sales, whose journal and figures are seeded straight into the sales
//! database (ringing 100,000 sales up through the API would take most of an hour here).
//!
//! `cargo run --release -p tillstream-benches --bin registers-bench -- [--seconds N] [--closes N]`

#![allow(clippy::float_arithmetic, reason = "rates and ratios, never money")]

use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tillstream_benches::sales_stack::{SalesStack, sale};
use tillstream_benches::{micros_since, ms, parse_counts};
use tillstream_sales::domain::journal::{GENESIS, canonical, chain};
use tillstream_sales::domain::sale::SaleRecord;
use tillstream_sales::domain::totals::SessionTotals;

const PRODUCTS: usize = 20;
const SIZES: [usize; 2] = [1_000, 100_000];
/// Journal rows written per statement while seeding.
const SEED_BATCH: usize = 5_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut seconds, mut closes) = (10, 20);
    parse_counts(&mut [("seconds", &mut seconds), ("closes", &mut closes)])?;
    let stack = SalesStack::start(PRODUCTS).await?;
    let pool = stack.sales_pool().await?;

    let register = new_register(&stack, "T0").await?;
    let session = open(&stack, &register).await?;
    let (with, without) = alternate(&stack, &session, Duration::from_secs(seconds as u64)).await?;
    println!(
        "## A sale with and without a register session (one till, alternating, {seconds} s)\n"
    );
    println!("| sale | count | p50 ms | p99 ms |");
    println!("|---|---|---|---|");
    for (name, h) in [
        ("without a session", &without),
        ("in a session (figures + journal)", &with),
    ] {
        println!(
            "| {name} | {} | {:.2} | {:.2} |",
            h.len(),
            ms(h, 0.5),
            ms(h, 0.99)
        );
    }
    println!(
        "\nthe session adds {:+.1} % at p50, {:+.1} % at p99\n",
        (ms(&with, 0.5) / ms(&without, 0.5) - 1.0) * 100.0,
        (ms(&with, 0.99) / ms(&without, 0.99) - 1.0) * 100.0
    );

    let record: (sqlx::types::Json<SaleRecord>,) =
        sqlx::query_as("SELECT document FROM sales LIMIT 1")
            .fetch_one(&pool)
            .await?;
    println!("## The X report and the close of a session of N sales ({closes} closes each)\n");
    println!("| sales in the session | X report p50 ms | X p99 ms | close p50 ms | close p99 ms |");
    println!("|---|---|---|---|---|");
    for size in SIZES {
        let register = new_register(&stack, &format!("S{size}")).await?;
        seed_journal(&pool, &register, size).await?;
        let mut totals = SessionTotals::default();
        for _ in 0..size {
            totals
                .add_sale(&record.0.0)
                .context("the figures overflow")?;
        }
        let (mut x, mut close) = (Histogram::<u64>::new(3)?, Histogram::<u64>::new(3)?);
        for _ in 0..closes {
            let session = open(&stack, &register).await?;
            // The figures of `size` sales, as those sales would have left them on the
            // register's row, where an open session's figures are kept.
            sqlx::query("UPDATE registers SET open_totals = $2 WHERE id = $1")
                .bind(&register)
                .bind(sqlx::types::Json(&totals))
                .execute(&pool)
                .await?;
            let mut expected = Value::Null;
            for _ in 0..10 {
                let started = Instant::now();
                let report = get(&stack, &format!("/api/v1/sessions/{session}/report")).await?;
                x.record(micros_since(started))?;
                anyhow::ensure!(
                    report["sales_count"] == size,
                    "the X report holds {size} sales"
                );
                expected = report["expected_cash"].clone();
            }
            let started = Instant::now();
            let path = format!("/api/v1/sessions/{session}/close");
            let (status, closed) = stack
                .post(&stack.cashier, &path, &json!({"counted_cash": expected}))
                .await?;
            close.record(micros_since(started))?;
            anyhow::ensure!(status == 200, "close: {status} {closed}");
        }
        println!(
            "| {size} | {:.2} | {:.2} | {:.2} | {:.2} |",
            ms(&x, 0.5),
            ms(&x, 0.99),
            ms(&close, 0.5),
            ms(&close, 0.99)
        );
        let started = Instant::now();
        let verified = get(
            &stack,
            &format!("/api/v1/registers/{register}/journal/verify"),
        )
        .await?;
        anyhow::ensure!(
            verified["valid"] == true,
            "the seeded journal verifies: {verified}"
        );
        println!(
            "\n(verifying that register's {} journal entries on the server: {:.0} ms)\n",
            verified["entries"],
            micros_since(started) as f64 / 1000.0
        );
    }
    stack.stop().await;
    Ok(())
}

async fn new_register(stack: &SalesStack, code: &str) -> anyhow::Result<String> {
    let body = json!({"location_id": stack.location, "code": code, "name": code});
    let (status, register) = stack
        .post(&stack.manager, "/api/v1/registers", &body)
        .await?;
    anyhow::ensure!(status == 201, "register {code}: {status} {register}");
    Ok(register["id"].as_str().context("a register id")?.to_owned())
}

async fn open(stack: &SalesStack, register: &str) -> anyhow::Result<String> {
    let path = format!("/api/v1/registers/{register}/sessions");
    let (status, session) = stack
        .post(&stack.cashier, &path, &json!({"opening_float": "100.00"}))
        .await?;
    anyhow::ensure!(status == 201, "open: {status} {session}");
    Ok(session["id"].as_str().context("a session id")?.to_owned())
}

async fn get(stack: &SalesStack, path: &str) -> anyhow::Result<Value> {
    let response = stack
        .client
        .get(format!("{}{path}", stack.base))
        .bearer_auth(&stack.manager)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().as_u16() == 200,
        "GET {path}: {}",
        response.status()
    );
    Ok(response.json().await?)
}

/// One till ringing the same sales up alternately in `session` and outside any: the
/// latency of each kind.
async fn alternate(
    stack: &SalesStack,
    session: &str,
    phase: Duration,
) -> anyhow::Result<(Histogram<u64>, Histogram<u64>)> {
    let (mut with, mut without) = (Histogram::<u64>::new(3)?, Histogram::<u64>::new(3)?);
    let deadline = Instant::now() + phase;
    let mut n = 0;
    while Instant::now() < deadline {
        let mut body = sale(&stack.location, n / 2, PRODUCTS);
        let in_session = n % 2 == 1;
        if in_session {
            body["session_id"] = json!(session);
        }
        let started = Instant::now();
        let (status, answer) = stack.post(&stack.cashier, "/api/v1/sales", &body).await?;
        let micros = micros_since(started);
        anyhow::ensure!(status == 201, "a sale: {status} {answer}");
        if in_session {
            with.record(micros)?
        } else {
            without.record(micros)?
        }
        n += 1;
    }
    Ok((with, without))
}

/// `size` chained sale entries at the head of `register`'s journal, as its sales would
/// have left them.
async fn seed_journal(pool: &sqlx::PgPool, register: &str, size: usize) -> anyhow::Result<()> {
    let mut prev = GENESIS.to_owned();
    let at = chrono::Utc::now();
    let mut seq = 0i64;
    while (seq as usize) < size {
        let mut seqs = Vec::with_capacity(SEED_BATCH);
        let (mut ids, mut contents, mut prevs, mut hashes) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        while (seq as usize) < size && seqs.len() < SEED_BATCH {
            seq += 1;
            let id = ulid::Ulid::generate().to_string();
            let content = canonical(&json!({"register_id": register, "seq": seq, "kind": "sale",
                "document_id": id, "total": "12.99", "payments": [{"method": "cash", "amount": "12.99"}]}));
            let hash = chain(&prev, &content);
            seqs.push(seq);
            ids.push(id);
            contents.push(content);
            prevs.push(std::mem::replace(&mut prev, hash.clone()));
            hashes.push(hash);
        }
        sqlx::query(
            "INSERT INTO journal_entries (register_id, seq, kind, document_id, recorded_at, content, prev_hash, hash)
             SELECT $1, s, 'sale', d, $2, c, p, h
             FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) AS t(s, d, c, p, h)",
        )
        .bind(register)
        .bind(at)
        .bind(&seqs)
        .bind(&ids)
        .bind(&contents)
        .bind(&prevs)
        .bind(&hashes)
        .execute(pool)
        .await?;
    }
    sqlx::query("UPDATE registers SET journal_seq = $2, journal_hash = $3 WHERE id = $1")
        .bind(register)
        .bind(seq)
        .bind(&prev)
        .execute(pool)
        .await?;
    Ok(())
}
