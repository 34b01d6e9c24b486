//! The REST contract's routes, one module per service behind them.

pub mod approvals;
pub mod auth;
pub mod catalog;
pub mod customer_accounts;
pub mod customers;
pub mod gift_cards;
pub mod imports;
pub mod inventory;
pub mod ledger;
pub mod purchase_invoices;
pub mod purchase_orders;
pub mod purchasing;
pub mod registers;
pub mod repair_bodies;
pub mod repair_views;
pub mod repairs;
pub mod sale_batches;
pub mod sale_changes;
pub mod sales;
pub mod suppliers;
pub mod webhooks;

use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// `?page=&limit=` as the contract has them: pages from 1, limit 50 by default, clamped to 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub limit: u32,
}

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

impl Paging {
    pub fn parse(page: Option<&str>, limit: Option<&str>) -> Result<Self, ApiError> {
        let number =
            |name: &str, text: Option<&str>, default: u32| match text {
                None | Some("") => Ok(default),
                Some(text) => text.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    ApiError::malformed(Some(name.to_owned()), "a whole number ≥ 1")
                }),
            };
        Ok(Paging {
            page: number("page", page, 1)?,
            limit: number("limit", limit, DEFAULT_LIMIT)?.min(MAX_LIMIT),
        })
    }

    /// A page the service already cut, with the total it counted.
    pub fn page_from<T>(self, data: Vec<T>, total: u64) -> Page<T> {
        Page {
            data,
            meta: PageMeta {
                page: self.page,
                limit: self.limit,
                total,
                pages: total.div_ceil(u64::from(self.limit)),
            },
        }
    }

    /// One page of everything, for lists the services answer in full.
    pub fn page_of<T>(self, all: Vec<T>) -> Page<T> {
        let total = all.len() as u64;
        let skip =
            usize::try_from(u64::from(self.page - 1) * u64::from(self.limit)).unwrap_or(usize::MAX);
        let data = all
            .into_iter()
            .skip(skip)
            .take(self.limit as usize)
            .collect();
        Page {
            data,
            meta: PageMeta {
                page: self.page,
                limit: self.limit,
                total,
                pages: total.div_ceil(u64::from(self.limit)),
            },
        }
    }
}

/// The query parameters every list takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From 1.
    #[param(value_type = Option<u32>, minimum = 1)]
    pub page: Option<String>,
    /// 50 unless given; at most 200.
    #[param(value_type = Option<u32>, minimum = 1)]
    pub limit: Option<String>,
}

impl PageQuery {
    pub fn paging(&self) -> Result<Paging, ApiError> {
        Paging::parse(self.page.as_deref(), self.limit.as_deref())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub meta: PageMeta,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PageMeta {
    pub page: u32,
    pub limit: u32,
    pub total: u64,
    pub pages: u64,
}

/// The `Idempotency-Key` header, passed to the service that stores it with the events.
pub fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(String::new()),
        Some(value) => value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() <= 255)
            .map(str::to_owned)
            .ok_or_else(|| {
                ApiError::malformed(
                    Some("Idempotency-Key".into()),
                    "use 1 to 255 visible ASCII characters",
                )
            }),
    }
}

/// `If-Match`: the version the client last read, bare or quoted (`3`, `"3"`, `W/"3"`).
/// A version below 1 is no version a resource ever had, so it is sent on as -1, which the
/// service answers as stale (409), as it does any version but the current one; the wire's 0
/// means "no `If-Match`".
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get("if-match") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse::<i64>().ok())
        .map(|v| Some(if v >= 1 { v } else { -1 }))
        .ok_or_else(|| {
            ApiError::malformed(
                Some("If-Match".into()),
                "the version you last read, such as 3",
            )
        })
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`, by `default`),
/// so a PATCH can clear a field as well as leave it.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `201 Created` with the resource.
pub type Created<T> = (StatusCode, axum::Json<T>);

pub fn created<T>(value: T) -> Created<T> {
    (StatusCode::CREATED, axum::Json(value))
}

/// Empty text as absent, for optional proto strings.
pub fn optional(text: String) -> Option<String> {
    Some(text).filter(|t| !t.is_empty())
}

/// A range bound in a query (`?from=&to=`): a date (`2026-11-24`, the whole day in UTC) or
/// an RFC 3339 time, passed on as given; anything else is a 400 naming the parameter.
pub fn range_param(name: &str, text: Option<String>) -> Result<String, ApiError> {
    let text = text.unwrap_or_default().trim().to_owned();
    let valid = text.is_empty()
        || chrono::DateTime::parse_from_rfc3339(&text).is_ok()
        || chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").is_ok();
    if valid {
        Ok(text)
    } else {
        Err(ApiError::malformed(
            Some(name.to_owned()),
            "a date (2026-11-24) or an RFC 3339 time",
        ))
    }
}

/// A moment in a query (`?as_of=`): an RFC 3339 time, or a 400 naming the parameter.
pub fn moment_param(name: &str, text: Option<String>) -> Result<String, ApiError> {
    let text = text.unwrap_or_default().trim().to_owned();
    if text.is_empty() || chrono::DateTime::parse_from_rfc3339(&text).is_ok() {
        Ok(text)
    } else {
        Err(ApiError::malformed(
            Some(name.to_owned()),
            "an RFC 3339 date and time, e.g. 2026-11-24T14:03:00Z",
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn if_match_takes_a_bare_or_quoted_version() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("if-match", value.parse().unwrap());
            if_match(&headers)
        };
        assert_eq!(with("3").unwrap(), Some(3));
        assert_eq!(with("\"3\"").unwrap(), Some(3));
        assert_eq!(with("W/\"12\"").unwrap(), Some(12));
        assert!(with("abc").is_err());
        // No resource is at version 0 or below: stale, never "any".
        assert_eq!(with("0").unwrap(), Some(-1));
        assert_eq!(with("\"-5\"").unwrap(), Some(-1));
        assert_eq!(if_match(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn paging_defaults_clamps_and_counts_pages() {
        assert_eq!(
            Paging::parse(None, None).unwrap(),
            Paging { page: 1, limit: 50 }
        );
        assert_eq!(Paging::parse(Some("2"), Some("1000")).unwrap().limit, 200);
        assert!(Paging::parse(Some("0"), None).is_err());
        assert!(Paging::parse(None, Some("-1")).is_err());
        let page = Paging { page: 2, limit: 2 }.page_of(vec![1, 2, 3, 4, 5]);
        assert_eq!(
            (page.data, page.meta.total, page.meta.pages),
            (vec![3, 4], 5, 3)
        );
        let beyond = Paging {
            page: u32::MAX,
            limit: 200,
        }
        .page_of(vec![1]);
        assert!(beyond.data.is_empty());
    }
}
