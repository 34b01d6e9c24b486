//! The posting rules: one entry per source event, money side from sales events, cost side
//! from inventory movements (at the cost recorded on the movement).

use tillstream_kernel::{Currency, Money, Tender};

use super::accounts::Account;
use super::entry::{EntryError, EntryLine, Lines};

/// The account each tender is booked to.
pub fn tender_account(tender: Tender) -> Account {
    match tender {
        Tender::Cash => Account::Cash,
        Tender::Card => Account::CardClearing,
        Tender::Voucher | Tender::Other => Account::VouchersAndOther,
        Tender::GiftCard => Account::GiftCardsOutstanding,
        Tender::StoreCredit => Account::StoreCredit,
        Tender::OnAccount => Account::AccountsReceivable,
    }
}

/// The money side of a completed sale, as the sale event stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleMoney {
    pub payments: Vec<(Tender, Money)>,
    pub change: Money,
    /// Σ line revenue (`line_total − tax`).
    pub revenue: Money,
    pub tax: Money,
}

/// A return's money: returned revenue and tax, and the refunds that paid them back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnMoney {
    pub revenue: Money,
    pub tax: Money,
    pub refunds: Vec<(Tender, Money)>,
}

/// A stock movement's cost, as the inventory event records it. Positive amounts; the
/// direction is the variant's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockCost {
    Sold(Money),
    ReturnedToStock(Money),
    VoidReversed(Money),
    Received(Money),
    /// Received against a purchase order: owed once the supplier's invoice comes.
    ReceivedAgainstOrder(Money),
    /// Found by an adjustment or a count: stock (and its value) went up.
    Gained(Money),
    /// Lost by an adjustment or a count: shrinkage.
    Lost(Money),
    /// Between locations: the books do not change.
    Transferred,
    /// A part fitted in a repair: work in progress until the repair is collected.
    FittedToRepair(Money),
    /// A cancelled repair's part back on the shelf.
    ReturnedFromRepair(Money),
    /// A collected repair's parts: sold with it.
    RepairCollected(Money),
}

/// Debits the tenders (cash net of change), credits revenue and tax.
pub fn sale_entry(currency: Currency, sale: &SaleMoney) -> Result<Lines, EntryError> {
    let mut lines = Vec::with_capacity(sale.payments.len() + 3);
    for (tender, amount) in &sale.payments {
        lines.push(EntryLine::debit(tender_account(*tender), *amount));
    }
    // Change comes out of the drawer.
    lines.push(EntryLine::credit(Account::Cash, sale.change));
    lines.push(EntryLine::credit(Account::SalesRevenue, sale.revenue));
    lines.push(EntryLine::credit(Account::SalesTaxPayable, sale.tax));
    Lines::from_postings(currency, net_cash(lines)?)
}

/// Debits returns and tax, credits the refund tenders.
pub fn return_entry(currency: Currency, ret: &ReturnMoney) -> Result<Lines, EntryError> {
    let mut lines = vec![
        EntryLine::debit(Account::SalesReturns, ret.revenue),
        EntryLine::debit(Account::SalesTaxPayable, ret.tax),
    ];
    for (tender, amount) in &ret.refunds {
        lines.push(EntryLine::credit(tender_account(*tender), *amount));
    }
    Lines::from_postings(currency, lines)
}

/// Cash management at a drawer (api.md, "Registers"): a paid-in comes from cash in transit
/// (the safe), a paid-out is an expense; a close's difference is cash over or short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawerCash {
    PaidIn(Money),
    PaidOut(Money),
    /// Counted minus expected: over when positive, short when negative.
    Difference(Money),
}

/// The entry for a drawer's cash; `None` for a close that balanced.
pub fn drawer_entry(currency: Currency, cash: DrawerCash) -> Result<Option<Lines>, EntryError> {
    let (debit, credit, amount) = match cash {
        DrawerCash::PaidIn(amount) => (Account::Cash, Account::CashInTransit, amount),
        DrawerCash::PaidOut(amount) => (Account::PaidOutExpenses, Account::Cash, amount),
        DrawerCash::Difference(amount) if amount.is_negative() => {
            (Account::CashOverShort, Account::Cash, amount.negate())
        }
        DrawerCash::Difference(amount) => (Account::Cash, Account::CashOverShort, amount),
    };
    if amount.is_zero() {
        return Ok(None);
    }
    Lines::from_postings(
        currency,
        vec![
            EntryLine::debit(debit, amount),
            EntryLine::credit(credit, amount),
        ],
    )
    .map(Some)
}

/// A supplier's invoice: clears goods received not invoiced at the order's cost
/// (`received_value`), owes the supplier what it invoices (`total`), and books the
/// difference to purchase price variance (a debit when the invoice is dearer).
pub fn purchase_invoice_entry(
    currency: Currency,
    received_value: Money,
    total: Money,
) -> Result<Lines, EntryError> {
    let variance = total.checked_sub(received_value)?;
    let mut lines = vec![
        EntryLine::debit(Account::GoodsReceivedNotInvoiced, received_value),
        EntryLine::credit(Account::AccountsPayable, total),
    ];
    if variance.is_negative() {
        lines.push(EntryLine::credit(
            Account::PurchasePriceVariance,
            variance.negate(),
        ));
    } else {
        lines.push(EntryLine::debit(Account::PurchasePriceVariance, variance));
    }
    Lines::from_postings(currency, lines)
}

/// A payment to a supplier: less owed, out of the bank or the drawer.
pub fn supplier_payment_entry(
    currency: Currency,
    amount: Money,
    from_bank: bool,
) -> Result<Lines, EntryError> {
    let source = if from_bank {
        Account::Bank
    } else {
        Account::Cash
    };
    Lines::new(
        currency,
        vec![
            EntryLine::debit(Account::AccountsPayable, amount),
            EntryLine::credit(source, amount),
        ],
    )
}

/// A gift card sold: the tenders (cash net of change) against gift cards outstanding; a
/// liability until the card is spent, not revenue.
pub fn gift_card_entry(
    currency: Currency,
    payments: &[(Tender, Money)],
    change: Money,
    amount: Money,
) -> Result<Lines, EntryError> {
    let mut lines = Vec::with_capacity(payments.len() + 2);
    for (tender, paid) in payments {
        lines.push(EntryLine::debit(tender_account(*tender), *paid));
    }
    lines.push(EntryLine::credit(Account::Cash, change));
    lines.push(EntryLine::credit(Account::GiftCardsOutstanding, amount));
    Lines::from_postings(currency, net_cash(lines)?)
}

/// A customer paying the account down, in cash or by card.
pub fn account_payment_entry(
    currency: Currency,
    amount: Money,
    tender: Tender,
) -> Result<Lines, EntryError> {
    Lines::new(
        currency,
        vec![
            EntryLine::debit(tender_account(tender), amount),
            EntryLine::credit(Account::AccountsReceivable, amount),
        ],
    )
}

/// A void posts the exact reverse of the sale's money entry.
pub fn void_entry(sale_entry: &Lines) -> Lines {
    sale_entry.reversed()
}

/// The cost side of a movement; `None` when it changes nothing in the books (a transfer,
/// or a movement at zero cost).
pub fn stock_entry(currency: Currency, movement: StockCost) -> Result<Option<Lines>, EntryError> {
    let (debit, credit, amount) = match movement {
        StockCost::Sold(cost) => (Account::CostOfGoodsSold, Account::Inventory, cost),
        StockCost::ReturnedToStock(cost) | StockCost::VoidReversed(cost) => {
            (Account::Inventory, Account::CostOfGoodsSold, cost)
        }
        StockCost::Received(cost) => (Account::Inventory, Account::AccountsPayable, cost),
        StockCost::ReceivedAgainstOrder(cost) => {
            (Account::Inventory, Account::GoodsReceivedNotInvoiced, cost)
        }
        StockCost::Gained(cost) => (Account::Inventory, Account::InventoryShrinkage, cost),
        StockCost::Lost(cost) => (Account::InventoryShrinkage, Account::Inventory, cost),
        StockCost::Transferred => return Ok(None),
        StockCost::FittedToRepair(cost) => (Account::RepairsInProgress, Account::Inventory, cost),
        StockCost::ReturnedFromRepair(cost) => {
            (Account::Inventory, Account::RepairsInProgress, cost)
        }
        StockCost::RepairCollected(cost) => {
            (Account::CostOfGoodsSold, Account::RepairsInProgress, cost)
        }
    };
    if amount.is_zero() {
        return Ok(None);
    }
    Lines::new(
        currency,
        vec![
            EntryLine::debit(debit, amount),
            EntryLine::credit(credit, amount),
        ],
    )
    .map(Some)
}

/// Nets the cash debit against the change credit, so the entry shows the cash kept.
fn net_cash(lines: Vec<EntryLine>) -> Result<Vec<EntryLine>, EntryError> {
    let Some(currency) = lines.first().map(|l| l.debit.currency()) else {
        return Ok(lines);
    };
    let cash_in = Money::sum(
        currency,
        lines
            .iter()
            .filter(|l| l.account == Account::Cash)
            .map(|l| l.debit),
    )?;
    let cash_out = Money::sum(
        currency,
        lines
            .iter()
            .filter(|l| l.account == Account::Cash)
            .map(|l| l.credit),
    )?;
    let net = cash_in.checked_sub(cash_out)?;
    let mut rest: Vec<EntryLine> = lines
        .into_iter()
        .filter(|l| l.account != Account::Cash)
        .collect();
    if net.is_negative() {
        rest.insert(0, EntryLine::credit(Account::Cash, net.negate()));
    } else {
        rest.insert(0, EntryLine::debit(Account::Cash, net));
    }
    Ok(rest)
}
