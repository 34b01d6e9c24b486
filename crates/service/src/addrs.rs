//! Where each process listens when nothing says otherwise: one table, read by the services,
//! the gateway and the ops CLI. `tillstream up` picks free ports instead.

/// The internal services, in the order they are started.
pub const SERVICES: [&str; 5] = ["auth", "catalog", "inventory", "sales", "ledger"];

pub const CATALOG: &str = "127.0.0.1:50061";
pub const INVENTORY: &str = "127.0.0.1:50062";
pub const SALES: &str = "127.0.0.1:50063";
pub const LEDGER: &str = "127.0.0.1:50064";
pub const AUTH: &str = "127.0.0.1:50065";
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
        _ => None,
    }
}

/// The variable that overrides a service's address: `TILLSTREAM_<SERVICE>_ADDR`.
pub fn addr_variable(service: &str) -> String {
    format!("TILLSTREAM_{}_ADDR", service.to_ascii_uppercase())
}
