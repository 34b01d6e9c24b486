//! The gateway's configuration from the environment (the README's table).

use std::net::SocketAddr;

use tillstream_process::addrs;

use crate::upstream::UpstreamAddrs;

/// A variable that is set but unusable; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: `{value}` is not {expected}")]
pub struct SettingsError {
    pub variable: String,
    pub value: String,
    pub expected: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewaySettings {
    /// `TILLSTREAM_HTTP_ADDR`.
    pub http_addr: SocketAddr,
    /// `TILLSTREAM_GRPC_ADDR`: the gRPC mirror of the API.
    pub grpc_addr: SocketAddr,
    pub upstreams: UpstreamAddrs,
    /// `TILLSTREAM_CORS_ORIGINS`: the browser origins allowed to call the API (none: no
    /// cross-origin browser calls).
    pub cors_origins: Vec<String>,
    /// `TILLSTREAM_RATE_LIMIT_USER_RPS` (50) and `…_ADDR_RPS` (200); 0 turns one off.
    pub rate_limit_user_rps: u32,
    pub rate_limit_addr_rps: u32,
    /// `TILLSTREAM_SERVER_TIMING` (true): every answer says in `Server-Timing` how long the
    /// gateway took and on what (a sale: the call to sales and sales' own stages).
    pub server_timing: bool,
}

impl GatewaySettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let addr = |variable: &str, default: &str| {
            let value = lookup(variable).unwrap_or_else(|| default.to_owned());
            value
                .trim()
                .parse::<SocketAddr>()
                .map_err(|_| SettingsError {
                    variable: variable.to_owned(),
                    value,
                    expected: "host:port",
                })
        };
        // One address, or several (a service's replicas) separated by commas.
        let service = |name: &str| {
            let variable = addrs::addr_variable(name);
            let value = lookup(&variable)
                .unwrap_or_else(|| addrs::default_addr(name).unwrap_or(addrs::HTTP).to_owned());
            let parsed: Result<Vec<addrs::HostPort>, _> = value
                .split(',')
                .map(|one| one.trim().parse::<addrs::HostPort>())
                .collect();
            match parsed {
                Ok(list) if (1..=MAX_REPLICAS).contains(&list.len()) => Ok(list),
                _ => Err(SettingsError {
                    variable,
                    value,
                    expected: "host:port, or up to 16 of them separated by commas",
                }),
            }
        };
        Ok(GatewaySettings {
            http_addr: addr("TILLSTREAM_HTTP_ADDR", addrs::HTTP)?,
            grpc_addr: addr("TILLSTREAM_GRPC_ADDR", addrs::GRPC)?,
            upstreams: UpstreamAddrs {
                catalog: service("catalog")?,
                inventory: service("inventory")?,
                sales: service("sales")?,
                ledger: service("ledger")?,
                auth: service("auth")?,
                webhooks: service("webhooks")?,
            },
            cors_origins: cors_origins(lookup("TILLSTREAM_CORS_ORIGINS"))?,
            rate_limit_user_rps: rate(&lookup, "TILLSTREAM_RATE_LIMIT_USER_RPS", 50)?,
            rate_limit_addr_rps: rate(&lookup, "TILLSTREAM_RATE_LIMIT_ADDR_RPS", 200)?,
            server_timing: switch(&lookup, "TILLSTREAM_SERVER_TIMING", true)?,
        })
    }
}

/// Requests per second, a whole number (0: no limit).
fn rate(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &str,
    default: u32,
) -> Result<u32, SettingsError> {
    match lookup(variable) {
        None => Ok(default),
        Some(value) => value.trim().parse().map_err(|_| SettingsError {
            variable: variable.to_owned(),
            value,
            expected: "a whole number of requests per second (0: no limit)",
        }),
    }
}

/// `true`, `1`, `yes` or `false`, `0`, `no`, in any case.
fn switch(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &str,
    default: bool,
) -> Result<bool, SettingsError> {
    let Some(value) = lookup(variable) else {
        return Ok(default);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(SettingsError {
            variable: variable.to_owned(),
            value,
            expected: "true or false (1 or 0, yes or no)",
        }),
    }
}

/// Comma-separated origins, each `scheme://host[:port]` without a path.
fn cors_origins(value: Option<String>) -> Result<Vec<String>, SettingsError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let valid = origin.split_once("://").is_some_and(|(scheme, rest)| {
                matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains('/')
            });
            if valid {
                Ok(origin.to_owned())
            } else {
                Err(SettingsError {
                    variable: "TILLSTREAM_CORS_ORIGINS".into(),
                    value: origin.to_owned(),
                    expected: "an origin such as https://till.example.com",
                })
            }
        })
        .collect()
}

/// The most replicas of one service the gateway spreads calls over.
const MAX_REPLICAS: usize = 16;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn defaults_and_a_bad_address_named() {
        let settings = GatewaySettings::from_lookup(|_| None).unwrap();
        assert_eq!(settings.http_addr.to_string(), addrs::HTTP);
        assert_eq!(settings.upstreams.sales[0].to_string(), addrs::SALES);
        let two = GatewaySettings::from_lookup(|n| {
            (n == "TILLSTREAM_SALES_ADDR").then(|| "127.0.0.1:1, sales-2:50063".to_owned())
        })
        .unwrap();
        assert_eq!(two.upstreams.sales.len(), 2);
        let error = GatewaySettings::from_lookup(|n| {
            (n == "TILLSTREAM_LEDGER_ADDR").then(|| "ledger".to_owned())
        })
        .unwrap_err();
        assert_eq!(error.variable, "TILLSTREAM_LEDGER_ADDR");
        let origins = GatewaySettings::from_lookup(|n| {
            (n == "TILLSTREAM_CORS_ORIGINS")
                .then(|| "https://till.example.com, http://localhost:5173".to_owned())
        })
        .unwrap();
        assert_eq!(origins.cors_origins.len(), 2);
        let bad = GatewaySettings::from_lookup(|n| {
            (n == "TILLSTREAM_CORS_ORIGINS").then(|| "till.example.com/app".to_owned())
        })
        .unwrap_err();
        assert_eq!(bad.variable, "TILLSTREAM_CORS_ORIGINS");
        assert_eq!(
            (settings.rate_limit_user_rps, settings.rate_limit_addr_rps),
            (50, 200)
        );
        let bad = GatewaySettings::from_lookup(|n| {
            (n == "TILLSTREAM_RATE_LIMIT_USER_RPS").then(|| "fast".to_owned())
        })
        .unwrap_err();
        assert_eq!(bad.variable, "TILLSTREAM_RATE_LIMIT_USER_RPS");
        assert!(settings.server_timing, "on unless turned off");
        let off = GatewaySettings::from_lookup(|n| {
            (n == "TILLSTREAM_SERVER_TIMING").then(|| " FALSE".to_owned())
        })
        .unwrap();
        assert!(!off.server_timing);
        let bad = GatewaySettings::from_lookup(|n| {
            (n == "TILLSTREAM_SERVER_TIMING").then(|| "sometimes".to_owned())
        })
        .unwrap_err();
        assert_eq!(bad.variable, "TILLSTREAM_SERVER_TIMING");
        // In a container network services are reached by name.
        let named = GatewaySettings::from_lookup(|n| {
            (n == "TILLSTREAM_SALES_ADDR").then(|| "sales:50063".to_owned())
        })
        .unwrap();
        assert_eq!(named.upstreams.sales[0].to_string(), "sales:50063");
    }
}
