//! Where each process of `up` will listen, and the environment its children get.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};

use tillstream_service::addrs;

use crate::cli::Process;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{variable}: `{value}` is not host:port")]
    BadAddr { variable: String, value: String },
    #[error("no free loopback port: {0}")]
    NoPort(std::io::Error),
    #[error("{variable}: {addr} is already in use; set {variable} to a free address")]
    InUse { variable: String, addr: SocketAddr },
}

/// A free loopback address for a child. Ports come from below the ephemeral range, so
/// nothing else on the machine takes one before the child binds it.
fn pick() -> Result<SocketAddr, PlanError> {
    let port = addrs::unused_loopback_port().map_err(PlanError::NoPort)?;
    Ok(SocketAddr::from(([127, 0, 0, 1], port)))
}

/// The addresses of one run of `up`.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `TILLSTREAM_<SERVICE>_ADDR` for each service, and `TILLSTREAM_HTTP_ADDR`.
    pub addrs: BTreeMap<String, SocketAddr>,
    pub http_addr: SocketAddr,
}

impl Plan {
    pub fn from_env() -> Result<Self, PlanError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, PlanError> {
        let parse = |variable: &str, value: String| {
            value
                .trim()
                .parse::<SocketAddr>()
                .map_err(|_| PlanError::BadAddr {
                    variable: variable.to_owned(),
                    value,
                })
        };
        let mut addrs = BTreeMap::new();
        for service in addrs::SERVICES {
            let variable = addrs::addr_variable(service);
            let addr = match lookup(&variable) {
                Some(value) => parse(&variable, value)?,
                None => pick()?,
            };
            addrs.insert(variable, addr);
        }
        let variable = "TILLSTREAM_HTTP_ADDR";
        let http_addr = parse(
            variable,
            lookup(variable).unwrap_or_else(|| addrs::HTTP.to_owned()),
        )?;
        if TcpListener::bind(http_addr).is_err() {
            return Err(PlanError::InUse {
                variable: variable.to_owned(),
                addr: http_addr,
            });
        }
        addrs.insert(variable.to_owned(), http_addr);
        // The gateway's gRPC side: as given, else its usual port, else any free one (two
        // stacks on one machine, such as the end-to-end tests, must not collide on it).
        let variable = "TILLSTREAM_GRPC_ADDR";
        let grpc_addr = match lookup(variable) {
            Some(value) => parse(variable, value)?,
            None => match addrs::GRPC
                .parse::<SocketAddr>()
                .ok()
                .filter(|addr| TcpListener::bind(addr).is_ok())
            {
                Some(addr) => addr,
                None => pick()?,
            },
        };
        addrs.insert(variable.to_owned(), grpc_addr);
        Ok(Plan { addrs, http_addr })
    }

    /// The environment a child gets on top of `up`'s own.
    pub fn child_env(&self) -> Vec<(String, String)> {
        self.addrs
            .iter()
            .map(|(variable, addr)| (variable.clone(), addr.to_string()))
            .collect()
    }

    /// Where `process` listens.
    pub fn addr_of(&self, process: Process) -> Option<SocketAddr> {
        let variable = match process {
            Process::Gateway => "TILLSTREAM_HTTP_ADDR".to_owned(),
            other => addrs::addr_variable(other.name()),
        };
        self.addrs.get(&variable).copied()
    }

    /// A lookup of the environment as the children will see it.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        move |name| {
            self.addrs
                .get(name)
                .map(ToString::to_string)
                .or_else(|| std::env::var(name).ok())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn services_get_distinct_free_ports_unless_an_address_is_given() {
        let plan = Plan::from_lookup(|name| match name {
            "TILLSTREAM_LEDGER_ADDR" => Some("127.0.0.1:1".into()),
            "TILLSTREAM_HTTP_ADDR" => Some("127.0.0.1:0".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(plan.addr_of(Process::Ledger).unwrap().port(), 1);
        let mut ports: Vec<u16> = addrs::SERVICES
            .iter()
            .map(|s| plan.addrs[&addrs::addr_variable(s)].port())
            .collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), addrs::SERVICES.len());

        let error =
            Plan::from_lookup(|name| (name == "TILLSTREAM_SALES_ADDR").then(|| "sales".to_owned()))
                .unwrap_err();
        assert!(error.to_string().starts_with("TILLSTREAM_SALES_ADDR"));
    }
}
