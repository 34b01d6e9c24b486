//! Moments as the domains keep them (`DateTime<Utc>`) and as events, the API and receipts
//! write them: RFC 3339 in UTC with microseconds, the precision PostgreSQL keeps, so a
//! moment read back from a read model equals the one in the event.

use chrono::SecondsFormat;
pub use chrono::{DateTime, NaiveDate, Utc};

/// This moment, to the microsecond (what PostgreSQL keeps).
pub fn now() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// `at` as RFC 3339, UTC, microseconds: `2026-11-24T12:00:00.000000Z`.
pub fn rfc3339(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Serde for a `DateTime<Utc>` field written as [`rfc3339`]. Reading accepts any RFC 3339
/// offset (an event written by a till's clock in `-02:00`) and keeps the moment in UTC.
pub mod rfc3339_micros {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::rfc3339(at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|e| {
                serde::de::Error::custom(format!("`{text}` is not an RFC 3339 moment: {e}"))
            })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Stamped {
        #[serde(with = "super::rfc3339_micros")]
        at: DateTime<Utc>,
    }

    #[test]
    fn a_moment_is_written_in_utc_with_microseconds_and_read_from_any_offset() {
        let read: Stamped = serde_json::from_str(r#"{"at":"2026-11-24T23:30:00-02:00"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&read).unwrap(),
            r#"{"at":"2026-11-25T01:30:00.000000Z"}"#
        );
        let again: Stamped = serde_json::from_str(&serde_json::to_string(&read).unwrap()).unwrap();
        assert_eq!(again, read);
        assert!(serde_json::from_str::<Stamped>(r#"{"at":"yesterday"}"#).is_err());
    }
}
