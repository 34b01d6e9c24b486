//! `tillstream.sales.v1.RepairService`: the workshop. Who acts always comes from the
//! verified token, never from the request.

use rust_decimal::Decimal;
use tillstream_eventstore::EventStore;
use tillstream_kernel::{Currency, Quantity};
use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::repair_service_server::RepairService;
use tillstream_service::grpc::{approvals_of, caller_of, metadata_of};
use tillstream_service::{Claims, Role};
use tonic::{Request, Response, Status};

use super::customers::{money, paging, store_error, text};
use super::grpc::authority;
use super::{convert, repair_events};
use crate::commands::collect_repair::{self, CollectRequest, SaleSettings};
use crate::commands::repairs::{self, Actor, NewRepair};
use crate::domain::controls::Locations;
use crate::domain::pricing::PricingPolicy;
use crate::domain::repair::{RepairId, Status as RepairStatus};
use crate::error::AppError;
use crate::privacy::MasterKey;
use crate::projections::repairs::{self as repair_rows, RepairFilter, RepairView};

#[derive(Debug, Clone)]
pub struct RepairsApi {
    pub store: EventStore,
    pub reads: sqlx::PgPool,
    pub master: MasterKey,
    pub policy: PricingPolicy,
    /// `TILLSTREAM_LABOR_TAX_RATE`.
    pub labor_tax_rate: Decimal,
    /// `TILLSTREAM_DISCOUNT_LIMIT_PERCENT`.
    pub discount_limit_percent: Decimal,
    /// `TILLSTREAM_REQUIRE_SESSION`.
    pub require_session: bool,
}

impl RepairsApi {
    fn currency(&self) -> Currency {
        self.policy.currency
    }

    fn message(&self, view: &RepairView) -> pb::Repair {
        repair_events::repair(view, self.currency().code())
    }

    fn settings(&self) -> SaleSettings<'_> {
        SaleSettings {
            master: &self.master,
            policy: self.policy,
            labor_tax_rate: self.labor_tax_rate,
        }
    }
}

impl RepairsApi {
    fn actor(&self, caller: &Claims) -> Actor {
        Actor {
            by: caller.sub.clone(),
            locations: Locations::only(caller.locations.clone()),
            require_session: self.require_session && !caller.role.allows(Role::Manager),
        }
    }
}

impl RepairsApi {
    /// The repair an id or a number (`R-MAIN-000001`, as the workshop reads it) names.
    async fn repair_id(&self, text: &str) -> Result<RepairId, AppError> {
        if let Ok(id) = text.trim().parse::<RepairId>() {
            return Ok(id);
        }
        repair_rows::find(self.store.pool(), text)
            .await
            .map_err(store_error)?
            .map(|view| view.record.id)
            .ok_or_else(|| AppError::NotFound(format!("no repair `{}`", text.trim())))
    }
}

fn key(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|k| !k.is_empty())
}

#[tonic::async_trait]
impl RepairService for RepairsApi {
    #[tracing::instrument(skip_all, fields(location_id = %request.get_ref().location_id))]
    async fn create_repair(
        &self,
        request: Request<pb::CreateRepairRequest>,
    ) -> Result<Response<pb::Repair>, Status> {
        let metadata = metadata_of(&request);
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let estimate = request
            .estimate
            .as_deref()
            .and_then(text)
            .map(|e| money(&e, self.currency(), "estimate"))
            .transpose()?;
        let new = NewRepair {
            customer_id: request.customer_id.trim().to_owned(),
            location_id: request.location_id.trim().to_owned(),
            device: request.device,
            serial: request.serial,
            problem: request.problem,
            estimate,
            by: caller.sub.clone(),
            locations: Locations::only(caller.locations.clone()),
        };
        if new.customer_id.is_empty() {
            return Err(AppError::invalid("customer_id", "a repair is for a customer").into());
        }
        let view =
            repairs::receive(&self.store, new, key(&request.idempotency_key), metadata).await?;
        Ok(Response::new(self.message(&view)))
    }

    async fn get_repair(
        &self,
        request: Request<pb::GetRepairRequest>,
    ) -> Result<Response<pb::Repair>, Status> {
        let id = request.into_inner().id;
        let view = repair_rows::find(&self.reads, &id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| AppError::NotFound(format!("no repair `{}`", id.trim())))?;
        Ok(Response::new(self.message(&view)))
    }

    async fn list_repairs(
        &self,
        request: Request<pb::ListRepairsRequest>,
    ) -> Result<Response<pb::ListRepairsResponse>, Status> {
        let request = request.into_inner();
        let status = match text(&request.status) {
            None => None,
            Some(status) => Some(
                RepairStatus::parse(&status)
                    .ok_or_else(|| {
                        AppError::invalid("status", format!("no repair status `{status}`"))
                    })?
                    .as_str()
                    .to_owned(),
            ),
        };
        let filter = RepairFilter {
            status,
            customer_id: text(&request.customer_id),
            location_id: text(&request.location_id),
        };
        let (limit, offset) = paging(request.page, request.limit);
        let (views, total) = repair_rows::page(&self.reads, &filter, limit, offset)
            .await
            .map_err(store_error)?;
        Ok(Response::new(pb::ListRepairsResponse {
            repairs: views.iter().map(|v| self.message(v)).collect(),
            total,
        }))
    }

    #[tracing::instrument(skip_all, fields(repair_id = %request.get_ref().id, status = %request.get_ref().status))]
    async fn change_repair_status(
        &self,
        request: Request<pb::ChangeRepairStatusRequest>,
    ) -> Result<Response<pb::Repair>, Status> {
        let metadata = metadata_of(&request);
        let caller = caller_of(&request)?;
        let approvals = approvals_of(&request).await;
        let request = request.into_inner();
        let id = self.repair_id(&request.id).await?;
        let to = RepairStatus::parse(&request.status).ok_or_else(|| {
            AppError::invalid(
                "status",
                format!("no repair status `{}`", request.status.trim()),
            )
        })?;
        let controls = authority(&caller, &approvals, self.discount_limit_percent);
        let view = repairs::change_status(
            &self.store,
            &self.settings(),
            id,
            to,
            request.note,
            self.actor(&caller),
            controls,
            key(&request.idempotency_key),
            metadata,
        )
        .await?;
        Ok(Response::new(self.message(&view)))
    }

    #[tracing::instrument(skip_all, fields(repair_id = %request.get_ref().id, product_id = %request.get_ref().product_id))]
    async fn add_repair_part(
        &self,
        request: Request<pb::AddRepairPartRequest>,
    ) -> Result<Response<pb::Repair>, Status> {
        let metadata = metadata_of(&request);
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let id = self.repair_id(&request.id).await?;
        if request.product_id.trim().is_empty() {
            return Err(AppError::invalid("product_id", "a part is a product").into());
        }
        let quantity: Quantity =
            request
                .quantity
                .trim()
                .parse()
                .map_err(|e: tillstream_kernel::QuantityError| {
                    AppError::invalid("quantity", e.to_string())
                })?;
        let view = repairs::fit_part(
            &self.store,
            id,
            &request.product_id,
            quantity,
            self.actor(&caller),
            key(&request.idempotency_key),
            metadata,
        )
        .await?;
        Ok(Response::new(self.message(&view)))
    }

    #[tracing::instrument(skip_all, fields(repair_id = %request.get_ref().id))]
    async fn add_repair_labor(
        &self,
        request: Request<pb::AddRepairLaborRequest>,
    ) -> Result<Response<pb::Repair>, Status> {
        let metadata = metadata_of(&request);
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let id = self.repair_id(&request.id).await?;
        let amount = money(&request.amount, self.currency(), "amount")?;
        let view = repairs::add_labor(
            &self.store,
            id,
            request.description,
            amount,
            self.actor(&caller),
            key(&request.idempotency_key),
            metadata,
        )
        .await?;
        Ok(Response::new(self.message(&view)))
    }

    #[tracing::instrument(skip_all, fields(repair_id = %request.get_ref().id))]
    async fn collect_repair(
        &self,
        request: Request<pb::CollectRepairRequest>,
    ) -> Result<Response<pb::CollectRepairResponse>, Status> {
        let metadata = metadata_of(&request);
        let caller = caller_of(&request)?;
        let approvals = approvals_of(&request).await;
        let request = request.into_inner();
        let id = self.repair_id(&request.id).await?;
        let payments = convert::payments(&request.payments, self.currency(), "payments")?;
        let collect = CollectRequest {
            id,
            payments,
            session_id: text(&request.session_id),
            by: caller.sub.clone(),
            controls: Some(authority(&caller, &approvals, self.discount_limit_percent)),
            locations: Locations::only(caller.locations.clone()),
            require_session: self.require_session && !caller.role.allows(Role::Manager),
        };
        let collected = collect_repair::collect(
            &self.store,
            &self.settings(),
            collect,
            key(&request.idempotency_key),
            metadata,
        )
        .await?;
        Ok(Response::new(pb::CollectRepairResponse {
            repair: Some(self.message(&collected.repair)),
            sale: collected
                .sale
                .as_ref()
                .map(|sale| convert::sale(sale, "pending", Vec::new())),
        }))
    }
}
