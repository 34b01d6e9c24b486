//! Registering, changing and erasing customers. Personal fields are sealed under the
//! customer's own key before anything is written; erasing destroys that key in the same
//! transaction as the `CustomerErased` event.

use serde::Serialize;
use sqlx::PgConnection;
use tillstream_eventstore::{
    Decided, Done, EventMetadata, EventStore, IdempotencyKey, RunOptions, StoreError, Transaction,
    UseCase,
};
use tillstream_kernel::{Currency, Decider, Money, time};

use crate::domain::customer::{Command, Customer, CustomerId, Event, Personal};
use crate::error::AppError;
use crate::privacy::search::index_tokens;
use crate::privacy::{Key, MasterKey, Sealed, keys};
use crate::projections::customers::{self, CustomerRow, NewCustomer};

/// A customer as clients read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CustomerView {
    pub id: String,
    pub number: String,
    /// `None` once erased.
    pub personal: Option<Personal>,
    pub credit_limit: Money,
    pub balance: Money,
    pub store_credit: Money,
    pub version: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub erased: bool,
}

/// Opens a row's personal fields with its key; an erased row (or one whose key is gone)
/// reads without them.
pub fn view(
    master: &MasterKey,
    row: CustomerRow,
    currency: Currency,
) -> Result<CustomerView, AppError> {
    let personal = match (&row.personal, &row.wrapped) {
        (Some(sealed), Some(wrapped)) if !row.erased => {
            let key = master.unwrap_key(&row.id, wrapped)?;
            let clear = key.open(&row.id, sealed)?;
            Some(serde_json::from_slice(&clear).map_err(StoreError::from)?)
        }
        _ => None,
    };
    Ok(CustomerView {
        personal,
        credit_limit: Money::new(row.credit_limit, currency),
        balance: Money::new(row.balance, currency),
        store_credit: Money::new(row.store_credit, currency),
        id: row.id,
        number: row.number,
        version: row.version,
        created_at: row.created_at,
        erased: row.erased,
    })
}

fn seal(key: &Key, id: &str, personal: &Personal) -> Result<Sealed, AppError> {
    let clear = serde_json::to_vec(personal).map_err(StoreError::from)?;
    Ok(Sealed {
        key_id: id.to_owned(),
        sealed: key.seal(id, &clear)?,
    })
}

fn tokens(master: &MasterKey, personal: &Personal) -> Result<Vec<Vec<u8>>, AppError> {
    Ok(index_tokens(
        master,
        &personal.name,
        personal.email.as_deref(),
        personal.phone.as_deref(),
    )?)
}

#[derive(Debug, Clone, Serialize)]
pub struct NewCustomerRequest {
    pub personal: Personal,
    pub credit_limit: Money,
}

pub async fn create(
    store: &EventStore,
    master: &MasterKey,
    request: NewCustomerRequest,
    idempotency_key: Option<String>,
    metadata: EventMetadata,
) -> Result<CustomerView, AppError> {
    // The request's hash is kept with the key, past an erasure: keyed by the master key, so a
    // dump cannot be searched for a guessed email.
    let key = match idempotency_key {
        Some(key) => {
            let request_text = serde_json::to_string(&request).map_err(StoreError::from)?;
            let hash = hex::encode(master.blind("customer-request", &request_text)?);
            Some(IdempotencyKey::new(
                format!("sales.create_customer:{key}"),
                hash,
            ))
        }
        None => None,
    };
    let request_currency = request.credit_limit.currency();
    let register = Register {
        master,
        id: CustomerId::generate(),
        personal: request.personal.checked()?,
        credit_limit: request.credit_limit,
        metadata,
    };
    // The answer kept under the key is the id alone: personal data is never stored in clear.
    let answer = store.transact(&register, key.as_ref(), true).await?;
    if !answer.replayed {
        tracing::info!(customer_id = %answer.value, "customer registered");
    }
    let row = customers::get(store.pool(), &answer.value)
        .await
        .map_err(StoreError::from)?
        .ok_or_else(|| AppError::NotFound("no such customer".into()))?;
    view(master, row, request_currency)
}

struct Register<'a> {
    master: &'a MasterKey,
    id: CustomerId,
    personal: Personal,
    credit_limit: Money,
    metadata: EventMetadata,
}

impl Transaction for Register<'_> {
    type Output = String;
    type Error = AppError;

    async fn run(
        &self,
        store: &EventStore,
        tx: &mut PgConnection,
    ) -> Result<Done<String>, AppError> {
        let id = self.id.to_string();
        let key = self.master.create_key(&mut *tx, &id).await?;
        let number: i64 = sqlx::query_scalar("SELECT nextval('customer_numbers')")
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        let case = OnCustomer {
            id: self.id,
            command: Command::Register {
                id: self.id,
                number: format!("C-{number:06}"),
                personal: seal(&key, &id, &self.personal)?,
                credit_limit: self.credit_limit,
                at: time::now(),
            },
            tokens: Some(tokens(self.master, &self.personal)?),
        };
        let options = RunOptions {
            expected_version: Some(0),
            idempotency: None,
            metadata: self.metadata.clone(),
        };
        store.run_in(&mut *tx, &case, &options).await?;
        Ok(Done {
            answer: id,
            written: Some(case.stream_id()),
        })
    }
}

/// A PATCH: `None` leaves a field; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub tax_id: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub credit_limit: Option<Money>,
}

impl Changes {
    fn personal(&self) -> bool {
        self.name.is_some()
            || self.email.is_some()
            || self.phone.is_some()
            || self.tax_id.is_some()
            || self.notes.is_some()
    }

    fn apply(&self, mut personal: Personal) -> Personal {
        if let Some(name) = &self.name {
            personal.name = name.clone();
        }
        let set = |field: &mut Option<String>, change: &Option<Option<String>>| {
            if let Some(value) = change {
                *field = value.clone();
            }
        };
        set(&mut personal.email, &self.email);
        set(&mut personal.phone, &self.phone);
        set(&mut personal.tax_id, &self.tax_id);
        set(&mut personal.notes, &self.notes);
        personal
    }
}

pub async fn update(
    store: &EventStore,
    master: &MasterKey,
    id: &str,
    changes: Changes,
    expected_version: Option<i64>,
    currency: Currency,
    metadata: EventMetadata,
) -> Result<CustomerView, AppError> {
    let id: CustomerId = id
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound("no such customer".into()))?;
    let change = Change {
        master,
        id,
        changes,
        expected_version,
        currency,
        metadata,
    };
    let answer = store
        .transact(&change, None, expected_version.is_none())
        .await?;
    Ok(answer.value)
}

struct Change<'a> {
    master: &'a MasterKey,
    id: CustomerId,
    changes: Changes,
    expected_version: Option<i64>,
    currency: Currency,
    metadata: EventMetadata,
}

impl Transaction for Change<'_> {
    type Output = CustomerView;
    type Error = AppError;

    async fn run(
        &self,
        store: &EventStore,
        tx: &mut PgConnection,
    ) -> Result<Done<CustomerView>, AppError> {
        let id = self.id.to_string();
        // Under the lock every charge takes: the balance read is the one the limit must cover.
        customers::lock(&mut *tx, &id)
            .await
            .map_err(StoreError::from)?
            .ok_or_else(|| AppError::NotFound("no such customer".into()))?;
        let row = customers::get_in(&mut *tx, &id)
            .await
            .map_err(StoreError::from)?
            .ok_or_else(|| AppError::NotFound("no such customer".into()))?;
        let current = view(self.master, row, self.currency)?;
        let (personal, tokens) = match (&current.personal, self.changes.personal()) {
            (Some(personal), true) => {
                let changed = self.changes.apply(personal.clone()).checked()?;
                let key = self
                    .master
                    .key_of(&mut *tx, &id)
                    .await?
                    .ok_or_else(|| AppError::Refused("the customer was erased".into()))?;
                let tokens = tokens(self.master, &changed)?;
                (Some(seal(&key, &id, &changed)?), Some(tokens))
            }
            (None, true) => return Err(AppError::Refused("the customer was erased".into())),
            (_, false) => (None, None),
        };
        let case = OnCustomer {
            id: self.id,
            command: Command::Update {
                personal,
                credit_limit: self.changes.credit_limit,
                owed: current.balance,
                at: time::now(),
            },
            tokens,
        };
        let options = RunOptions {
            expected_version: self.expected_version,
            idempotency: None,
            metadata: self.metadata.clone(),
        };
        store.run_in(&mut *tx, &case, &options).await?;
        let row = customers::get_in(&mut *tx, &id)
            .await
            .map_err(StoreError::from)?
            .ok_or_else(|| AppError::NotFound("no such customer".into()))?;
        Ok(Done {
            answer: view(self.master, row, self.currency)?,
            written: Some(case.stream_id()),
        })
    }
}

/// Erases the customer: its key destroyed, its row emptied of personal data and its search
/// tokens removed, with the event, in one transaction.
pub async fn erase(
    store: &EventStore,
    id: &str,
    metadata: EventMetadata,
) -> Result<String, AppError> {
    let id: CustomerId = id
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound("no such customer".into()))?;
    let erasing = Erasing { id, metadata };
    store.transact(&erasing, None, true).await?;
    tracing::info!(customer_id = %id, "customer erased");
    Ok(id.to_string())
}

struct Erasing {
    id: CustomerId,
    metadata: EventMetadata,
}

impl Transaction for Erasing {
    type Output = ();
    type Error = AppError;

    async fn run(&self, store: &EventStore, tx: &mut PgConnection) -> Result<Done<()>, AppError> {
        // The customer's row first, as every change to a customer takes it: a PATCH and an
        // erase queue on it instead of deadlocking on the stream and the row.
        customers::lock(&mut *tx, &self.id.to_string())
            .await
            .map_err(StoreError::from)?
            .ok_or_else(|| AppError::NotFound("no such customer".into()))?;
        let case = OnCustomer {
            id: self.id,
            command: Command::Erase { at: time::now() },
            tokens: None,
        };
        let options = RunOptions {
            metadata: self.metadata.clone(),
            ..RunOptions::default()
        };
        store.run_in(&mut *tx, &case, &options).await?;
        Ok(Done {
            answer: (),
            written: Some(case.stream_id()),
        })
    }
}

/// A command on one customer; `tokens` are the search index's when personal fields change.
struct OnCustomer {
    id: CustomerId,
    command: Command,
    tokens: Option<Vec<Vec<u8>>>,
}

impl UseCase for OnCustomer {
    type Aggregate = Customer;
    type Output = ();
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.id.stream_id()
    }

    fn decide(&self, state: &Customer) -> Result<Vec<Event>, AppError> {
        Ok(Customer::decide(state, &self.command)?)
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, Customer>,
    ) -> Result<(), AppError> {
        let id = self.id.to_string();
        let empty = Vec::new();
        let tokens = self.tokens.as_ref().unwrap_or(&empty);
        for event in decided.events {
            match event {
                Event::CustomerRegistered {
                    number,
                    personal,
                    credit_limit,
                    registered_at,
                    ..
                } => {
                    customers::insert(
                        &mut *tx,
                        NewCustomer {
                            id: &id,
                            number,
                            personal: &personal.sealed,
                            credit_limit: credit_limit.amount(),
                            version: decided.version,
                            created_at: *registered_at,
                            tokens,
                        },
                    )
                    .await
                }
                Event::CustomerUpdated {
                    personal,
                    credit_limit,
                    ..
                } => {
                    customers::update(
                        &mut *tx,
                        &id,
                        personal
                            .as_ref()
                            .map(|p| (p.sealed.as_slice(), tokens.as_slice())),
                        credit_limit.amount(),
                        decided.version,
                    )
                    .await
                }
                Event::CustomerErased { .. } => {
                    keys::destroy_key(&mut *tx, &id).await?;
                    customers::erase(&mut *tx, &id, decided.version).await
                }
            }
            .map_err(StoreError::from)?;
        }
        Ok(())
    }
}
