//! Personal data protection (decision 0012): every customer's personal fields sealed under
//! a key of their own, that key wrapped by the master key, searched through blind tokens.

pub mod keys;
pub mod seal;
pub mod search;

pub use keys::MasterKey;
pub use seal::{Key, Sealed};

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error(
        "TILLSTREAM_DATA_KEY must be 64 hex digits or the base64 of 32 bytes (e.g. `openssl rand -hex 32`)"
    )]
    BadMasterKey,
    #[error(
        "TILLSTREAM_DATA_KEY is not set, and this database's keys were wrapped with a configured one: set it again"
    )]
    MasterKeyMissing,
    #[error("TILLSTREAM_DATA_KEY is not the key this database's customer keys were wrapped with")]
    MasterKeyChanged,
    #[error("the operating system gave no random bytes")]
    Random,
    #[error("sealing failed")]
    Seal,
    #[error("a sealed value did not open with its key")]
    Open,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
