//! What every process of the system shares, the gateway included: where each listens
//! (`addrs`), stopping on a signal and the end of `main`, auth's key set kept fresh for
//! verifying tokens, the request field a gRPC status names, and listeners without Nagle.
//! Nothing here links a store: the gateway depends on this, not on the service kit.

pub mod addrs;
pub mod field;
mod keys;
mod listen;
mod signals;

pub use keys::{FetchKeys, RefreshingKeys, VerifyError, fetch_from_auth};
pub use listen::{listen, serve_until_signal, without_nagle};
pub use signals::stop_on_signal;
