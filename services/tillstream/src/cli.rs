//! The command line.

use clap::{Parser, Subcommand, ValueEnum};

/// Tillstream's ops CLI. Configuration comes from the environment (see the README's table).
#[derive(Debug, Parser)]
#[command(name = "tillstream", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the whole system: prepares the databases, migrations and streams, starts every
    /// service and the gateway as child processes, restarts one that dies, and stops them
    /// all on Ctrl-C or SIGTERM.
    Up {
        /// How many of each service to run (the gateway spreads calls across them; one of
        /// each leads); the gateway is one.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=4))]
        replicas: u8,
    },
    /// Create the databases, apply the migrations, create the streams and the bootstrap
    /// admin, then exit (what `up` does first; a deployment's migration job).
    Migrate,
    /// Run one process of the system in the foreground (what `up` starts for each child).
    Serve {
        #[arg(value_enum)]
        process: Process,
    },
    /// Manage the keys that sign access tokens, directly in the auth database.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage users directly in the auth database (no running system needed).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The stack's JetStream streams and durable consumers with their lag, as JSON lines.
    Streams,
    /// The REST API's OpenAPI 3.1 document (what `GET /api/v1/openapi.json` serves), for
    /// generating a client or validating it without a running system.
    Openapi,
    /// The AsyncAPI 3 document of every published event (what `GET /api/v1/asyncapi.json`
    /// serves).
    Asyncapi,
    /// Stored events with numbers beyond today's bounds (money above 10,000,000,000.00, a
    /// quantity above 1,000,000, or too large to read), as JSON lines.
    Bounds,
    /// The stack's events as JSON lines (attributes and decoded data), following new ones
    /// until Ctrl-C: `tillstream tail --service sales --type SaleCompleted | jq .data`.
    Tail {
        /// One service's events (auth, catalog, inventory, sales, ledger); all when absent.
        #[arg(long)]
        service: Option<String>,
        /// One event type, e.g. `SaleCompleted`; all when absent.
        #[arg(long = "type")]
        event_type: Option<String>,
        /// Start from the oldest event kept instead of only new ones.
        #[arg(long)]
        from_start: bool,
        /// Stop once caught up instead of following.
        #[arg(long)]
        no_follow: bool,
    },
    /// Fill a running system with demo data through its REST API.
    Seed {
        #[command(subcommand)]
        command: SeedCommand,
    },
    /// Simulated tills ringing up sales through the gateway, at a rate or flat out: sales/s,
    /// latency percentiles, errors by status, time until posted and in stock. Sets its
    /// store up first as `admin` with `TILLSTREAM_ADMIN_PASSWORD`; prints a JSON report.
    Bench {
        /// The gateway.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(long, default_value_t = 16)]
        tills: usize,
        /// Sales per second over all tills; flat out when absent.
        #[arg(long)]
        rate: Option<u32>,
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Stores the tills are spread over (sale numbers are counted per store).
        #[arg(long, default_value_t = 4)]
        locations: usize,
        #[arg(long, default_value_t = 200)]
        products: usize,
        /// Skip following each sale to the ledger and stock.
        #[arg(long)]
        no_watch: bool,
        /// Also measure pgbench, JetStream publish and a bare axum handler in this run.
        #[arg(long)]
        baselines: bool,
        /// Append every accepted sale's id to this file.
        #[arg(long)]
        accepted_out: Option<std::path::PathBuf>,
        /// Each till rings up in a register session of its own, opened when the run starts
        /// and closed with an exact count when it ends.
        #[arg(long)]
        sessions: bool,
    },
    /// The relays that publish each service's store to JetStream.
    Relay {
        #[command(subcommand)]
        command: RelayCommand,
    },
    /// The asynchronous read models (projections): list them with their lag, or rebuild one.
    Projection {
        #[command(subcommand)]
        command: ProjectionCommand,
    },
    /// A register's fiscal journal, for an auditor.
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
    /// The dead letters: events a consumer could not apply.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// A realistic store: staff (a manager, two cashiers), two locations, a catalog with
    /// barcodes, stock at both, and a week of sales uploaded as the tills' offline batches.
    /// Logs in as `admin` with `TILLSTREAM_ADMIN_PASSWORD`.
    Demo {
        /// The gateway.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(long, default_value_t = 2_000)]
        products: usize,
        #[arg(long, default_value_t = 7)]
        days: usize,
        /// Sales per location and day.
        #[arg(long, default_value_t = 150)]
        sales_per_day: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum RelayCommand {
    /// Publish the stores to JetStream again (after a broker lost its data): rewinds each
    /// relay, which the running services follow on their next round.
    Republish {
        /// `start` for everything, or an event position to republish from.
        #[arg(long)]
        from: String,
        /// One service; all five when absent.
        #[arg(long)]
        service: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjectionCommand {
    /// Each projection with its live generation and lag, one JSON object per line.
    List,
    /// Rebuild a projection from its service's event log without stopping anything: fills
    /// fresh tables aside while the service keeps the live ones current, then swaps them in
    /// one transaction. Queries see the old rows until the swap and the new ones after.
    Rebuild {
        /// The projection, e.g. `product_sales`.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// The entries recorded in a period as JSON lines, oldest first, each with the hash of
    /// the one before: `sha256(prev_hash + content)` must give `hash`, line after line.
    Export {
        /// The register's id.
        #[arg(long)]
        register: String,
        /// RFC 3339 or a date (from its midnight, UTC); the start of the journal if absent.
        #[arg(long)]
        from: Option<String>,
        /// RFC 3339 or a date (through its end, UTC); now if absent.
        #[arg(long)]
        to: Option<String>,
    },
    /// Recomputes the whole chain; fails naming the first entry that does not follow.
    Verify {
        #[arg(long)]
        register: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List dead letters, oldest first, one JSON object per line.
    List {
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Publish a letter's event again to its subject, then remove the letter.
    Replay { sequence: u64 },
    /// Remove a letter without replaying it.
    Drop { sequence: u64 },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is asked for (twice, unechoed) on a terminal, or read as
    /// one line from standard input: `echo "$PASSWORD" | tillstream user create …`.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = ["admin", "manager", "cashier"])]
        role: String,
    },
}

/// The processes of the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Process {
    Auth,
    Catalog,
    Inventory,
    Sales,
    Ledger,
    Webhooks,
    Gateway,
}

impl Process {
    /// In start order: auth first (the gateway needs its keys), the gateway last.
    pub const ALL: [Process; 7] = [
        Process::Auth,
        Process::Catalog,
        Process::Inventory,
        Process::Sales,
        Process::Ledger,
        Process::Webhooks,
        Process::Gateway,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Process::Auth => "auth",
            Process::Catalog => "catalog",
            Process::Inventory => "inventory",
            Process::Sales => "sales",
            Process::Ledger => "ledger",
            Process::Webhooks => "webhooks",
            Process::Gateway => "gateway",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a new signing key: it signs from now on, and the previous one still verifies
    /// until the tokens it signed expire (15 minutes). With `TILLSTREAM_SIGNING_KEY(_FILE)`
    /// set, rotate by configuring the new key and restarting auth instead.
    Rotate,
}
