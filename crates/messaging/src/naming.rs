//! Every subject, stream and consumer name comes from here, derived from one configurable
//! prefix, so two stacks (or two tests) on one NATS never see each other.

use std::borrow::Cow;

/// Names under one prefix (`pos` by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    prefix: String,
}

impl Naming {
    /// `prefix` must be a single subject token: letters, digits, `_` and `-`.
    pub fn new(prefix: impl Into<String>) -> Result<Self, String> {
        let prefix = prefix.into();
        if prefix.is_empty()
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "subject prefix `{prefix}` must be letters, digits, `_` or `-` (one subject token)"
            ));
        }
        Ok(Naming { prefix })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `pos.sales.sale.SaleCompleted`: one event's subject.
    pub fn event_subject(&self, service: &str, aggregate: &str, event_type: &str) -> String {
        format!(
            "{}.{}.{}.{}",
            self.prefix,
            token(service),
            token(aggregate),
            token(event_type)
        )
    }

    /// `pos.sales.*.SaleCompleted`: one type of event, whatever its aggregate.
    pub fn event_type_subjects(&self, service: &str, event_type: &str) -> String {
        format!("{}.{}.*.{}", self.prefix, token(service), token(event_type))
    }

    /// `pos.sales.>`: everything a service publishes.
    pub fn service_subjects(&self, service: &str) -> String {
        format!("{}.{}.>", self.prefix, token(service))
    }

    /// `pos.inventory.location.>`: one aggregate's events.
    pub fn aggregate_subjects(&self, service: &str, aggregate: &str) -> String {
        format!("{}.{}.{}.>", self.prefix, token(service), token(aggregate))
    }

    /// `pos_sales`: the JetStream stream holding a service's events.
    pub fn service_stream(&self, service: &str) -> String {
        format!("{}_{}", self.prefix, token(service))
    }

    /// `pos_inventory_sales`: a durable consumer's name, unique per prefix.
    pub fn consumer(&self, service: &str, name: &str) -> String {
        format!("{}_{}_{}", self.prefix, token(service), token(name))
    }

    /// `pos_dlq`: the stream of dead letters for every consumer under the prefix.
    pub fn dead_letter_stream(&self) -> String {
        format!("{}_dlq", self.prefix)
    }

    /// `pos.dlq.pos_inventory_sales`: where one consumer's dead letters go.
    pub fn dead_letter_subject(&self, consumer: &str) -> String {
        format!("{}.dlq.{}", self.prefix, token(consumer))
    }

    pub fn dead_letter_subjects(&self) -> String {
        format!("{}.dlq.>", self.prefix)
    }

    /// The aggregate part of a stream id (`sale` of `sale-01J…`), its subject token.
    pub fn aggregate_of(stream_id: &str) -> &str {
        stream_id
            .split_once('-')
            .map_or(stream_id, |(aggregate, _)| aggregate)
    }
}

/// Makes any string a single, safe subject token (no `.`, `*`, `>` or whitespace).
/// Borrows when the string already is one, which is always the case on the relay's path.
fn token(raw: &str) -> Cow<'_, str> {
    let safe = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if raw.chars().all(safe) {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(raw.chars().map(|c| if safe(c) { c } else { '_' }).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prefix() {
        let n = Naming::new("pos").unwrap();
        assert_eq!(
            n.event_subject("sales", "sale", "SaleCompleted"),
            "pos.sales.sale.SaleCompleted"
        );
        assert_eq!(n.service_subjects("sales"), "pos.sales.>");
        assert_eq!(
            n.aggregate_subjects("inventory", "location"),
            "pos.inventory.location.>"
        );
        assert_eq!(n.service_stream("sales"), "pos_sales");
        assert_eq!(n.consumer("inventory", "sales"), "pos_inventory_sales");
        assert_eq!(
            n.dead_letter_subject("pos_inventory_sales"),
            "pos.dlq.pos_inventory_sales"
        );
    }

    #[test]
    fn tokens_cannot_break_out_of_their_place() {
        let n = Naming::new("pos").unwrap();
        assert_eq!(n.event_subject("sales", "a.b", "x>*"), "pos.sales.a_b.x__");
        assert!(Naming::new("pos.prod").is_err());
        assert!(Naming::new("").is_err());
    }

    #[test]
    fn the_aggregate_is_the_stream_ids_first_part() {
        assert_eq!(Naming::aggregate_of("sale-01JD"), "sale");
        assert_eq!(Naming::aggregate_of("orphan"), "orphan");
    }
}
