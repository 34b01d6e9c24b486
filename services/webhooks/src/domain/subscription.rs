//! The subscription aggregate: an endpoint, the event types it wants, and its secret. The
//! secret is recorded with the subscription (it signs every delivery) and never leaves this
//! service: the published events and every answer but the first leave it out.

use serde::{Deserialize, Serialize};
use tillstream_kernel::{Decider, DomainEvent};
use tillstream_proto::events;

tillstream_kernel::typed_id!(
    /// A subscription's id.
    SubscriptionId,
    stream = "subscription"
);

/// What subscribes to every event type.
pub const EVERY_TYPE: &str = "*";
/// The most event types one subscription names.
pub const EVENT_TYPES_MAX: usize = 100;
pub const DESCRIPTION_MAX_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `url`, `event_types` and `description` are already checked ([`event_types`],
    /// [`description`], `address::check_url`).
    Subscribe {
        id: SubscriptionId,
        url: String,
        event_types: Vec<String>,
        description: String,
        secret: String,
    },
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    WebhookSubscribed {
        id: SubscriptionId,
        url: String,
        event_types: Vec<String>,
        description: String,
        secret: String,
    },
    WebhookRemoved,
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::WebhookSubscribed { .. } => "WebhookSubscribed",
            Event::WebhookRemoved => "WebhookRemoved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    #[error("the subscription exists")]
    AlreadyExists,
    #[error("no such webhook subscription")]
    NotFound,
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

fn invalid(field: &'static str, message: impl Into<String>) -> SubscriptionError {
    SubscriptionError::Invalid {
        field,
        message: message.into(),
    }
}

/// The event types asked for: CloudEvents types of published events, each once, or `*`
/// alone.
pub fn event_types(asked: &[String]) -> Result<Vec<String>, SubscriptionError> {
    const FIELD: &str = "event_types";
    if asked.is_empty() {
        return Err(invalid(FIELD, "name at least one event type, or `*`"));
    }
    if asked.len() > EVENT_TYPES_MAX {
        return Err(invalid(
            FIELD,
            format!("at most {EVENT_TYPES_MAX} event types"),
        ));
    }
    let mut types: Vec<String> = Vec::with_capacity(asked.len());
    for asked in asked.iter().map(|t| t.trim()) {
        // The webhooks service's own events are not delivered (it does not read its stream).
        let deliverable = events::by_ce_type(asked).is_some_and(|e| e.service != "webhooks");
        if asked != EVERY_TYPE && !deliverable {
            // Only the start of a client's text is echoed.
            let shown: String = asked.chars().take(80).collect();
            return Err(invalid(
                FIELD,
                format!("`{shown}` is not a published event type (see GET /api/v1/asyncapi.json)"),
            ));
        }
        if !types.iter().any(|t| t == asked) {
            types.push(asked.to_owned());
        }
    }
    if types.len() > 1 && types.iter().any(|t| t == EVERY_TYPE) {
        return Err(invalid(FIELD, "`*` stands alone"));
    }
    Ok(types)
}

/// The description, trimmed.
pub fn description(text: &str) -> Result<String, SubscriptionError> {
    let text = text.trim();
    if text.chars().count() > DESCRIPTION_MAX_CHARS {
        return Err(invalid(
            "description",
            format!("at most {DESCRIPTION_MAX_CHARS} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid("description", "no control characters"));
    }
    Ok(text.to_owned())
}

/// Whether a subscription to `types` wants an event of `ce_type`.
pub fn wants(types: &[String], ce_type: &str) -> bool {
    types.iter().any(|t| t == EVERY_TYPE || t == ce_type)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    exists: bool,
    removed: bool,
}

impl Decider for Subscription {
    type State = Subscription;
    type Command = Command;
    type Event = Event;
    type Error = SubscriptionError;

    fn decide(state: &Subscription, command: &Command) -> Result<Vec<Event>, SubscriptionError> {
        match command {
            Command::Subscribe { .. } if state.exists => Err(SubscriptionError::AlreadyExists),
            Command::Subscribe {
                id,
                url,
                event_types,
                description,
                secret,
            } => Ok(vec![Event::WebhookSubscribed {
                id: *id,
                url: url.clone(),
                event_types: event_types.clone(),
                description: description.clone(),
                secret: secret.clone(),
            }]),
            Command::Remove if !state.exists || state.removed => Err(SubscriptionError::NotFound),
            Command::Remove => Ok(vec![Event::WebhookRemoved]),
        }
    }

    fn evolve(mut state: Subscription, event: &Event) -> Subscription {
        match event {
            Event::WebhookSubscribed { .. } => state.exists = true,
            Event::WebhookRemoved => state.removed = true,
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use tillstream_kernel::given;

    use super::*;

    fn subscribe(id: SubscriptionId) -> Command {
        Command::Subscribe {
            id,
            url: "https://hooks.example.com/in".into(),
            event_types: vec!["tillstream.sales.v1.SaleCompleted".into()],
            description: "books".into(),
            secret: "whsec_c2VjcmV0".into(),
        }
    }

    #[test]
    fn a_subscription_is_made_once_and_removed_once() {
        let id = SubscriptionId::generate();
        let made = given::<Subscription>(vec![])
            .when(subscribe(id))
            .outcome()
            .unwrap();
        assert!(matches!(made[..], [Event::WebhookSubscribed { .. }]));
        given::<Subscription>(made.clone())
            .when(subscribe(id))
            .then_error(SubscriptionError::AlreadyExists);
        given::<Subscription>(made.clone())
            .when(Command::Remove)
            .then(vec![Event::WebhookRemoved]);
        let mut removed = made;
        removed.push(Event::WebhookRemoved);
        given::<Subscription>(removed)
            .when(Command::Remove)
            .then_error(SubscriptionError::NotFound);
        given::<Subscription>(vec![])
            .when(Command::Remove)
            .then_error(SubscriptionError::NotFound);
    }

    #[test]
    fn event_types_are_published_types_once_or_every_type_alone() {
        let list = |types: &[&str]| types.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            event_types(&list(&[
                "tillstream.sales.v1.SaleCompleted",
                " tillstream.sales.v1.SaleCompleted ",
                "tillstream.ledger.v1.EntryPosted"
            ])),
            Ok(list(&[
                "tillstream.sales.v1.SaleCompleted",
                "tillstream.ledger.v1.EntryPosted"
            ]))
        );
        assert_eq!(event_types(&list(&["*", "*"])), Ok(list(&["*"])));
        for bad in [
            list(&[]),
            list(&["SaleCompleted"]),
            list(&["tillstream.sales.v1.SaleExploded"]),
            list(&["tillstream.webhooks.v1.WebhookSubscribed"]),
            list(&["*", "tillstream.sales.v1.SaleCompleted"]),
            list(&["tillstream.sales.v1.SaleCompleted", "*"]),
            vec!["tillstream.sales.v1.SaleCompleted".to_owned(); EVENT_TYPES_MAX + 1],
        ] {
            assert!(
                matches!(
                    event_types(&bad),
                    Err(SubscriptionError::Invalid {
                        field: "event_types",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn descriptions_are_short_plain_text() {
        assert_eq!(description("  the books  "), Ok("the books".into()));
        assert_eq!(description("Café ☕"), Ok("Café ☕".into()));
        assert!(description(&"x".repeat(DESCRIPTION_MAX_CHARS + 1)).is_err());
        assert!(description("a\u{0}b").is_err());
    }

    #[test]
    fn a_subscription_wants_its_types_or_every_type() {
        let sales = vec!["tillstream.sales.v1.SaleCompleted".to_owned()];
        assert!(wants(&sales, "tillstream.sales.v1.SaleCompleted"));
        assert!(!wants(&sales, "tillstream.sales.v1.SaleVoided"));
        assert!(wants(&["*".to_owned()], "tillstream.auth.v1.PinSet"));
    }
}
