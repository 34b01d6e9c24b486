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
    format!("{location_code}-{}-{number:06}", day.format("%Y%m%d"))
}
