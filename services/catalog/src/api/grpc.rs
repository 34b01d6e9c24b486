//! `tillstream.catalog.v1.CatalogService`.

use rust_decimal::Decimal;
use tillstream_eventstore::EventStore;
use tillstream_kernel::{Currency, Money, Quantity, parse_tax_rate};
use tillstream_proto::catalog::v1 as pb;
use tillstream_proto::catalog::v1::catalog_service_server::CatalogService;
use tillstream_service::grpc::metadata_of;
use tonic::{Request, Response, Status};

use crate::error::AppError;
use std::sync::Arc;

use tokio::sync::Notify;

use crate::commands::change_product::change_product;
use crate::commands::create_product::{CreateProduct, create_product};
use crate::commands::imports::{create_import, retry_import};
use crate::domain::import::RowError;
use crate::domain::import_job::ImportMode;
use crate::domain::product::{Command, ProductChanges, ProductDetails};
use crate::projections::imports::{self as import_rows, JobRow};
use crate::projections::products::{self, ProductRow};
use crate::projections::search::{SearchQuery, search};

#[derive(Debug, Clone)]
pub struct CatalogApi {
    pub store: EventStore,
    /// Search: the read-only pool (`Process::reads`).
    pub reads: sqlx::PgPool,
    pub currency: Currency,
    /// Wakes the import worker when a job is queued.
    pub wake_imports: Arc<Notify>,
}

#[tonic::async_trait]
impl CatalogService for CatalogApi {
    #[tracing::instrument(skip_all, fields(sku = %request.get_ref().sku))]
    async fn create_product(
        &self,
        request: Request<pb::CreateProductRequest>,
    ) -> Result<Response<pb::Product>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let key = Some(request.idempotency_key.clone()).filter(|k| !k.is_empty());
        let details = parse_details(request, self.currency)?;
        let command = CreateProduct {
            details,
            idempotency_key: key,
            metadata,
        };
        let row = create_product(&self.store, command).await?;
        Ok(Response::new(to_proto(row)))
    }

    async fn get_product(
        &self,
        request: Request<pb::GetProductRequest>,
    ) -> Result<Response<pb::Product>, Status> {
        let id = request.into_inner().id;
        let row = products::by_id(self.store.pool(), &id)
            .await
            .map_err(internal)?;
        found(row, || format!("no product with id `{id}`"))
    }

    async fn lookup_product(
        &self,
        request: Request<pb::LookupProductRequest>,
    ) -> Result<Response<pb::Product>, Status> {
        let pool = self.store.pool();
        let (row, what) = match request.into_inner().key {
            Some(pb::lookup_product_request::Key::Barcode(code)) => (
                products::by_barcode(pool, &code).await.map_err(internal)?,
                format!("barcode `{code}`"),
            ),
            Some(pb::lookup_product_request::Key::Sku(sku)) => (
                products::by_sku(pool, &sku).await.map_err(internal)?,
                format!("SKU `{sku}`"),
            ),
            None => return Err(AppError::invalid("barcode", "give a barcode or a sku").into()),
        };
        found(row, || format!("no product with {what}"))
    }

    #[tracing::instrument(skip_all, fields(bytes = request.get_ref().csv.len()))]
    async fn create_import(
        &self,
        request: Request<pb::CreateImportRequest>,
    ) -> Result<Response<pb::ImportJob>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let mode = match request.mode.trim() {
            "" | "create" => ImportMode::Create,
            "upsert" => ImportMode::Upsert,
            other => {
                return Err(AppError::invalid(
                    "mode",
                    format!("`{other}` is not create or upsert"),
                )
                .into());
            }
        };
        let job = create_import(&self.store, &request.csv, mode, metadata).await?;
        self.wake_imports.notify_one();
        Ok(Response::new(job_to_proto(job, Vec::new())))
    }

    async fn get_import(
        &self,
        request: Request<pb::GetImportRequest>,
    ) -> Result<Response<pb::ImportJob>, Status> {
        let id = request.into_inner().id;
        let pool = self.store.pool();
        let job = import_rows::job(pool, &id)
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::NotFound(format!("no import with id `{id}`")))?;
        let errors = import_rows::errors(pool, &id).await.map_err(internal)?;
        Ok(Response::new(job_to_proto(job, errors)))
    }

    #[tracing::instrument(skip_all, fields(import_id = %request.get_ref().id))]
    async fn retry_import(
        &self,
        request: Request<pb::RetryImportRequest>,
    ) -> Result<Response<pb::ImportJob>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let csv = (!request.csv.is_empty()).then_some(request.csv.as_slice());
        let job = retry_import(&self.store, &request.id, csv, metadata).await?;
        self.wake_imports.notify_one();
        Ok(Response::new(job_to_proto(job, Vec::new())))
    }

    async fn search_products(
        &self,
        request: Request<pb::SearchProductsRequest>,
    ) -> Result<Response<pb::SearchProductsResponse>, Status> {
        let request = request.into_inner();
        let status = match request.status.trim() {
            "" => None,
            status @ ("active" | "discontinued") => Some(status.to_owned()),
            other => {
                return Err(AppError::invalid(
                    "status",
                    format!("`{other}` is not active or discontinued"),
                )
                .into());
            }
        };
        let limit = request.limit.clamp(1, 200);
        let page = request.page.max(1);
        let query = SearchQuery {
            text: Some(request.q).filter(|q| !q.trim().is_empty()),
            category: Some(request.category).filter(|c| !c.trim().is_empty()),
            status,
            offset: i64::from(page - 1) * i64::from(limit),
            limit: i64::from(limit),
        };
        let (rows, total) = search(&self.reads, &query).await.map_err(internal)?;
        Ok(Response::new(pb::SearchProductsResponse {
            products: rows.into_iter().map(to_proto).collect(),
            total,
        }))
    }

    #[tracing::instrument(skip_all, fields(product_id = %request.get_ref().id))]
    async fn update_product(
        &self,
        request: Request<pb::UpdateProductRequest>,
    ) -> Result<Response<pb::Product>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let changes = parse_changes(&request, self.currency)?;
        let row = change_product(
            &self.store,
            &request.id,
            Command::Update { changes },
            expected(request.expected_version),
            metadata,
        )
        .await?;
        Ok(Response::new(to_proto(row)))
    }

    #[tracing::instrument(skip_all, fields(product_id = %request.get_ref().id))]
    async fn discontinue_product(
        &self,
        request: Request<pb::ProductStatusRequest>,
    ) -> Result<Response<pb::Product>, Status> {
        self.set_status(request, Command::Discontinue).await
    }

    #[tracing::instrument(skip_all, fields(product_id = %request.get_ref().id))]
    async fn reactivate_product(
        &self,
        request: Request<pb::ProductStatusRequest>,
    ) -> Result<Response<pb::Product>, Status> {
        self.set_status(request, Command::Reactivate).await
    }
}

impl CatalogApi {
    async fn set_status(
        &self,
        request: Request<pb::ProductStatusRequest>,
        command: Command,
    ) -> Result<Response<pb::Product>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let row = change_product(
            &self.store,
            &request.id,
            command,
            expected(request.expected_version),
            metadata,
        )
        .await?;
        Ok(Response::new(to_proto(row)))
    }
}

/// `expected_version` 0 means "whatever it is now"; any other, even one no product can be
/// at (the gateway sends -1 for `If-Match: 0`), must match.
fn expected(version: i64) -> Option<i64> {
    (version != 0).then_some(version)
}

fn parse_changes(
    request: &pb::UpdateProductRequest,
    currency: Currency,
) -> Result<ProductChanges, AppError> {
    Ok(ProductChanges {
        name: request.name.clone(),
        price: request
            .price
            .as_deref()
            .map(|p| {
                Money::parse(p, currency).map_err(|e| AppError::invalid("price", e.to_string()))
            })
            .transpose()?,
        tax_rate: request.tax_rate.as_deref().map(tax_rate).transpose()?,
        barcodes: request.replace_barcodes.then(|| {
            request
                .barcodes
                .iter()
                .map(|b| b.trim().to_owned())
                .collect()
        }),
        category: request
            .change_category
            .then(|| Some(request.category.trim().to_owned()).filter(|c| !c.is_empty())),
        reorder_point: if request.change_reorder_point {
            Some(reorder_point(&request.reorder_point)?)
        } else {
            None
        },
    })
}

fn found(
    row: Option<ProductRow>,
    missing: impl FnOnce() -> String,
) -> Result<Response<pb::Product>, Status> {
    row.map(|r| Response::new(to_proto(r)))
        .ok_or_else(|| AppError::NotFound(missing()).into())
}

fn internal(error: sqlx::Error) -> Status {
    AppError::Store(error.into()).into()
}

/// Parses the request's strings into domain values, naming the field that fails.
fn parse_details(
    request: pb::CreateProductRequest,
    currency: Currency,
) -> Result<ProductDetails, AppError> {
    let price = Money::parse(&request.price, currency)
        .map_err(|e| AppError::invalid("price", e.to_string()))?;
    let tax_rate = tax_rate(&request.tax_rate)?;
    let reorder_point = reorder_point(&request.reorder_point)?;
    let category = Some(request.category.trim().to_owned()).filter(|c| !c.is_empty());
    Ok(ProductDetails {
        sku: request.sku,
        name: request.name,
        price,
        tax_rate,
        barcodes: request
            .barcodes
            .into_iter()
            .map(|b| b.trim().to_owned())
            .collect(),
        category,
        reorder_point,
    })
}

fn tax_rate(text: &str) -> Result<Decimal, AppError> {
    parse_tax_rate(text).map_err(|e| AppError::invalid("tax_rate", e.to_string()))
}

/// A reorder point is a quantity (empty: none).
fn reorder_point(text: &str) -> Result<Option<Decimal>, AppError> {
    match text.trim() {
        "" => Ok(None),
        text => Quantity::parse(text)
            .map(|q| Some(q.value()))
            .map_err(|e| AppError::invalid("reorder_point", e.to_string())),
    }
}

fn job_to_proto(job: JobRow, errors: Vec<RowError>) -> pb::ImportJob {
    pb::ImportJob {
        id: job.id,
        status: job.status,
        mode: job.mode,
        total_rows: job.total_rows,
        succeeded: job.succeeded,
        failed: job.failed,
        errors: errors
            .into_iter()
            .map(|e| pb::ImportRowError {
                row: e.row,
                sku: e.sku,
                field: e.field,
                message: e.message,
            })
            .collect(),
    }
}

fn to_proto(row: ProductRow) -> pb::Product {
    let currency = row.currency.parse::<Currency>().unwrap_or(Currency::USD);
    pb::Product {
        price: Money::new(row.price, currency).to_string(),
        id: row.id,
        sku: row.sku,
        name: row.name,
        tax_rate: row.tax_rate.normalize().to_string(),
        barcodes: row.barcodes,
        category: row.category.unwrap_or_default(),
        status: row.status,
        version: row.version,
        reorder_point: row
            .reorder_point
            .map(|r| r.normalize().to_string())
            .unwrap_or_default(),
        currency: currency.code().to_owned(),
    }
}
