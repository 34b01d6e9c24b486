//! A sale numbered and recorded in one transaction: the number is drawn there, so a sale
//! that is not recorded leaves no gap. Its event, its read-model row and (when the caller
//! asks) the answer kept under its idempotency key go in one statement; in a session, its
//! journal entry and the session's figures in one more.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgConnection;
use tillstream_eventstore::{
    AppendRequest, Done, Draw, EventMetadata, EventStore, IdempotencyKey, NewEvent, StoreError,
    Transaction,
};
use tillstream_kernel::{Decider, time};

use super::in_session;
use super::stored_value::{self, Direction};
use crate::domain::pricing::PricingPolicy;
use crate::domain::sale::{
    Command, CompleteSale, Event, ResolvedLine, Sale, SaleId, SaleRecord, SaleSession,
};
use crate::error::AppError;
use crate::privacy::{MasterKey, Sealed};
use crate::projections::sessions::Locked;
use crate::projections::{approvals, customers, sale_numbers, sales, sessions};

use super::create_sale::SaleRequest;

/// A sale to ring up, its number still to draw. A repair's collection runs it inside its
/// own transaction.
pub(crate) struct RingUp<'a> {
    master: &'a MasterKey,
    /// Sealed under a key of the sale's own in its transaction.
    free_text: Option<FreeTextCustomer>,
    location_code: String,
    session_id: Option<String>,
    pub(crate) offline: bool,
    metadata: EventMetadata,
    pub(crate) sale: CompleteSale,
    day: NaiveDate,
    /// Drawn already, with the sale's reads, in the transaction it runs in.
    drawn: Option<Drawn>,
    /// Kept by the statement that appends the sale (the caller's transaction does not).
    keep: Option<IdempotencyKey>,
}

/// A number drawn, and the session locked, by the sale's first statement
/// (`projections::sale_start`), with its customer found live or not.
#[derive(Debug, Clone)]
pub(crate) struct Drawn {
    pub number: i64,
    pub locked: Option<Locked>,
    pub customer_live: Option<bool>,
}

impl<'a> RingUp<'a> {
    /// The sale `request` asks for, of `lines` (resolved from the catalog copy).
    pub(crate) fn new(
        master: &'a MasterKey,
        policy: PricingPolicy,
        request: SaleRequest,
        location_code: String,
        lines: Vec<ResolvedLine>,
        metadata: EventMetadata,
    ) -> RingUp<'a> {
        let id = request.id.unwrap_or_else(SaleId::generate);
        let now = request.captured_at.unwrap_or_else(time::now);
        let free_text = (request.customer_name.is_some() || request.customer_email.is_some())
            .then_some(FreeTextCustomer {
                name: request.customer_name,
                email: request.customer_email,
            });
        RingUp {
            master,
            free_text,
            location_code,
            session_id: request.session_id,
            offline: request.offline,
            metadata,
            sale: CompleteSale {
                id,
                sale_number: String::new(),
                location_id: request.location_id,
                cashier_id: request.cashier_id,
                completed_at: now,
                policy,
                lines,
                discount: request.discount,
                payments: request.payments,
                customer_id: request.customer_id,
                customer: None,
                notes: request.notes,
                controls: request.controls,
                locations: request.locations,
                session: None,
                repair_id: request.repair_id,
            },
            day: now.date_naive(),
            drawn: None,
            keep: None,
        }
    }

    /// Its number drawn already, in the transaction it is to run in.
    pub(crate) fn drawn(self, drawn: Drawn) -> RingUp<'a> {
        RingUp {
            drawn: Some(drawn),
            ..self
        }
    }

    /// Keeps its answer under `key` in the statement that appends it.
    pub(crate) fn keeping(self, key: Option<IdempotencyKey>) -> RingUp<'a> {
        RingUp { keep: key, ..self }
    }

    /// Its number, and its session locked: a sale in a session takes both in one round
    /// trip (the counter first, as every sale; then the session, then the register: one
    /// order, no deadlock).
    async fn draw(&self, tx: &mut PgConnection) -> Result<Drawn, AppError> {
        let location = &self.sale.location_id;
        let (number, locked) = match &self.session_id {
            None => (
                sale_numbers::next(&mut *tx, location, self.day)
                    .await
                    .map_err(StoreError::from)?,
                None,
            ),
            Some(id) => sessions::number_and_lock(&mut *tx, location, self.day, id.trim())
                .await
                .map_err(StoreError::from)?,
        };
        let customer_live = match &self.sale.customer_id {
            None => None,
            Some(id) => Some(
                customers::is_live(&mut *tx, id)
                    .await
                    .map_err(StoreError::from)?,
            ),
        };
        Ok(Drawn {
            number,
            locked,
            customer_live,
        })
    }
}

/// A sale's customer as typed at the till, before customers were registered.
#[derive(Debug, Clone, Serialize)]
struct FreeTextCustomer {
    name: Option<String>,
    email: Option<String>,
}

impl Transaction for RingUp<'_> {
    type Output = SaleRecord;
    type Error = AppError;

    async fn run(
        &self,
        store: &EventStore,
        tx: &mut PgConnection,
    ) -> Result<Done<SaleRecord>, AppError> {
        let drawn = match &self.drawn {
            Some(drawn) => drawn.clone(),
            None => self.draw(&mut *tx).await?,
        };
        // A live sale needs its session open; a batch sale is kept whatever, flagged late
        // when its session has closed since.
        let location = &self.sale.location_id;
        let attached = match &self.session_id {
            None => None,
            Some(id) => Some(in_session::attached(
                id.trim(),
                drawn.locked,
                location,
                !self.offline,
            )?),
        };
        let session = attached.as_ref().map(|attached| SaleSession {
            session_id: attached.session_id.clone(),
            register_id: attached.session.register_id.clone(),
            receipt_no: attached.next_seq(),
            late: !attached.session.open,
        });
        if self.sale.customer_id.is_some() && drawn.customer_live != Some(true) {
            return Err(AppError::invalid("customer_id", "no such customer"));
        }
        let customer = match &self.free_text {
            None => None,
            Some(free_text) => {
                let subject = self.sale.id.stream_id();
                let key = self.master.create_key(&mut *tx, &subject).await?;
                let clear = serde_json::to_vec(free_text).map_err(StoreError::from)?;
                Some(Sealed {
                    sealed: key.seal(&subject, &clear)?,
                    key_id: subject,
                })
            }
        };
        let sale = CompleteSale {
            sale_number: sale_numbers::format_number(&self.location_code, self.day, drawn.number),
            session,
            customer,
            ..self.sale.clone()
        };
        let record = self.append(store, tx, sale, attached.is_none()).await?;
        // Spent with the sale, in its transaction: an approval is used exactly when the
        // sale it approved is recorded, once.
        if !approvals::spend(&mut *tx, &record.approvals, &record.id.to_string())
            .await
            .map_err(StoreError::from)?
        {
            return Err(AppError::approval_used());
        }
        if let Some(attached) = &attached {
            in_session::record_sale(tx, attached, &record).await?;
        }
        let document = stored_value::Document {
            source_id: &record.id.to_string(),
            payments: &record.payments,
            list: "payments",
            customer_id: record.customer_id.as_deref(),
            at: record.completed_at,
        };
        stored_value::apply(store, tx, &document, Direction::Draw, &self.metadata).await?;
        Ok(Done {
            answer: record,
            written: Some(self.sale.id.stream_id()),
        })
    }
}

impl RingUp<'_> {
    /// `SaleCompleted` on the sale's new stream, with its `sales` row unless a session's
    /// journal writes that, and its kept answer when asked: one statement.
    async fn append(
        &self,
        store: &EventStore,
        tx: &mut PgConnection,
        sale: CompleteSale,
        with_row: bool,
    ) -> Result<SaleRecord, AppError> {
        let (request, record) = self.request(sale, with_row)?;
        store.append_in(tx, &request).await?;
        Ok(record)
    }

    /// The sale's event as appended, with its row and kept answer, and its record.
    fn request(
        &self,
        sale: CompleteSale,
        with_row: bool,
    ) -> Result<(AppendRequest, SaleRecord), AppError> {
        let events = Sale::decide(&Sale::default(), &Command::Complete(Box::new(sale)))?;
        let Some(Event::SaleCompleted { sale: record }) = events.first() else {
            return Err(AppError::Conflict("the sale was not completed".into()));
        };
        let new_events = events
            .iter()
            .map(NewEvent::from_domain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?;
        let mut request = AppendRequest::new(self.sale.id.stream_id(), 0, new_events)
            .with_metadata(self.metadata.clone());
        if let Some(key) = &self.keep {
            let answer = serde_json::value::to_raw_value(&**record).map_err(StoreError::from)?;
            request = request.with_idempotency(key.clone(), answer);
        }
        if with_row {
            request = request.with_row(sales::FROM_COMPLETED);
        }
        Ok((request, (**record).clone()))
    }

    /// Whether the sale may be recorded by its append alone, outside a transaction: it is
    /// in no session, names no customer by free text, is no repair's, moves no stored
    /// value and presents no manager's approval (a sale uses only approvals it presents,
    /// and spends them in its transaction). A sale in a session, say, locks the session's
    /// row and writes its journal with it.
    pub(crate) fn alone(request: &SaleRequest) -> bool {
        request.session_id.is_none()
            && request.customer_name.is_none()
            && request.customer_email.is_none()
            && request.repair_id.is_none()
            && !stored_value::moves_any(&request.payments)
            && request
                .controls
                .as_ref()
                .is_none_or(|authority| authority.approved.is_empty())
    }

    /// The sale recorded by one statement outside any transaction, its number drawn by
    /// that statement (`sale_numbers::DRAWN_BY_APPEND`): the counter's row is held while
    /// the statement runs, not for the round trips after it. Only for a sale [`alone`]: it
    /// presents no approval, so it uses none (one would have to be spent in a transaction).
    ///
    /// [`alone`]: RingUp::alone
    pub(crate) async fn record_alone(
        &self,
        store: &EventStore,
        conn: &mut PgConnection,
        customer_live: Option<bool>,
    ) -> Result<SaleRecord, AppError> {
        if self.sale.customer_id.is_some() && customer_live != Some(true) {
            return Err(AppError::invalid("customer_id", "no such customer"));
        }
        let (request, mut record) = self.request(self.sale.clone(), true)?;
        if !record.approvals.is_empty() {
            return Err(AppError::Internal(
                "a sale using an approval was rung up outside a transaction".into(),
            ));
        }
        let draw = Draw {
            sql: sale_numbers::DRAWN_BY_APPEND,
            args: vec![
                self.sale.location_id.clone(),
                self.day.to_string(),
                sale_numbers::number_prefix(&self.location_code, self.day),
            ],
            payload_path: &["sale", "sale_number"],
            answer_path: &["sale_number"],
        };
        let (_, number) = store.append_drawing(conn, &request, &draw).await?;
        record.sale_number = number;
        Ok(record)
    }
}
