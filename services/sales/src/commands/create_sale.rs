//! Ringing up a sale: lines resolved from the catalog copy, priced and paid by the
//! contract's rules, numbered, and appended with the read model in one statement or one
//! transaction. A client-chosen id or an idempotency key makes a retry answer the first sale.
//!
//! The usual sale costs two round trips and no transaction, a sale in a session four and
//! one ([`at_once`]); one whose location or products the catalog copy has not heard of yet
//! waits for them first ([`once_known`]).

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use tillstream_eventstore::{
    CONFLICT_RETRIES, EventMetadata, EventStore, IdempotencyKey, StoreError, Transaction,
    request_hash,
};
use tillstream_kernel::{Currency, Money, Quantity, time};
use tillstream_service::copies::settle;
use tillstream_telemetry::timing;

use super::ring_up::{Drawn, RingUp};
use crate::domain::controls::{Authority, Locations};
use crate::domain::pricing::{Discount, Payment, PricingPolicy};
use crate::domain::sale::{ResolvedLine, SaleError, SaleId, SaleRecord};
use crate::error::AppError;
use crate::privacy::MasterKey;
use crate::projections::catalog_copy::{self, CatalogProduct, ProductRef};
use crate::projections::sale_start::{self, Reads, StartQuery};

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
    let id = *request.id.get_or_insert_with(SaleId::generate);
    let offline = request.offline;
    // Dated once, now, for every attempt: the number's day is the sale's.
    request.captured_at.get_or_insert_with(time::now);
    let recorded = match at_once(store, master, policy, &request, key.as_ref(), &metadata).await {
        Ok(Some(recorded)) => Ok(recorded),
        Ok(None) => once_known(store, master, policy, request, key.as_ref(), metadata).await,
        Err(error) => Err(error),
    }
    // A client-chosen id already taken names another sale.
    .map_err(|error| match error {
        AppError::Store(StoreError::Conflict { .. }) => {
            AppError::Conflict(format!("a sale with id `{id}` already exists"))
        }
        error => error,
    })?;
    if !recorded.replayed {
        let record = &recorded.record;
        tracing::info!(sale_id = %id, sale_number = %record.sale_number, total = %record.total, offline, "sale completed");
    }
    Ok(recorded)
}

/// The sale in one transaction of four round trips: `BEGIN`; its number drawn with all it
/// reads (`sale_start`); its event, its row and its kept answer in one statement; `COMMIT`.
/// A sale that needs no transaction ([`RingUp::alone`], most) takes two: its reads, then
/// its append, which draws its number. `None` when the catalog copy does not know its
/// location or one of its products yet, or a line names its product other than by id:
/// [`once_known`] waits for them.
async fn at_once(
    store: &EventStore,
    master: &MasterKey,
    policy: PricingPolicy,
    request: &SaleRequest,
    key: Option<&IdempotencyKey>,
    metadata: &EventMetadata,
) -> Result<Option<Recorded>, AppError> {
    let Some(product_ids) = request
        .lines
        .iter()
        .map(|line| match &line.product {
            ProductRef::Id(id) => Some(id.trim()),
            _ => None,
        })
        .collect::<Option<Vec<&str>>>()
    else {
        return Ok(None);
    };
    let query = StartQuery {
        location_id: &request.location_id,
        day: request.captured_at.unwrap_or_else(time::now).date_naive(),
        product_ids: &product_ids,
        key: key.map(|key| key.key.as_str()),
        customer_id: request.customer_id.as_deref(),
        session_id: request.session_id.as_deref().map(str::trim),
    };
    let sale = Attempt {
        master,
        policy,
        request,
        key,
        metadata,
    };
    let alone = RingUp::alone(request);
    for attempt in 1..=CONFLICT_RETRIES {
        let tried = if alone {
            sale.alone(store, &query).await
        } else {
            sale.in_transaction(store, &query).await
        };
        match tried {
            Ok(recorded) => return Ok(recorded),
            // A concurrent request with the key (or with the key and the sale's id) committed
            // first: the next attempt answers what it answered.
            Err(AppError::Store(StoreError::IdempotencyRace { .. }))
                if attempt < CONFLICT_RETRIES => {}
            Err(AppError::Store(StoreError::Conflict { .. })) if attempt == 1 && key.is_some() => {}
            // Rolled back to break a lock cycle: nothing of it was kept.
            Err(AppError::Store(error)) if error.is_deadlock() && attempt < CONFLICT_RETRIES => {}
            Err(error) => return Err(error),
        }
    }
    Ok(None)
}

/// One attempt at a sale the catalog copy may know.
struct Attempt<'a> {
    master: &'a MasterKey,
    policy: PricingPolicy,
    request: &'a SaleRequest,
    key: Option<&'a IdempotencyKey>,
    metadata: &'a EventMetadata,
}

impl Attempt<'_> {
    /// Its reads in one statement, then its append (drawing its number) in another, on one
    /// connection.
    async fn alone(
        &self,
        store: &EventStore,
        query: &StartQuery<'_>,
    ) -> Result<Option<Recorded>, AppError> {
        let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
        let reads = timing::time("start", sale_start::read(&mut conn, query))
            .await
            .map_err(StoreError::from)?;
        let customer_live = reads.customer_live;
        let Some(ring_up) = self.ring_up(reads)? else {
            return Ok(None);
        };
        let ring_up = match ring_up {
            Prepared::Replayed(recorded) => return Ok(Some(*recorded)),
            Prepared::New(ring_up) => ring_up,
        };
        let record = timing::time(
            "append",
            ring_up.record_alone(store, &mut conn, customer_live),
        )
        .await?;
        Ok(Some(Recorded {
            record,
            replayed: false,
        }))
    }

    /// In one transaction: `BEGIN`, its number drawn with its reads, its append, `COMMIT`.
    async fn in_transaction(
        &self,
        store: &EventStore,
        query: &StartQuery<'_>,
    ) -> Result<Option<Recorded>, AppError> {
        // Dropped unless committed: a sale refused or answered from its key rolls its
        // number back.
        let mut tx = timing::time("begin", store.pool().begin())
            .await
            .map_err(StoreError::from)?;
        let start = timing::time("start", sale_start::start(&mut tx, query))
            .await
            .map_err(StoreError::from)?;
        let drawn = Drawn {
            number: start.number,
            locked: start.locked,
            customer_live: start.reads.customer_live,
        };
        let ring_up = match self.ring_up(start.reads)? {
            None => return Ok(None),
            Some(Prepared::Replayed(recorded)) => return Ok(Some(*recorded)),
            Some(Prepared::New(ring_up)) => ring_up.drawn(drawn),
        };
        let done = timing::time("append", ring_up.run(store, &mut tx)).await?;
        timing::time("commit", tx.commit())
            .await
            .map_err(StoreError::from)?;
        store.announce();
        Ok(Some(Recorded {
            record: done.answer,
            replayed: false,
        }))
    }

    /// The sale to ring up from what it read, or the answer kept under its key; `None`
    /// when the catalog copy does not know its location or a product.
    fn ring_up(&self, reads: Reads) -> Result<Option<Prepared<'_>>, AppError> {
        // A repeat is answered before its lines are looked at: a product discontinued
        // since must not refuse the sale that sold it.
        if let (Some(key), Some((hash, response))) = (self.key, reads.kept) {
            let record = serde_json::from_value(key.replay_of(&hash, response)?)
                .map_err(StoreError::from)?;
            return Ok(Some(Prepared::Replayed(Box::new(Recorded {
                record,
                replayed: true,
            }))));
        }
        let Some(location_code) = reads.location_code else {
            return Ok(None);
        };
        let Some(lines) = resolve_found(&reads.products, self.policy.currency, self.request)?
        else {
            return Ok(None);
        };
        let ring_up = RingUp::new(
            self.master,
            self.policy,
            self.request.clone(),
            location_code,
            lines,
            self.metadata.clone(),
        )
        .keeping(self.key.cloned());
        Ok(Some(Prepared::New(Box::new(ring_up))))
    }
}

/// A sale ready to record, or the answer its key kept.
enum Prepared<'a> {
    Replayed(Box<Recorded>),
    New(Box<RingUp<'a>>),
}

/// The sale once the catalog copy knows its location and products, waiting a moment for
/// them (a product created a moment ago may not have reached sales yet), in a transaction
/// of its own; its key looked up before and kept after.
async fn once_known(
    store: &EventStore,
    master: &MasterKey,
    policy: PricingPolicy,
    request: SaleRequest,
    key: Option<&IdempotencyKey>,
    metadata: EventMetadata,
) -> Result<Recorded, AppError> {
    // A repeat is answered before its lines are looked up again.
    if let Some(record) = store.replay(key).await? {
        return Ok(Recorded {
            record,
            replayed: true,
        });
    }
    let location_code = location_code(store, &request.location_id).await?;
    let lines = resolve_lines(store, policy.currency, &request.lines, request.offline).await?;
    let ring_up = RingUp::new(master, policy, request, location_code, lines, metadata);
    let answer = store.transact(&ring_up, key, false).await?;
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
        let product = match &line.product {
            ProductRef::Id(id) => by_id.get(id.trim()).cloned(),
            other => settle(
                || catalog_copy::find_product(store.pool(), other),
                Option::is_some,
            )
            .await
            .map_err(StoreError::from)?,
        }
        .ok_or_else(|| {
            AppError::invalid(
                line_field(index, line),
                format!("no product `{}`", line.product_key),
            )
        })?;
        resolved.push(resolve_line(index, line, product, currency, goods_gone)?);
    }
    Ok(resolved)
}

/// The lines of a sale whose products the sale's first statement found, all named by id;
/// `None` when one is missing from the catalog copy.
fn resolve_found(
    found: &HashMap<String, CatalogProduct>,
    currency: Currency,
    request: &SaleRequest,
) -> Result<Option<Vec<ResolvedLine>>, AppError> {
    let mut resolved = Vec::with_capacity(request.lines.len());
    for (index, line) in request.lines.iter().enumerate() {
        let ProductRef::Id(id) = &line.product else {
            return Ok(None);
        };
        let Some(product) = found.get(id.trim()) else {
            return Ok(None);
        };
        let line = resolve_line(index, line, product.clone(), currency, request.offline)?;
        resolved.push(line);
    }
    Ok(Some(resolved))
}

fn line_field(index: usize, line: &LineRequest) -> String {
    format!("lines[{index}].{}", line.product.field())
}

/// A line of `product`: discontinued, or priced in another currency, it names the line.
fn resolve_line(
    index: usize,
    line: &LineRequest,
    product: CatalogProduct,
    currency: Currency,
    goods_gone: bool,
) -> Result<ResolvedLine, AppError> {
    if product.status != "active" && !goods_gone {
        return Err(AppError::invalid(
            line_field(index, line),
            format!("`{}` is discontinued", product.sku),
        ));
    }
    if product.currency != currency.code() {
        return Err(AppError::invalid(
            line_field(index, line),
            format!("`{}` is priced in {}", product.sku, product.currency),
        ));
    }
    let catalog_price = Money::new(product.price, currency);
    let unit_price = line.unit_price.unwrap_or(catalog_price);
    Ok(ResolvedLine {
        product_id: product.id,
        sku: product.sku,
        name: product.name,
        unit_price,
        tax_rate: product.tax_rate,
        quantity: line.quantity,
        discount: line.discount,
        catalog_price: (unit_price != catalog_price).then_some(catalog_price),
    })
}
