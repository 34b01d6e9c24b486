//! `tillstream.sales.v1.SalesService`.

use std::time::Instant;

use tillstream_eventstore::{EventMetadata, EventStore, StoreError};
use tillstream_kernel::Decimal;
use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::sales_service_server::SalesService;
use tillstream_service::grpc::{approvals_of, caller_of, metadata_of};
use tillstream_service::moments::{range_end, range_start};
use tillstream_service::{ApprovalClaims, Claims, Role};
use tillstream_telemetry::timing;
use tonic::{Request, Response, Status};

use crate::api::convert;
use crate::commands::create_sale::{Recorded, create_sale};
use crate::commands::return_sale::{ReturnRequest, return_sale};
use crate::commands::void_sale::void_sale;
use crate::domain::controls::{Action, Approval, Authority, Locations};
use crate::domain::pricing::PricingPolicy;
use crate::domain::receipt::{self, Fiscal, ReceiptContext};
use crate::error::AppError;
use crate::privacy::MasterKey;
use crate::projections::sales::{self, SaleFilter};
use crate::projections::{catalog_copy, journal, registers};

#[derive(Debug, Clone)]
pub struct SalesApi {
    pub store: EventStore,
    /// Seals a sale's free-text customer.
    pub master: MasterKey,
    /// Lists: the read-only pool (`Process::reads`).
    pub reads: sqlx::PgPool,
    pub policy: PricingPolicy,
    /// `TILLSTREAM_DISCOUNT_LIMIT_PERCENT`.
    pub discount_limit_percent: Decimal,
    /// `TILLSTREAM_REQUIRE_SESSION`.
    pub require_session: bool,
}

#[tonic::async_trait]
impl SalesService for SalesApi {
    #[tracing::instrument(skip_all, fields(location_id = %request.get_ref().location_id))]
    async fn create_sale(
        &self,
        request: Request<pb::CreateSaleRequest>,
    ) -> Result<Response<pb::Sale>, Status> {
        // The whole handler, approvals and parsing included (not the token's check, which
        // the layer in front of it makes).
        let started = Instant::now();
        let metadata = metadata_of(&request);
        let caller = caller_of(&request)?;
        let approvals = approvals_of(&request).await;
        let request = request.into_inner();
        let key = Some(request.idempotency_key.trim().to_owned()).filter(|k| !k.is_empty());
        let mut parsed = convert::sale_request(&request, self.policy.currency)?;
        // The cashier is who rings it up, whatever the request says.
        parsed.cashier_id = caller.sub.clone();
        parsed.locations = Locations::only(caller.locations.clone());
        parsed.require_session = self.require_session && !caller.role.allows(Role::Manager);
        parsed.controls = Some(authority(&caller, &approvals, self.discount_limit_percent));
        let (recorded, mut stages) = timing::timed(create_sale(
            &self.store,
            &self.master,
            self.policy,
            parsed,
            key,
            metadata,
        ))
        .await;
        let recorded = recorded?;
        stages.push("handler", started.elapsed());
        let mut response = Response::new(convert::sale(&recorded.record, "pending", Vec::new()));
        // Where the sale's time went, for the gateway's `Server-Timing`.
        if let Ok(value) = stages.header_value().parse() {
            response.metadata_mut().insert(timing::HEADER, value);
        }
        Ok(response)
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
        let caller = caller_of(&request)?;
        let approvals = approvals_of(&request).await;
        let request = request.into_inner();
        let key = Some(request.idempotency_key.trim().to_owned()).filter(|k| !k.is_empty());
        let (lines, refunds) = convert::return_request(&request, self.policy.currency)?;
        let parsed = ReturnRequest {
            sale: request.sale_id.trim().to_owned(),
            lines,
            refunds,
            restock: request.restock.unwrap_or(true),
            reason: Some(request.reason.trim().to_owned()).filter(|r| !r.is_empty()),
            controls: Some(authority(&caller, &approvals, self.discount_limit_percent)),
            session_id: Some(request.session_id.trim().to_owned()).filter(|s| !s.is_empty()),
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
        let controls = Some(authority(
            &caller_of(&request)?,
            &approvals_of(&request).await,
            self.discount_limit_percent,
        ));
        let request = request.into_inner();
        let id = void_sale(
            &self.store,
            &request.sale_id,
            &request.reason,
            controls,
            metadata,
        )
        .await?;
        let view = sales::find(self.store.pool(), &id)
            .await
            .map_err(|e| AppError::Store(StoreError::from(e)))?;
        view.map(|v| Response::new(convert::sale_view(v)))
            .ok_or_else(|| AppError::NotFound(format!("no sale `{id}`")).into())
    }

    #[tracing::instrument(skip_all, fields(sales = request.get_ref().sales.len()))]
    async fn create_sale_batch(
        &self,
        request: Request<pb::CreateSaleBatchRequest>,
    ) -> Result<Response<pb::CreateSaleBatchResponse>, Status> {
        let metadata = metadata_of(&request);
        let cashier = caller_of(&request)?;
        let mut results = Vec::new();
        for sale in request.into_inner().sales {
            let outcome = self.offline_sale(&sale, &cashier, metadata.clone()).await;
            let result = match outcome {
                Ok(recorded) => pb::SaleBatchResult {
                    id: recorded.record.id.to_string(),
                    status: if recorded.replayed {
                        "already_recorded"
                    } else {
                        "created"
                    }
                    .into(),
                    sale: Some(convert::sale(&recorded.record, "pending", Vec::new())),
                    ..Default::default()
                },
                // The store or the network failed: the whole batch is answered as such and
                // the till sends it again; what was created is found, not created twice.
                Err(AppError::Store(error)) => return Err(AppError::Store(error).into()),
                Err(refused) => {
                    let (code, field) = match &refused {
                        AppError::Invalid { field, .. } => ("validation_failed", field.clone()),
                        AppError::Conflict(_) | AppError::Refused(_) => ("conflict", String::new()),
                        AppError::Denied { reason, field, .. } => {
                            (*reason, field.clone().unwrap_or_default())
                        }
                        _ => ("not_found", String::new()),
                    };
                    pb::SaleBatchResult {
                        id: sale.id.trim().to_owned(),
                        status: "rejected".into(),
                        error_code: code.into(),
                        error_message: refused.to_string(),
                        error_field: field,
                        ..Default::default()
                    }
                }
            };
            results.push(result);
        }
        Ok(Response::new(pb::CreateSaleBatchResponse { results }))
    }

    async fn list_sales(
        &self,
        request: Request<pb::ListSalesRequest>,
    ) -> Result<Response<pb::ListSalesResponse>, Status> {
        let request = request.into_inner();
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let ledger_status = text(&request.ledger_status);
        if let Some(status) = &ledger_status
            && status != "pending"
            && status != "posted"
        {
            return Err(AppError::invalid("ledger_status", "pending or posted").into());
        }
        let filter = SaleFilter {
            from: range_start(&request.from).map_err(|e| AppError::invalid("from", e))?,
            until: range_end(&request.to).map_err(|e| AppError::invalid("to", e))?,
            location_id: text(&request.location_id),
            ledger_status,
            customer_id: None,
        };
        let limit = match request.limit {
            0 => 50,
            n => n.min(200),
        };
        let offset = u64::from(request.page.max(1) - 1) * u64::from(limit);
        let (views, total) = sales::page(&self.reads, &filter, limit, offset)
            .await
            .map_err(|e| AppError::Store(StoreError::from(e)))?;
        Ok(Response::new(pb::ListSalesResponse {
            sales: views.into_iter().map(convert::sale_view).collect(),
            total,
        }))
    }

    async fn get_receipt(
        &self,
        request: Request<pb::GetReceiptRequest>,
    ) -> Result<Response<pb::Receipt>, Status> {
        let request = request.into_inner();
        let store_error = |e: sqlx::Error| AppError::Store(StoreError::from(e));
        let view = sales::find(self.store.pool(), &request.id_or_number)
            .await
            .map_err(store_error)?
            .ok_or_else(|| AppError::NotFound(format!("no sale `{}`", request.id_or_number)))?;
        let code = catalog_copy::location_code(self.store.pool(), &view.record.location_id)
            .await
            .map_err(store_error)?
            .unwrap_or_default();
        let (register_code, hash) = match &view.record.session {
            Some(session) => {
                let register = registers::find(self.store.pool(), &session.register_id)
                    .await
                    .map_err(store_error)?;
                let hash =
                    journal::hash_of(self.store.pool(), &session.register_id, session.receipt_no)
                        .await
                        .map_err(store_error)?;
                (
                    register.map(|r| r.code).unwrap_or_default(),
                    hash.unwrap_or_default(),
                )
            }
            None => (String::new(), String::new()),
        };
        let context = ReceiptContext {
            location_code: &code,
            voided: view.status == "voided",
            returns: &view.returns,
            fiscal: view.record.session.as_ref().map(|session| Fiscal {
                register_code: &register_code,
                receipt_no: session.receipt_no,
                hash: &hash,
            }),
        };
        let (content_type, body) = match request.format.trim() {
            "" | "text" => (
                "text/plain; charset=utf-8",
                receipt::text(&view.record, &context),
            ),
            "html" => (
                "text/html; charset=utf-8",
                receipt::html(&view.record, &context),
            ),
            _ => return Err(AppError::invalid("format", "text or html").into()),
        };
        Ok(Response::new(pb::Receipt {
            content_type: content_type.to_owned(),
            body,
        }))
    }
}

impl SalesApi {
    /// One sale of a batch: it must carry the till's own id and its capture time.
    async fn offline_sale(
        &self,
        sale: &pb::CreateSaleRequest,
        cashier: &Claims,
        metadata: EventMetadata,
    ) -> Result<Recorded, AppError> {
        if sale.id.trim().is_empty() {
            return Err(AppError::invalid(
                "id",
                "an offline sale carries the till's id",
            ));
        }
        if sale.captured_at.trim().is_empty() {
            return Err(AppError::invalid("captured_at", "when the till rang it up"));
        }
        let mut parsed = convert::sale_request(sale, self.policy.currency)?;
        parsed.cashier_id.clone_from(&cashier.sub);
        parsed.locations = Locations::only(cashier.locations.clone());
        parsed.require_session = self.require_session && !cashier.role.allows(Role::Manager);
        parsed.offline = true;
        create_sale(
            &self.store,
            &self.master,
            self.policy,
            parsed,
            None,
            metadata,
        )
        .await
    }
}

/// What `caller` may do alone at a live till, with the approvals presented: a manager's own
/// token needs none; an approval asked with one's own credentials approves nothing; the
/// token's locations bound where they act.
pub fn authority(
    caller: &Claims,
    approvals: &[ApprovalClaims],
    discount_limit_percent: Decimal,
) -> Authority {
    let approved = approvals
        .iter()
        .filter(|a| a.sub != caller.sub)
        .filter_map(|a| {
            Some(Approval {
                action: Action::from_name(&a.act)?,
                approver_id: a.sub.clone(),
                approval_id: a.jti.clone(),
            })
        })
        .collect();
    Authority {
        manager: caller.role.allows(Role::Manager),
        approved,
        discount_limit_percent,
        locations: Locations::only(caller.locations.clone()),
    }
}
