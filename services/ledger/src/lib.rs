//! The ledger service. So far its pure domain: the chart of accounts, balanced journal
//! entries and the posting rules of the API contract ("Ledger and reports"). Commands,
//! consumers of sales and inventory events, projections and the gRPC API join it with the
//! walking skeleton.

pub mod domain;
