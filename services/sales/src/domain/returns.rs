//! Returns: goods brought back from a completed sale, partly or wholly, once or in several
//! visits, never more than was sold. The refund is the returned share of each line's total,
//! of which the returned share of its tax is tax and the rest revenue (the contract).
//!
//! Shares are taken cumulatively: a return's refund is the share of everything returned so
//! far minus the share already refunded. The first return is exactly the contract's
//! `round(line_total × returned / sold)`, and returning a line in three visits refunds its
//! total to the cent (10.00 over 3 units: 3.33, 3.34, 3.33), never a cent more or less.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tillstream_kernel::time::{DateTime, Utc};
use tillstream_kernel::{Money, MoneyError, Quantity};

use super::controls::{Approval, Authority};
use super::pricing::Payment;
use super::sale::SaleRecord;

/// What the manager asks to take back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnSale {
    pub return_id: String,
    pub lines: Vec<ReturnLineRequest>,
    pub refunds: Vec<Payment>,
    pub restock: bool,
    pub reason: Option<String>,
    pub returned_at: DateTime<Utc>,
    /// What the person taking it back may do alone; `None` where no one is to be checked.
    pub controls: Option<Authority>,
    /// The register session the refund is taken in, if any.
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnLineRequest {
    pub line_no: u32,
    pub quantity: Quantity,
}

/// One returned line and its shares of the line's amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnedLine {
    pub line_no: u32,
    pub product_id: String,
    pub quantity: Quantity,
    pub refund: Money,
    pub tax: Money,
    pub revenue: Money,
}

/// A return as stored in its event and answered to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRecord {
    pub id: String,
    #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
    pub returned_at: DateTime<Utc>,
    pub lines: Vec<ReturnedLine>,
    pub refunds: Vec<Payment>,
    pub restock: bool,
    pub reason: Option<String>,
    pub refund_total: Money,
    pub tax: Money,
    pub revenue: Money,
    /// The managers' approvals the return used (a cashier's return, refunds to another
    /// tender).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<Approval>,
    /// The register session the refund was taken in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error("a return needs at least one line")]
    NoLines,
    #[error("the sale has no line {line_no}")]
    UnknownLine { index: usize, line_no: u32 },
    #[error("line {line_no} is listed twice")]
    RepeatedLine { index: usize, line_no: u32 },
    #[error("a returned quantity must be greater than zero")]
    QuantityNotPositive { index: usize },
    #[error("only {left} of line {line_no} can still be returned")]
    MoreThanSold {
        index: usize,
        line_no: u32,
        left: Quantity,
    },
    #[error("the refunds must add up to {expected}")]
    RefundMismatch { expected: Money },
    #[error("a refund must be greater than zero")]
    RefundNotPositive { index: usize },
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl ReturnError {
    /// The request field at fault.
    pub fn field(&self) -> String {
        match self {
            ReturnError::NoLines => "lines".into(),
            ReturnError::UnknownLine { index, .. } | ReturnError::RepeatedLine { index, .. } => {
                format!("lines[{index}].line_no")
            }
            ReturnError::QuantityNotPositive { index }
            | ReturnError::MoreThanSold { index, .. } => {
                format!("lines[{index}].quantity")
            }
            ReturnError::RefundNotPositive { index } => format!("refunds[{index}].amount"),
            ReturnError::RefundMismatch { .. } | ReturnError::Money(_) => "refunds".into(),
        }
    }
}

/// Prices a return of `sale`, of which `returned[i]` of line `i + 1` went back before.
pub fn price_return(
    sale: &SaleRecord,
    returned: &[Quantity],
    request: &ReturnSale,
) -> Result<ReturnRecord, ReturnError> {
    if request.lines.is_empty() {
        return Err(ReturnError::NoLines);
    }
    let currency = sale.total.currency();
    let mut lines = Vec::with_capacity(request.lines.len());
    for (index, asked) in request.lines.iter().enumerate() {
        let line_no = asked.line_no;
        if request.lines[..index].iter().any(|l| l.line_no == line_no) {
            return Err(ReturnError::RepeatedLine { index, line_no });
        }
        let position = usize::try_from(line_no)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .filter(|p| *p < sale.lines.len())
            .ok_or(ReturnError::UnknownLine { index, line_no })?;
        if !asked.quantity.is_positive() {
            return Err(ReturnError::QuantityNotPositive { index });
        }
        let sold_line = &sale.lines[position];
        let sold = sold_line.line.quantity.value();
        let before = returned
            .get(position)
            .map_or(Decimal::ZERO, Quantity::value);
        let after = before + asked.quantity.value();
        if after > sold {
            let left = Quantity::new(sold - before).unwrap_or(Quantity::from_units(0));
            return Err(ReturnError::MoreThanSold {
                index,
                line_no,
                left,
            });
        }
        let share = |amount: Money| -> Result<Money, MoneyError> {
            let to_now = amount.checked_mul(after / sold)?;
            let so_far = amount.checked_mul(before / sold)?;
            to_now.checked_sub(so_far)
        };
        let refund = share(sold_line.amounts.line_total)?;
        let tax = share(sold_line.amounts.tax)?;
        lines.push(ReturnedLine {
            line_no,
            product_id: sold_line.line.product_id.clone(),
            quantity: asked.quantity,
            refund,
            tax,
            revenue: refund.checked_sub(tax)?,
        });
    }
    let refund_total = Money::sum(currency, lines.iter().map(|l| l.refund))?;
    let tax = Money::sum(currency, lines.iter().map(|l| l.tax))?;
    let revenue = Money::sum(currency, lines.iter().map(|l| l.revenue))?;
    if let Some(index) = request
        .refunds
        .iter()
        .position(|r| r.amount.is_negative() || r.amount.is_zero())
    {
        return Err(ReturnError::RefundNotPositive { index });
    }
    let refunded = Money::sum(currency, request.refunds.iter().map(|r| r.amount))?;
    if refunded != refund_total {
        return Err(ReturnError::RefundMismatch {
            expected: refund_total,
        });
    }
    Ok(ReturnRecord {
        id: request.return_id.clone(),
        returned_at: request.returned_at,
        lines,
        refunds: request.refunds.clone(),
        restock: request.restock,
        reason: request.reason.clone(),
        refund_total,
        tax,
        revenue,
        approvals: Vec::new(),
        session_id: request.session_id.clone(),
    })
}

#[cfg(test)]
mod tests {
    use tillstream_kernel::{Currency, Decider, Tender, given};

    use super::*;
    use crate::domain::controls::{Action, ApprovalRequired, LocationNotAllowed, Locations};
    use crate::domain::pricing::PricingPolicy;
    use crate::domain::sale::{
        Command, CompleteSale, Event, ResolvedLine, Sale, SaleError, SaleId,
    };

    fn usd(s: &str) -> Money {
        Money::parse(s, Currency::USD).unwrap()
    }

    fn cash(amount: &str) -> Payment {
        Payment {
            method: Tender::Cash,
            amount: usd(amount),
            reference: None,
        }
    }

    /// A sale of 3 × 3.00 at 11.1 % tax (line 1: net 9.00, tax 1.00, total 10.00) and
    /// 1 × 5.00 untaxed (line 2).
    fn completed() -> Vec<Event> {
        let line = |sku: &str, price: &str, qty: i64, rate: &str| ResolvedLine {
            product_id: format!("p-{sku}"),
            sku: sku.into(),
            name: sku.into(),
            unit_price: usd(price),
            tax_rate: rate.parse().unwrap(),
            quantity: Quantity::from_units(qty),
            discount: None,
            catalog_price: None,
        };
        let command = CompleteSale {
            id: SaleId::generate(),
            sale_number: "S1-20261124-000001".into(),
            location_id: "loc".into(),
            cashier_id: "cashier".into(),
            completed_at: "2026-11-24T12:00:00Z".parse().unwrap(),
            policy: PricingPolicy {
                currency: Currency::USD,
                prices_include_tax: false,
            },
            lines: vec![line("A", "3.00", 3, "0.111"), line("B", "5.00", 1, "0")],
            discount: None,
            payments: vec![cash("15.00")],
            customer_id: None,
            customer: None,
            notes: None,
            controls: None,
            locations: Locations::every(),
            session: None,
            repair_id: None,
        };
        Sale::decide(&Sale::default(), &Command::Complete(Box::new(command))).unwrap()
    }

    fn ret(lines: &[(u32, i64)], refunds: &[&str]) -> Command {
        Command::Return(ReturnSale {
            return_id: "r".into(),
            lines: lines
                .iter()
                .map(|(line_no, qty)| ReturnLineRequest {
                    line_no: *line_no,
                    quantity: Quantity::from_units(*qty),
                })
                .collect(),
            refunds: refunds.iter().map(|a| cash(a)).collect(),
            restock: true,
            reason: None,
            returned_at: "2026-11-24T13:00:00Z".parse().unwrap(),
            controls: None,
            session_id: None,
        })
    }

    fn returned(events: &[Event]) -> &ReturnRecord {
        match &events[0] {
            Event::SaleReturned { returned, .. } => returned,
            other => panic!("not a return: {other:?}"),
        }
    }

    #[test]
    fn a_line_returned_in_three_visits_refunds_its_total_to_the_cent() {
        let mut history = completed();
        let mut refunds = Vec::new();
        for expected in ["3.33", "3.34", "3.33"] {
            let events = given::<Sale>(history.clone())
                .when(ret(&[(1, 1)], &[expected]))
                .outcome()
                .unwrap();
            let record = returned(&events);
            assert_eq!(record.refund_total, usd(expected));
            refunds.push(record.tax);
            history.extend(events);
        }
        // The tax shares add up to the line's tax, 1.00, in the same way.
        assert_eq!(refunds, [usd("0.33"), usd("0.34"), usd("0.33")]);
        let more = given::<Sale>(history)
            .when(ret(&[(1, 1)], &["0.01"]))
            .outcome();
        assert!(matches!(
            more,
            Err(SaleError::Return(ReturnError::MoreThanSold {
                index: 0,
                ..
            }))
        ));
    }

    #[test]
    fn refund_tax_and_revenue_split_as_the_contract_says() {
        let events = given::<Sale>(completed())
            .when(ret(&[(2, 1), (1, 2)], &["4.00", "7.67"]))
            .outcome()
            .unwrap();
        let record = returned(&events);
        // Line 1: round(10.00 × 2/3) = 6.67 of which round(1.00 × 2/3) = 0.67 tax.
        assert_eq!(
            (record.refund_total, record.tax, record.revenue),
            (usd("11.67"), usd("0.67"), usd("11.00"))
        );
        assert_eq!(record.lines[1].revenue, usd("6.00"));
    }

    #[test]
    fn bad_returns_name_their_field() {
        let cases = [
            (ret(&[], &[]), "lines"),
            (ret(&[(3, 1)], &["1.00"]), "lines[0].line_no"),
            (ret(&[(1, 1), (1, 1)], &["6.67"]), "lines[1].line_no"),
            (ret(&[(1, 0)], &[]), "lines[0].quantity"),
            (ret(&[(1, 4)], &["13.33"]), "lines[0].quantity"),
            (ret(&[(2, 1)], &["4.99"]), "refunds"),
            (ret(&[(2, 1)], &["5.00", "0.00"]), "refunds[1].amount"),
        ];
        for (command, field) in cases {
            match given::<Sale>(completed()).when(command).outcome() {
                Err(SaleError::Return(error)) => assert_eq!(error.field(), field, "{error}"),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_sale_is_voided_once_and_never_after_a_return() {
        let void = || Command::Void {
            reason: "rang up twice".into(),
            voided_at: "2026-11-24T13:00:00Z".parse().unwrap(),
            controls: None,
        };
        let voided = given::<Sale>(completed()).when(void()).outcome().unwrap();
        let mut history = completed();
        history.extend(voided);
        given::<Sale>(history.clone())
            .when(void())
            .then_error(SaleError::Voided);
        given::<Sale>(history)
            .when(ret(&[(2, 1)], &["5.00"]))
            .then_error(SaleError::Voided);
        let mut returned = completed();
        returned.extend(
            given::<Sale>(completed())
                .when(ret(&[(2, 1)], &["5.00"]))
                .outcome()
                .unwrap(),
        );
        given::<Sale>(returned)
            .when(void())
            .then_error(SaleError::HasReturns);
        given::<Sale>(vec![])
            .when(void())
            .then_error(SaleError::NotCompleted);
    }

    fn cashier(approved: &[Action]) -> Authority {
        Authority {
            manager: false,
            approved: approved
                .iter()
                .map(|action| Approval {
                    action: *action,
                    approver_id: "maya".into(),
                    approval_id: action.name().into(),
                })
                .collect(),
            discount_limit_percent: "20".parse().unwrap(),
            locations: Locations::every(),
        }
    }

    fn controlled(command: Command, authority: Authority) -> Command {
        match command {
            Command::Return(mut request) => {
                request.controls = Some(authority);
                Command::Return(request)
            }
            Command::Void {
                reason, voided_at, ..
            } => Command::Void {
                reason,
                voided_at,
                controls: Some(authority),
            },
            other => other,
        }
    }

    fn needs(action: Action, field: Option<&str>) -> SaleError {
        SaleError::ApprovalRequired(ApprovalRequired {
            action,
            field: field.map(str::to_owned),
        })
    }

    #[test]
    fn a_cashier_returns_with_an_approval_and_refunds_to_another_tender_with_another() {
        let one = || ret(&[(1, 1)], &["3.33"]);
        given::<Sale>(completed())
            .when(controlled(one(), cashier(&[])))
            .then_error(needs(Action::Return, None));
        let events = given::<Sale>(completed())
            .when(controlled(one(), cashier(&[Action::Return])))
            .outcome()
            .unwrap();
        assert_eq!(
            returned(&events).approvals,
            cashier(&[Action::Return]).approved
        );

        // Paid in cash; refunded to a card.
        let to_card = || match one() {
            Command::Return(mut request) => {
                request.refunds[0].method = Tender::Card;
                Command::Return(request)
            }
            other => other,
        };
        given::<Sale>(completed())
            .when(controlled(to_card(), cashier(&[Action::Return])))
            .then_error(needs(Action::RefundTender, Some("refunds")));
        let both = [Action::Return, Action::RefundTender];
        given::<Sale>(completed())
            .when(controlled(to_card(), cashier(&both)))
            .outcome()
            .unwrap();
        let manager = Authority {
            manager: true,
            ..cashier(&[])
        };
        let events = given::<Sale>(completed())
            .when(controlled(to_card(), manager))
            .outcome()
            .unwrap();
        assert!(
            returned(&events).approvals.is_empty(),
            "a manager needs none"
        );
    }

    #[test]
    fn a_cashier_voids_with_an_approval() {
        let void = || Command::Void {
            reason: "rung twice".into(),
            voided_at: "2026-11-24T13:00:00Z".parse().unwrap(),
            controls: None,
        };
        given::<Sale>(completed())
            .when(controlled(void(), cashier(&[])))
            .then_error(needs(Action::Void, None));
        let events = given::<Sale>(completed())
            .when(controlled(void(), cashier(&[Action::Void])))
            .outcome()
            .unwrap();
        let Event::SaleVoided { approvals, .. } = &events[0] else {
            panic!("a void");
        };
        assert_eq!(approvals, &cashier(&[Action::Void]).approved);
    }

    #[test]
    fn nobody_returns_or_voids_outside_their_locations_even_a_manager() {
        let elsewhere = || Authority {
            manager: true,
            locations: Locations::only(vec!["other".into()]),
            ..cashier(&[Action::Return, Action::Void])
        };
        let void = Command::Void {
            reason: "rung twice".into(),
            voided_at: "2026-11-24T13:00:00Z".parse().unwrap(),
            controls: None,
        };
        let refused = SaleError::LocationNotAllowed(LocationNotAllowed {
            location_id: "loc".into(),
        });
        given::<Sale>(completed())
            .when(controlled(ret(&[(1, 1)], &["3.33"]), elsewhere()))
            .then_error(refused.clone());
        given::<Sale>(completed())
            .when(controlled(void, elsewhere()))
            .then_error(refused);
    }
}
