//! Products: create, get, and the till's scan lookup.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tillstream_proto::catalog::v1 as pb;
use tillstream_proto::catalog::v1::catalog_service_client::CatalogServiceClient;

use super::{Created, Page, Paging, created, idempotency_key, if_match, optional};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{DecimalText, JsonBody, MoneyText, Query};
use crate::upstream::request;

#[derive(Debug, Deserialize)]
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

#[derive(Debug, Serialize)]
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

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    category: Option<String>,
    status: Option<String>,
    page: Option<String>,
    limit: Option<String>,
}

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

#[derive(Debug, Deserialize)]
pub struct LookupQuery {
    barcode: Option<String>,
    sku: Option<String>,
}

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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    name: Option<String>,
    price: Option<MoneyText>,
    tax_rate: Option<DecimalText>,
    barcodes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    category: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    reorder_point: Option<Option<DecimalText>>,
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`, by `default`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

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

pub async fn discontinue(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<ProductView>, ApiError> {
    set_status(&state, &caller, id, &headers, Status::Discontinued).await
}

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

fn client(state: &AppState) -> CatalogServiceClient<tonic::transport::Channel> {
    CatalogServiceClient::new(state.upstreams.catalog.clone())
}
