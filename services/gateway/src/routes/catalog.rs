//! Products: create, get, and the till's scan lookup.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tillstream_proto::catalog::v1 as pb;
use tillstream_proto::catalog::v1::catalog_service_client::CatalogServiceClient;

use super::{Created, created, idempotency_key, optional};
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

fn client(state: &AppState) -> CatalogServiceClient<tonic::transport::Channel> {
    CatalogServiceClient::new(state.upstreams.catalog.clone())
}
