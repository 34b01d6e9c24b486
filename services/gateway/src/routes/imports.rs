//! CSV product imports: upload (202, processed in the background), progress and row
//! errors, retry of the failed rows with an optional corrected file.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tillstream_proto::catalog::v1 as pb;
use tillstream_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::Query;
use crate::upstream::request;

/// The largest CSV the gateway accepts (the contract: 20 MB).
pub const CSV_LIMIT: usize = 20 * 1024 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `create` (default) or `upsert`.
    mode: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P", "status": "completed", "mode": "create", "total_rows": 3, "succeeded": 2, "failed": 1, "errors": [{"row": 3, "sku": "TEA-X", "field": "price", "message": "not an amount"}]}))]
pub struct ImportView {
    id: String,
    status: String,
    mode: String,
    total_rows: i32,
    succeeded: i32,
    failed: i32,
    errors: Vec<RowErrorView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowErrorView {
    row: u32,
    sku: String,
    field: String,
    message: String,
}

impl From<pb::ImportJob> for ImportView {
    fn from(job: pb::ImportJob) -> Self {
        ImportView {
            id: job.id,
            status: job.status,
            mode: job.mode,
            total_rows: job.total_rows,
            succeeded: job.succeeded,
            failed: job.failed,
            errors: job
                .errors
                .into_iter()
                .map(|e| RowErrorView {
                    row: e.row,
                    sku: e.sku,
                    field: e.field,
                    message: e.message,
                })
                .collect(),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/products/imports", params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "A CSV file: sku,name,price,tax_rate,barcodes,category,reorder_point"),
    responses((status = 202, description = "Accepted: the job runs in the background; poll it", body = ImportView)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ImportView>), ApiError> {
    let csv = csv_body(&headers, body.map_err(unreadable)?, true)?;
    let message = pb::CreateImportRequest {
        csv: csv.to_vec(),
        mode: query.mode.unwrap_or_default(),
    };
    let job = client(&state)
        .create_import(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("catalog", &status))?;
    Ok((StatusCode::ACCEPTED, Json(job.into_inner().into())))
}

#[utoipa::path(get, path = "/api/v1/products/imports/{id}", params(("id" = String, Path, description = "The import's id")), responses((status = 200, description = "The job", body = ImportView)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ImportView>, ApiError> {
    let job = client(&state)
        .get_import(request(pb::GetImportRequest { id }, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("catalog", &status))?;
    Ok(Json(job.into_inner().into()))
}

/// 202: the failed rows are queued again, from the corrected file when one is sent.
#[utoipa::path(post, path = "/api/v1/products/imports/{id}/retry", params(("id" = String, Path, description = "The import's id")),
    request_body(content = Option<String>, content_type = "text/csv", description = "A corrected file, or nothing to retry the failed rows as they were"),
    responses((status = 202, description = "Accepted: the job runs in the background; poll it", body = ImportView)))]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ImportView>), ApiError> {
    let csv = csv_body(&headers, body.map_err(unreadable)?, false)?;
    let message = pb::RetryImportRequest {
        id,
        csv: csv.to_vec(),
    };
    let job = client(&state)
        .retry_import(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("catalog", &status))?;
    Ok((StatusCode::ACCEPTED, Json(job.into_inner().into())))
}

fn unreadable(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "a CSV import is at most 20 MB",
        )
    } else {
        ApiError::malformed(None, rejection.body_text())
    }
}

/// The body as CSV: `text/csv` (or `application/csv`); empty allowed where `required` is not.
fn csv_body(headers: &HeaderMap, body: Bytes, required: bool) -> Result<Bytes, ApiError> {
    if body.is_empty() && !required {
        return Ok(body);
    }
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            let t = t.trim().to_ascii_lowercase();
            t == "text/csv" || t == "application/csv"
        });
    if !is_csv {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the file with `Content-Type: text/csv`",
        ));
    }
    if body.is_empty() {
        return Err(ApiError::invalid("file", "the file is empty"));
    }
    Ok(body)
}

fn client(state: &AppState) -> CatalogServiceClient<crate::upstream::Replica> {
    CatalogServiceClient::new(state.upstreams.catalog.pick())
        .max_encoding_message_size(CSV_LIMIT + 1024 * 1024)
}
