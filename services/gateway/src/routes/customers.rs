//! Customers: registered, found, edited, erased, and their sales (api.md, "Customers and
//! stored value"). Served by the sales process's `CustomerService`, which keeps customers
//! beside the sales that draw on their accounts (decision 0011); the account itself is in
//! `customer_accounts`. Personal fields are bounded here, before they travel anywhere.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::customer_service_client::CustomerServiceClient;
use utoipa::{IntoParams, ToSchema};

use super::sales::SaleView;
use super::{Page, PageQuery, Paging, idempotency_key, if_match, optional, present};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{JsonBody, MoneyText, Query};
use crate::upstream::request;

/// A name is what a cashier types at the till: 200 characters is a long company name.
pub const NAME_CHARS_MAX: usize = 200;
/// The longest address SMTP carries (RFC 5321: a 256-octet path less its angle brackets).
pub const EMAIL_CHARS_MAX: usize = 254;
/// E.164 is 15 digits; 40 leaves room for spaces, `+`, brackets and an extension.
pub const PHONE_CHARS_MAX: usize = 40;
/// VAT, EIN, ABN and the like are under 20; 50 takes a country prefix and separators.
pub const TAX_ID_CHARS_MAX: usize = 50;
/// A paragraph about the customer, not a file.
pub const NOTES_CHARS_MAX: usize = 2_000;
/// `q` matches whole values (a number, an email, a phone) or words of a name; the sales
/// service takes at most this much.
pub const QUERY_CHARS_MAX: usize = 200;

/// The sales process's replicas answer customers too, as they answer sales.
pub(super) fn client(state: &AppState) -> CustomerServiceClient<crate::upstream::Replica> {
    CustomerServiceClient::new(state.upstreams.sales.pick())
}

/// The service's error as the contract's: every customer call is answered by sales.
pub(super) fn upstream_error(status: tonic::Status) -> ApiError {
    ApiError::from_status("sales", &status)
}

/// `text` is at most `max` characters (not bytes: a name in Greek is as long as in Latin),
/// counted without the spaces around it, which the service trims before it stores.
fn within(field: &str, text: &str, max: usize) -> Result<(), ApiError> {
    if text.trim().chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(())
}

/// A name: 1 to `NAME_CHARS_MAX` characters, not only spaces.
fn name(text: String) -> Result<String, ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::invalid(
            "name",
            format!("1 to {NAME_CHARS_MAX} characters, not only spaces"),
        ));
    }
    within("name", &text, NAME_CHARS_MAX)?;
    Ok(text)
}

/// A credit limit: money, never an empty string (absent or `"0"` says "no credit").
/// A credit limit is a manager's to set: a cashier sending one is refused before anything
/// else is looked at (sales checks it again on the verified token).
fn manager_for_credit_limit(caller: &Caller, sent: bool) -> Result<(), ApiError> {
    if sent && !caller.claims.role.allows(tillstream_access::Role::Manager) {
        return Err(ApiError::forbidden("only a manager sets a credit limit"));
    }
    Ok(())
}

fn credit_limit(limit: MoneyText) -> Result<String, ApiError> {
    if limit.0.trim().is_empty() {
        return Err(ApiError::invalid(
            "credit_limit",
            "money as a decimal string such as \"500.00\"",
        ));
    }
    Ok(limit.0)
}

/// The optional personal fields and their bounds, in the order the bodies list them.
const PERSONAL: [(&str, usize); 4] = [
    ("email", EMAIL_CHARS_MAX),
    ("phone", PHONE_CHARS_MAX),
    ("tax_id", TAX_ID_CHARS_MAX),
    ("notes", NOTES_CHARS_MAX),
];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0001", "tax_id": null, "notes": "prefers paper receipts"}))]
pub struct NewCustomer {
    /// 1 to 200 characters.
    name: String,
    /// At most 254 characters.
    email: Option<String>,
    /// At most 40 characters.
    phone: Option<String>,
    /// At most 50 characters.
    tax_id: Option<String>,
    /// At most 2,000 characters.
    notes: Option<String>,
    /// What the customer may owe on account; `0.00` when absent. Set by a manager: a
    /// cashier sending it is refused (403).
    credit_limit: Option<MoneyText>,
}

impl NewCustomer {
    /// Bounded, with an empty optional field read as absent (there is nothing to store).
    fn into_request(self, idempotency_key: String) -> Result<pb::CreateCustomerRequest, ApiError> {
        let name = name(self.name)?;
        let [email, phone, tax_id, notes] = bounded([
            self.email.filter(|t| !t.is_empty()),
            self.phone.filter(|t| !t.is_empty()),
            self.tax_id.filter(|t| !t.is_empty()),
            self.notes.filter(|t| !t.is_empty()),
        ])?;
        Ok(pb::CreateCustomerRequest {
            name,
            email,
            phone,
            tax_id,
            notes,
            credit_limit: self.credit_limit.map(credit_limit).transpose()?,
            idempotency_key,
        })
    }
}

/// Each of the `PERSONAL` fields, checked against its bound.
fn bounded(fields: [Option<String>; 4]) -> Result<[Option<String>; 4], ApiError> {
    for (value, (field, max)) in fields.iter().zip(PERSONAL) {
        if let Some(text) = value {
            within(field, text, max)?;
        }
    }
    Ok(fields)
}

/// A customer as clients read it. Once erased, `name` is `"erased"` and the other personal
/// fields are `null`; the numbers stay.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JD7C1A2B3C4D5E6F7G8H9J0K", "number": "C-000001", "name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0001", "tax_id": null, "notes": "prefers paper receipts", "credit_limit": "0.00", "version": 1, "created_at": "2026-11-24T10:15:00.000Z", "erased": false}))]
pub struct CustomerView {
    id: String,
    /// `C-000001`: for people and paperwork; never reused.
    number: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    tax_id: Option<String>,
    notes: Option<String>,
    credit_limit: String,
    /// Also the `ETag`; send it back in `If-Match`.
    version: i64,
    created_at: String,
    erased: bool,
}

impl From<pb::Customer> for CustomerView {
    fn from(c: pb::Customer) -> Self {
        CustomerView {
            id: c.id,
            number: c.number,
            name: c.name,
            email: c.email.and_then(optional),
            phone: c.phone.and_then(optional),
            tax_id: c.tax_id.and_then(optional),
            notes: c.notes.and_then(optional),
            credit_limit: c.credit_limit,
            version: c.version,
            created_at: c.created_at,
            erased: c.erased,
        }
    }
}

/// The customer as JSON with its version as a strong `ETag` (`"3"`), which `If-Match`
/// takes back as it is.
fn versioned(status: StatusCode, customer: pb::Customer) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", customer.version)).ok();
    let mut response = (status, Json(CustomerView::from(customer))).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

#[utoipa::path(post, path = "/api/v1/customers", params(("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewCustomer,
    responses((status = 201, description = "Registered; `ETag` carries the version", body = CustomerView,
        headers(("ETag" = String, description = "The version, quoted: `\"1\"`")))))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewCustomer>,
) -> Result<Response, ApiError> {
    manager_for_credit_limit(&caller, body.credit_limit.is_some())?;
    let message = body.into_request(idempotency_key(&headers)?)?;
    let customer = client(&state)
        .create_customer(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(versioned(StatusCode::CREATED, customer.into_inner()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// A customer number, a whole email or phone (any case), or whole words of the name
    /// (case and accents do not matter); at most 200 characters. Absent: every customer,
    /// newest first.
    q: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    limit: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/customers", params(CustomerQuery), responses((status = 200, description = "A page of customers", body = Page<CustomerView>)))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<CustomerQuery>,
) -> Result<Json<Page<CustomerView>>, ApiError> {
    let paging = Paging::parse(query.page.as_deref(), query.limit.as_deref())?;
    let q = query.q.unwrap_or_default().trim().to_owned();
    if q.chars().count() > QUERY_CHARS_MAX {
        return Err(ApiError::malformed(
            Some("q".into()),
            format!("at most {QUERY_CHARS_MAX} characters"),
        ));
    }
    let message = pb::SearchCustomersRequest {
        q,
        page: paging.page,
        limit: paging.limit,
    };
    let found = client(&state)
        .search_customers(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?
        .into_inner();
    Ok(Json(paging.page_from(
        found.customers.into_iter().map(Into::into).collect(),
        found.total,
    )))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}", params(("id" = String, Path, description = "The customer's id")),
    responses((status = 200, description = "The customer; `ETag` carries the version", body = CustomerView,
        headers(("ETag" = String, description = "The version, quoted: `\"3\"`")))))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let customer = client(&state)
        .get_customer(request(pb::GetCustomerRequest { id }, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(versioned(StatusCode::OK, customer.into_inner()))
}

/// A customer edit: absent fields stay; `null` clears `email`, `phone`, `tax_id` and
/// `notes`. `name` and `credit_limit` cannot be cleared.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"phone": "+44 20 7946 0002", "notes": null}))]
pub struct CustomerPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    tax_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    notes: Option<Option<String>>,
    /// A manager's to change.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<MoneyText>)]
    credit_limit: Option<Option<MoneyText>>,
}

impl CustomerPatch {
    /// The service reads an empty personal field as "clear it", so `null` travels as "".
    fn into_request(
        self,
        id: String,
        expected_version: i64,
    ) -> Result<pb::UpdateCustomerRequest, ApiError> {
        let cannot_clear = |field: &str| ApiError::invalid(field, "cannot be null; leave it out");
        let name = match self.name {
            None => None,
            Some(None) => return Err(cannot_clear("name")),
            Some(Some(text)) => Some(name(text)?),
        };
        let credit_limit = match self.credit_limit {
            None => None,
            Some(None) => return Err(cannot_clear("credit_limit")),
            Some(Some(limit)) => Some(credit_limit(limit)?),
        };
        let clear_to_empty = |field: Option<Option<String>>| field.map(Option::unwrap_or_default);
        let [email, phone, tax_id, notes] = bounded([
            clear_to_empty(self.email),
            clear_to_empty(self.phone),
            clear_to_empty(self.tax_id),
            clear_to_empty(self.notes),
        ])?;
        Ok(pb::UpdateCustomerRequest {
            id,
            name,
            email,
            phone,
            tax_id,
            notes,
            credit_limit,
            expected_version,
        })
    }
}

#[utoipa::path(patch, path = "/api/v1/customers/{id}", params(("id" = String, Path, description = "The customer's id"), ("If-Match" = Option<String>, Header, description = "The version last read (`3` or `\"3\"`); a stale one is a 409")), request_body = CustomerPatch,
    responses((status = 200, description = "The customer at its new version, also in `ETag`", body = CustomerView,
        headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 409, description = "Edited since `If-Match`'s version", body = crate::openapi::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CustomerPatch>,
) -> Result<Response, ApiError> {
    manager_for_credit_limit(&caller, body.credit_limit.is_some())?;
    let message = body.into_request(id, if_match(&headers)?.unwrap_or(0))?;
    let customer = client(&state)
        .update_customer(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?;
    Ok(versioned(StatusCode::OK, customer.into_inner()))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/sales", params(("id" = String, Path, description = "The customer's id"), PageQuery),
    responses((status = 200, description = "A page of the customer's sales, newest first", body = Page<SaleView>)))]
pub async fn sales(
    State(state): State<AppState>,
    caller: Caller,
    Path(customer_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Json<Page<SaleView>>, ApiError> {
    let paging = query.paging()?;
    let message = pb::ListCustomerSalesRequest {
        customer_id,
        page: paging.page,
        limit: paging.limit,
    };
    let found = client(&state)
        .list_customer_sales(request(message, caller.on_behalf()))
        .await
        .map_err(upstream_error)?
        .into_inner();
    Ok(Json(paging.page_from(
        found.sales.into_iter().map(Into::into).collect(),
        found.total,
    )))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JD7C1A2B3C4D5E6F7G8H9J0K", "erased": true}))]
pub struct ErasedView {
    id: String,
    erased: bool,
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/erase", params(("id" = String, Path, description = "The customer's id")),
    description = "Destroys the customer's key: their personal data is unreadable everywhere, for good. Sales, balances and the books keep their numbers.",
    responses((status = 200, description = "Erased (again: the same answer)", body = ErasedView)))]
pub async fn erase(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ErasedView>, ApiError> {
    let erased = client(&state)
        .erase_customer(request(pb::EraseCustomerRequest { id }, caller.on_behalf()))
        .await
        .map_err(upstream_error)?
        .into_inner();
    Ok(Json(ErasedView {
        id: erased.id,
        erased: erased.erased,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    fn patched(body: &str) -> Result<pb::UpdateCustomerRequest, ApiError> {
        crate::json::parse::<CustomerPatch>(body.as_bytes())
            .unwrap()
            .into_request("c".into(), 0)
    }

    fn created(body: &str) -> Result<pb::CreateCustomerRequest, ApiError> {
        crate::json::parse::<NewCustomer>(body.as_bytes())
            .unwrap()
            .into_request(String::new())
    }

    fn field(error: &ApiError) -> (StatusCode, &str) {
        (error.status, error.details[0].field.as_str())
    }

    #[test]
    fn null_clears_a_personal_field_and_absence_leaves_it() {
        let cleared = patched(r#"{"email": null, "notes": null, "phone": "+1 555"}"#).unwrap();
        assert_eq!(cleared.email.as_deref(), Some(""));
        assert_eq!(cleared.notes.as_deref(), Some(""));
        assert_eq!(cleared.phone.as_deref(), Some("+1 555"));
        assert_eq!(
            (cleared.tax_id, cleared.name, cleared.credit_limit),
            (None, None, None)
        );
        let limit = patched(r#"{"credit_limit": "250.00"}"#).unwrap();
        assert_eq!(limit.credit_limit.as_deref(), Some("250.00"));
        assert_eq!(limit.email, None);
    }

    #[test]
    fn a_name_or_credit_limit_cannot_be_cleared() {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        let error = patched(r#"{"name": null}"#).unwrap_err();
        assert_eq!(field(&error), (unprocessable, "name"));
        let error = patched(r#"{"credit_limit": null}"#).unwrap_err();
        assert_eq!(field(&error), (unprocessable, "credit_limit"));
        let error = patched(r#"{"name": "  "}"#).unwrap_err();
        assert_eq!(field(&error), (unprocessable, "name"));
        // A typo should not pass for an edit that did nothing; money is never a number.
        assert!(crate::json::parse::<CustomerPatch>(br#"{"mail": "a@b.c"}"#).is_err());
        assert!(crate::json::parse::<CustomerPatch>(br#"{"credit_limit": 5}"#).is_err());
    }

    #[test]
    fn personal_fields_are_bounded_in_characters_naming_the_field() {
        let at = |field: &str, chars: usize| {
            let mut body = serde_json::json!({"name": "A"});
            body[field] = "é".repeat(chars).into();
            body.to_string()
        };
        for (field_name, max) in PERSONAL.into_iter().chain([("name", NAME_CHARS_MAX)]) {
            assert!(
                created(&at(field_name, max)).is_ok(),
                "{field_name} at {max}"
            );
            let error = created(&at(field_name, max + 1)).unwrap_err();
            assert_eq!(
                field(&error),
                (StatusCode::UNPROCESSABLE_ENTITY, field_name),
                "{field_name} over {max}"
            );
            let body = format!(r#"{{"{field_name}": "{}"}}"#, "x".repeat(max + 1));
            assert_eq!(field(&patched(&body).unwrap_err()).1, field_name);
        }
        assert_eq!(field(&created(r#"{"name": ""}"#).unwrap_err()).1, "name");
        let error = created(r#"{"name": "A", "credit_limit": " "}"#).unwrap_err();
        assert_eq!(field(&error).1, "credit_limit");
    }

    #[test]
    fn an_empty_optional_field_is_absent_when_registering() {
        let new = created(r#"{"name": "Ada", "email": "", "phone": null, "notes": "n"}"#).unwrap();
        assert_eq!((new.email, new.phone, new.tax_id), (None, None, None));
        assert_eq!(new.notes.as_deref(), Some("n"));
        assert_eq!(new.credit_limit, None);
        let error = crate::json::parse::<NewCustomer>(br#"{"email": "a@b.c"}"#).unwrap_err();
        assert_eq!(field(&error), (StatusCode::UNPROCESSABLE_ENTITY, "name"));
    }

    #[test]
    fn the_etag_is_the_quoted_version_and_absent_fields_are_null() {
        let response = versioned(
            StatusCode::OK,
            pb::Customer {
                id: "c".into(),
                name: "erased".into(),
                email: Some(String::new()),
                version: 7,
                erased: true,
                ..Default::default()
            },
        );
        assert_eq!(response.headers()[header::ETAG], "\"7\"");
        let view = CustomerView::from(pb::Customer {
            phone: Some("+1".into()),
            ..Default::default()
        });
        let json = serde_json::to_value(view).unwrap();
        assert_eq!(json["email"], serde_json::Value::Null);
        assert_eq!(json["phone"], "+1");
        assert_eq!(json["erased"], false);
    }
}
