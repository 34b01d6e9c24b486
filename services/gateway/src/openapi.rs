//! The OpenAPI 3.1 document at `/api/v1/openapi.json`, generated from the handlers' own
//! annotations and types. What every operation shares is added here once, from the same
//! tables the gateway enforces: who may call it (the role matrix gives the security
//! requirement and the 401/403), the error body for every error status, `x-trace-id`.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use tillstream_access::matrix::{Access, RULES};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, ResponseBuilder, Tag};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::routes::{
    approvals, auth, catalog, customer_accounts, customers, gift_cards, imports, inventory, ledger,
    purchase_invoices, purchase_orders, purchasing, registers, repairs, sale_batches, sale_changes,
    sales, suppliers, webhooks,
};

/// The error body of every answer that is not a success.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"error": {"code": "validation_failed", "message": "quantity must be positive",
    "details": [{"field": "lines[0].quantity", "message": "quantity must be positive"}],
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}}))]
pub struct ErrorBody {
    pub error: ErrorFields,
}

#[derive(Debug, ToSchema)]
pub struct ErrorFields {
    /// Stable snake_case: `malformed_request`, `validation_failed`, `unauthenticated`,
    /// `forbidden`, `not_found`, `method_not_allowed`, `conflict`, `duplicate`,
    /// `idempotency_key_reused`, `idempotency_in_progress`, `payload_too_large`,
    /// `unsupported_media_type`, `rate_limited`, `service_unavailable`, `timeout`,
    /// `internal`; for till controls, `approval_required` (403, naming the action and the
    /// field that needs it), `approver_not_allowed` (403), `approval_used` (409); for
    /// registers, `session_open` and `session_closed` (409); for repairs,
    /// `invalid_transition` and `repair_closed` (409).
    pub code: String,
    /// For people; not to be parsed.
    pub message: String,
    /// The fields at fault, for 400 and 422 (and the field an approval is needed for).
    pub details: Vec<crate::error::Detail>,
    /// The request's trace id, also in the `x-trace-id` header.
    pub trace_id: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tillstream",
        description = "The point-of-sale back end's REST API: catalog, stock, purchasing, sales, customers and gift cards, repairs, the books and staff accounts. \
                       Money is always a decimal string; lists are paged with `page` and `limit`.",
        version = "1"
    ),
    paths(
        auth::login, auth::pin_login, auth::refresh, auth::logout, auth::me, auth::jwks,
        approvals::approve, auth::set_own_pin,
        auth::create_user, auth::list_users, auth::update_user, auth::set_pin,
        catalog::create, catalog::search, catalog::lookup, catalog::get, catalog::update,
        catalog::discontinue, catalog::reactivate,
        imports::create, imports::get, imports::retry,
        inventory::create_location, inventory::list_locations, inventory::receive,
        inventory::adjust, inventory::count, inventory::transfer, inventory::stock,
        inventory::movements,
        suppliers::create, suppliers::list, suppliers::get, suppliers::update, suppliers::pay,
        purchase_orders::create, purchase_orders::list, purchase_orders::get,
        purchase_orders::update, purchase_orders::submit, purchase_orders::receive,
        purchase_invoices::invoice, purchase_orders::close, purchase_orders::cancel,
        purchasing::suggestions,
        sales::create, sales::list, sales::get, sales::receipt,
        sale_changes::return_goods, sale_changes::void, sale_batches::upload,
        customers::create, customers::search, customers::get, customers::update,
        customers::sales, customers::erase, customer_accounts::get, customer_accounts::pay,
        gift_cards::issue, gift_cards::get,
        repairs::create, repairs::list, repairs::get, repairs::change_status, repairs::add_part,
        repairs::add_labor, repairs::collect, repairs::of_customer,
        registers::create, registers::list, registers::open, registers::get,
        registers::list_sessions, registers::move_cash, registers::report, registers::close,
        registers::journal, registers::verify,
        ledger::entries, ledger::post_entry, ledger::entry, ledger::reverse, ledger::accounts,
        ledger::daily_report, ledger::trial_balance,
        webhooks::create, webhooks::list, webhooks::get, webhooks::delete, webhooks::deliveries,
        webhooks::retry,
        openapi_json, crate::asyncapi::asyncapi_json,
    ),
    components(schemas(ErrorBody, ErrorFields)),
    modifiers(&Shared),
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The document as JSON text, as `GET /api/v1/openapi.json` serves it.
pub fn document() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn openapi_json() -> Response {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let document = DOCUMENT.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.as_str(),
    )
        .into_response()
}

/// The shared parts: security, tags and error responses, from the role matrix.
#[derive(Debug)]
struct Shared;

const BEARER: &str = "bearer";

/// Error statuses every operation can answer, and when.
const ERRORS: &[(&str, &str)] = &[
    (
        "400",
        "The request could not be read (malformed JSON, a bad parameter); `details` names the field",
    ),
    ("404", "No such resource"),
    (
        "413",
        "The body is too large (2 MiB; 20 MiB for CSV imports)",
    ),
    ("415", "The body is not `application/json`"),
    (
        "422",
        "The request was read but is not valid; `details` names the fields",
    ),
    (
        "429",
        "Too many requests; `Retry-After` says when to try again",
    ),
    (
        "503",
        "A service behind the gateway is unavailable; the message names it",
    ),
    ("504", "A service behind the gateway did not answer in time"),
];

const CONFLICT: (&str, &str) = (
    "409",
    "A conflict: a duplicate, a stale `If-Match`, an `Idempotency-Key` reused with another body or still in progress, or a state that forbids it",
);

const CALLER_ERRORS: &[(&str, &str)] = &[
    ("401", "No valid access token"),
    ("403", "The caller's role may not do this"),
];

impl Modify for Shared {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT (EdDSA)")
                    .build(),
            ),
        );
        let mut tags = std::collections::BTreeSet::new();
        for (path, item) in &mut openapi.paths.paths {
            for (method, operation) in [
                ("GET", &mut item.get),
                ("POST", &mut item.post),
                ("PATCH", &mut item.patch),
                ("PUT", &mut item.put),
                ("DELETE", &mut item.delete),
            ] {
                let Some(operation) = operation.as_mut() else {
                    continue;
                };
                let tag = tag_of(path);
                tags.insert(tag);
                operation.tags = Some(vec![tag.to_owned()]);
                operation.operation_id = Some(operation_id(method, path));
                let access = RULES
                    .iter()
                    .find(|r| r.method == method && r.path == path)
                    .map(|r| r.access);
                let mut errors = ERRORS.to_vec();
                if method != "GET" {
                    errors.push(CONFLICT);
                }
                if let Some(Access::AtLeast(role)) = access {
                    operation.security =
                        Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
                    errors.extend_from_slice(CALLER_ERRORS);
                    let note = format!("Role: {role} or above.");
                    operation.description = Some(match operation.description.take() {
                        Some(text) => format!("{text}\n\n{note}"),
                        None => note,
                    });
                }
                add_errors(operation, &errors);
            }
        }
        openapi.tags = Some(tags.into_iter().map(Tag::new).collect());
    }
}

/// An operation's id, unique by construction (method and path), that code generators turn
/// into a method name: `POST /api/v1/sales/{id}/returns` is `postSalesIdReturns`.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    let words = path
        .trim_start_matches("/api/v1")
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty());
    for word in words {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_uppercase());
            id.push_str(chars.as_str());
        }
    }
    id
}

fn add_errors(operation: &mut Operation, errors: &[(&str, &str)]) {
    for (status, description) in errors {
        if operation.responses.responses.contains_key(*status) {
            continue;
        }
        let response = ResponseBuilder::new()
            .description(*description)
            .content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody"))))
                    .build(),
            )
            .build();
        operation
            .responses
            .responses
            .insert((*status).to_owned(), RefOr::T(response));
    }
}

/// The tag of a path: the part of the API it belongs to.
fn tag_of(path: &str) -> &'static str {
    let rest = path.trim_start_matches("/api/v1/");
    match rest.split('/').next().unwrap_or_default() {
        "auth" | "users" | ".well-known" => "auth",
        "products" => "catalog",
        "locations" | "stock" => "inventory",
        "suppliers" | "purchase-orders" | "purchasing" => "purchasing",
        "sales" | "registers" | "sessions" => "sales",
        // Gift cards are stored value, like a customer's account and store credit.
        "customers" | "gift-cards" => "customers",
        "repairs" => "repairs",
        "ledger" | "reports" => "ledger",
        "webhooks" => "webhooks",
        _ if path.starts_with("/.well-known") => "auth",
        _ => "meta",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use std::collections::BTreeSet;

    use super::*;

    fn documented() -> BTreeSet<String> {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut routes = BTreeSet::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
        routes
    }

    /// The role matrix lists every route the router serves (the gateway's role test
    /// proves that route by route), so the document and the router hold the same routes.
    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        // Probes and metrics are for operators (docs/operations.md), the docs page for
        // people, the web register and back office for people too: none is part of the API.
        let operations = [
            "/healthz",
            "/readyz",
            "/metrics",
            "/docs",
            "/docs/{asset}",
            "/",
            "/admin",
            "/sw.js",
            "/app/{asset}",
        ];
        let served: BTreeSet<String> = RULES
            .iter()
            .filter(|r| !operations.contains(&r.path))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        let documented = documented();
        let missing: Vec<_> = served.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&served).collect();
        assert!(
            missing.is_empty(),
            "routes without documentation: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "documented routes that are not served: {extra:?}"
        );
    }

    #[test]
    fn every_operation_has_an_id_of_its_own() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut ids = BTreeSet::new();
        for item in document["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                let id = operation["operationId"].as_str().unwrap().to_owned();
                assert!(ids.insert(id.clone()), "{id} twice");
            }
        }
        assert!(ids.contains("postSalesIdReturns"), "{ids:?}");
        assert!(ids.contains("getWellKnownJwksJson"), "{ids:?}");
    }

    #[test]
    fn the_document_is_openapi_3_1_with_security_from_the_role_matrix() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
        let login = &document["paths"]["/api/v1/auth/login"]["post"];
        assert!(login.get("security").is_none(), "login is public");
        let jwks = &document["paths"]["/.well-known/jwks.json"]["get"];
        assert!(jwks.get("security").is_none() && jwks["responses"].get("401").is_none());
        let void = &document["paths"]["/api/v1/sales/{id}/void"]["post"];
        assert_eq!(void["security"][0]["bearer"], serde_json::json!([]));
        assert!(void["description"].as_str().unwrap().contains("cashier"));
        let headers: Vec<&str> = void["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(headers.contains(&"X-Approval"), "{headers:?}");
        for status in [
            "400", "401", "403", "404", "409", "422", "429", "503", "504",
        ] {
            assert_eq!(
                void["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{status}"
            );
        }
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for name in [
            "NewSale",
            "SaleView",
            "ErrorBody",
            "EntryView",
            "ProductView",
            "SupplierView",
            "PurchaseOrderView",
            "PurchaseInvoiceView",
            "SuggestionView",
            "NewCustomer",
            "CustomerView",
            "CustomerAccountView",
            "AccountPaymentView",
            "GiftCardView",
            "GiftCardBalanceView",
            "NewRepair",
            "RepairView",
            "RepairStatusChange",
            "NewRepairPart",
            "NewRepairLabor",
            "RepairCollection",
            "CollectedRepairView",
        ] {
            assert!(schemas.contains_key(name), "{name}");
        }
        assert!(
            schemas["PurchaseInvoiceView"]["properties"]
                .get("match")
                .is_some()
        );
        assert!(
            schemas["NewSale"].get("example").is_some()
                || schemas["NewSale"].get("examples").is_some()
        );
    }
}
