//! A session's running figures and its X and Z report (api.md, "Registers, sessions and the
//! fiscal journal"). Each sale, void, return and cash movement of the session adds to the
//! figures as it is recorded, in its own transaction; a report is arithmetic on them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tillstream_kernel::{Currency, Decimal, Money, Tender};

use super::returns::ReturnRecord;
use super::sale::SaleRecord;
use super::session::{CashKind, Opened};

/// What a session has taken so far. Amounts are in the store's currency. A new session's
/// row holds `{}`: every figure zero.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionTotals {
    pub sales_count: u64,
    pub voids_count: u64,
    pub returns_count: u64,
    pub gross: Decimal,
    pub discounts: Decimal,
    /// Σ revenue.
    pub net: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
    /// Σ refunds of the returns taken in the session.
    pub returns: Decimal,
    /// What the sales took per tender, cash net of change.
    pub by_tender: BTreeMap<String, Decimal>,
    pub refunds_by_tender: BTreeMap<String, Decimal>,
    pub paid_in: Decimal,
    pub paid_out: Decimal,
    /// Cash taken for gift cards and account payments.
    pub other_cash_in: Decimal,
}

/// The figures of one sale, added for a sale and taken away for its void.
struct SaleFigures {
    gross: Decimal,
    discounts: Decimal,
    net: Decimal,
    tax: Decimal,
    total: Decimal,
    tenders: BTreeMap<String, Decimal>,
}

fn figures(sale: &SaleRecord) -> Option<SaleFigures> {
    let mut net = Decimal::ZERO;
    for line in &sale.lines {
        net = net.checked_add(line.amounts.revenue.amount())?;
    }
    let mut tenders = BTreeMap::new();
    for payment in &sale.payments {
        add(&mut tenders, payment.method, payment.amount.amount())?;
    }
    add(&mut tenders, Tender::Cash, -sale.change.amount())?;
    tenders.retain(|_, amount: &mut Decimal| !amount.is_zero());
    Some(SaleFigures {
        gross: sale.subtotal.amount(),
        discounts: sale.discount_total.amount(),
        net,
        tax: sale.tax_total.amount(),
        total: sale.total.amount(),
        tenders,
    })
}

fn add(tenders: &mut BTreeMap<String, Decimal>, tender: Tender, amount: Decimal) -> Option<()> {
    let sum = tenders.entry(tender.as_str().to_owned()).or_default();
    *sum = sum.checked_add(amount)?;
    Some(())
}

/// `into += sign × amount`, checked.
fn accumulate(into: &mut Decimal, amount: Decimal, sign: Decimal) -> Option<()> {
    *into = into.checked_add(amount.checked_mul(sign)?)?;
    Some(())
}

impl SessionTotals {
    /// A sale rung up in the session. `None` when the figures would overflow.
    pub fn add_sale(&mut self, sale: &SaleRecord) -> Option<()> {
        self.sales_count = self.sales_count.checked_add(1)?;
        self.apply(&figures(sale)?, Decimal::ONE)
    }

    /// A sale of the session voided: it leaves the figures and is counted as a void.
    pub fn void_sale(&mut self, sale: &SaleRecord) -> Option<()> {
        self.sales_count = self.sales_count.checked_sub(1)?;
        self.voids_count = self.voids_count.checked_add(1)?;
        self.apply(&figures(sale)?, Decimal::NEGATIVE_ONE)
    }

    fn apply(&mut self, sale: &SaleFigures, sign: Decimal) -> Option<()> {
        accumulate(&mut self.gross, sale.gross, sign)?;
        accumulate(&mut self.discounts, sale.discounts, sign)?;
        accumulate(&mut self.net, sale.net, sign)?;
        accumulate(&mut self.tax, sale.tax, sign)?;
        accumulate(&mut self.total, sale.total, sign)?;
        for (tender, amount) in &sale.tenders {
            accumulate(
                self.by_tender.entry(tender.clone()).or_default(),
                *amount,
                sign,
            )?;
        }
        self.by_tender.retain(|_, amount| !amount.is_zero());
        Some(())
    }

    /// A return taken in the session (whichever session its sale was in).
    pub fn add_return(&mut self, returned: &ReturnRecord) -> Option<()> {
        self.returns_count = self.returns_count.checked_add(1)?;
        self.returns = self.returns.checked_add(returned.refund_total.amount())?;
        for refund in &returned.refunds {
            add(
                &mut self.refunds_by_tender,
                refund.method,
                refund.amount.amount(),
            )?;
        }
        Some(())
    }

    pub fn add_cash(&mut self, kind: CashKind, amount: Money) -> Option<()> {
        let sum = match kind {
            CashKind::PaidIn => &mut self.paid_in,
            CashKind::PaidOut => &mut self.paid_out,
        };
        *sum = sum.checked_add(amount.amount())?;
        Some(())
    }

    /// The report of `session` from these figures: an X report without a count, a Z with
    /// one. `grand_total_before` is the register's perpetual total at its last Z.
    pub fn report(
        &self,
        session: &Opened,
        counted_cash: Option<Decimal>,
        z_number: Option<u32>,
        grand_total_before: Decimal,
    ) -> Option<Report> {
        let cash = |tenders: &BTreeMap<String, Decimal>| {
            tenders
                .get(Tender::Cash.as_str())
                .copied()
                .unwrap_or_default()
        };
        let cash_sales = cash(&self.by_tender);
        let cash_refunds = cash(&self.refunds_by_tender);
        let expected_cash = session
            .opening_float
            .amount()
            .checked_add(cash_sales)?
            .checked_add(self.other_cash_in)?
            .checked_sub(cash_refunds)?
            .checked_add(self.paid_in)?
            .checked_sub(self.paid_out)?;
        let difference = match counted_cash {
            Some(counted) => Some(counted.checked_sub(expected_cash)?),
            None => None,
        };
        let grand_total = grand_total_before
            .checked_add(self.total)?
            .checked_sub(self.returns)?;
        Some(Report {
            session_id: session.id.to_string(),
            currency: session.opening_float.currency(),
            kind: if z_number.is_some() { "z" } else { "x" }.to_owned(),
            z_number,
            sales_count: self.sales_count,
            voids_count: self.voids_count,
            returns_count: self.returns_count,
            gross: self.gross,
            discounts: self.discounts,
            net: self.net,
            tax: self.tax,
            returns: self.returns,
            total: self.total,
            by_tender: self.by_tender.clone(),
            refunds_by_tender: self.refunds_by_tender.clone(),
            opening_float: session.opening_float.amount(),
            paid_in: self.paid_in,
            paid_out: self.paid_out,
            cash_sales,
            other_cash_in: self.other_cash_in,
            cash_refunds,
            expected_cash,
            counted_cash,
            difference,
            grand_total,
        })
    }
}

/// An X report (while open) or a Z report (once closed): the same shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub session_id: String,
    /// The currency of every amount.
    pub currency: Currency,
    /// `x` or `z`.
    pub kind: String,
    pub z_number: Option<u32>,
    pub sales_count: u64,
    pub voids_count: u64,
    pub returns_count: u64,
    pub gross: Decimal,
    pub discounts: Decimal,
    pub net: Decimal,
    pub tax: Decimal,
    pub returns: Decimal,
    pub total: Decimal,
    pub by_tender: BTreeMap<String, Decimal>,
    pub refunds_by_tender: BTreeMap<String, Decimal>,
    pub opening_float: Decimal,
    pub paid_in: Decimal,
    pub paid_out: Decimal,
    pub cash_sales: Decimal,
    pub other_cash_in: Decimal,
    pub cash_refunds: Decimal,
    pub expected_cash: Decimal,
    pub counted_cash: Option<Decimal>,
    pub difference: Option<Decimal>,
    /// The register's perpetual total: the last Z's plus this session's `total − returns`.
    pub grand_total: Decimal,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use tillstream_kernel::{Decider, Quantity};

    use super::super::controls::Locations;
    use super::super::pricing::{Payment, PricingPolicy};
    use super::super::returns::{ReturnLineRequest, ReturnSale, price_return};
    use super::super::sale::{Command, CompleteSale, Event, ResolvedLine, Sale, SaleId};
    use super::super::session::{RegisterId, SessionId};
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse(s, Currency::USD).unwrap()
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn pay(method: Tender, amount: &str) -> Payment {
        Payment {
            method,
            amount: usd(amount),
            reference: None,
        }
    }

    /// 2 × 3.50 and 1 × 10.00 at 8 % tax on top: 17.00 + 1.36 = 18.36.
    fn sale(payments: Vec<Payment>) -> SaleRecord {
        let line = |sku: &str, price: &str, qty: i64| ResolvedLine {
            product_id: format!("p-{sku}"),
            sku: sku.into(),
            name: sku.into(),
            unit_price: usd(price),
            tax_rate: dec("0.08"),
            quantity: Quantity::from_units(qty),
            discount: None,
            catalog_price: None,
        };
        let command = CompleteSale {
            id: SaleId::generate(),
            sale_number: "S1-20261124-000001".into(),
            location_id: "loc".into(),
            cashier_id: "carol".into(),
            completed_at: "2026-11-24T12:00:00Z".parse().unwrap(),
            policy: PricingPolicy {
                currency: Currency::USD,
                prices_include_tax: false,
            },
            lines: vec![line("A", "3.50", 2), line("B", "10.00", 1)],
            discount: None,
            payments,
            customer_id: None,
            customer: None,
            notes: None,
            controls: None,
            locations: Locations::every(),
            session: None,
            repair_id: None,
        };
        let events = Sale::decide(&Sale::default(), &Command::Complete(Box::new(command))).unwrap();
        let Event::SaleCompleted { sale } = &events[0] else {
            panic!("a sale");
        };
        (**sale).clone()
    }

    fn session() -> Opened {
        Opened {
            id: SessionId::generate(),
            register_id: RegisterId::generate(),
            location_id: "loc".into(),
            opened_by: "carol".into(),
            opened_at: "2026-11-24T08:00:00Z".parse().unwrap(),
            opening_float: usd("100.00"),
        }
    }

    #[test]
    fn the_report_adds_up_change_split_tenders_a_cash_return_a_void_and_cash_movements() {
        let mut totals = SessionTotals::default();
        // Split: 10.00 by card, 10.00 cash with 1.64 change: 8.36 of cash stays.
        let split = sale(vec![pay(Tender::Card, "10.00"), pay(Tender::Cash, "10.00")]);
        totals.add_sale(&split).unwrap();
        // All cash, then voided: it leaves every figure and counts as a void.
        let voided = sale(vec![pay(Tender::Cash, "20.00")]);
        totals.add_sale(&voided).unwrap();
        totals.void_sale(&voided).unwrap();
        // One 3.50 item back in cash: its share of 7.56, 3.78.
        let request = ReturnSale {
            return_id: "r1".into(),
            lines: vec![ReturnLineRequest {
                line_no: 1,
                quantity: Quantity::from_units(1),
            }],
            refunds: vec![pay(Tender::Cash, "3.78")],
            restock: true,
            reason: None,
            returned_at: "2026-11-24T13:00:00Z".parse().unwrap(),
            controls: None,
            session_id: None,
        };
        let zero = vec![Quantity::from_units(0); 2];
        totals
            .add_return(&price_return(&split, &zero, &request).unwrap())
            .unwrap();
        totals.add_cash(CashKind::PaidIn, usd("20.00")).unwrap();
        totals.add_cash(CashKind::PaidOut, usd("5.50")).unwrap();

        let x = totals
            .report(&session(), None, None, dec("1000.00"))
            .unwrap();
        assert_eq!(
            (
                x.kind.as_str(),
                x.sales_count,
                x.voids_count,
                x.returns_count
            ),
            ("x", 1, 1, 1)
        );
        assert_eq!(
            (x.gross, x.discounts, x.net, x.tax, x.total),
            (
                dec("17.00"),
                dec("0"),
                dec("17.00"),
                dec("1.36"),
                dec("18.36")
            )
        );
        assert_eq!(x.by_tender["card"], dec("10.00"));
        assert_eq!(x.by_tender["cash"], dec("8.36"));
        assert_eq!(
            (x.returns, x.refunds_by_tender["cash"]),
            (dec("3.78"), dec("3.78"))
        );
        // 100.00 + 8.36 − 3.78 + 20.00 − 5.50
        assert_eq!(x.expected_cash, dec("119.08"));
        assert_eq!((x.counted_cash, x.difference), (None, None));
        // 1000.00 + 18.36 − 3.78
        assert_eq!(x.grand_total, dec("1014.58"));

        let z = totals
            .report(&session(), Some(dec("118.00")), Some(3), dec("1000.00"))
            .unwrap();
        assert_eq!((z.kind.as_str(), z.z_number), ("z", Some(3)));
        assert_eq!(z.difference, Some(dec("-1.08")));
    }

    #[test]
    fn figures_too_large_to_add_are_refused_not_wrapped() {
        let mut totals = SessionTotals {
            paid_in: Decimal::MAX,
            ..SessionTotals::default()
        };
        assert!(totals.add_cash(CashKind::PaidIn, usd("1.00")).is_none());
        // The float plus everything paid in is past what a decimal holds.
        assert!(
            totals
                .report(&session(), None, None, Decimal::ZERO)
                .is_none()
        );
    }
}
