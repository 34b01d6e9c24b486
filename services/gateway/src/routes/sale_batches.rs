//! Offline batches: a till that lost its connection uploads what it rang up, each sale with
//! its own id, capture time and the prices it charged. One result per sale; sending the
//! same batch again creates nothing twice.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tillstream_proto::sales::v1 as pb;
use utoipa::ToSchema;

use tillstream_proto::sales::v1::sales_service_client::SalesServiceClient;

use super::sales::{NewSale, SaleView};
use crate::AppState;
use crate::access::Caller;
use crate::error::{ApiError, Detail};
use crate::json::JsonBody;
use crate::upstream::request;

/// More sales than this in one request is a 422: split the upload.
const MAX_SALES: usize = 1_000;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewBatch {
    sales: Vec<NewSale>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchView {
    results: Vec<ResultView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResultView {
    id: String,
    /// `created`, `already_recorded` or `rejected`.
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sale: Option<SaleView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorView {
    code: String,
    message: String,
    details: Vec<Detail>,
}

fn rejected(id: String, index: usize, code: &str, message: String, field: &str) -> ResultView {
    let details = match field {
        "" => Vec::new(),
        field => vec![Detail {
            field: format!("sales[{index}].{field}"),
            message: message.clone(),
        }],
    };
    ResultView {
        id,
        status: "rejected".into(),
        sale: None,
        error: Some(ErrorView {
            code: code.into(),
            message,
            details,
        }),
    }
}

#[utoipa::path(post, path = "/api/v1/sales/batch", request_body = NewBatch,
    responses((status = 200, description = "One result per sale, in order: `created`, `already_recorded` or `rejected`", body = BatchView)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewBatch>,
) -> Result<Json<BatchView>, ApiError> {
    if body.sales.len() > MAX_SALES {
        return Err(ApiError::invalid(
            "sales",
            format!("at most {MAX_SALES} sales in one batch"),
        ));
    }
    // Sales the gateway can already tell are malformed are answered here; the rest go on.
    let mut results: Vec<Option<ResultView>> = Vec::with_capacity(body.sales.len());
    let mut forwarded = Vec::new();
    for (index, sale) in body.sales.into_iter().enumerate() {
        let id = sale.id().unwrap_or_default().to_owned();
        match sale.into_request(caller.claims.sub.clone(), String::new()) {
            Ok(message) => {
                results.push(None);
                forwarded.push((index, message));
            }
            Err(error) => {
                let field = error
                    .details
                    .first()
                    .map(|d| d.field.clone())
                    .unwrap_or_default();
                results.push(Some(rejected(id, index, error.code, error.message, &field)));
            }
        }
    }
    let (indexes, sales): (Vec<usize>, Vec<pb::CreateSaleRequest>) = forwarded.into_iter().unzip();
    let answered = SalesServiceClient::new(state.upstreams.sales_bulk.pick())
        .create_sale_batch(request(
            pb::CreateSaleBatchRequest { sales },
            caller.on_behalf(),
        ))
        .await
        .map_err(|status| ApiError::from_status("sales", &status))?
        .into_inner()
        .results;
    for (index, result) in indexes.into_iter().zip(answered) {
        let view = match result.status.as_str() {
            "rejected" => rejected(
                result.id,
                index,
                &result.error_code,
                result.error_message,
                &result.error_field,
            ),
            _ => ResultView {
                id: result.id,
                status: result.status,
                sale: result.sale.map(Into::into),
                error: None,
            },
        };
        results[index] = Some(view);
    }
    Ok(Json(BatchView {
        results: results.into_iter().flatten().collect(),
    }))
}
