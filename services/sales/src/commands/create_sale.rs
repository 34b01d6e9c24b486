//! Ringing up a sale: lines resolved from the catalog copy, priced and paid by the
//! contract's rules, numbered, and appended with the read model in one transaction. A
//! client-chosen id or an idempotency key makes a retry answer the first sale.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use tillstream_eventstore::{
    Decided, Done, EventMetadata, EventStore, IdempotencyKey, RunOptions, StoreError, Transaction,
    UseCase, request_hash,
};
use tillstream_kernel::{Currency, Decider, Money, Quantity, time};
use tillstream_service::copies::settle;

use super::in_session;
use super::stored_value::{self, Direction};
use crate::domain::controls::{Authority, Locations};
use crate::domain::pricing::{Discount, Payment, PricingPolicy};
use crate::domain::sale::{
    Command, CompleteSale, Event, ResolvedLine, Sale, SaleError, SaleId, SaleRecord, SaleSession,
};
use crate::error::AppError;
use crate::privacy::{MasterKey, Sealed};
use crate::projections::catalog_copy::{self, ProductRef};
use crate::projections::{approvals, customers, sale_numbers, sales, sessions};

/// A sale request, parsed; also what its idempotency hash is computed over.
#[derive(Debug, Clone, Serialize)]
pub struct SaleRequest {
    pub id: Option<SaleId>,
    pub location_id: String,
    pub cashier_id: String,
    pub lines: Vec<LineRequest>,
    pub discount: Option<Discount>,
    pub payments: Vec<Payment>,
    /// A registered customer.
    pub customer_id: Option<String>,
    /// The free-text customer, sealed with the sale before anything is written; never
    /// hashed in clear (`customer_digest` stands for it in the idempotency hash).
    #[serde(skip)]
    pub customer_name: Option<String>,
    #[serde(skip)]
    pub customer_email: Option<String>,
    /// A keyed digest of the free-text customer.
    pub customer_digest: Option<String>,
    pub notes: Option<String>,
    /// When the till rang it up; it dates and numbers the sale. A live sale's is within
    /// [`CLOCK_SKEW`] of this clock; an offline one's may be any time before.
    pub captured_at: Option<DateTime<Utc>>,
    /// Rung up offline and sent in a batch: the till's prices are kept (and flagged) and a
    /// product discontinued since is still sold.
    #[serde(skip)]
    pub offline: bool,
    /// What the person ringing up a live sale may do alone; `None` offline.
    #[serde(skip)]
    pub controls: Option<Authority>,
    /// Where the person ringing up may sell.
    #[serde(skip)]
    pub locations: Locations,
    /// The register session it is rung up in.
    pub session_id: Option<String>,
    /// `TILLSTREAM_REQUIRE_SESSION` for a cashier: a sale without a session is refused.
    #[serde(skip)]
    pub require_session: bool,
    /// The repair the sale collects (not hashed: a sale's own key never names one).
    #[serde(skip)]
    pub repair_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineRequest {
    #[serde(skip)]
    pub product: ProductRef,
    /// For the hash: the product reference as given.
    pub product_key: String,
    pub quantity: Quantity,
    pub discount: Option<Discount>,
    /// The price an offline till charged.
    pub unit_price: Option<Money>,
}

/// How far a till's clock may be from this one.
const CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);

/// A recorded sale, and whether this request recorded it or found it recorded before.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub record: SaleRecord,
    pub replayed: bool,
}

pub async fn create_sale(
    store: &EventStore,
    master: &MasterKey,
    policy: PricingPolicy,
    mut request: SaleRequest,
    idempotency_key: Option<String>,
    metadata: EventMetadata,
) -> Result<Recorded, AppError> {
    check_capture(request.captured_at, request.offline)?;
    if request.require_session && request.session_id.is_none() {
        return Err(AppError::invalid(
            "session_id",
            "this store rings every sale up in an open register session",
        ));
    }
    // Before anything is looked up: a location outside one's own is a 403 even when it
    // does not exist (the domain checks it again when it decides).
    request
        .locations
        .check(&request.location_id)
        .map_err(SaleError::from)?;
    if request.customer_name.is_some() || request.customer_email.is_some() {
        let text = format!(
            "{}\u{0}{}",
            request.customer_name.as_deref().unwrap_or_default(),
            request.customer_email.as_deref().unwrap_or_default()
        );
        request.customer_digest = Some(hex::encode(master.blind("sale-customer", &text)?));
    }
    let key = match (&idempotency_key, request.id) {
        (Some(key), _) => Some(format!("sales.create_sale:{key}")),
        (None, Some(id)) => Some(format!("sales.sale_id:{id}")),
        (None, None) => None,
    };
    let key = match key {
        Some(key) => Some(IdempotencyKey::new(key, request_hash(&request)?)),
        None => None,
    };
    // A repeat is answered before its lines are looked up again: a product discontinued
    // since must not refuse the sale that sold it.
    if let Some(record) = store.replay(key.as_ref()).await? {
        return Ok(Recorded {
            record,
            replayed: true,
        });
    }

    let location_code = location_code(store, &request.location_id).await?;
    let lines = resolve_lines(store, policy.currency, &request.lines, request.offline).await?;
    let ring_up = RingUp::new(master, policy, request, location_code, lines, metadata);
    let id = ring_up.sale.id;
    // A client-chosen id already taken is not tried again: it names another sale.
    let answer = store
        .transact(&ring_up, key.as_ref(), false)
        .await
        .map_err(|error| match error {
            AppError::Store(StoreError::Conflict { .. }) => {
                AppError::Conflict(format!("a sale with id `{id}` already exists"))
            }
            error => error,
        })?;
    if !answer.replayed {
        let record = &answer.value;
        tracing::info!(sale_id = %id, sale_number = %record.sale_number, total = %record.total, offline = ring_up.offline, "sale completed");
    }
    Ok(Recorded {
        record: answer.value,
        replayed: answer.replayed,
    })
}

/// A live sale is dated now: a capture time more than [`CLOCK_SKEW`] away from this clock
/// either way would put it in another day's report. An offline sale may be older, never in
/// the future.
fn check_capture(captured_at: Option<DateTime<Utc>>, offline: bool) -> Result<(), AppError> {
    let Some(at) = captured_at else {
        return Ok(());
    };
    let now = Utc::now();
    if at > now + CLOCK_SKEW {
        return Err(AppError::invalid(
            "captured_at",
            "a sale cannot be captured in the future",
        ));
    }
    if !offline && at < now - CLOCK_SKEW {
        return Err(AppError::invalid(
            "captured_at",
            "a live sale is rung up now; send earlier sales in a batch",
        ));
    }
    Ok(())
}

/// The location's code (sale numbers begin with it), or a 422 naming `location_id`.
pub(crate) async fn location_code(
    store: &EventStore,
    location_id: &str,
) -> Result<String, AppError> {
    settle(
        || catalog_copy::location_code(store.pool(), location_id),
        Option::is_some,
    )
    .await
    .map_err(StoreError::from)?
    .ok_or_else(|| {
        AppError::invalid(
            "location_id",
            format!("no location with id `{location_id}`"),
        )
    })
}

/// A sale numbered and recorded in one transaction: the number is drawn there, so a
/// sale that is not recorded leaves no gap. A repair's collection runs it inside its own.
pub(crate) struct RingUp<'a> {
    master: &'a MasterKey,
    /// Sealed under a key of the sale's own in its transaction.
    free_text: Option<FreeTextCustomer>,
    location_code: String,
    session_id: Option<String>,
    offline: bool,
    metadata: EventMetadata,
    /// The sale, its number still to draw.
    sale: CompleteSale,
    day: NaiveDate,
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
        }
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
        // A sale in a session takes its number and locks its session and register in one
        // round trip (the counter first, as every sale; then the session, then the
        // register: one order, no deadlock). A live sale needs the session open; a batch
        // sale is kept whatever, flagged late when its session has closed since.
        let location = &self.sale.location_id;
        let (sale_number, attached) = match &self.session_id {
            None => {
                let number = sale_numbers::next(&mut *tx, location, &self.location_code, self.day)
                    .await
                    .map_err(StoreError::from)?;
                (number, None)
            }
            Some(id) => {
                let id = id.trim();
                let (number, locked) = sessions::number_and_lock(&mut *tx, location, self.day, id)
                    .await
                    .map_err(StoreError::from)?;
                let attached = in_session::attached(id, locked, location, !self.offline)?;
                let number = sale_numbers::format_number(&self.location_code, self.day, number);
                (number, Some(attached))
            }
        };
        let session = attached.as_ref().map(|attached| SaleSession {
            session_id: attached.session_id.clone(),
            register_id: attached.session.register_id.clone(),
            receipt_no: attached.next_seq(),
            late: !attached.session.open,
        });
        if let Some(customer_id) = &self.sale.customer_id
            && !customers::is_live(&mut *tx, customer_id)
                .await
                .map_err(StoreError::from)?
        {
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
        let complete = Complete(
            CompleteSale {
                sale_number,
                session,
                customer,
                ..self.sale.clone()
            },
            attached,
        );
        let options = RunOptions {
            expected_version: Some(0),
            idempotency: None,
            metadata: self.metadata.clone(),
        };
        let record = store.run_in(&mut *tx, &complete, &options).await?;
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
            written: Some(complete.stream_id()),
        })
    }
}

/// Completing a new sale: its stream and its read-model row, and, in a session (locked), its
/// session's figures and its journal entry.
struct Complete(CompleteSale, Option<in_session::Attached>);

impl UseCase for Complete {
    type Aggregate = Sale;
    type Output = SaleRecord;
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.0.id.stream_id()
    }

    fn decide(&self, state: &Sale) -> Result<Vec<Event>, AppError> {
        Ok(Sale::decide(
            state,
            &Command::Complete(Box::new(self.0.clone())),
        )?)
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, Sale>,
    ) -> Result<SaleRecord, AppError> {
        let Some(Event::SaleCompleted { sale }) = decided.events.first() else {
            return Err(AppError::Conflict("the sale was not completed".into()));
        };
        // Spent with the sale, in its transaction: an approval is used exactly when the sale it
        // approved is recorded, once.
        let id = sale.id.to_string();
        if !approvals::spend(&mut *tx, &sale.approvals, &id).await? {
            return Err(AppError::approval_used());
        }
        match &self.1 {
            Some(attached) => in_session::record_sale(tx, attached, sale).await?,
            None => sales::insert(tx, sale).await.map_err(StoreError::from)?,
        }
        Ok((**sale).clone())
    }
}

/// Each line's product from the catalog copy; unknown or discontinued ones name the line.
/// A sale captured offline keeps the price the till charged, and, as a repair's parts, may
/// hold a product discontinued since (`goods_gone`): the goods are already gone.
pub(crate) async fn resolve_lines(
    store: &EventStore,
    currency: Currency,
    lines: &[LineRequest],
    goods_gone: bool,
) -> Result<Vec<ResolvedLine>, AppError> {
    // Lines by product id (what tills send) are looked up together, in one query.
    let ids: Vec<&str> = lines
        .iter()
        .filter_map(|line| match &line.product {
            ProductRef::Id(id) => Some(id.trim()),
            _ => None,
        })
        .collect();
    let by_id = if ids.is_empty() {
        HashMap::new()
    } else {
        settle(
            || catalog_copy::find_products_by_id(store.pool(), &ids),
            |found| ids.iter().all(|id| found.contains_key(*id)),
        )
        .await
        .map_err(StoreError::from)?
    };
    let mut resolved = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let field = format!("lines[{index}].{}", line.product.field());
        let product = match &line.product {
            ProductRef::Id(id) => by_id.get(id.trim()).cloned(),
            other => settle(
                || catalog_copy::find_product(store.pool(), other),
                Option::is_some,
            )
            .await
            .map_err(StoreError::from)?,
        }
        .ok_or_else(|| AppError::invalid(&field, format!("no product `{}`", line.product_key)))?;
        if product.status != "active" && !goods_gone {
            return Err(AppError::invalid(
                &field,
                format!("`{}` is discontinued", product.sku),
            ));
        }
        if product.currency != currency.code() {
            return Err(AppError::invalid(
                &field,
                format!("`{}` is priced in {}", product.sku, product.currency),
            ));
        }
        let catalog_price = Money::new(product.price, currency);
        let unit_price = line.unit_price.unwrap_or(catalog_price);
        resolved.push(ResolvedLine {
            product_id: product.id,
            sku: product.sku,
            name: product.name,
            unit_price,
            tax_rate: product.tax_rate,
            quantity: line.quantity,
            discount: line.discount,
            catalog_price: (unit_price != catalog_price).then_some(catalog_price),
        });
    }
    Ok(resolved)
}
