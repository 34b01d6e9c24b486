//! The inventory service. So far its pure domain: a stock item per (product, location)
//! whose level is the fold of its movements, with weighted average cost and the
//! negative-stock and low-stock alerts. Commands, consumers of catalog and sales events,
//! projections and the gRPC API join it with the walking skeleton.

pub mod domain;
