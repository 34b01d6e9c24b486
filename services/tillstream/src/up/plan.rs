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

/// Connections PostgreSQL allows by default, less a margin for `up` and an operator.
const CONNECTION_BUDGET: u32 = 90;

/// A pool size for `replicas` of every service within [`CONNECTION_BUDGET`], counting each
/// replica's election connection and its leader's `LISTEN` for appends (and webhooks' for
/// due deliveries): two more each; at least two.
fn pool_within_budget(replicas: u8) -> u32 {
    let processes = u32::from(replicas) * addrs::SERVICES.len() as u32;
    (CONNECTION_BUDGET / processes.max(1))
        .saturating_sub(2)
        .max(2)
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
    /// `TILLSTREAM_<SERVICE>_ADDR` for each service (its first replica), and
    /// `TILLSTREAM_HTTP_ADDR`.
    pub addrs: BTreeMap<String, SocketAddr>,
    /// The other replicas of each service, by its variable.
    pub more: BTreeMap<String, Vec<SocketAddr>>,
    /// `TILLSTREAM_DB_POOL_SIZE` for the children, when replicas need a smaller pool than
    /// the default and none was configured.
    pub pool_size: Option<u32>,
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
        Ok(Plan {
            addrs,
            more: BTreeMap::new(),
            pool_size: None,
            http_addr,
        })
    }

    /// `replicas` of every service: each one more on a free port. Unless a pool size was
    /// configured (`pool_configured`), every replica's pool is cut so that all of them, with
    /// their election connections, fit in PostgreSQL's default 100 connections.
    pub fn with_replicas(mut self, replicas: u8, pool_configured: bool) -> Result<Self, PlanError> {
        for service in addrs::SERVICES {
            let extra = (1..replicas)
                .map(|_| pick())
                .collect::<Result<Vec<_>, _>>()?;
            self.more.insert(addrs::addr_variable(service), extra);
        }
        if replicas > 1 && !pool_configured {
            self.pool_size = Some(pool_within_budget(replicas));
        }
        Ok(self)
    }

    /// How many replicas of `process` run (the gateway: one).
    pub fn replicas_of(&self, process: Process) -> usize {
        match process {
            Process::Gateway => 1,
            other => {
                1 + self
                    .more
                    .get(&addrs::addr_variable(other.name()))
                    .map_or(0, Vec::len)
            }
        }
    }

    /// The environment replica `replica` (from 0) of `process` gets on top of `up`'s own:
    /// every service's first address (where auth's keys are fetched), its own address as
    /// its service's, and for the gateway every replica of every service.
    pub fn child_env(&self, process: Process, replica: usize) -> Vec<(String, String)> {
        let own = match process {
            Process::Gateway => None,
            other => Some(addrs::addr_variable(other.name())),
        };
        let pool = self
            .pool_size
            .map(|size| ("TILLSTREAM_DB_POOL_SIZE".to_owned(), size.to_string()));
        self.addrs
            .iter()
            .map(|(variable, addr)| {
                let others = self.more.get(variable).map_or(&[][..], Vec::as_slice);
                let value = if process == Process::Gateway {
                    std::iter::once(addr)
                        .chain(others)
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                } else if own.as_deref() == Some(variable.as_str()) && replica > 0 {
                    others
                        .get(replica - 1)
                        .map_or_else(|| addr.to_string(), ToString::to_string)
                } else {
                    addr.to_string()
                };
                (variable.clone(), value)
            })
            .chain(pool)
            .collect()
    }

    /// Where replica `replica` of `process` listens.
    pub fn addr_of(&self, process: Process, replica: usize) -> Option<SocketAddr> {
        let variable = match process {
            Process::Gateway => "TILLSTREAM_HTTP_ADDR".to_owned(),
            other => addrs::addr_variable(other.name()),
        };
        match replica {
            0 => self.addrs.get(&variable).copied(),
            n => self.more.get(&variable)?.get(n - 1).copied(),
        }
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
        assert_eq!(plan.addr_of(Process::Ledger, 0).unwrap().port(), 1);
        let mut ports: Vec<u16> = addrs::SERVICES
            .iter()
            .map(|s| plan.addrs[&addrs::addr_variable(s)].port())
            .collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), addrs::SERVICES.len());

        let plan = plan.with_replicas(2, false).unwrap();
        assert_eq!(plan.pool_size, Some(5), "2 × 6 × (5 + 2) = 84 connections");
        assert_eq!(plan.replicas_of(Process::Sales), 2);
        assert_eq!(plan.replicas_of(Process::Gateway), 1);
        let second = plan.addr_of(Process::Sales, 1).unwrap().to_string();
        let env = |process, replica| -> BTreeMap<String, String> {
            plan.child_env(process, replica).into_iter().collect()
        };
        assert_eq!(env(Process::Sales, 1)["TILLSTREAM_SALES_ADDR"], second);
        assert_ne!(env(Process::Sales, 0)["TILLSTREAM_SALES_ADDR"], second);
        assert_ne!(env(Process::Catalog, 1)["TILLSTREAM_SALES_ADDR"], second);
        let gateway = env(Process::Gateway, 0);
        assert_eq!(gateway["TILLSTREAM_SALES_ADDR"].split(',').count(), 2);
        assert!(gateway["TILLSTREAM_SALES_ADDR"].ends_with(&second));

        let error =
            Plan::from_lookup(|name| (name == "TILLSTREAM_SALES_ADDR").then(|| "sales".to_owned()))
                .unwrap_err();
        assert!(error.to_string().starts_with("TILLSTREAM_SALES_ADDR"));
    }
}
