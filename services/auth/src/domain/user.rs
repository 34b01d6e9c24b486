//! The user aggregate: a username (unique by claim), a role and a password hash.

use serde::{Deserialize, Serialize};
use tillstream_eventstore::DomainEvent;
use tillstream_kernel::Decider;

tillstream_kernel::typed_id!(
    /// A user's id.
    UserId
);

pub use tillstream_access::Role;

impl From<tillstream_access::UnknownRole> for UserError {
    fn from(_: tillstream_access::UnknownRole) -> Self {
        UserError::Invalid {
            field: "role",
            message: "use admin, manager or cashier",
        }
    }
}

/// The shortest password accepted (OWASP: at least 8; we do not cap below 64).
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `password_hash` is already an Argon2id PHC string: hashing is slow and random, so it
    /// happens before the decision, never inside it.
    Register {
        id: UserId,
        username: String,
        role: Role,
        password_hash: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    UserRegistered {
        id: UserId,
        username: String,
        role: Role,
        password_hash: String,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        "UserRegistered"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("the user already exists")]
    AlreadyExists,
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
}

/// A username as stored: trimmed, lower-case, 3 to 64 of `a-z 0-9 . _ -`.
pub fn normalize_username(raw: &str) -> Result<String, UserError> {
    let username = raw.trim().to_lowercase();
    let valid_chars = username
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !(3..=64).contains(&username.len()) || !valid_chars {
        return Err(UserError::Invalid {
            field: "username",
            message: "3 to 64 of a-z, 0-9, '.', '_' and '-'",
        });
    }
    Ok(username)
}

/// The password policy, checked before hashing.
pub fn check_password(password: &str) -> Result<(), UserError> {
    let chars = password.chars().count();
    if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars) {
        return Err(UserError::Invalid {
            field: "password",
            message: "a password has 8 to 128 characters",
        });
    }
    Ok(())
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    pub registered: bool,
}

impl Decider for User {
    type State = User;
    type Command = Command;
    type Event = Event;
    type Error = UserError;

    fn decide(state: &User, command: &Command) -> Result<Vec<Event>, UserError> {
        let Command::Register {
            id,
            username,
            role,
            password_hash,
        } = command;
        if state.registered {
            return Err(UserError::AlreadyExists);
        }
        let username = normalize_username(username)?;
        Ok(vec![Event::UserRegistered {
            id: *id,
            username,
            role: *role,
            password_hash: password_hash.clone(),
        }])
    }

    fn evolve(_: User, _: &Event) -> User {
        User { registered: true }
    }
}

#[cfg(test)]
mod tests {
    use tillstream_kernel::given;

    use super::*;

    #[test]
    fn roles_are_ordered_admin_over_manager_over_cashier() {
        assert!(Role::Admin.allows(Role::Manager) && Role::Manager.allows(Role::Cashier));
        assert!(!Role::Cashier.allows(Role::Manager));
        assert_eq!("manager".parse::<Role>().unwrap(), Role::Manager);
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn a_user_registers_once_with_a_normalized_name() {
        let id = UserId::generate();
        let register = || Command::Register {
            id,
            username: " Alice ".into(),
            role: Role::Cashier,
            password_hash: "h".into(),
        };
        given::<User>(vec![])
            .when(register())
            .then(vec![Event::UserRegistered {
                id,
                username: "alice".into(),
                role: Role::Cashier,
                password_hash: "h".into(),
            }]);
        let done = given::<User>(vec![]).when(register()).outcome().unwrap();
        given::<User>(done)
            .when(register())
            .then_error(UserError::AlreadyExists);
    }

    #[test]
    fn bad_usernames_and_passwords_are_refused() {
        assert!(normalize_username("al").is_err());
        assert!(normalize_username("al ice").is_err());
        assert!(normalize_username("ålice").is_err());
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
    }
}
