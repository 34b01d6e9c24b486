//! The sales service. So far its pure domain: the pricing rules of the API contract
//! (`../shared/brief/api-v1.md`, "Pricing rules"), which the sale command, the receipt and
//! the ledger's postings all depend on. Commands, projections and the gRPC API join it with
//! the walking skeleton.

pub mod domain;
