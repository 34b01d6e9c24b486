//! Changing a user: role, disabled, password, PIN. The user's events are decided against its
//! stream, appended with the read model's update in one transaction; disabling a user or
//! giving them a new password revokes their sessions in that same transaction.

use sqlx::PgConnection;
use tillstream_eventstore::{Decided, EventMetadata, EventStore, RunOptions, UseCase};
use tillstream_kernel::Decider;

use crate::commands::login::{Secret, authenticate};
use crate::commands::register_user::hash_password;
use crate::commands::sessions;
use crate::domain::user::{
    Command, Event, Role, User, UserId, check_password, check_pin, location_ids,
};
use crate::error::AppError;
use crate::projections::users::{self, UserRow};

/// What an admin may change at once; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
    /// Where the user may sell; `Some(empty)` for every location.
    pub location_ids: Option<Vec<String>>,
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
    if let Some(raw) = &changes.location_ids {
        commands.push(Command::SetLocations {
            location_ids: location_ids(raw)?,
        });
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

/// Sets `caller`'s own PIN once their current password proves it is them (the attempt is
/// counted by the lockout like a login, from `client_addr`).
pub async fn set_own_pin(
    store: &EventStore,
    caller: &tillstream_access::Claims,
    current_password: &str,
    pin: &str,
    client_addr: Option<&str>,
    metadata: EventMetadata,
) -> Result<UserRow, AppError> {
    check_pin(pin)?;
    let secret = Secret::Password(current_password);
    let user = authenticate(store, &caller.name, secret, client_addr).await?;
    if user.id != caller.sub {
        return Err(crate::error::BAD_CREDENTIALS);
    }
    let command = Command::SetOwnPin {
        pin_hash: hash_password(pin).await?,
    };
    change(store, &user.id, &[command], metadata).await
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
    let options = RunOptions {
        metadata,
        ..Default::default()
    };
    let user_id = id
        .parse()
        .map_err(|_| AppError::NotFound("no such user".into()))?;
    store
        .run(
            &ChangeUser {
                id: user_id,
                commands,
            },
            &options,
        )
        .await?;
    users::by_id(store.pool(), id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such user".into()))
}

/// Several changes of one user, decided in order against the state each leaves.
struct ChangeUser<'a> {
    id: UserId,
    commands: &'a [Command],
}

impl UseCase for ChangeUser<'_> {
    type Aggregate = User;
    type Output = ();
    type Error = AppError;

    fn stream_id(&self) -> String {
        self.id.stream_id()
    }

    fn decide(&self, state: &User) -> Result<Vec<Event>, AppError> {
        let mut state = state.clone();
        let mut events = Vec::new();
        for command in self.commands {
            let decided = User::decide(&state, command)?;
            state = decided.iter().fold(state, User::evolve);
            events.extend(decided);
        }
        Ok(events)
    }

    /// The read model follows; disabling a user or a new password ends their sessions.
    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, User>,
    ) -> Result<(), AppError> {
        let id = self.id.to_string();
        for event in decided.events {
            users::apply(&mut *tx, &id, event).await?;
        }
        if decided
            .events
            .iter()
            .any(|e| matches!(e, Event::UserDisabled | Event::PasswordChanged { .. }))
        {
            sessions::revoke_user(&mut *tx, &id).await?;
        }
        if !decided.events.is_empty() {
            tracing::info!(user_id = %self.id, changes = decided.events.len(), "user changed");
        }
        Ok(())
    }
}
