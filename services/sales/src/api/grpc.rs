//! `tillstream.sales.v1.SalesService`.

use tillstream_eventstore::{EventMetadata, EventStore, StoreError};
use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::sales_service_server::SalesService;
use tonic::{Request, Response, Status};

use crate::api::convert;
use crate::api::error::AppError;
use crate::commands::create_sale::create_sale;
use crate::commands::return_sale::{ReturnRequest, return_sale};
use crate::commands::void_sale::void_sale;
use crate::domain::pricing::PricingPolicy;
use crate::projections::sales;

#[derive(Debug, Clone)]
pub struct SalesApi {
    pub store: EventStore,
    pub policy: PricingPolicy,
}

#[tonic::async_trait]
impl SalesService for SalesApi {
    #[tracing::instrument(skip_all, fields(location_id = %request.get_ref().location_id))]
    async fn create_sale(
        &self,
        request: Request<pb::CreateSaleRequest>,
    ) -> Result<Response<pb::Sale>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let key = Some(request.idempotency_key.trim().to_owned()).filter(|k| !k.is_empty());
        let parsed = convert::sale_request(&request, self.policy.currency)?;
        let record = create_sale(&self.store, self.policy, parsed, key, metadata).await?;
        Ok(Response::new(convert::sale(&record, "pending", Vec::new())))
    }

    async fn get_sale(
        &self,
        request: Request<pb::GetSaleRequest>,
    ) -> Result<Response<pb::Sale>, Status> {
        let key = request.into_inner().id_or_number;
        let view = sales::find(self.store.pool(), &key)
            .await
            .map_err(|e| AppError::Store(StoreError::from(e)))?;
        view.map(|v| Response::new(convert::sale_view(v)))
            .ok_or_else(|| AppError::NotFound(format!("no sale `{key}`")).into())
    }

    #[tracing::instrument(skip_all, fields(sale_id = %request.get_ref().sale_id))]
    async fn return_sale(
        &self,
        request: Request<pb::ReturnSaleRequest>,
    ) -> Result<Response<pb::SaleReturn>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let key = Some(request.idempotency_key.trim().to_owned()).filter(|k| !k.is_empty());
        let (lines, refunds) = convert::return_request(&request, self.policy.currency)?;
        let parsed = ReturnRequest {
            sale: request.sale_id.trim().to_owned(),
            lines,
            refunds,
            restock: request.restock.unwrap_or(true),
            reason: Some(request.reason.trim().to_owned()).filter(|r| !r.is_empty()),
        };
        let returned = return_sale(&self.store, parsed, key, metadata).await?;
        Ok(Response::new(convert::sale_return(&returned)))
    }

    #[tracing::instrument(skip_all, fields(sale_id = %request.get_ref().sale_id))]
    async fn void_sale(
        &self,
        request: Request<pb::VoidSaleRequest>,
    ) -> Result<Response<pb::Sale>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let id = void_sale(&self.store, &request.sale_id, &request.reason, metadata).await?;
        let view = sales::find(self.store.pool(), &id)
            .await
            .map_err(|e| AppError::Store(StoreError::from(e)))?;
        view.map(|v| Response::new(convert::sale_view(v)))
            .ok_or_else(|| AppError::NotFound(format!("no sale `{id}`")).into())
    }
}

fn metadata_of<T>(request: &Request<T>) -> EventMetadata {
    let header = |name: &str| {
        request
            .metadata()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    EventMetadata {
        traceparent: header("traceparent"),
        correlation_id: header("x-correlation-id"),
        actor: header("x-actor"),
        ..Default::default()
    }
}
