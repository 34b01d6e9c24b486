//! Registering a user: the password is hashed with Argon2id (OWASP's parameters, the
//! crate's defaults), the username claimed, the event and the read model written together by
//! the event store's command runner.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use sqlx::PgConnection;
use tillstream_eventstore::{Claim, Decided, EventMetadata, EventStore, RunOptions, UseCase};
use tillstream_kernel::Decider;

use crate::domain::user::{
    Command, Event, Role, User, UserId, check_password, location_ids as checked_locations,
    normalize_username,
};
use crate::error::AppError;
use crate::projections::users::{self, UserRow};

pub async fn register_user(
    store: &EventStore,
    username: &str,
    password: &str,
    role: Role,
    location_ids: &[String],
    metadata: EventMetadata,
) -> Result<UserRow, AppError> {
    let username = normalize_username(username)?;
    check_password(password)?;
    let location_ids = checked_locations(location_ids)?;
    let password_hash = hash_password(password).await?;
    let id = UserId::generate();
    let command = Command::Register {
        id,
        username: username.clone(),
        role,
        password_hash: password_hash.clone(),
        location_ids: location_ids.clone(),
    };
    let row = UserRow {
        id: id.to_string(),
        username,
        role: role.to_string(),
        disabled: false,
        password_hash,
        pin_hash: None,
        location_ids,
        created_at: chrono::Utc::now(),
    };
    let options = RunOptions {
        // A new stream: nothing may be there yet.
        expected_version: Some(0),
        metadata,
        ..Default::default()
    };
    let registration = Registration { id, command, row };
    store.run(&registration, &options).await?;
    let row = registration.row;
    tracing::info!(user_id = %row.id, username = %row.username, role = %row.role, "user registered");
    Ok(row)
}

/// A new user: the stream, the username claimed, the read-model row. The answer is the
/// row the caller already holds, so nothing with a password hash is ever serialized.
struct Registration {
    id: UserId,
    command: Command,
    row: UserRow,
}

impl UseCase for Registration {
    type Aggregate = User;
    type Output = ();
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.id.stream_id()
    }

    fn decide(&self, state: &User) -> Result<Vec<Event>, AppError> {
        Ok(User::decide(state, &self.command)?)
    }

    fn claims(&self, _: &[Event]) -> Vec<Claim> {
        vec![Claim::acquire("username", self.row.username.clone())]
    }

    async fn finish(&self, tx: &mut PgConnection, _: Decided<'_, User>) -> Result<(), AppError> {
        users::insert(&mut *tx, &self.row).await?;
        Ok(())
    }
}

/// How many Argon2id computations run at once. Each takes its memory cost (19 MiB with
/// the default parameters) and tens of milliseconds of a core: four bound a login flood to
/// ~80 MiB and leave the blocking pool free; the rest wait their turn.
pub const ARGON2_AT_ONCE: usize = 4;

static ARGON2: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(ARGON2_AT_ONCE);

/// Runs `work` (an Argon2id hash or verification) on the blocking pool, behind the bound.
pub async fn with_argon2<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let _permit = ARGON2
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// Argon2id takes tens of milliseconds of CPU by design: off the async workers.
pub async fn hash_password(password: &str) -> Result<String, AppError> {
    let password = password.to_owned();
    with_argon2(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
    })
    .await?
    .map_err(|e| AppError::Internal(e.to_string()))
}
