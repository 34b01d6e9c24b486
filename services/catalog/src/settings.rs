//! The catalog's configuration, from the environment (the README's table).

use std::net::SocketAddr;

use tillstream_kernel::Currency;
use tillstream_messaging::Naming;

/// A variable that is set but unusable; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct SettingsError {
    pub variable: &'static str,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The PostgreSQL server; the catalog's database is created under it.
    pub database_url: String,
    pub database: String,
    pub nats_url: String,
    pub naming: Naming,
    /// Where gRPC and the operations endpoints listen.
    pub addr: SocketAddr,
    pub currency: Currency,
}

impl Settings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |name: &str, default: &str| lookup(name).unwrap_or_else(|| default.to_owned());
        let db_prefix = get("TILLSTREAM_DB_PREFIX", "tillstream");
        let prefix = get("TILLSTREAM_SUBJECT_PREFIX", "pos");
        let addr = get("TILLSTREAM_CATALOG_ADDR", "127.0.0.1:50061");
        let currency = get("TILLSTREAM_CURRENCY", "USD");
        Ok(Settings {
            database_url: get(
                "TILLSTREAM_DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432",
            ),
            database: format!("{db_prefix}_catalog"),
            nats_url: get("TILLSTREAM_NATS_URL", "nats://127.0.0.1:4222"),
            naming: Naming::new(prefix).map_err(|message| SettingsError {
                variable: "TILLSTREAM_SUBJECT_PREFIX",
                message,
            })?,
            addr: addr.parse().map_err(|e| SettingsError {
                variable: "TILLSTREAM_CATALOG_ADDR",
                message: format!("`{addr}` is not host:port ({e})"),
            })?,
            currency: currency
                .parse()
                .map_err(|e: tillstream_kernel::MoneyError| SettingsError {
                    variable: "TILLSTREAM_CURRENCY",
                    message: e.to_string(),
                })?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_contract_and_bad_values_name_their_variable() {
        let settings = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(settings.database, "tillstream_catalog");
        assert_eq!(settings.naming.prefix(), "pos");
        let bad =
            Settings::from_lookup(|n| (n == "TILLSTREAM_CATALOG_ADDR").then(|| "nowhere".into()));
        assert_eq!(bad.unwrap_err().variable, "TILLSTREAM_CATALOG_ADDR");
        let bad = Settings::from_lookup(|n| (n == "TILLSTREAM_CURRENCY").then(|| "XXX".into()));
        assert_eq!(bad.unwrap_err().variable, "TILLSTREAM_CURRENCY");
    }
}
