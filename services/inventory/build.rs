//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!` embeds
//! `migrations/inventory` at compile time, and Cargo reruns a macro only when a file it already
//! knows of changes, so a new migration would otherwise leave the binary and the tests on
//! the last build's list (the build script sqlx's documentation recommends).
fn main() {
    println!("cargo:rerun-if-changed=../../migrations/inventory");
}
