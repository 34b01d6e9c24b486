//! Reading request bodies and queries so that every failure names what was wrong: malformed
//! JSON is a 400, a wrong type or a missing field a 422 naming the field (`lines[0].quantity`),
//! another media type a 415, a body over the limit a 413.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use bytes::Bytes;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

use crate::error::ApiError;

/// A JSON request body.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|essence| {
                let essence = essence.trim().to_ascii_lowercase();
                essence == "application/json" || essence.ends_with("+json")
            });
        if is_json != Some(true) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        "the body is larger than this route accepts",
                    )
                } else {
                    ApiError::malformed(None, rejection.body_text())
                }
            })?;
        parse(&bytes).map(JsonBody)
    }
}

/// Parses `bytes` as a `T`, classifying the failure.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first, so a truncated body is a 400 even when a value before the cut has the
    // wrong type.
    serde_json::from_slice::<de::IgnoredAny>(bytes)
        .map_err(|e| ApiError::malformed(None, format!("the body is not valid JSON: {e}")))?;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = inner.to_string();
                ApiError::invalid(field_at(&path, &message), strip_position(&message))
            }
            _ => ApiError::malformed(None, format!("the body is not valid JSON: {inner}")),
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::malformed(None, format!("the body is not valid JSON: {e}")))?;
    if let Some(field) = field_with_nul(bytes) {
        return Err(ApiError::invalid(field, NUL_MESSAGE));
    }
    Ok(value)
}

const NUL_MESSAGE: &str = "must not contain NUL characters (\\u0000)";

/// The path of a string (or key) holding a NUL character, which no field of ours means
/// and PostgreSQL's text cannot store. Only bodies that spell `\u0000` are walked.
fn field_with_nul(bytes: &[u8]) -> Option<String> {
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return None;
    }
    fn walk(value: &serde_json::Value, path: &str) -> Option<String> {
        let join = |key: &str| {
            if path.is_empty() {
                key.to_owned()
            } else {
                format!("{path}.{key}")
            }
        };
        match value {
            serde_json::Value::String(text) if text.contains('\0') => Some(if path.is_empty() {
                "body".into()
            } else {
                path.to_owned()
            }),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, &format!("{path}[{i}]"))),
            serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
                if key.contains('\0') {
                    Some(join(&key.replace('\0', "\\u0000")))
                } else {
                    walk(item, &join(key))
                }
            }),
            _ => None,
        }
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    walk(&value, "")
}

/// Refuses a path with an encoded NUL (`%00`), or one that does not decode to UTF-8
/// (`%FF`), before any handler reads its parameters: axum's own refusal of the latter is
/// plain text, not the contract's error.
pub async fn no_nul_in_path(
    request: Request,
    next: axum::middleware::Next,
) -> Result<axum::response::Response, ApiError> {
    let path = request.uri().path();
    if path.to_ascii_lowercase().contains("%00") {
        return Err(ApiError::malformed(Some("path".into()), NUL_MESSAGE));
    }
    if let Err(message) = percent_decode(path) {
        return Err(ApiError::malformed(Some("path".into()), message));
    }
    Ok(next.run(request).await)
}

/// The field a data error is about: its path, or for a missing field the path of the
/// missing field itself.
fn field_at(path: &str, message: &str) -> String {
    let parent = if path == "." { "" } else { path };
    match message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        Some(missing) if parent.is_empty() => missing.to_owned(),
        Some(missing) => format!("{parent}.{missing}"),
        None if parent.is_empty() => "body".to_owned(),
        None => parent.to_owned(),
    }
}

/// serde_json appends " at line 1 column 42"; the field names the place better.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// A query string, its failures a 400 naming the parameter.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded_deserializer(query).map_err(|m| ApiError::malformed(None, m))?;
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|error| {
                let field = error.path().to_string();
                ApiError::malformed(
                    Some(field).filter(|f| f != "."),
                    format!("bad query: {}", error.into_inner()),
                )
            })
    }
}

/// Query pairs as a JSON object of strings, so one deserializer serves bodies and queries.
fn serde_urlencoded_deserializer(query: &str) -> Result<serde_json::Value, String> {
    let mut object = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (percent_decode(key)?, percent_decode(value)?);
        if key.contains('\0') || value.contains('\0') {
            return Err(format!("`{}` {NUL_MESSAGE}", key.replace('\0', "%00")));
        }
        object.insert(key, serde_json::Value::String(value));
    }
    Ok(serde_json::Value::Object(object))
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad percent-encoding in `{text}`"))?;
                out.push(hex);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("`{text}` is not UTF-8"))
}

/// Money in a request: a decimal string only; a JSON number is refused, since binary
/// floating point cannot carry cents exactly. The service checks the digits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MoneyText(pub String);

impl<'de> serde::Deserialize<'de> for MoneyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MoneyVisitor;
        impl Visitor<'_> for MoneyVisitor {
            type Value = MoneyText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("money as a decimal string such as \"12.50\", not a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MoneyText, E> {
                Ok(MoneyText(v.to_owned()))
            }
        }
        deserializer.deserialize_str(MoneyVisitor)
    }
}

/// A quantity or other decimal: a decimal string or an integer (`"2"`, `2`, `"0.350"`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecimalText(pub String);

impl<'de> serde::Deserialize<'de> for DecimalText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DecimalVisitor;
        impl Visitor<'_> for DecimalVisitor {
            type Value = DecimalText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a decimal string such as \"0.350\" or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }
        }
        deserializer.deserialize_any(DecimalVisitor)
    }
}

/// `"12.50"`: the schema of money in a request.
impl utoipa::PartialSchema for MoneyText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            // At most 10,000,000,000.00 either way (eleven digits before the point); a price
            // takes the currency's minor units, a unit cost up to four places.
            .pattern(Some(r"^-?[0-9]{1,11}(\.[0-9]{1,4})?$"))
            .description(Some(
                "Money as a decimal string, never a JSON number: at most 10,000,000,000.00 \
                 either way, with at most the currency's minor units (a unit cost: four places)",
            ))
            .examples(["12.50"])
            .into()
    }
}

impl utoipa::ToSchema for MoneyText {}

/// `"0.350"` or `2`: the schema of a quantity or rate in a request.
impl utoipa::PartialSchema for DecimalText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::OneOfBuilder::new()
            .item(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some(r"^-?[0-9]{1,7}(\.[0-9]{1,6})?$")),
            )
            .item(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::Integer)
                    .minimum(Some(-1_000_000))
                    .maximum(Some(1_000_000)),
            )
            .description(Some(
                "A decimal string such as \"0.350\", or an integer. A quantity is at most \
                 1,000,000 either way with at most 3 places; a tax rate is 0 ≤ rate < 1 with \
                 at most 6 places; a percent 0 to 100 with at most 4",
            ))
            .into()
    }
}

impl utoipa::ToSchema for DecimalText {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only parsed")]
    struct Sale {
        location_id: String,
        lines: Vec<Line>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only parsed")]
    struct Line {
        quantity: DecimalText,
        price: Option<MoneyText>,
    }

    fn field_of(body: &str) -> (StatusCode, String) {
        let error = parse::<Sale>(body.as_bytes()).unwrap_err();
        let field = error
            .details
            .first()
            .map(|d| d.field.clone())
            .unwrap_or_default();
        (error.status, field)
    }

    #[test]
    fn failures_name_the_field_and_pick_the_status() {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        assert_eq!(
            field_of(r#"{"lines": []}"#),
            (unprocessable, "location_id".into())
        );
        assert_eq!(
            field_of(r#"{"location_id": "l", "lines": [{"quantity": 1}, {}]}"#),
            (unprocessable, "lines[1].quantity".into())
        );
        assert_eq!(
            field_of(r#"{"location_id": "l", "lines": [{"quantity": 1, "price": 12.5}]}"#),
            (unprocessable, "lines[0].price".into())
        );
        assert_eq!(
            field_of(r#"{"location_id": "l", "lines": [{"quantity": 0.5}]}"#),
            (unprocessable, "lines[0].quantity".into())
        );
        assert_eq!(field_of(r#"{"location_id": 7"#).0, StatusCode::BAD_REQUEST);
        assert_eq!(
            field_of(r#"{"location_id": "l", "lines": []} x"#).0,
            StatusCode::BAD_REQUEST
        );
        let ok: Sale =
            parse(r#"{"location_id": "é", "lines": [{"quantity": "0.350"}]}"#.as_bytes()).unwrap();
        assert_eq!(ok.lines[0].quantity.0, "0.350");
    }

    #[test]
    fn a_nul_character_is_refused_naming_its_field() {
        let body = r#"{"location_id": "a\u0000b", "lines": []}"#;
        assert_eq!(
            field_of(body),
            (StatusCode::UNPROCESSABLE_ENTITY, "location_id".into())
        );
        let body = r#"{"location_id": "l", "lines": [{"quantity": "1", "price": "\u0000"}]}"#;
        assert_eq!(field_of(body).1, "lines[0].price");
        // An escaped backslash before `u0000` is no NUL.
        let ok: Sale = parse(r#"{"location_id": "\\u0000", "lines": []}"#.as_bytes()).unwrap();
        assert_eq!(ok.location_id, "\\u0000");
        assert!(serde_urlencoded_deserializer("q=a%00b").is_err());
    }

    #[test]
    fn queries_are_percent_decoded() {
        let value = serde_urlencoded_deserializer("q=caf%C3%A9+au+lait&page=2").unwrap();
        assert_eq!(value["q"], "café au lait");
        assert!(serde_urlencoded_deserializer("q=%zz").is_err());
    }
}
