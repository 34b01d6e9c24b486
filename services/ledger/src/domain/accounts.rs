//! The fixed chart of accounts. Codes never change; more accounts may be added.

use serde::{Deserialize, Serialize};

/// What kind of account, which decides the side its balance normally sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    Asset,
    Liability,
    Equity,
    Revenue,
    Expense,
}

/// An account of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Account {
    Cash,
    CardClearing,
    VouchersAndOther,
    Inventory,
    AccountsPayable,
    SalesTaxPayable,
    OpeningBalanceEquity,
    SalesRevenue,
    SalesReturns,
    CostOfGoodsSold,
    InventoryShrinkage,
    CashInTransit,
    CashOverShort,
    PaidOutExpenses,
    Bank,
    GoodsReceivedNotInvoiced,
    PurchasePriceVariance,
    AccountsReceivable,
    GiftCardsOutstanding,
    StoreCredit,
    RepairsInProgress,
}

impl Account {
    pub const ALL: [Account; 21] = [
        Account::Cash,
        Account::CardClearing,
        Account::VouchersAndOther,
        Account::Bank,
        Account::CashInTransit,
        Account::AccountsReceivable,
        Account::Inventory,
        Account::RepairsInProgress,
        Account::AccountsPayable,
        Account::GoodsReceivedNotInvoiced,
        Account::SalesTaxPayable,
        Account::GiftCardsOutstanding,
        Account::StoreCredit,
        Account::OpeningBalanceEquity,
        Account::SalesRevenue,
        Account::SalesReturns,
        Account::CostOfGoodsSold,
        Account::InventoryShrinkage,
        Account::CashOverShort,
        Account::PurchasePriceVariance,
        Account::PaidOutExpenses,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Account::Cash => "1000",
            Account::CardClearing => "1010",
            Account::VouchersAndOther => "1020",
            Account::Inventory => "1200",
            Account::AccountsPayable => "2000",
            Account::SalesTaxPayable => "2100",
            Account::OpeningBalanceEquity => "3000",
            Account::SalesRevenue => "4000",
            Account::SalesReturns => "4100",
            Account::CostOfGoodsSold => "5000",
            Account::InventoryShrinkage => "5100",
            Account::CashInTransit => "1050",
            Account::CashOverShort => "5200",
            Account::PaidOutExpenses => "6100",
            Account::Bank => "1030",
            Account::GoodsReceivedNotInvoiced => "2050",
            Account::PurchasePriceVariance => "5300",
            Account::AccountsReceivable => "1100",
            Account::GiftCardsOutstanding => "2200",
            Account::StoreCredit => "2210",
            Account::RepairsInProgress => "1250",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Account::Cash => "Cash",
            Account::CardClearing => "Card clearing",
            Account::VouchersAndOther => "Vouchers and other tenders",
            Account::Inventory => "Inventory",
            Account::AccountsPayable => "Accounts payable",
            Account::SalesTaxPayable => "Sales tax payable",
            Account::OpeningBalanceEquity => "Opening balance equity",
            Account::SalesRevenue => "Sales revenue",
            Account::SalesReturns => "Sales returns",
            Account::CostOfGoodsSold => "Cost of goods sold",
            Account::InventoryShrinkage => "Inventory shrinkage",
            Account::CashInTransit => "Cash in transit",
            Account::CashOverShort => "Cash over and short",
            Account::PaidOutExpenses => "Paid-out expenses",
            Account::Bank => "Bank",
            Account::GoodsReceivedNotInvoiced => "Goods received not invoiced",
            Account::PurchasePriceVariance => "Purchase price variance",
            Account::AccountsReceivable => "Accounts receivable",
            Account::GiftCardsOutstanding => "Gift cards outstanding",
            Account::StoreCredit => "Store credit",
            Account::RepairsInProgress => "Repairs in progress",
        }
    }

    pub fn account_type(self) -> AccountType {
        match self {
            Account::Cash
            | Account::CardClearing
            | Account::VouchersAndOther
            | Account::CashInTransit
            | Account::Bank
            | Account::AccountsReceivable
            | Account::Inventory
            | Account::RepairsInProgress => AccountType::Asset,
            Account::AccountsPayable
            | Account::GoodsReceivedNotInvoiced
            | Account::GiftCardsOutstanding
            | Account::StoreCredit
            | Account::SalesTaxPayable => AccountType::Liability,
            Account::OpeningBalanceEquity => AccountType::Equity,
            Account::SalesRevenue => AccountType::Revenue,
            // Sales returns is a contra-revenue account with a debit balance.
            Account::SalesReturns
            | Account::CostOfGoodsSold
            | Account::InventoryShrinkage
            | Account::CashOverShort
            | Account::PurchasePriceVariance
            | Account::PaidOutExpenses => AccountType::Expense,
        }
    }

    /// The account for a code, `None` for a code not in the chart.
    pub fn from_code(code: &str) -> Option<Account> {
        Account::ALL.into_iter().find(|a| a.code() == code.trim())
    }
}

impl TryFrom<String> for Account {
    type Error = String;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Account::from_code(&code).ok_or_else(|| format!("unknown account `{code}`"))
    }
}

impl From<Account> for String {
    fn from(account: Account) -> Self {
        account.code().to_owned()
    }
}
