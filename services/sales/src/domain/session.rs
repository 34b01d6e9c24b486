//! Registers and their sessions (api.md, "Registers, sessions and the fiscal journal"). A
//! register is a till at a location; a session is one drawer's shift on it: opened with a
//! float, cash paid in and out, closed with a count against what the system expects. The
//! figures of a session are [`SessionTotals`], kept current as each document arrives, so
//! an X report or a close reads one row whatever the session held.

use serde::{Deserialize, Serialize};
use tillstream_kernel::time::{DateTime, Utc};
use tillstream_kernel::{Decider, Decimal, DomainEvent, Money};

use super::controls::{Action, Approval, ApprovalRequired, Authority, LocationNotAllowed};
use super::totals::{Report, SessionTotals};

tillstream_kernel::typed_id!(
    /// A register's id.
    RegisterId,
    stream = "register"
);

tillstream_kernel::typed_id!(
    /// A session's id.
    SessionId,
    stream = "session"
);

/// The longest register code and name.
pub const CODE_MAX_CHARS: usize = 32;
pub const NAME_MAX_CHARS: usize = 100;
pub const REASON_MAX_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
    #[error("the register already exists")]
    RegisterExists,
    #[error("no such session")]
    NotFound,
    #[error("the session is already open")]
    AlreadyOpen,
    #[error("the session is closed")]
    Closed,
    #[error(transparent)]
    ApprovalRequired(#[from] ApprovalRequired),
    #[error(transparent)]
    LocationNotAllowed(#[from] LocationNotAllowed),
    #[error("the figures are too large to add up")]
    Overflow,
}

/// A register as created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRegister {
    pub id: RegisterId,
    pub location_id: String,
    pub code: String,
    pub name: String,
}

impl NewRegister {
    /// Trimmed, with a code of 1 to 32 letters, digits, `-` and `_`, and a name.
    pub fn checked(self) -> Result<NewRegister, SessionError> {
        let code = self.code.trim().to_owned();
        let code_ok = (1..=CODE_MAX_CHARS).contains(&code.chars().count())
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if !code_ok {
            return Err(SessionError::Invalid {
                field: "code",
                message: "1 to 32 of A-Z, a-z, 0-9, '-' and '_'",
            });
        }
        let name = self.name.trim().to_owned();
        if !(1..=NAME_MAX_CHARS).contains(&name.chars().count()) {
            return Err(SessionError::Invalid {
                field: "name",
                message: "a name of 1 to 100 characters",
            });
        }
        Ok(NewRegister { code, name, ..self })
    }
}

/// A register: created once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    pub created: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RegisterEvent {
    RegisterCreated {
        #[serde(flatten)]
        register: NewRegister,
    },
}

impl DomainEvent for RegisterEvent {
    fn event_type(&self) -> &'static str {
        "RegisterCreated"
    }
}

impl Decider for Register {
    type State = Register;
    type Command = NewRegister;
    type Event = RegisterEvent;
    type Error = SessionError;

    fn decide(state: &Register, command: &NewRegister) -> Result<Vec<RegisterEvent>, SessionError> {
        if state.created {
            return Err(SessionError::RegisterExists);
        }
        Ok(vec![RegisterEvent::RegisterCreated {
            register: command.clone().checked()?,
        }])
    }

    fn evolve(_: Register, _: &RegisterEvent) -> Register {
        Register { created: true }
    }
}

/// A session as opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opened {
    pub id: SessionId,
    pub register_id: RegisterId,
    pub location_id: String,
    pub opened_by: String,
    #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
    pub opened_at: DateTime<Utc>,
    pub opening_float: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CashKind {
    PaidIn,
    PaidOut,
}

impl CashKind {
    pub fn name(self) -> &'static str {
        match self {
            CashKind::PaidIn => "paid_in",
            CashKind::PaidOut => "paid_out",
        }
    }

    pub fn from_name(name: &str) -> Option<CashKind> {
        match name {
            "paid_in" => Some(CashKind::PaidIn),
            "paid_out" => Some(CashKind::PaidOut),
            _ => None,
        }
    }
}

/// Cash put into or taken out of the drawer, not for a sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashMovement {
    pub id: String,
    pub kind: CashKind,
    pub amount: Money,
    pub reason: String,
    pub by: String,
    #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
    pub at: DateTime<Utc>,
}

/// Closing a session: the count, and what the session's figures say (read in the close's
/// transaction, so no document slips between the two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub closed_by: String,
    pub closed_at: DateTime<Utc>,
    pub counted_cash: Money,
    pub totals: SessionTotals,
    /// The register's closed sessions before this one, and their perpetual total.
    pub closed_before: u32,
    pub grand_total_before: Decimal,
    /// `TILLSTREAM_CASH_DIFFERENCE_LIMIT`: a larger difference needs `cash_difference`.
    pub difference_limit: Decimal,
    pub authority: Authority,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCommand {
    Open(Opened),
    MoveCash(CashMovement),
    Close(Box<Close>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum SessionEvent {
    SessionOpened {
        #[serde(flatten)]
        session: Opened,
    },
    CashPaidIn {
        register_id: RegisterId,
        location_id: String,
        movement: CashMovement,
    },
    CashPaidOut {
        register_id: RegisterId,
        location_id: String,
        movement: CashMovement,
    },
    SessionClosed {
        register_id: RegisterId,
        location_id: String,
        closed_by: String,
        #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
        closed_at: DateTime<Utc>,
        /// The Z report, `counted_cash` and `difference` included.
        report: Box<Report>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        approvals: Vec<Approval>,
    },
}

impl DomainEvent for SessionEvent {
    fn event_type(&self) -> &'static str {
        match self {
            SessionEvent::SessionOpened { .. } => "SessionOpened",
            SessionEvent::CashPaidIn { .. } => "CashPaidIn",
            SessionEvent::CashPaidOut { .. } => "CashPaidOut",
            SessionEvent::SessionClosed { .. } => "SessionClosed",
        }
    }
}

/// A session: opened once, closed once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub opened: Option<Box<Opened>>,
    pub closed: bool,
}

impl Decider for Session {
    type State = Session;
    type Command = SessionCommand;
    type Event = SessionEvent;
    type Error = SessionError;

    fn decide(
        state: &Session,
        command: &SessionCommand,
    ) -> Result<Vec<SessionEvent>, SessionError> {
        if let SessionCommand::Open(opened) = command {
            if state.opened.is_some() {
                return Err(SessionError::AlreadyOpen);
            }
            if opened.opening_float.is_negative() {
                return Err(SessionError::Invalid {
                    field: "opening_float",
                    message: "an opening float is zero or more",
                });
            }
            return Ok(vec![SessionEvent::SessionOpened {
                session: opened.clone(),
            }]);
        }
        let opened = state.opened.as_ref().ok_or(SessionError::NotFound)?;
        if state.closed {
            return Err(SessionError::Closed);
        }
        match command {
            SessionCommand::Open(_) => Err(SessionError::AlreadyOpen),
            SessionCommand::MoveCash(movement) => move_cash(opened, movement),
            SessionCommand::Close(close) => close_session(opened, close),
        }
    }

    fn evolve(mut state: Session, event: &SessionEvent) -> Session {
        match event {
            SessionEvent::SessionOpened { session } => {
                state.opened = Some(Box::new(session.clone()));
            }
            SessionEvent::SessionClosed { .. } => state.closed = true,
            SessionEvent::CashPaidIn { .. } | SessionEvent::CashPaidOut { .. } => {}
        }
        state
    }
}

fn move_cash(opened: &Opened, movement: &CashMovement) -> Result<Vec<SessionEvent>, SessionError> {
    if movement.amount.is_negative() || movement.amount.is_zero() {
        return Err(SessionError::Invalid {
            field: "amount",
            message: "an amount greater than zero",
        });
    }
    let reason = movement.reason.trim();
    if reason.is_empty() || reason.chars().count() > REASON_MAX_CHARS {
        return Err(SessionError::Invalid {
            field: "reason",
            message: "a reason of 1 to 500 characters",
        });
    }
    let movement = CashMovement {
        reason: reason.to_owned(),
        ..movement.clone()
    };
    let (register_id, location_id) = (opened.register_id, opened.location_id.clone());
    Ok(vec![match movement.kind {
        CashKind::PaidIn => SessionEvent::CashPaidIn {
            register_id,
            location_id,
            movement,
        },
        CashKind::PaidOut => SessionEvent::CashPaidOut {
            register_id,
            location_id,
            movement,
        },
    }])
}

fn close_session(opened: &Opened, close: &Close) -> Result<Vec<SessionEvent>, SessionError> {
    if close.counted_cash.is_negative() {
        return Err(SessionError::Invalid {
            field: "counted_cash",
            message: "counted cash is zero or more",
        });
    }
    let z_number = close
        .closed_before
        .checked_add(1)
        .ok_or(SessionError::Overflow)?;
    let report = close
        .totals
        .report(
            opened,
            Some(close.counted_cash.amount()),
            Some(z_number),
            close.grand_total_before,
        )
        .ok_or(SessionError::Overflow)?;
    let difference = report.difference.unwrap_or_default();
    let mut approvals = Vec::new();
    if difference.abs() > close.difference_limit {
        approvals.extend(
            close
                .authority
                .allows(Action::CashDifference)
                .map_err(|()| ApprovalRequired {
                    action: Action::CashDifference,
                    field: Some("counted_cash".into()),
                })?,
        );
    }
    Ok(vec![SessionEvent::SessionClosed {
        register_id: opened.register_id,
        location_id: opened.location_id.clone(),
        closed_by: close.closed_by.clone(),
        closed_at: close.closed_at,
        report: Box::new(report),
        approvals,
    }])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use tillstream_kernel::{Currency, given};

    use super::super::controls::Locations;
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse(s, Currency::USD).unwrap()
    }

    fn opened() -> Opened {
        Opened {
            id: SessionId::generate(),
            register_id: RegisterId::generate(),
            location_id: "loc".into(),
            opened_by: "carol".into(),
            opened_at: "2026-11-24T08:00:00Z".parse().unwrap(),
            opening_float: usd("100.00"),
        }
    }

    fn open() -> Vec<SessionEvent> {
        vec![SessionEvent::SessionOpened { session: opened() }]
    }

    fn authority(manager: bool, approved: &[Action]) -> Authority {
        Authority {
            manager,
            approved: approved
                .iter()
                .map(|action| Approval {
                    action: *action,
                    approver_id: "maya".into(),
                    approval_id: "A1".into(),
                })
                .collect(),
            discount_limit_percent: Decimal::from(20),
            locations: Locations::every(),
        }
    }

    fn close(counted: &str, authority: Authority) -> SessionCommand {
        SessionCommand::Close(Box::new(Close {
            closed_by: "carol".into(),
            closed_at: "2026-11-24T18:00:00Z".parse().unwrap(),
            counted_cash: usd(counted),
            totals: SessionTotals::default(),
            closed_before: 4,
            grand_total_before: Decimal::new(100_000, 2),
            difference_limit: Decimal::new(500, 2),
            authority,
        }))
    }

    fn movement(kind: CashKind, amount: &str, reason: &str) -> SessionCommand {
        SessionCommand::MoveCash(CashMovement {
            id: "m1".into(),
            kind,
            amount: usd(amount),
            reason: reason.into(),
            by: "carol".into(),
            at: "2026-11-24T09:00:00Z".parse().unwrap(),
        })
    }

    #[test]
    fn a_register_has_a_code_and_a_name_and_is_created_once() {
        let register = NewRegister {
            id: RegisterId::generate(),
            location_id: "loc".into(),
            code: " T1 ".into(),
            name: "Front till".into(),
        };
        let events = given::<Register>(vec![])
            .when(register.clone())
            .outcome()
            .unwrap();
        let RegisterEvent::RegisterCreated { register: created } = &events[0];
        assert_eq!(created.code, "T1");
        given::<Register>(events)
            .when(register.clone())
            .then_error(SessionError::RegisterExists);
        for (code, name, field) in [("", "n", "code"), ("T 1", "n", "code"), ("T1", " ", "name")] {
            let bad = NewRegister {
                code: code.into(),
                name: name.into(),
                ..register.clone()
            };
            given::<Register>(vec![])
                .when(bad)
                .then_error(SessionError::Invalid {
                    field,
                    message: if field == "code" {
                        "1 to 32 of A-Z, a-z, 0-9, '-' and '_'"
                    } else {
                        "a name of 1 to 100 characters"
                    },
                });
        }
    }

    #[test]
    fn a_session_opens_once_moves_cash_with_a_reason_and_nothing_after_its_close() {
        given::<Session>(open())
            .when(SessionCommand::Open(opened()))
            .then_error(SessionError::AlreadyOpen);
        let events = given::<Session>(open())
            .when(movement(CashKind::PaidIn, "20.00", " change float "))
            .outcome()
            .unwrap();
        let SessionEvent::CashPaidIn { movement: paid, .. } = &events[0] else {
            panic!("a paid-in");
        };
        assert_eq!(paid.reason, "change float");
        given::<Session>(open())
            .when(movement(CashKind::PaidOut, "20.00", ""))
            .then_error(SessionError::Invalid {
                field: "reason",
                message: "a reason of 1 to 500 characters",
            });
        given::<Session>(open())
            .when(movement(CashKind::PaidOut, "0.00", "milk"))
            .then_error(SessionError::Invalid {
                field: "amount",
                message: "an amount greater than zero",
            });
        given::<Session>(vec![])
            .when(movement(CashKind::PaidOut, "1.00", "milk"))
            .then_error(SessionError::NotFound);
        let closed = given::<Session>(open())
            .when(close("100.00", authority(false, &[])))
            .outcome()
            .unwrap();
        let mut history = open();
        history.extend(closed);
        given::<Session>(history.clone())
            .when(movement(CashKind::PaidOut, "1.00", "milk"))
            .then_error(SessionError::Closed);
        given::<Session>(history)
            .when(close("100.00", authority(true, &[])))
            .then_error(SessionError::Closed);
    }

    #[test]
    fn a_close_numbers_the_z_and_a_difference_over_the_limit_needs_a_manager() {
        // Expected cash is the float, 100.00: 105.00 counted is within the 5.00 limit.
        let events = given::<Session>(open())
            .when(close("105.00", authority(false, &[])))
            .outcome()
            .unwrap();
        let SessionEvent::SessionClosed { report, .. } = &events[0] else {
            panic!("a close");
        };
        assert_eq!(report.z_number, Some(5));
        assert_eq!(report.difference, Some(Decimal::new(500, 2)));
        assert_eq!(report.grand_total, Decimal::new(100_000, 2));
        given::<Session>(open())
            .when(close("94.99", authority(false, &[])))
            .then_error(SessionError::ApprovalRequired(ApprovalRequired {
                action: Action::CashDifference,
                field: Some("counted_cash".into()),
            }));
        let events = given::<Session>(open())
            .when(close("94.99", authority(false, &[Action::CashDifference])))
            .outcome()
            .unwrap();
        let SessionEvent::SessionClosed { approvals, .. } = &events[0] else {
            panic!("a close");
        };
        assert_eq!(approvals.len(), 1);
        given::<Session>(open())
            .when(close("94.99", authority(true, &[])))
            .outcome()
            .unwrap();
    }
}
