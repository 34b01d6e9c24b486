//! Sale numbers: `<location code>-<YYYYMMDD>-<000123>`, unique, readable, increasing per
//! location and day, never reused. The counter moves in the sale's transaction.

use chrono::NaiveDate;
use sqlx::PgConnection;

/// The counter's next value for location `$1` on day `$2`, `RETURNING last`.
macro_rules! draw {
    () => {
        "INSERT INTO sale_number_counters (location_id, day, last) VALUES ($1, $2, 1) \
         ON CONFLICT (location_id, day) DO UPDATE SET last = sale_number_counters.last + 1 \
         RETURNING last"
    };
}
pub(crate) use draw;

/// The next number of `location_id` on `day`, drawn in the caller's transaction.
pub async fn next(
    tx: &mut PgConnection,
    location_id: &str,
    day: NaiveDate,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(draw!())
        .bind(location_id)
        .bind(day)
        .fetch_one(tx)
        .await
}

/// `<location code>-<YYYYMMDD>-<000123>`.
pub fn format_number(location_code: &str, day: NaiveDate, number: i64) -> String {
    format!("{}{number:06}", number_prefix(location_code, day))
}

/// The number a sale's append draws (`tillstream_eventstore::Draw`): `go`'s `args` are the
/// location, the day and the number's prefix, `<location code>-<YYYYMMDD>-`; the value is
/// [`format_number`]'s.
pub const DRAWN_BY_APPEND: &str = "INSERT INTO sale_number_counters (location_id, day, last)
     SELECT args[1], args[2]::date, 1 FROM go
     ON CONFLICT (location_id, day) DO UPDATE SET last = sale_number_counters.last + 1
     RETURNING (SELECT args[3] FROM go) || lpad(last::text, greatest(6, length(last::text)), '0')
               AS value";

/// `<location code>-<YYYYMMDD>-`, what a number drawn by the append begins with.
pub fn number_prefix(location_code: &str, day: NaiveDate) -> String {
    format!("{location_code}-{}-", day.format("%Y%m%d"))
}
