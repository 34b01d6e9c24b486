//! Moments in requests: `as_of`, `from`, `to`, `counted_at`. Clients send RFC 3339 times
//! or, for ranges, plain dates meaning whole days in UTC.

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};

/// An RFC 3339 time; empty text is none.
pub fn moment(text: &str) -> Result<Option<DateTime<Utc>>, String> {
    match text.trim() {
        "" => Ok(None),
        text => DateTime::parse_from_rfc3339(text)
            .map(|at| Some(at.with_timezone(&Utc)))
            .map_err(|_| format!("`{text}` is not an RFC 3339 date and time")),
    }
}

/// The start of a range: a time, or a date's midnight.
pub fn range_start(text: &str) -> Result<Option<DateTime<Utc>>, String> {
    bound(text, 0)
}

/// The exclusive end of an inclusive range: just after a time, or the midnight after a
/// date, so `to=2026-11-24` takes in the whole day.
pub fn range_end(text: &str) -> Result<Option<DateTime<Utc>>, String> {
    bound(text, 1)
}

fn bound(text: &str, days_after: u64) -> Result<Option<DateTime<Utc>>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        let at = at.with_timezone(&Utc);
        return Ok(Some(if days_after > 0 {
            at + TimeDelta::microseconds(1)
        } else {
            at
        }));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.checked_add_days(Days::new(days_after)))
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|midnight| Some(midnight.and_utc()))
        .ok_or_else(|| format!("`{text}` is neither a date (2026-11-24) nor an RFC 3339 time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_range_takes_in_whole_days() {
        let start = range_start("2026-11-24").unwrap().unwrap();
        let end = range_end("2026-11-24").unwrap().unwrap();
        assert_eq!(start.to_rfc3339(), "2026-11-24T00:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-11-25T00:00:00+00:00");
        let at = range_end("2026-11-24T12:00:00+01:00").unwrap().unwrap();
        assert_eq!(at.to_rfc3339(), "2026-11-24T11:00:00.000001+00:00");
        assert_eq!(range_start(" ").unwrap(), None);
        assert!(range_start("yesterday").is_err());
        assert!(moment("2026-11-24").is_err(), "a moment needs a time");
    }
}
