//! Changing a user: role, disabled, password, PIN. The user's events are decided against its
//! stream, appended with the read model's update in one transaction; disabling a user or
//! giving them a new password revokes their sessions in that same transaction.

use tillstream_eventstore::{AppendRequest, EventMetadata, EventStore, NewEvent, StoreError};
use tillstream_kernel::Decider;

use crate::commands::register_user::hash_password;
use crate::commands::sessions;
use crate::domain::user::{Command, Event, Role, User, check_password, check_pin};
use crate::error::AppError;
use crate::projections::users::{self, UserRow};

/// Bounded retries when another change to the same user lands first.
const CONFLICT_RETRIES: usize = 3;
const STATE_SCHEMA: i32 = 1;
/// Users' streams are short; a snapshot is never worth it before this.
const SNAPSHOT_EVERY: usize = 500;

/// What an admin may change at once; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

pub async fn update_user(
    store: &EventStore,
    id: &str,
    changes: UserChanges,
    metadata: EventMetadata,
) -> Result<UserRow, AppError> {
    let mut commands = Vec::new();
    if let Some(role) = changes.role {
        commands.push(Command::ChangeRole { role });
    }
    match changes.disabled {
        Some(true) => commands.push(Command::Disable),
        Some(false) => commands.push(Command::Enable),
        None => {}
    }
    if let Some(password) = &changes.password {
        check_password(password)?;
        commands.push(Command::ChangePassword {
            password_hash: hash_password(password).await?,
        });
    }
    change(store, id, &commands, metadata).await
}

/// Sets a till PIN; `by` is the role of whoever sets it.
pub async fn set_pin(
    store: &EventStore,
    id: &str,
    pin: &str,
    by: Role,
    metadata: EventMetadata,
) -> Result<UserRow, AppError> {
    check_pin(pin)?;
    let command = Command::SetPin {
        pin_hash: hash_password(pin).await?,
        by,
    };
    change(store, id, &[command], metadata).await
}

/// Stores `password_hash`, the user's own password hashed with the current parameters.
pub async fn rehash_password(
    store: &EventStore,
    id: &str,
    password_hash: String,
) -> Result<UserRow, AppError> {
    let metadata = EventMetadata {
        actor: Some("auth".into()),
        ..Default::default()
    };
    let command = Command::RehashPassword { password_hash };
    change(store, id, &[command], metadata).await
}

async fn change(
    store: &EventStore,
    id: &str,
    commands: &[Command],
    metadata: EventMetadata,
) -> Result<UserRow, AppError> {
    let stream = format!("user-{id}");
    for attempt in 1..=CONFLICT_RETRIES {
        match try_change(store, id, &stream, commands, &metadata).await {
            Err(AppError::Store(StoreError::Conflict { .. })) if attempt < CONFLICT_RETRIES => {}
            outcome => return outcome,
        }
    }
    Err(AppError::Conflict(
        "the user changed meanwhile; retry".into(),
    ))
}

async fn try_change(
    store: &EventStore,
    id: &str,
    stream: &str,
    commands: &[Command],
    metadata: &EventMetadata,
) -> Result<UserRow, AppError> {
    let loaded = store
        .load_state::<User>(stream, STATE_SCHEMA, SNAPSHOT_EVERY)
        .await?;
    let mut state = loaded.state;
    let mut events: Vec<Event> = Vec::new();
    for command in commands {
        let decided = User::decide(&state, command)?;
        state = decided.iter().fold(state, User::evolve);
        events.extend(decided);
    }
    if !events.is_empty() {
        let new_events = events
            .iter()
            .map(NewEvent::from_domain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?;
        let request = AppendRequest::new(stream.to_owned(), loaded.version, new_events)
            .with_metadata(metadata.clone());
        let mut tx = store.pool().begin().await?;
        store.append_in(&mut tx, &request).await?;
        for event in &events {
            users::apply(&mut tx, id, event).await?;
        }
        if events
            .iter()
            .any(|e| matches!(e, Event::UserDisabled | Event::PasswordChanged { .. }))
        {
            sessions::revoke_user(&mut tx, id).await?;
        }
        tx.commit().await?;
        tracing::info!(user_id = %id, changes = events.len(), "user changed");
    }
    users::by_id(store.pool(), id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such user".into()))
}
