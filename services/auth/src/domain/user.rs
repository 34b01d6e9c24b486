//! The user aggregate: a username (unique by claim), a role and a password hash.

use serde::{Deserialize, Serialize};
use tillstream_kernel::Decider;
use tillstream_kernel::DomainEvent;

tillstream_kernel::typed_id!(
    /// A user's id.
    UserId,
    stream = "user"
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
        location_ids: Vec<String>,
    },
    ChangeRole {
        role: Role,
    },
    ChangePassword {
        password_hash: String,
    },
    /// The same password hashed again with the current Argon2id parameters, at login.
    RehashPassword {
        password_hash: String,
    },
    /// The user's own PIN (the command layer has checked their current password).
    SetOwnPin {
        pin_hash: String,
    },
    /// `by` is the role of whoever sets it: nobody sets a PIN for a role above their own.
    SetPin {
        pin_hash: String,
        by: Role,
    },
    /// Where the user may sell (already checked by [`location_ids`]); empty for everywhere.
    SetLocations {
        location_ids: Vec<String>,
    },
    Disable,
    Enable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    UserRegistered {
        id: UserId,
        username: String,
        role: Role,
        password_hash: String,
        /// Users registered before locations existed carry none: every location.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        location_ids: Vec<String>,
    },
    RoleChanged {
        from: Role,
        to: Role,
    },
    PasswordChanged {
        password_hash: String,
    },
    /// Not a new password: sessions stay.
    PasswordRehashed {
        password_hash: String,
    },
    PinSet {
        pin_hash: String,
    },
    LocationsChanged {
        location_ids: Vec<String>,
    },
    UserDisabled,
    UserEnabled,
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::UserRegistered { .. } => "UserRegistered",
            Event::RoleChanged { .. } => "RoleChanged",
            Event::PasswordChanged { .. } => "PasswordChanged",
            Event::PasswordRehashed { .. } => "PasswordRehashed",
            Event::PinSet { .. } => "PinSet",
            Event::LocationsChanged { .. } => "LocationsChanged",
            Event::UserDisabled => "UserDisabled",
            Event::UserEnabled => "UserEnabled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("the user already exists")]
    AlreadyExists,
    #[error("no such user")]
    NotFound,
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
    #[error("a {by} cannot set the PIN of a {target}")]
    Forbidden { by: Role, target: Role },
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

/// Whether someone of role `by` may set the PIN of a user of role `target`: strictly below,
/// or anyone for an admin.
pub fn may_set_pin(by: Role, target: Role) -> bool {
    by == Role::Admin || (by.allows(target) && by != target)
}

/// The most locations one user is limited to.
pub const LOCATIONS_MAX: usize = 100;

/// A user's locations as stored: ULIDs (upper case), each once, in order; at most
/// [`LOCATIONS_MAX`]. Whether each exists is inventory's to know: an unknown one allows
/// nothing, so a mistyped id can only narrow what the user may do.
pub fn location_ids(raw: &[String]) -> Result<Vec<String>, UserError> {
    if raw.len() > LOCATIONS_MAX {
        return Err(UserError::Invalid {
            field: "location_ids",
            message: "at most 100 locations",
        });
    }
    let mut ids = raw
        .iter()
        .map(|id| {
            ulid::Ulid::from_string(id.trim())
                .map(|id| id.to_string())
                .map_err(|_| UserError::Invalid {
                    field: "location_ids",
                    message: "each location id is a ULID",
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// A till PIN: 4 to 8 digits.
pub fn check_pin(pin: &str) -> Result<(), UserError> {
    if !(4..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UserError::Invalid {
            field: "pin",
            message: "a PIN has 4 to 8 digits",
        });
    }
    Ok(())
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub registered: bool,
    pub role: Option<Role>,
    pub disabled: bool,
    #[serde(default)]
    pub locations: Vec<String>,
}

impl Decider for User {
    type State = User;
    type Command = Command;
    type Event = Event;
    type Error = UserError;

    fn decide(state: &User, command: &Command) -> Result<Vec<Event>, UserError> {
        if let Command::Register {
            id,
            username,
            role,
            password_hash,
            location_ids,
        } = command
        {
            if state.registered {
                return Err(UserError::AlreadyExists);
            }
            let username = normalize_username(username)?;
            return Ok(vec![Event::UserRegistered {
                id: *id,
                username,
                role: *role,
                password_hash: password_hash.clone(),
                location_ids: location_ids.clone(),
            }]);
        }
        let Some(current_role) = state.role.filter(|_| state.registered) else {
            return Err(UserError::NotFound);
        };
        // Repeating a change that already holds records nothing: a retried request is harmless.
        Ok(match command {
            Command::Register { .. } => Vec::new(),
            Command::ChangeRole { role } if *role == current_role => Vec::new(),
            Command::ChangeRole { role } => vec![Event::RoleChanged {
                from: current_role,
                to: *role,
            }],
            Command::ChangePassword { password_hash } => vec![Event::PasswordChanged {
                password_hash: password_hash.clone(),
            }],
            Command::RehashPassword { password_hash } => vec![Event::PasswordRehashed {
                password_hash: password_hash.clone(),
            }],
            // A PIN opens a till and approves at one: only someone above the user sets it
            // (an admin sets anyone's), so a manager cannot pick another manager's.
            Command::SetPin { by, .. } if !may_set_pin(*by, current_role) => {
                return Err(UserError::Forbidden {
                    by: *by,
                    target: current_role,
                });
            }
            Command::SetPin { pin_hash, .. } | Command::SetOwnPin { pin_hash } => {
                vec![Event::PinSet {
                    pin_hash: pin_hash.clone(),
                }]
            }
            Command::SetLocations { location_ids } if *location_ids == state.locations => {
                Vec::new()
            }
            Command::SetLocations { location_ids } => vec![Event::LocationsChanged {
                location_ids: location_ids.clone(),
            }],
            Command::Disable if state.disabled => Vec::new(),
            Command::Disable => vec![Event::UserDisabled],
            Command::Enable if !state.disabled => Vec::new(),
            Command::Enable => vec![Event::UserEnabled],
        })
    }

    fn evolve(mut state: User, event: &Event) -> User {
        match event {
            Event::UserRegistered {
                role, location_ids, ..
            } => {
                state.registered = true;
                state.role = Some(*role);
                state.locations.clone_from(location_ids);
            }
            Event::LocationsChanged { location_ids } => state.locations.clone_from(location_ids),
            Event::RoleChanged { to, .. } => state.role = Some(*to),
            Event::UserDisabled => state.disabled = true,
            Event::UserEnabled => state.disabled = false,
            Event::PasswordChanged { .. }
            | Event::PasswordRehashed { .. }
            | Event::PinSet { .. } => {}
        }
        state
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
            location_ids: Vec::new(),
        };
        given::<User>(vec![])
            .when(register())
            .then(vec![Event::UserRegistered {
                id,
                username: "alice".into(),
                role: Role::Cashier,
                password_hash: "h".into(),
                location_ids: Vec::new(),
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

    fn registered(role: Role) -> Vec<Event> {
        vec![Event::UserRegistered {
            id: UserId::generate(),
            username: "carol".into(),
            role,
            password_hash: "h".into(),
            location_ids: Vec::new(),
        }]
    }

    #[test]
    fn locations_are_ulids_kept_once_and_changed_only_when_they_differ() {
        let a = UserId::generate().to_string();
        let b = UserId::generate().to_string();
        let raw = vec![b.to_lowercase(), a.clone(), format!(" {b} ")];
        let mut expected = vec![a.clone(), b.clone()];
        expected.sort();
        assert_eq!(location_ids(&raw).unwrap(), expected);
        assert!(location_ids(&["store-1".into()]).is_err());
        assert!(location_ids(&vec![a.clone(); LOCATIONS_MAX + 1]).is_err());
        let set = |ids: Vec<String>| Command::SetLocations { location_ids: ids };
        given::<User>(registered(Role::Cashier))
            .when(set(vec![a.clone()]))
            .then(vec![Event::LocationsChanged {
                location_ids: vec![a.clone()],
            }]);
        let mut limited = registered(Role::Cashier);
        limited.push(Event::LocationsChanged {
            location_ids: vec![a.clone()],
        });
        given::<User>(limited.clone())
            .when(set(vec![a.clone()]))
            .then(vec![]);
        given::<User>(limited)
            .when(set(Vec::new()))
            .then(vec![Event::LocationsChanged {
                location_ids: Vec::new(),
            }]);
        given::<User>(vec![])
            .when(set(vec![a]))
            .then_error(UserError::NotFound);
    }

    #[test]
    fn role_changes_and_disabling_record_only_what_changes() {
        given::<User>(registered(Role::Cashier))
            .when(Command::ChangeRole {
                role: Role::Manager,
            })
            .then(vec![Event::RoleChanged {
                from: Role::Cashier,
                to: Role::Manager,
            }]);
        given::<User>(registered(Role::Cashier))
            .when(Command::ChangeRole {
                role: Role::Cashier,
            })
            .then(vec![]);
        given::<User>(registered(Role::Cashier))
            .when(Command::Disable)
            .then(vec![Event::UserDisabled]);
        let mut disabled = registered(Role::Cashier);
        disabled.push(Event::UserDisabled);
        given::<User>(disabled.clone())
            .when(Command::Disable)
            .then(vec![]);
        given::<User>(disabled)
            .when(Command::Enable)
            .then(vec![Event::UserEnabled]);
        given::<User>(vec![])
            .when(Command::Disable)
            .then_error(UserError::NotFound);
    }

    #[test]
    fn a_pin_is_set_only_by_someone_above_the_user_or_an_admin() {
        let pin = |by| Command::SetPin {
            pin_hash: "p".into(),
            by,
        };
        given::<User>(registered(Role::Cashier))
            .when(pin(Role::Manager))
            .then(vec![Event::PinSet {
                pin_hash: "p".into(),
            }]);
        given::<User>(registered(Role::Admin))
            .when(pin(Role::Manager))
            .then_error(UserError::Forbidden {
                by: Role::Manager,
                target: Role::Admin,
            });
        given::<User>(registered(Role::Manager))
            .when(pin(Role::Manager))
            .then_error(UserError::Forbidden {
                by: Role::Manager,
                target: Role::Manager,
            });
        given::<User>(registered(Role::Admin))
            .when(pin(Role::Admin))
            .then(vec![Event::PinSet {
                pin_hash: "p".into(),
            }]);
        assert!(check_pin("1234").is_ok() && check_pin("12345678").is_ok());
        for bad in ["123", "123456789", "12a4", "１２３４", ""] {
            assert!(check_pin(bad).is_err(), "{bad:?}");
        }
    }
}
