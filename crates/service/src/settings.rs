//! A service's configuration from the environment (the README's table).

use std::net::SocketAddr;

use tillstream_kernel::Currency;
use tillstream_messaging::Naming;

/// A variable that is set but unusable; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct SettingsError {
    pub variable: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ServiceSettings {
    pub service: &'static str,
    /// The PostgreSQL server; the service's database is created under it.
    pub database_url: String,
    /// `TILLSTREAM_DATABASE_READ_URL`: a read-only server (a streaming replica of
    /// `database_url`) for list and report endpoints; the same database name there.
    pub read_database_url: Option<String>,
    /// `<TILLSTREAM_DB_PREFIX>_<service>`.
    pub database: String,
    pub nats_url: String,
    pub naming: Naming,
    /// Where gRPC and the operations endpoints listen (`TILLSTREAM_<SERVICE>_ADDR`).
    pub addr: SocketAddr,
    pub currency: Currency,
    pub prices_include_tax: bool,
    /// The largest discount, in percent of a sale's subtotal, a cashier may give without a
    /// manager (`TILLSTREAM_DISCOUNT_LIMIT_PERCENT`, 0–100).
    pub discount_limit_percent: tillstream_kernel::Decimal,
    /// The tax rate of a repair's labor lines (`TILLSTREAM_LABOR_TAX_RATE`, a fraction in
    /// `[0, 1)`, default 0).
    pub labor_tax_rate: tillstream_kernel::Decimal,
    /// The largest difference between a drawer's count and what it should hold that a
    /// cashier may close alone (`TILLSTREAM_CASH_DIFFERENCE_LIMIT`, default 5.00).
    pub cash_difference_limit: tillstream_kernel::Decimal,
    /// Whether a cashier's sales must name an open session (`TILLSTREAM_REQUIRE_SESSION`).
    pub require_session: bool,
    /// Whether webhooks may go to `http://` and to loopback, private and link-local
    /// addresses (`TILLSTREAM_WEBHOOKS_ALLOW_PRIVATE`; a development or test setting).
    pub webhooks_allow_private: bool,
    /// Connections in the service's pool (`TILLSTREAM_DB_POOL_SIZE`, 1–200, default 16). A
    /// replica also holds one for the leader election and, once it has led, one to LISTEN for
    /// appends (webhooks' one more, for due deliveries), outside the pool:
    /// replicas × services × (pool + 2) must stay under PostgreSQL's `max_connections`.
    pub db_pool_size: u32,
    /// How long each consumer lets events gather after a fetch that was not full
    /// (`TILLSTREAM_CONSUMER_GATHER_MS`, 0–1000, default 50): fewer, larger commits under
    /// load, for at most that much more delay per hop.
    pub consumer_gather: std::time::Duration,
    /// The service's stream as its relay creates or updates it: its size limit from
    /// `TILLSTREAM_STREAM_MAX_GIB` (1–1024; unset: none but the server's).
    pub stream: tillstream_messaging::StreamSettings,
    /// Where auth serves the key set tokens are verified with (`TILLSTREAM_AUTH_ADDR`).
    pub auth_addr: crate::addrs::HostPort,
    /// `TILLSTREAM_JWKS`: a key set to trust instead of asking auth (pinned keys, tests).
    pub jwks: Option<String>,
    /// `TILLSTREAM_DATA_KEY`: the master key that wraps each customer's key (sales).
    pub data_key: Option<Secret>,
}

/// A configured secret: never printed.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl ServiceSettings {
    pub fn from_env(service: &'static str, default_addr: &str) -> Result<Self, SettingsError> {
        Self::from_lookup(service, default_addr, |name| std::env::var(name).ok())
    }

    /// Reads through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(
        service: &'static str,
        default_addr: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SettingsError> {
        let get = |name: &str, default: &str| lookup(name).unwrap_or_else(|| default.to_owned());
        let bad = |variable: &str, message: String| SettingsError {
            variable: variable.to_owned(),
            message,
        };
        let db_prefix = get("TILLSTREAM_DB_PREFIX", "tillstream");
        let addr_variable = crate::addrs::addr_variable(service);
        let addr = get(&addr_variable, default_addr);
        let currency = get("TILLSTREAM_CURRENCY", "USD");
        let auth_variable = crate::addrs::addr_variable("auth");
        let auth_addr = get(&auth_variable, crate::addrs::AUTH);
        let include_tax = get("TILLSTREAM_PRICES_INCLUDE_TAX", "false");
        let discount_limit = get("TILLSTREAM_DISCOUNT_LIMIT_PERCENT", "20");
        let labor_tax_rate = get("TILLSTREAM_LABOR_TAX_RATE", "0");
        let difference_limit = get("TILLSTREAM_CASH_DIFFERENCE_LIMIT", "5.00");
        let cash_difference_limit =
            tillstream_kernel::Money::parse(&difference_limit, Currency::USD)
                .ok()
                .map(|m| m.amount())
                .filter(|limit| !limit.is_sign_negative())
                .ok_or_else(|| {
                    bad(
                        "TILLSTREAM_CASH_DIFFERENCE_LIMIT",
                        format!("`{difference_limit}` is not an amount of zero or more"),
                    )
                })?;
        let require_session = flag(&get("TILLSTREAM_REQUIRE_SESSION", "false"))
            .ok_or_else(|| bad("TILLSTREAM_REQUIRE_SESSION", "true or false".into()))?;
        let webhooks_allow_private = flag(&get("TILLSTREAM_WEBHOOKS_ALLOW_PRIVATE", "false"))
            .ok_or_else(|| bad("TILLSTREAM_WEBHOOKS_ALLOW_PRIVATE", "true or false".into()))?;
        let db_pool_size = get("TILLSTREAM_DB_POOL_SIZE", "16")
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|size| (1..=200).contains(size))
            .ok_or_else(|| {
                bad(
                    "TILLSTREAM_DB_POOL_SIZE",
                    "a whole number from 1 to 200".into(),
                )
            })?;
        let consumer_gather = get("TILLSTREAM_CONSUMER_GATHER_MS", "50")
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|ms| *ms <= 1000)
            .map(std::time::Duration::from_millis)
            .ok_or_else(|| {
                bad(
                    "TILLSTREAM_CONSUMER_GATHER_MS",
                    "a whole number of milliseconds from 0 to 1000".into(),
                )
            })?;
        let max_bytes = match lookup("TILLSTREAM_STREAM_MAX_GIB").filter(|v| !v.trim().is_empty()) {
            None => -1,
            Some(gib) => gib
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|gib| (1..=1024).contains(gib))
                .map(|gib| gib << 30)
                .ok_or_else(|| {
                    bad(
                        "TILLSTREAM_STREAM_MAX_GIB",
                        "a whole number of GiB from 1 to 1024".into(),
                    )
                })?,
        };
        let stream = tillstream_messaging::StreamSettings {
            max_bytes,
            ..Default::default()
        };
        Ok(ServiceSettings {
            db_pool_size,
            consumer_gather,
            stream,
            cash_difference_limit,
            require_session,
            webhooks_allow_private,
            service,
            database_url: get(
                "TILLSTREAM_DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432",
            ),
            read_database_url: lookup("TILLSTREAM_DATABASE_READ_URL")
                .filter(|url| !url.trim().is_empty()),
            database: format!("{db_prefix}_{service}"),
            nats_url: get("TILLSTREAM_NATS_URL", "nats://127.0.0.1:4222"),
            naming: Naming::new(get("TILLSTREAM_SUBJECT_PREFIX", "pos"))
                .map_err(|message| bad("TILLSTREAM_SUBJECT_PREFIX", message))?,
            addr: addr
                .parse()
                .map_err(|e| bad(&addr_variable, format!("`{addr}` is not host:port ({e})")))?,
            currency: currency
                .parse()
                .map_err(|e: tillstream_kernel::MoneyError| {
                    bad("TILLSTREAM_CURRENCY", e.to_string())
                })?,
            auth_addr: auth_addr.parse().map_err(|e| {
                bad(
                    &auth_variable,
                    format!("`{auth_addr}` is not host:port ({e})"),
                )
            })?,
            jwks: lookup("TILLSTREAM_JWKS").filter(|j| !j.trim().is_empty()),
            data_key: lookup("TILLSTREAM_DATA_KEY")
                .filter(|k| !k.trim().is_empty())
                .map(Secret),
            labor_tax_rate: tillstream_kernel::parse_tax_rate(&labor_tax_rate)
                .map_err(|e| bad("TILLSTREAM_LABOR_TAX_RATE", e.to_string()))?,
            discount_limit_percent: tillstream_kernel::parse_percent(&discount_limit)
                .map_err(|e| bad("TILLSTREAM_DISCOUNT_LIMIT_PERCENT", e.to_string()))?,
            prices_include_tax: flag(&include_tax).ok_or_else(|| {
                bad(
                    "TILLSTREAM_PRICES_INCLUDE_TAX",
                    format!("`{}` is not true or false", include_tax.trim()),
                )
            })?,
        })
    }
}

/// `true`, `1`, `yes` or `false`, `0`, `no`, in any case.
fn flag(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_contract_and_bad_values_name_their_variable() {
        let settings =
            ServiceSettings::from_lookup("catalog", "127.0.0.1:50061", |_| None).unwrap();
        assert_eq!(settings.database, "tillstream_catalog");
        assert_eq!(settings.naming.prefix(), "pos");
        assert!(!settings.prices_include_tax);
        assert_eq!(settings.discount_limit_percent.to_string(), "20");
        assert_eq!(settings.cash_difference_limit.to_string(), "5.00");
        assert!(!settings.require_session);
        assert!(!settings.webhooks_allow_private);
        assert_eq!(settings.db_pool_size, 16);
        assert_eq!(settings.consumer_gather.as_millis(), 50);
        assert_eq!(settings.stream.max_bytes, -1, "no limit but the server's");
        let with = |variable: &'static str, value: &'static str| {
            ServiceSettings::from_lookup("catalog", "127.0.0.1:50061", move |n| {
                (n == variable).then(|| value.to_owned())
            })
        };
        assert_eq!(
            with("TILLSTREAM_CATALOG_ADDR", "nowhere")
                .unwrap_err()
                .variable,
            "TILLSTREAM_CATALOG_ADDR"
        );
        assert_eq!(
            with("TILLSTREAM_DISCOUNT_LIMIT_PERCENT", "101")
                .unwrap_err()
                .variable,
            "TILLSTREAM_DISCOUNT_LIMIT_PERCENT"
        );
        assert_eq!(
            with("TILLSTREAM_STREAM_MAX_GIB", "2")
                .unwrap()
                .stream
                .max_bytes,
            2 << 30
        );
        for bad in ["0", "1025", "-1", "1.5"] {
            let refused = with("TILLSTREAM_STREAM_MAX_GIB", bad).unwrap_err();
            assert_eq!(refused.variable, "TILLSTREAM_STREAM_MAX_GIB", "{bad}");
        }
        let read = with("TILLSTREAM_DATABASE_READ_URL", "postgres://replica:5432").unwrap();
        assert_eq!(
            read.read_database_url.as_deref(),
            Some("postgres://replica:5432")
        );
        assert_eq!(
            with("TILLSTREAM_CURRENCY", "XXX").unwrap_err().variable,
            "TILLSTREAM_CURRENCY"
        );
        assert_eq!(
            with("TILLSTREAM_SUBJECT_PREFIX", "a.b")
                .unwrap_err()
                .variable,
            "TILLSTREAM_SUBJECT_PREFIX"
        );
        assert_eq!(
            with("TILLSTREAM_PRICES_INCLUDE_TAX", "maybe")
                .unwrap_err()
                .variable,
            "TILLSTREAM_PRICES_INCLUDE_TAX"
        );
        assert!(
            with("TILLSTREAM_PRICES_INCLUDE_TAX", "true")
                .unwrap()
                .prices_include_tax
        );
        for (variable, value) in [
            ("TILLSTREAM_CASH_DIFFERENCE_LIMIT", "-1"),
            ("TILLSTREAM_CASH_DIFFERENCE_LIMIT", "lots"),
            ("TILLSTREAM_REQUIRE_SESSION", "sometimes"),
            ("TILLSTREAM_DB_POOL_SIZE", "0"),
            ("TILLSTREAM_DB_POOL_SIZE", "500"),
            ("TILLSTREAM_DB_POOL_SIZE", "many"),
            ("TILLSTREAM_CONSUMER_GATHER_MS", "1001"),
            ("TILLSTREAM_CONSUMER_GATHER_MS", "-5"),
        ] {
            assert_eq!(with(variable, value).unwrap_err().variable, variable);
        }
        assert!(
            with("TILLSTREAM_CONSUMER_GATHER_MS", "0")
                .unwrap()
                .consumer_gather
                .is_zero()
        );
        assert!(
            with("TILLSTREAM_REQUIRE_SESSION", "YES")
                .unwrap()
                .require_session
        );
    }
}
