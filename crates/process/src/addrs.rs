//! Where each process listens when nothing says otherwise: one table, read by the services,
//! the gateway and the ops CLI. `tillstream up` picks free ports instead.

/// The internal services, in the order they are started.
pub const SERVICES: [&str; 6] = [
    "auth",
    "catalog",
    "inventory",
    "sales",
    "ledger",
    "webhooks",
];

pub const CATALOG: &str = "127.0.0.1:50061";
pub const INVENTORY: &str = "127.0.0.1:50062";
pub const SALES: &str = "127.0.0.1:50063";
pub const LEDGER: &str = "127.0.0.1:50064";
pub const AUTH: &str = "127.0.0.1:50065";
pub const WEBHOOKS: &str = "127.0.0.1:50066";
/// The gateway's REST side (`TILLSTREAM_HTTP_ADDR`).
pub const HTTP: &str = "127.0.0.1:8080";
/// The gateway's gRPC side (`TILLSTREAM_GRPC_ADDR`).
pub const GRPC: &str = "127.0.0.1:50051";

/// A service's default address.
pub fn default_addr(service: &str) -> Option<&'static str> {
    match service {
        "catalog" => Some(CATALOG),
        "inventory" => Some(INVENTORY),
        "sales" => Some(SALES),
        "ledger" => Some(LEDGER),
        "auth" => Some(AUTH),
        "webhooks" => Some(WEBHOOKS),
        _ => None,
    }
}

/// The variable that overrides a service's address: `TILLSTREAM_<SERVICE>_ADDR`.
pub fn addr_variable(service: &str) -> String {
    format!("TILLSTREAM_{}_ADDR", service.to_ascii_uppercase())
}

/// Ports handed out by [`unused_loopback_port`]: below Linux's ephemeral range (32768 and
/// up by default), so no outgoing connection and no bind to port 0 takes one between the
/// moment it is picked and the moment its process binds it.
const PICKED_PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A loopback port nothing listens on now, for a process started next to bind. Each process
/// walks [`PICKED_PORTS`] from a random start, so it never hands out one port twice and two
/// processes at once rarely try the same one; each candidate is checked by binding it.
pub fn unused_loopback_port() -> std::io::Result<u16> {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static WALK: std::sync::OnceLock<AtomicU64> = std::sync::OnceLock::new();
    let span = u64::from(PICKED_PORTS.end - PICKED_PORTS.start);
    // `RandomState` is seeded from the OS once per process: a random start without a
    // dependency for it.
    let walk = WALK.get_or_init(|| {
        let start = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        AtomicU64::new(start % span)
    });
    let mut last_error = None;
    for _ in 0..span {
        let step = walk.fetch_add(1, Ordering::Relaxed) % span;
        let port = PICKED_PORTS.start + u16::try_from(step).unwrap_or(0);
        match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(_) => return Ok(port),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no unused loopback port")))
}

/// Where to reach a process: `host:port`, the host a name or an address (`auth:50065` in a
/// container network, `127.0.0.1:50065` on one machine).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort(String);

impl std::str::FromStr for HostPort {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (host, port) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("`{text}` is not host:port"))?;
        let host_ok = !host.is_empty()
            && host.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':')
            });
        if !host_ok || port.parse::<u16>().is_err() {
            return Err(format!("`{text}` is not host:port"));
        }
        Ok(HostPort(text.to_owned()))
    }
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::net::SocketAddr> for HostPort {
    fn from(addr: std::net::SocketAddr) -> Self {
        HostPort(addr.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::HostPort;

    #[test]
    fn picked_ports_are_free_and_outside_the_ephemeral_range() {
        let ports: Vec<u16> = (0..20)
            .map(|_| super::unused_loopback_port().unwrap_or(0))
            .collect();
        assert!(
            ports.iter().all(|port| super::PICKED_PORTS.contains(port)),
            "{ports:?}"
        );
        let mut distinct = ports.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            ports.len(),
            "one process never gets a port twice"
        );
    }

    #[test]
    fn names_and_addresses_are_host_and_port() {
        for good in [
            "auth:50065",
            "127.0.0.1:1",
            "[::1]:8080",
            "auth.pos.svc.cluster.local:50065",
        ] {
            assert!(good.parse::<HostPort>().is_ok(), "{good}");
        }
        for bad in ["auth", ":50065", "auth:port", "auth:70000", "a b:1"] {
            assert!(bad.parse::<HostPort>().is_err(), "{bad}");
        }
    }
}
