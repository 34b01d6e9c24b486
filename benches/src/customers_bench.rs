//! The customers and stored value benchmark, in one run on one machine, through the gateway,
//! against the real PostgreSQL and NATS:
//! - the same one-line sale paid by gift card and in cash, alternating phases at 1 and 16
//!   tills: sales/s and p50/p99, and the gift card's ratio to cash (goal: latency under
//!   1.5× cash's). Each till pays with a card of its own; a card's row lock is what a
//!   redemption adds.
//! - customer search among `--customers` customers (default 100,000; registered through the
//!   API, so every one is sealed and indexed as in a store), by email, phone, number and two
//!   name words: p50/p99 (goal p99 < 20 ms).
//!
//! `cargo run --release -p tillstream-benches --bin customers-bench -- [--seconds N] [--customers N] [--searches N]`

#![allow(clippy::float_arithmetic, reason = "rates and ratios, never money")]

use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tillstream_benches::sales_stack::SalesStack;
use tillstream_benches::{micros_since, ms, parse_counts};

const PRODUCTS: usize = 20;
/// SKU-00: 1.00 and 8 % tax, so every sale is 1.08.
const TOTAL: &str = "1.08";

fn one_line(location: &str, payment: Value) -> Value {
    json!({"location_id": location, "lines": [{"sku": "SKU-00", "quantity": 1}],
           "payments": [payment]})
}

struct Run {
    sales: u64,
    errors: u64,
    elapsed: Duration,
    latency_us: Histogram<u64>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.sales as f64 / self.elapsed.as_secs_f64()
    }
}

/// `tills` tills ringing up for `phase`, till `i` paying with `payments[i]`.
async fn ring_up(stack: &SalesStack, payments: &[Value], phase: Duration) -> anyhow::Result<Run> {
    let deadline = Instant::now() + phase;
    let started = Instant::now();
    let tasks: Vec<_> = payments
        .iter()
        .map(|payment| {
            let client = stack.client.clone();
            let url = format!("{}/api/v1/sales", stack.base);
            let token = stack.cashier.clone();
            let body = one_line(&stack.location, payment.clone());
            tokio::spawn(async move {
                let mut histogram = Histogram::<u64>::new(3)?;
                let (mut sales, mut errors) = (0u64, 0u64);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let response = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await?;
                    let ok = response.status().as_u16() == 201;
                    response.bytes().await?;
                    histogram.record(micros_since(t))?;
                    if ok {
                        sales += 1;
                    } else {
                        errors += 1;
                    }
                }
                anyhow::Ok((sales, errors, histogram))
            })
        })
        .collect();
    let mut run = Run {
        sales: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latency_us: Histogram::<u64>::new(3)?,
    };
    for task in tasks {
        let (sales, errors, histogram) = task.await??;
        run.sales += sales;
        run.errors += errors;
        run.latency_us.add(histogram)?;
    }
    run.elapsed = started.elapsed();
    Ok(run)
}

/// A card of 10,000.00 per till, sold for cash.
async fn cards(stack: &SalesStack, count: usize) -> anyhow::Result<Vec<String>> {
    let mut codes = Vec::with_capacity(count);
    for _ in 0..count {
        let body =
            json!({"amount": "10000.00", "payments": [{"method": "cash", "amount": "10000.00"}]});
        let (status, card) = stack
            .post(&stack.cashier, "/api/v1/gift-cards", &body)
            .await?;
        anyhow::ensure!(status == 201, "gift card: {status} {card}");
        codes.push(card["code"].as_str().context("a code")?.to_owned());
    }
    Ok(codes)
}

fn customer(n: usize) -> Value {
    json!({"name": format!("Bench{n} Family{}", n % 1000),
           "email": format!("customer{n}@bench.example"),
           "phone": format!("+1 555 {:07}", n)})
}

/// `count` customers registered through the API by 32 writers; their numbers, in order.
async fn register(stack: &SalesStack, count: usize) -> anyhow::Result<(Vec<String>, f64)> {
    let started = Instant::now();
    let writers = 32;
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let client = stack.client.clone();
            let url = format!("{}/api/v1/customers", stack.base);
            let token = stack.manager.clone();
            tokio::spawn(async move {
                let mut numbers = Vec::new();
                for n in (writer..count).step_by(writers) {
                    let response = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&customer(n))
                        .send()
                        .await?;
                    anyhow::ensure!(response.status().as_u16() == 201, "customer {n}");
                    let body: Value = response.json().await?;
                    numbers.push((n, body["number"].as_str().unwrap_or_default().to_owned()));
                }
                anyhow::Ok(numbers)
            })
        })
        .collect();
    let mut numbers = vec![String::new(); count];
    for task in tasks {
        for (n, number) in task.await?? {
            numbers[n] = number;
        }
    }
    Ok((numbers, count as f64 / started.elapsed().as_secs_f64()))
}

async fn searches(
    stack: &SalesStack,
    numbers: &[String],
    count: usize,
) -> anyhow::Result<Vec<(&'static str, Histogram<u64>)>> {
    let kinds: [&'static str; 4] = ["email", "phone", "number", "name words"];
    let mut results = Vec::new();
    for kind in kinds {
        let mut histogram = Histogram::<u64>::new(3)?;
        for i in 0..count {
            let n = (i * 7919) % numbers.len();
            let q = match kind {
                "email" => format!("CUSTOMER{n}@bench.example"),
                "phone" => format!("1555{n:07}"),
                "number" => numbers[n].clone(),
                _ => format!("family{} bench{n}", n % 1000),
            };
            let t = Instant::now();
            let response = stack
                .client
                .get(format!("{}/api/v1/customers", stack.base))
                .query(&[("q", q.as_str())])
                .bearer_auth(&stack.cashier)
                .send()
                .await?;
            let body: Value = response.json().await?;
            histogram.record(micros_since(t))?;
            anyhow::ensure!(body["meta"]["total"] == 1, "{kind} `{q}`: {body}");
        }
        results.push((kind, histogram));
    }
    Ok(results)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut seconds, mut customers, mut count) = (10, 100_000, 500);
    parse_counts(&mut [
        ("seconds", &mut seconds),
        ("customers", &mut customers),
        ("searches", &mut count),
    ])?;
    let phase = Duration::from_secs(u64::try_from(seconds)?);
    let stack = SalesStack::start(PRODUCTS).await?;
    println!("## A sale paid by gift card beside the same sale in cash ({seconds} s per phase)\n");
    println!(
        "| tills | tender | sales/s | p50 ms | p99 ms | errors | gift card ÷ cash, p50 / p99 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for tills in [1usize, 16] {
        let codes = cards(&stack, tills).await?;
        let by_card: Vec<Value> = codes
            .iter()
            .map(|code| json!({"method": "gift_card", "amount": TOTAL, "reference": code}))
            .collect();
        let in_cash = vec![json!({"method": "cash", "amount": TOTAL}); tills];
        let cash = ring_up(&stack, &in_cash, phase).await?;
        let card = ring_up(&stack, &by_card, phase).await?;
        for (tender, run) in [("cash", &cash), ("gift_card", &card)] {
            let ratio = if tender == "gift_card" {
                format!(
                    "{:.2} / {:.2}",
                    ms(&card.latency_us, 0.5) / ms(&cash.latency_us, 0.5),
                    ms(&card.latency_us, 0.99) / ms(&cash.latency_us, 0.99)
                )
            } else {
                String::new()
            };
            println!(
                "| {tills} | {tender} | {:.0} | {:.1} | {:.1} | {} | {ratio} |",
                run.rate(),
                ms(&run.latency_us, 0.5),
                ms(&run.latency_us, 0.99),
                run.errors
            );
        }
    }
    let (numbers, rate) = register(&stack, customers).await?;
    println!(
        "\n## Customer search among {customers} customers ({rate:.0} registered/s through the API)\n"
    );
    println!("| by | searches | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|");
    for (kind, histogram) in searches(&stack, &numbers, count).await? {
        println!(
            "| {kind} | {count} | {:.2} | {:.2} | {:.2} |",
            ms(&histogram, 0.5),
            ms(&histogram, 0.99),
            histogram.max() as f64 / 1000.0
        );
    }
    stack.stop().await;
    Ok(())
}
