//! A location: a store, a back room, a warehouse.

use serde::{Deserialize, Serialize};
use tillstream_kernel::Decider;
use tillstream_kernel::DomainEvent;

tillstream_kernel::typed_id!(
    /// A location's id.
    LocationId,
    stream = "location"
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Create {
        id: LocationId,
        code: String,
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    LocationCreated {
        id: LocationId,
        code: String,
        name: String,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        "LocationCreated"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("the location already exists")]
    AlreadyExists,
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub created: bool,
}

impl Decider for Location {
    type State = Location;
    type Command = Command;
    type Event = Event;
    type Error = LocationError;

    fn decide(state: &Location, command: &Command) -> Result<Vec<Event>, LocationError> {
        let Command::Create { id, code, name } = command;
        if state.created {
            return Err(LocationError::AlreadyExists);
        }
        let code = code.trim();
        if code.is_empty() || code.len() > 32 || code.chars().any(char::is_whitespace) {
            return Err(LocationError::Invalid {
                field: "code",
                message: "a code has 1 to 32 characters and no spaces",
            });
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(LocationError::Invalid {
                field: "name",
                message: "a name has 1 to 200 characters",
            });
        }
        Ok(vec![Event::LocationCreated {
            id: *id,
            code: code.to_owned(),
            name: name.to_owned(),
        }])
    }

    fn evolve(_: Location, event: &Event) -> Location {
        match event {
            Event::LocationCreated { .. } => Location { created: true },
        }
    }
}

#[cfg(test)]
mod tests {
    use tillstream_kernel::given;

    use super::*;

    #[test]
    fn a_location_is_created_once_with_a_trimmed_code() {
        let id = LocationId::generate();
        let create = || Command::Create {
            id,
            code: " S12 ".into(),
            name: "Main Street".into(),
        };
        given::<Location>(vec![])
            .when(create())
            .then(vec![Event::LocationCreated {
                id,
                code: "S12".into(),
                name: "Main Street".into(),
            }]);
        given::<Location>(vec![Event::LocationCreated {
            id,
            code: "S12".into(),
            name: "x".into(),
        }])
        .when(create())
        .then_error(LocationError::AlreadyExists);
    }

    #[test]
    fn a_code_with_spaces_is_refused() {
        let outcome = given::<Location>(vec![])
            .when(Command::Create {
                id: LocationId::generate(),
                code: "S 12".into(),
                name: "x".into(),
            })
            .outcome();
        assert!(matches!(
            outcome,
            Err(LocationError::Invalid { field: "code", .. })
        ));
    }
}
