//! Products: create, get, and the till's scan lookup.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tillstream_proto::catalog::v1 as pb;
use tillstream_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use utoipa::{IntoParams, ToSchema};

use super::{Created, Page, Paging, created, idempotency_key, if_match, optional, present};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{DecimalText, JsonBody, MoneyText, Query};
use crate::upstream::request;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"sku": "TEA-EG-100", "name": "Earl Grey 100 g", "price": "4.95", "tax_rate": "0.07", "barcodes": ["4006381333931"], "category": "tea", "reorder_point": "12"}))]
pub struct NewProduct {
    sku: String,
    name: String,
    price: MoneyText,
    tax_rate: DecimalText,
    #[serde(default)]
    barcodes: Vec<String>,
    category: Option<String>,
    reorder_point: Option<DecimalText>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P", "sku": "TEA-EG-100", "name": "Earl Grey 100 g", "price": "4.95", "tax_rate": "0.07", "barcodes": ["4006381333931"], "category": "tea", "reorder_point": "12", "status": "active", "version": 1}))]
pub struct ProductView {
    id: String,
    sku: String,
    name: String,
    price: String,
    tax_rate: String,
    barcodes: Vec<String>,
    category: Option<String>,
    reorder_point: Option<String>,
    status: String,
    version: i64,
}

impl From<pb::Product> for ProductView {
    fn from(p: pb::Product) -> Self {
        ProductView {
            id: p.id,
            sku: p.sku,
            name: p.name,
            price: p.price,
            tax_rate: p.tax_rate,
            barcodes: p.barcodes,
            category: optional(p.category),
            reorder_point: optional(p.reorder_point),
            status: p.status,
            version: p.version,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/products", params(("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewProduct,
    responses((status = 201, description = "Created", body = ProductView), (status = 409, description = "The SKU or a barcode is taken", body = crate::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewProduct>,
) -> Result<Created<ProductView>, ApiError> {
    let message = pb::CreateProductRequest {
        sku: body.sku,
        name: body.name,
        price: body.price.0,
        tax_rate: body.tax_rate.0,
        barcodes: body.barcodes,
        category: body.category.unwrap_or_default(),
        reorder_point: body.reorder_point.map(|r| r.0).unwrap_or_default(),
        idempotency_key: idempotency_key(&headers)?,
    };
    let product = client(&state)
        .create_product(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("catalog", &status))?;
    Ok(created(product.into_inner().into()))
}

#[utoipa::path(get, path = "/api/v1/products/{id}", params(("id" = String, Path, description = "The product's id")), responses((status = 200, description = "The product", body = ProductView)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ProductView>, ApiError> {
    let product = client(&state)
        .get_product(request(pb::GetProductRequest { id }, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("catalog", &status))?;
    Ok(Json(product.into_inner().into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words of the name or a SKU prefix; case and accents do not matter.
    q: Option<String>,
    category: Option<String>,
    /// `active` or `discontinued`.
    status: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    limit: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/products", params(SearchQuery), responses((status = 200, description = "A page of products", body = Page<ProductView>)))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Page<ProductView>>, ApiError> {
    let paging = Paging::parse(query.page.as_deref(), query.limit.as_deref())?;
    let message = pb::SearchProductsRequest {
        q: query.q.unwrap_or_default(),
        category: query.category.unwrap_or_default(),
        status: query.status.unwrap_or_default(),
        page: paging.page,
        limit: paging.limit,
    };
    let found = client(&state)
        .search_products(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("catalog", &status))?
        .into_inner();
    let total = u64::try_from(found.total).unwrap_or(0);
    Ok(Json(paging.page_from(
        found.products.into_iter().map(Into::into).collect(),
        total,
    )))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// A scanned barcode (exactly one of `barcode` or `sku`).
    barcode: Option<String>,
    sku: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/products/lookup", params(LookupQuery), responses((status = 200, description = "The product", body = ProductView)))]
pub async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<LookupQuery>,
) -> Result<Json<ProductView>, ApiError> {
    use pb::lookup_product_request::Key;
    let key = match (query.barcode, query.sku) {
        (Some(barcode), None) => Key::Barcode(barcode),
        (None, Some(sku)) => Key::Sku(sku),
        _ => {
            return Err(ApiError::malformed(
                Some("barcode".into()),
                "give exactly one of `barcode` or `sku`",
            ));
        }
    };
    let product = client(&state)
        .lookup_product(request(
            pb::LookupProductRequest { key: Some(key) },
            caller.on_behalf(),
        ))
        .await
        .map_err(|status| ApiError::from_status("catalog", &status))?;
    Ok(Json(product.into_inner().into()))
}

/// A product edit: absent fields stay; `null` clears `category` and `reorder_point`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"price": "5.25", "category": null}))]
pub struct ProductPatch {
    name: Option<String>,
    price: Option<MoneyText>,
    tax_rate: Option<DecimalText>,
    barcodes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    category: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DecimalText>)]
    reorder_point: Option<Option<DecimalText>>,
}

#[utoipa::path(patch, path = "/api/v1/products/{id}", params(("id" = String, Path, description = "The product's id"), ("If-Match" = Option<String>, Header, description = "The version last read (`3` or `\"3\"`); a stale one is a 409")), request_body = ProductPatch,
    responses((status = 200, description = "The product", body = ProductView), (status = 409, description = "Edited since `If-Match`'s version, or a barcode is taken", body = crate::openapi::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ProductPatch>,
) -> Result<Json<ProductView>, ApiError> {
    let message = pb::UpdateProductRequest {
        id,
        expected_version: if_match(&headers)?.unwrap_or(0),
        name: body.name,
        price: body.price.map(|p| p.0),
        tax_rate: body.tax_rate.map(|t| t.0),
        replace_barcodes: body.barcodes.is_some(),
        barcodes: body.barcodes.unwrap_or_default(),
        change_category: body.category.is_some(),
        category: body.category.flatten().unwrap_or_default(),
        change_reorder_point: body.reorder_point.is_some(),
        reorder_point: body
            .reorder_point
            .flatten()
            .map(|r| r.0)
            .unwrap_or_default(),
    };
    let product = client(&state)
        .update_product(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("catalog", &status))?;
    Ok(Json(product.into_inner().into()))
}

#[utoipa::path(post, path = "/api/v1/products/{id}/discontinue", params(("id" = String, Path, description = "The product's id"), ("If-Match" = Option<String>, Header, description = "The version last read (`3` or `\"3\"`); a stale one is a 409")), responses((status = 200, description = "The product", body = ProductView)))]
pub async fn discontinue(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<ProductView>, ApiError> {
    set_status(&state, &caller, id, &headers, Status::Discontinued).await
}

#[utoipa::path(post, path = "/api/v1/products/{id}/reactivate", params(("id" = String, Path, description = "The product's id"), ("If-Match" = Option<String>, Header, description = "The version last read (`3` or `\"3\"`); a stale one is a 409")), responses((status = 200, description = "The product", body = ProductView)))]
pub async fn reactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<ProductView>, ApiError> {
    set_status(&state, &caller, id, &headers, Status::Active).await
}

#[derive(Debug, Clone, Copy)]
enum Status {
    Active,
    Discontinued,
}

async fn set_status(
    state: &AppState,
    caller: &Caller,
    id: String,
    headers: &HeaderMap,
    status: Status,
) -> Result<Json<ProductView>, ApiError> {
    let message = pb::ProductStatusRequest {
        id,
        expected_version: if_match(headers)?.unwrap_or(0),
    };
    let mut catalog = client(state);
    let request = request(message, caller.on_behalf());
    let product = match status {
        Status::Active => catalog.reactivate_product(request).await,
        Status::Discontinued => catalog.discontinue_product(request).await,
    }
    .map_err(|status| ApiError::from_status("catalog", &status))?;
    Ok(Json(product.into_inner().into()))
}

fn client(state: &AppState) -> CatalogServiceClient<crate::upstream::Replica> {
    CatalogServiceClient::new(state.upstreams.catalog.pick())
}
