//! Tenders: how a customer pays or is refunded. Shared by sales (payments, change) and
//! the ledger (each tender has its account).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tender {
    Cash,
    Card,
    Voucher,
    Other,
}

impl Tender {
    pub const ALL: [Tender; 4] = [Tender::Cash, Tender::Card, Tender::Voucher, Tender::Other];

    /// The name used in JSON and reports: `cash`, `card`, `voucher`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tender::Cash => "cash",
            Tender::Card => "card",
            Tender::Voucher => "voucher",
            Tender::Other => "other",
        }
    }
}
