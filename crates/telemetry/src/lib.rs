//! What every Tillstream process does the same way: JSON logs, a Prometheus recorder, and
//! the operations endpoints `/healthz` (alive, with each dependency's state), `/readyz`
//! (the dependencies that readiness needs) and `/metrics`; and the `Server-Timing` of a
//! request's stages.

mod logging;
mod ops;
pub mod timing;

pub use logging::{continue_trace, flush_traces, init_logging};
pub use ops::{Dependency, Probe, install_metrics, ops_router};
