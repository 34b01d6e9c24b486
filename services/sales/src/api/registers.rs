//! `RegisterService`: registers, sessions, cash movements, reports and the journal over
//! gRPC. Who acts comes from the verified token; approvals from `x-approval`.

use tillstream_eventstore::{EventStore, IdempotencyKey, StoreError};
use tillstream_kernel::{Currency, Decimal, Money};
use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::register_service_server::RegisterService;
use tillstream_service::grpc::{approvals_of, caller_of, metadata_of};
use tillstream_service::moments::{range_end, range_start};
use tillstream_service::{ApprovalClaims, Claims};
use tonic::{Request, Response, Status};

use crate::api::grpc::authority;
use crate::commands::sessions::{
    Actor, CashRequest, CloseRules, close_session, create_register, move_cash, open_session,
};
use crate::domain::controls::Approval;
use crate::domain::session::{CashKind, CashMovement, NewRegister, RegisterId};
use crate::domain::totals::Report;
use crate::error::AppError;
use crate::projections::journal;
use crate::projections::registers::{self, RegisterRow};
use crate::projections::sessions::{self, SessionFilter, SessionRow};

#[derive(Debug, Clone)]
pub struct RegistersApi {
    pub store: EventStore,
    pub currency: Currency,
    pub discount_limit_percent: Decimal,
    pub cash_difference_limit: Decimal,
}

fn store_error(error: sqlx::Error) -> Status {
    AppError::Store(StoreError::from(error)).into()
}

#[tonic::async_trait]
impl RegisterService for RegistersApi {
    #[tracing::instrument(skip_all, fields(location_id = %request.get_ref().location_id))]
    async fn create_register(
        &self,
        request: Request<pb::CreateRegisterRequest>,
    ) -> Result<Response<pb::Register>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let register = NewRegister {
            id: RegisterId::generate(),
            location_id: request.location_id.trim().to_owned(),
            code: request.code,
            name: request.name,
        };
        let row = create_register(&self.store, register, metadata).await?;
        Ok(Response::new(register_message(row)))
    }

    async fn list_registers(
        &self,
        request: Request<pb::ListRegistersRequest>,
    ) -> Result<Response<pb::ListRegistersResponse>, Status> {
        let request = request.into_inner();
        let (limit, offset) = paging(request.page, request.limit);
        let location = Some(request.location_id.trim()).filter(|l| !l.is_empty());
        let (rows, total) = registers::list(self.store.pool(), location, limit, offset)
            .await
            .map_err(store_error)?;
        Ok(Response::new(pb::ListRegistersResponse {
            registers: rows.into_iter().map(register_message).collect(),
            total: u64::try_from(total).unwrap_or_default(),
        }))
    }

    #[tracing::instrument(skip_all, fields(register_id = %request.get_ref().register_id))]
    async fn open_session(
        &self,
        request: Request<pb::OpenSessionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        let metadata = metadata_of(&request);
        let actor = self.actor(&caller_of(&request)?, &[]);
        let request = request.into_inner();
        let float = money(&request.opening_float, self.currency, "opening_float")?;
        let key = idempotency(
            &request.idempotency_key,
            "sales.open_session",
            &request.register_id,
            &request.opening_float,
        );
        let id = open_session(
            &self.store,
            &request.register_id,
            float,
            &actor,
            key,
            metadata,
        )
        .await?;
        self.session(&id.to_string()).await.map(Response::new)
    }

    async fn get_session(
        &self,
        request: Request<pb::GetSessionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        self.session(&request.into_inner().id)
            .await
            .map(Response::new)
    }

    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        let request = request.into_inner();
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let open = match request.status.trim() {
            "" => None,
            "open" => Some(true),
            "closed" => Some(false),
            _ => return Err(AppError::invalid("status", "open or closed").into()),
        };
        let filter = SessionFilter {
            register_id: text(&request.register_id),
            location_id: text(&request.location_id),
            open,
            from: range_start(&request.from).map_err(|e| AppError::invalid("from", e))?,
            until: range_end(&request.to).map_err(|e| AppError::invalid("to", e))?,
        };
        let (limit, offset) = paging(request.page, request.limit);
        let (rows, total) =
            sessions::list(self.store.pool(), self.currency, &filter, limit, offset)
                .await
                .map_err(store_error)?;
        let sessions = rows
            .into_iter()
            .map(|row| self.session_message(row))
            .collect::<Result<Vec<_>, Status>>()?;
        Ok(Response::new(pb::ListSessionsResponse {
            sessions,
            total: u64::try_from(total).unwrap_or_default(),
        }))
    }

    #[tracing::instrument(skip_all, fields(session_id = %request.get_ref().session_id))]
    async fn move_cash(
        &self,
        request: Request<pb::MoveCashRequest>,
    ) -> Result<Response<pb::CashMovement>, Status> {
        let metadata = metadata_of(&request);
        let actor = self.actor(&caller_of(&request)?, &[]);
        let request = request.into_inner();
        let kind = CashKind::from_name(request.kind.trim())
            .ok_or_else(|| AppError::invalid("kind", "paid_in or paid_out"))?;
        let amount = money(&request.amount, self.currency, "amount")?;
        let key = idempotency(
            &request.idempotency_key,
            "sales.move_cash",
            &request.session_id,
            &format!("{}:{}:{}", request.kind, request.amount, request.reason),
        );
        let cash = CashRequest {
            kind,
            amount,
            reason: request.reason,
        };
        let (session_id, movement) = move_cash(
            &self.store,
            &request.session_id,
            cash,
            &actor,
            key,
            metadata,
        )
        .await?;
        Ok(Response::new(movement_message(
            &session_id.to_string(),
            &movement,
        )))
    }

    async fn get_session_report(
        &self,
        request: Request<pb::GetSessionRequest>,
    ) -> Result<Response<pb::SessionReport>, Status> {
        let id = request.into_inner().id;
        let row = sessions::find(self.store.pool(), self.currency, &id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| AppError::NotFound(format!("no session `{}`", id.trim())))?;
        let report = Self::report(&row)?;
        Ok(Response::new(report_message(&report, self.currency)))
    }

    #[tracing::instrument(skip_all, fields(session_id = %request.get_ref().id))]
    async fn close_session(
        &self,
        request: Request<pb::CloseSessionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        let metadata = metadata_of(&request);
        let approvals = approvals_of(&request).await;
        let actor = self.actor(&caller_of(&request)?, &approvals);
        let request = request.into_inner();
        let counted = money(&request.counted_cash, self.currency, "counted_cash")?;
        let rules = CloseRules {
            difference_limit: self.cash_difference_limit,
        };
        let id = close_session(&self.store, &request.id, counted, &actor, &rules, metadata).await?;
        self.session(&id.to_string()).await.map(Response::new)
    }

    async fn get_journal(
        &self,
        request: Request<pb::GetJournalRequest>,
    ) -> Result<Response<pb::Journal>, Status> {
        let request = request.into_inner();
        let register_id = self.register_id(&request.register_id).await?;
        if request.after_seq < 0 {
            return Err(AppError::invalid("after_seq", "zero or more").into());
        }
        let limit = match request.limit {
            0 => 100,
            n if n > 1_000 => {
                return Err(AppError::invalid("limit", "at most 1000").into());
            }
            n => i64::from(n),
        };
        let entries = journal::page(
            self.store.pool(),
            &register_id,
            request.after_seq,
            limit + 1,
        )
        .await
        .map_err(store_error)?;
        let more = entries.len() as i64 > limit;
        let entries: Vec<_> = entries.into_iter().take(limit as usize).collect();
        let next_after_seq = if more {
            entries.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(Response::new(pb::Journal {
            entries: entries
                .into_iter()
                .map(|e| pb::JournalEntry {
                    seq: e.seq,
                    kind: e.kind,
                    document_id: e.document_id,
                    recorded_at: e.recorded_at,
                    content: e.content,
                    prev_hash: e.prev_hash,
                    hash: e.hash,
                })
                .collect(),
            next_after_seq,
        }))
    }

    async fn verify_journal(
        &self,
        request: Request<pb::VerifyJournalRequest>,
    ) -> Result<Response<pb::JournalVerification>, Status> {
        let register_id = self.register_id(&request.into_inner().register_id).await?;
        let verified = journal::verify(self.store.pool(), &register_id)
            .await
            .map_err(store_error)?;
        Ok(Response::new(pb::JournalVerification {
            register_id,
            entries: verified.entries,
            last_seq: verified.last_seq,
            last_hash: verified.last_hash,
            valid: verified.broken_at_seq.is_none(),
            broken_at_seq: verified.broken_at_seq,
        }))
    }
}

impl RegistersApi {
    fn actor(&self, caller: &Claims, approvals: &[ApprovalClaims]) -> Actor {
        Actor {
            id: caller.sub.clone(),
            authority: authority(caller, approvals, self.discount_limit_percent),
        }
    }

    async fn register_id(&self, id: &str) -> Result<String, Status> {
        registers::find(self.store.pool(), id)
            .await
            .map_err(store_error)?
            .map(|r| r.id)
            .ok_or_else(|| AppError::NotFound(format!("no register `{}`", id.trim())).into())
    }

    async fn session(&self, id: &str) -> Result<pb::Session, Status> {
        let row = sessions::find(self.store.pool(), self.currency, id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| AppError::NotFound(format!("no session `{}`", id.trim())))?;
        self.session_message(row)
    }

    /// The Z report of a closed session; the X report, current, of an open one.
    fn report(row: &SessionRow) -> Result<Report, Status> {
        if let Some(z) = &row.z_report {
            return Ok(z.clone());
        }
        row.totals
            .report(&row.opened, None, None, row.register_grand_total)
            .ok_or_else(|| AppError::Refused("the session's figures are too large".into()).into())
    }

    fn session_message(&self, row: SessionRow) -> Result<pb::Session, Status> {
        let report = Self::report(&row)?;
        let amount = |d: Decimal| text(d, self.currency);
        Ok(pb::Session {
            id: row.opened.id.to_string(),
            register_id: row.opened.register_id.to_string(),
            location_id: row.opened.location_id.clone(),
            status: if row.open { "open" } else { "closed" }.into(),
            opened_by: row.opened.opened_by.clone(),
            opened_at: tillstream_kernel::time::rfc3339(&row.opened.opened_at),
            opening_float: amount(row.opened.opening_float.amount()),
            closed_by: row.closed_by.clone(),
            closed_at: row.closed_at.as_ref().map(tillstream_kernel::time::rfc3339),
            counted_cash: report.counted_cash.map(amount),
            expected_cash: amount(report.expected_cash),
            difference: report.difference.map(amount),
            z_number: report.z_number,
            approvals: row.approvals.iter().map(approval_message).collect(),
            report: Some(report_message(&report, self.currency)),
        })
    }
}

/// `1`-based pages of at most 200, 50 by default.
fn paging(page: u32, limit: u32) -> (i64, i64) {
    let limit = match limit {
        0 => 50,
        n => n.min(200),
    };
    let offset = i64::from(page.max(1) - 1) * i64::from(limit);
    (i64::from(limit), offset)
}

fn money(text: &str, currency: Currency, field: &str) -> Result<Money, AppError> {
    Money::parse(text, currency).map_err(|e| AppError::invalid(field, e.to_string()))
}

/// A key for `action` on `target` with the request's `body` as its fingerprint.
fn idempotency(key: &str, action: &str, target: &str, body: &str) -> Option<IdempotencyKey> {
    let key = key.trim();
    (!key.is_empty()).then(|| {
        IdempotencyKey::new(
            format!("{action}:{key}"),
            format!("{}:{}", target.trim(), body),
        )
    })
}

/// An amount in the currency's minor units (`0.00`, not `0`).
pub fn text(amount: Decimal, currency: Currency) -> String {
    let mut amount = Money::new(amount, currency).amount();
    amount.rescale(currency.minor_units());
    amount.to_string()
}

fn register_message(row: RegisterRow) -> pb::Register {
    pb::Register {
        id: row.id,
        location_id: row.location_id,
        code: row.code,
        name: row.name,
        open_session_id: row.open_session_id.unwrap_or_default(),
    }
}

pub fn movement_message(session_id: &str, movement: &CashMovement) -> pb::CashMovement {
    pb::CashMovement {
        id: movement.id.clone(),
        session_id: session_id.to_owned(),
        kind: movement.kind.name().into(),
        amount: movement.amount.to_string(),
        reason: movement.reason.clone(),
        by: movement.by.clone(),
        at: tillstream_kernel::time::rfc3339(&movement.at),
    }
}

pub fn approval_message(approval: &Approval) -> pb::ApprovalRef {
    pb::ApprovalRef {
        action: approval.action.name().into(),
        approver_id: approval.approver_id.clone(),
        approval_id: approval.approval_id.clone(),
    }
}

pub fn report_message(report: &Report, currency: Currency) -> pb::SessionReport {
    let amount = |d: Decimal| text(d, currency);
    let tenders = |m: &std::collections::BTreeMap<String, Decimal>| {
        m.iter().map(|(k, v)| (k.clone(), amount(*v))).collect()
    };
    pb::SessionReport {
        session_id: report.session_id.clone(),
        kind: report.kind.clone(),
        z_number: report.z_number,
        sales_count: report.sales_count,
        voids_count: report.voids_count,
        returns_count: report.returns_count,
        gross: amount(report.gross),
        discounts: amount(report.discounts),
        net: amount(report.net),
        tax: amount(report.tax),
        returns: amount(report.returns),
        total: amount(report.total),
        by_tender: tenders(&report.by_tender),
        refunds_by_tender: tenders(&report.refunds_by_tender),
        opening_float: amount(report.opening_float),
        paid_in: amount(report.paid_in),
        paid_out: amount(report.paid_out),
        cash_sales: amount(report.cash_sales),
        other_cash_in: amount(report.other_cash_in),
        cash_refunds: amount(report.cash_refunds),
        expected_cash: amount(report.expected_cash),
        counted_cash: report.counted_cash.map(amount),
        difference: report.difference.map(amount),
        grand_total: amount(report.grand_total),
    }
}
