//! Registers and sessions: creating a register, opening a session, paying cash in and out,
//! closing with the count. Each runs in one transaction that locks the session's row, then
//! the register's (always in that order), appends the session's events, keeps the session's
//! figures and writes the document's journal entry.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;
use tillstream_eventstore::{
    Claim, Decided, Done, EventMetadata, EventStore, IdempotencyKey, RunOptions, StoreError,
    Transaction, UseCase,
};
use tillstream_kernel::{Decider, Decimal, Money, time};

use crate::domain::controls::{Authority, Locations};
use crate::domain::session::{
    CashKind, CashMovement, Close, NewRegister, Opened, Register, RegisterEvent, RegisterId,
    Session, SessionCommand, SessionEvent, SessionId,
};
use crate::error::{AppError, session_closed, session_open};
use crate::projections::journal::Document;
use crate::projections::registers::{self, RegisterRow};
use crate::projections::sessions::{self, Locked};
use crate::projections::{approvals, catalog_copy, journal};

/// Creates a register at a location sales knows; 409 when the code is taken there.
pub async fn create_register(
    store: &EventStore,
    register: NewRegister,
    metadata: EventMetadata,
) -> Result<RegisterRow, AppError> {
    let register = register.checked()?;
    catalog_copy::location_code(store.pool(), &register.location_id)
        .await
        .map_err(StoreError::from)?
        .ok_or_else(|| {
            AppError::invalid(
                "location_id",
                format!("no location with id `{}`", register.location_id),
            )
        })?;
    let options = RunOptions {
        expected_version: Some(0),
        metadata,
        ..Default::default()
    };
    let id = register.id;
    store
        .run(&CreateRegister(register), &options)
        .await
        .map_err(|error| match error {
            AppError::Store(StoreError::Duplicate { .. }) => {
                AppError::duplicate("code", "a register with this code exists at the location")
            }
            error => error,
        })?;
    registers::find(store.pool(), &id.to_string())
        .await
        .map_err(StoreError::from)?
        .ok_or_else(|| AppError::NotFound("no such register".into()))
}

struct CreateRegister(NewRegister);

impl UseCase for CreateRegister {
    type Aggregate = Register;
    type Output = ();
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.0.id.stream_id()
    }

    fn decide(&self, state: &Register) -> Result<Vec<RegisterEvent>, AppError> {
        Ok(Register::decide(state, &self.0)?)
    }

    fn claims(&self, _: &[RegisterEvent]) -> Vec<Claim> {
        let code = format!("{}:{}", self.0.location_id, self.0.code.to_uppercase());
        vec![Claim::acquire("register_code", code)]
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        _: Decided<'_, Register>,
    ) -> Result<(), AppError> {
        registers::insert(tx, &self.0)
            .await
            .map_err(StoreError::from)?;
        Ok(())
    }
}

/// Who acts: their id, and what they may do alone and where.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub authority: Authority,
}

/// Opens a session on `register_id` with `opening_float`; 409 `session_open` when the
/// register has one open.
pub async fn open_session(
    store: &EventStore,
    register_id: &str,
    opening_float: Money,
    actor: &Actor,
    key: Option<IdempotencyKey>,
    metadata: EventMetadata,
) -> Result<SessionId, AppError> {
    let register_id: RegisterId = register_id
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound(format!("no register `{}`", register_id.trim())))?;
    let open = OpenSession {
        register_id,
        opening_float,
        actor: actor.clone(),
        id: SessionId::generate(),
        at: time::now(),
        metadata,
    };
    let answer = store.transact(&open, key.as_ref(), false).await?;
    Ok(answer.value)
}

struct OpenSession {
    register_id: RegisterId,
    opening_float: Money,
    actor: Actor,
    id: SessionId,
    at: DateTime<Utc>,
    metadata: EventMetadata,
}

impl Transaction for OpenSession {
    type Output = SessionId;
    type Error = AppError;

    async fn run(
        &self,
        store: &EventStore,
        tx: &mut PgConnection,
    ) -> Result<Done<SessionId>, AppError> {
        let register_id = self.register_id.to_string();
        let head = registers::lock(&mut *tx, &register_id)
            .await
            .map_err(StoreError::from)?
            .ok_or_else(|| AppError::NotFound(format!("no register `{register_id}`")))?;
        check_location(&self.actor.authority.locations, &head.location_id)?;
        if sessions::open_in(&mut *tx, &register_id)
            .await
            .map_err(StoreError::from)?
            .is_some()
        {
            return Err(session_open());
        }
        let opened = Opened {
            id: self.id,
            register_id: self.register_id,
            location_id: head.location_id.clone(),
            opened_by: self.actor.id.clone(),
            opened_at: self.at,
            opening_float: self.opening_float,
        };
        let change = SessionChange {
            id: self.id,
            command: SessionCommand::Open(opened),
        };
        let options = options(Some(0), &self.metadata);
        store.run_in(tx, &change, &options).await?;
        let content = json!({
            "session_id": self.id.to_string(),
            "opened_by": self.actor.id,
            "opening_float": self.opening_float.amount().to_string(),
        });
        let id = self.id.to_string();
        let document = Document {
            kind: "session_opened",
            document_id: &id,
            recorded_at: self.at,
            content,
        };
        journal::append(&mut *tx, &register_id, &head, document, None)
            .await
            .map_err(StoreError::from)?;
        registers::opened(tx, &register_id, &id)
            .await
            .map_err(StoreError::from)?;
        Ok(Done {
            answer: self.id,
            written: Some(self.id.stream_id()),
        })
    }
}

/// Cash paid into or out of a drawer, as asked.
#[derive(Debug, Clone)]
pub struct CashRequest {
    pub kind: CashKind,
    pub amount: Money,
    pub reason: String,
}

/// Pays cash into or out of session `session_id`'s drawer.
pub async fn move_cash(
    store: &EventStore,
    session_id: &str,
    request: CashRequest,
    actor: &Actor,
    key: Option<IdempotencyKey>,
    metadata: EventMetadata,
) -> Result<(SessionId, CashMovement), AppError> {
    let session_id = parse_session(session_id)?;
    let movement = CashMovement {
        id: ulid::Ulid::generate().to_string(),
        kind: request.kind,
        amount: request.amount,
        reason: request.reason,
        by: actor.id.clone(),
        at: time::now(),
    };
    let work = MoveCash {
        session_id,
        movement,
        actor: actor.clone(),
        metadata,
    };
    let answer = store.transact(&work, key.as_ref(), false).await?;
    Ok((session_id, answer.value))
}

struct MoveCash {
    session_id: SessionId,
    movement: CashMovement,
    actor: Actor,
    metadata: EventMetadata,
}

impl Transaction for MoveCash {
    type Output = CashMovement;
    type Error = AppError;

    async fn run(
        &self,
        store: &EventStore,
        tx: &mut PgConnection,
    ) -> Result<Done<CashMovement>, AppError> {
        let locked = lock_session(&mut *tx, &self.session_id, &self.actor).await?;
        let change = SessionChange {
            id: self.session_id,
            command: SessionCommand::MoveCash(self.movement.clone()),
        };
        let event = store
            .run_in(tx, &change, &options(None, &self.metadata))
            .await?;
        let (SessionEvent::CashPaidIn { movement, .. }
        | SessionEvent::CashPaidOut { movement, .. }) = event
        else {
            return Err(AppError::Internal(
                "a cash movement recorded no movement".into(),
            ));
        };
        let mut totals = locked.totals.clone();
        totals
            .add_cash(movement.kind, movement.amount)
            .ok_or_else(overflow)?;
        let id = self.session_id.to_string();
        let content = json!({
            "session_id": id,
            "amount": movement.amount.amount().to_string(),
            "reason": movement.reason,
            "by": movement.by,
        });
        let document = Document {
            kind: movement.kind.name(),
            document_id: &movement.id,
            recorded_at: movement.at,
            content,
        };
        journal::append(
            tx,
            &locked.register_id,
            &locked.head,
            document,
            Some(&totals),
        )
        .await
        .map_err(StoreError::from)?;
        Ok(Done {
            answer: movement,
            written: Some(self.session_id.stream_id()),
        })
    }
}

/// What a close needs beyond the count.
#[derive(Debug, Clone)]
pub struct CloseRules {
    /// `TILLSTREAM_CASH_DIFFERENCE_LIMIT`.
    pub difference_limit: Decimal,
}

/// Closes session `session_id` with the cash counted in the drawer.
pub async fn close_session(
    store: &EventStore,
    session_id: &str,
    counted_cash: Money,
    actor: &Actor,
    rules: &CloseRules,
    metadata: EventMetadata,
) -> Result<SessionId, AppError> {
    let session_id = parse_session(session_id)?;
    let work = CloseSession {
        session_id,
        counted_cash,
        actor: actor.clone(),
        difference_limit: rules.difference_limit,
        at: time::now(),
        metadata,
    };
    store.transact(&work, None, false).await?;
    tracing::info!(%session_id, "session closed");
    Ok(session_id)
}

struct CloseSession {
    session_id: SessionId,
    counted_cash: Money,
    actor: Actor,
    difference_limit: Decimal,
    at: DateTime<Utc>,
    metadata: EventMetadata,
}

impl Transaction for CloseSession {
    type Output = ();
    type Error = AppError;

    async fn run(&self, store: &EventStore, tx: &mut PgConnection) -> Result<Done<()>, AppError> {
        let locked = lock_session(&mut *tx, &self.session_id, &self.actor).await?;
        let close = Close {
            closed_by: self.actor.id.clone(),
            closed_at: self.at,
            counted_cash: self.counted_cash,
            totals: locked.totals.clone(),
            closed_before: u32::try_from(locked.head.z_count).unwrap_or(0),
            grand_total_before: locked.head.grand_total,
            difference_limit: self.difference_limit,
            authority: self.actor.authority.clone(),
        };
        let change = SessionChange {
            id: self.session_id,
            command: SessionCommand::Close(Box::new(close)),
        };
        let event = store
            .run_in(tx, &change, &options(None, &self.metadata))
            .await?;
        let SessionEvent::SessionClosed { report, .. } = event else {
            return Err(AppError::Internal("a close recorded no close".into()));
        };
        let z_number = report.z_number.unwrap_or_default();
        registers::closed(&mut *tx, &locked.register_id, z_number, report.grand_total)
            .await
            .map_err(StoreError::from)?;
        let content = json!({ "session_id": self.session_id.to_string(), "report": *report });
        let id = self.session_id.to_string();
        let document = Document {
            kind: "session_closed",
            document_id: &id,
            recorded_at: self.at,
            content,
        };
        journal::append(tx, &locked.register_id, &locked.head, document, None)
            .await
            .map_err(StoreError::from)?;
        Ok(Done {
            answer: (),
            written: Some(self.session_id.stream_id()),
        })
    }
}

/// Locks the session with its register; refuses a session the actor may not work in, or
/// one closed already.
async fn lock_session(
    tx: &mut PgConnection,
    session_id: &SessionId,
    actor: &Actor,
) -> Result<Locked, AppError> {
    let id = session_id.to_string();
    let locked = sessions::lock(&mut *tx, &id)
        .await
        .map_err(StoreError::from)?
        .ok_or_else(|| AppError::NotFound(format!("no session `{id}`")))?;
    check_location(&actor.authority.locations, &locked.location_id)?;
    if !locked.open {
        return Err(session_closed());
    }
    Ok(locked)
}

fn check_location(locations: &Locations, location_id: &str) -> Result<(), AppError> {
    locations
        .check(location_id)
        .map_err(|refused| crate::error::location_not_allowed(&refused))
}

fn parse_session(id: &str) -> Result<SessionId, AppError> {
    id.trim()
        .parse()
        .map_err(|_| AppError::NotFound(format!("no session `{}`", id.trim())))
}

fn options(expected_version: Option<i64>, metadata: &EventMetadata) -> RunOptions {
    RunOptions {
        expected_version,
        idempotency: None,
        metadata: metadata.clone(),
    }
}

fn overflow() -> AppError {
    AppError::Refused("the session's figures are too large to add up".into())
}

/// One change of a session, with its read model's.
struct SessionChange {
    id: SessionId,
    command: SessionCommand,
}

impl UseCase for SessionChange {
    type Aggregate = Session;
    type Output = SessionEvent;
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.id.stream_id()
    }

    fn decide(&self, state: &Session) -> Result<Vec<SessionEvent>, AppError> {
        Ok(Session::decide(state, &self.command)?)
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, Session>,
    ) -> Result<SessionEvent, AppError> {
        let Some(event) = decided.events.first() else {
            return Err(AppError::Conflict("the session did not change".into()));
        };
        match event {
            SessionEvent::SessionOpened { session } => {
                sessions::insert(tx, session)
                    .await
                    .map_err(StoreError::from)?;
            }
            SessionEvent::CashPaidIn { movement, .. }
            | SessionEvent::CashPaidOut { movement, .. } => {
                sessions::insert_movement(tx, &self.id, movement)
                    .await
                    .map_err(StoreError::from)?;
            }
            SessionEvent::SessionClosed {
                closed_by,
                closed_at,
                report,
                approvals: used,
                ..
            } => {
                // Spent with the close, in its transaction.
                if !approvals::spend(&mut *tx, used, &self.id.to_string()).await? {
                    return Err(AppError::approval_used());
                }
                sessions::close(tx, &self.id, closed_by, *closed_at, report, used)
                    .await
                    .map_err(StoreError::from)?;
            }
        }
        Ok(event.clone())
    }
}
