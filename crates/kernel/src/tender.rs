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
    /// A gift card's balance (the payment's reference is the card's code).
    GiftCard,
    /// What the store owes the sale's customer.
    StoreCredit,
    /// Charged to the sale's customer's account, within its credit limit.
    OnAccount,
}

impl Tender {
    pub const ALL: [Tender; 7] = [
        Tender::Cash,
        Tender::Card,
        Tender::Voucher,
        Tender::Other,
        Tender::GiftCard,
        Tender::StoreCredit,
        Tender::OnAccount,
    ];

    /// The name used in JSON and reports: `cash`, `card`, `voucher`, `other`, `gift_card`,
    /// `store_credit`, `on_account`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tender::Cash => "cash",
            Tender::Card => "card",
            Tender::Voucher => "voucher",
            Tender::Other => "other",
            Tender::GiftCard => "gift_card",
            Tender::StoreCredit => "store_credit",
            Tender::OnAccount => "on_account",
        }
    }

    /// Whether paying with it draws on a balance the sales service keeps (a card's, a
    /// customer's): such a payment is drawn in the sale's own transaction.
    pub fn is_stored_value(self) -> bool {
        matches!(
            self,
            Tender::GiftCard | Tender::StoreCredit | Tender::OnAccount
        )
    }

    /// Whether it needs the sale's customer.
    pub fn needs_customer(self) -> bool {
        matches!(self, Tender::StoreCredit | Tender::OnAccount)
    }
}
