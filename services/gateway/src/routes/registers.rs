//! Registers, sessions, cash movements, X and Z reports, and the fiscal journal (api.md,
//! "Registers, sessions and the fiscal journal"), kept by the sales service.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::register_service_client::RegisterServiceClient;
use utoipa::{IntoParams, ToSchema};

use super::{Created, Page, Paging, created, idempotency_key, range_param};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{JsonBody, MoneyText, Query};
use crate::upstream::{request, with_approvals};

fn client(state: &AppState) -> RegisterServiceClient<crate::upstream::Replica> {
    RegisterServiceClient::new(state.upstreams.sales.pick())
}

fn upstream(status: tonic::Status) -> ApiError {
    ApiError::from_status("sales", &status)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"location_id": "01JD5W2N8Q3V6R1T4Y7Z0A9B2C", "code": "T1", "name": "Front till"}))]
pub struct NewRegister {
    location_id: String,
    /// 1 to 32 of A-Z, a-z, 0-9, `-` and `_`; unique at the location (any case).
    code: String,
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterView {
    id: String,
    location_id: String,
    code: String,
    name: String,
    /// The session open on it, if any.
    open_session_id: Option<String>,
}

impl From<pb::Register> for RegisterView {
    fn from(r: pb::Register) -> Self {
        RegisterView {
            id: r.id,
            location_id: r.location_id,
            code: r.code,
            name: r.name,
            open_session_id: super::optional(r.open_session_id),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/registers", request_body = NewRegister,
    responses((status = 201, description = "Created", body = RegisterView),
        (status = 409, description = "The code is used at that location", body = crate::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewRegister>,
) -> Result<Created<RegisterView>, ApiError> {
    let message = pb::CreateRegisterRequest {
        location_id: body.location_id,
        code: body.code,
        name: body.name,
    };
    let register = client(&state)
        .create_register(request(message, caller.on_behalf()))
        .await
        .map_err(upstream)?;
    Ok(created(register.into_inner().into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    location_id: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    limit: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/registers", params(RegisterQuery),
    responses((status = 200, description = "A page of registers", body = Page<RegisterView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RegisterQuery>,
) -> Result<Json<Page<RegisterView>>, ApiError> {
    let paging = Paging::parse(query.page.as_deref(), query.limit.as_deref())?;
    let message = pb::ListRegistersRequest {
        location_id: query.location_id.unwrap_or_default(),
        page: paging.page,
        limit: paging.limit,
    };
    let found = client(&state)
        .list_registers(request(message, caller.on_behalf()))
        .await
        .map_err(upstream)?
        .into_inner();
    Ok(Json(paging.page_from(
        found.registers.into_iter().map(Into::into).collect(),
        found.total,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"opening_float": "150.00"}))]
pub struct NewSession {
    #[schema(value_type = String)]
    opening_float: MoneyText,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalRefView {
    action: String,
    approver_id: String,
    approval_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    id: String,
    register_id: String,
    location_id: String,
    /// `open` or `closed`.
    status: String,
    /// A user id.
    opened_by: String,
    opened_at: String,
    opening_float: String,
    closed_by: Option<String>,
    closed_at: Option<String>,
    counted_cash: Option<String>,
    expected_cash: String,
    difference: Option<String>,
    z_number: Option<u32>,
    approvals: Vec<ApprovalRefView>,
    report: Option<ReportView>,
}

impl From<pb::Session> for SessionView {
    fn from(s: pb::Session) -> Self {
        SessionView {
            id: s.id,
            register_id: s.register_id,
            location_id: s.location_id,
            status: s.status,
            opened_by: s.opened_by,
            opened_at: s.opened_at,
            opening_float: s.opening_float,
            closed_by: s.closed_by,
            closed_at: s.closed_at,
            counted_cash: s.counted_cash,
            expected_cash: s.expected_cash,
            difference: s.difference,
            z_number: s.z_number,
            approvals: s
                .approvals
                .into_iter()
                .map(|a| ApprovalRefView {
                    action: a.action,
                    approver_id: a.approver_id,
                    approval_id: a.approval_id,
                })
                .collect(),
            report: s.report.map(Into::into),
        }
    }
}

/// An X report (open session) or a Z report (closed): the same shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    session_id: String,
    /// `x` or `z`.
    kind: String,
    z_number: Option<u32>,
    sales_count: u64,
    voids_count: u64,
    returns_count: u64,
    gross: String,
    discounts: String,
    net: String,
    tax: String,
    returns: String,
    total: String,
    by_tender: BTreeMap<String, String>,
    refunds_by_tender: BTreeMap<String, String>,
    opening_float: String,
    paid_in: String,
    paid_out: String,
    cash_sales: String,
    other_cash_in: String,
    cash_refunds: String,
    expected_cash: String,
    counted_cash: Option<String>,
    difference: Option<String>,
    grand_total: String,
}

impl From<pb::SessionReport> for ReportView {
    fn from(r: pb::SessionReport) -> Self {
        ReportView {
            session_id: r.session_id,
            kind: r.kind,
            z_number: r.z_number,
            sales_count: r.sales_count,
            voids_count: r.voids_count,
            returns_count: r.returns_count,
            gross: r.gross,
            discounts: r.discounts,
            net: r.net,
            tax: r.tax,
            returns: r.returns,
            total: r.total,
            by_tender: r.by_tender.into_iter().collect(),
            refunds_by_tender: r.refunds_by_tender.into_iter().collect(),
            opening_float: r.opening_float,
            paid_in: r.paid_in,
            paid_out: r.paid_out,
            cash_sales: r.cash_sales,
            other_cash_in: r.other_cash_in,
            cash_refunds: r.cash_refunds,
            expected_cash: r.expected_cash,
            counted_cash: r.counted_cash,
            difference: r.difference,
            grand_total: r.grand_total,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/registers/{id}/sessions", params(("id" = String, Path, description = "The register's id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")),
    request_body = NewSession, responses((status = 201, description = "The open session", body = SessionView),
        (status = 409, description = "`session_open`: the register has an open session", body = crate::openapi::ErrorBody)))]
pub async fn open(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewSession>,
) -> Result<Created<SessionView>, ApiError> {
    let message = pb::OpenSessionRequest {
        register_id: id,
        opening_float: body.opening_float.0,
        idempotency_key: idempotency_key(&headers)?,
    };
    let session = client(&state)
        .open_session(request(message, caller.on_behalf()))
        .await
        .map_err(upstream)?;
    Ok(created(session.into_inner().into()))
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}", params(("id" = String, Path, description = "The session's id")),
    responses((status = 200, description = "The session, its report current", body = SessionView)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SessionView>, ApiError> {
    let session = client(&state)
        .get_session(request(pb::GetSessionRequest { id }, caller.on_behalf()))
        .await
        .map_err(upstream)?;
    Ok(Json(session.into_inner().into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    register_id: Option<String>,
    location_id: Option<String>,
    /// `open` or `closed`.
    status: Option<String>,
    /// On `opened_at`: RFC 3339 or a date.
    from: Option<String>,
    to: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    limit: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/sessions", params(SessionQuery),
    responses((status = 200, description = "A page of sessions, newest first", body = Page<SessionView>)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<SessionQuery>,
) -> Result<Json<Page<SessionView>>, ApiError> {
    let paging = Paging::parse(query.page.as_deref(), query.limit.as_deref())?;
    let status = query.status.unwrap_or_default();
    if !matches!(status.as_str(), "" | "open" | "closed") {
        return Err(ApiError::malformed(Some("status".into()), "open or closed"));
    }
    let message = pb::ListSessionsRequest {
        register_id: query.register_id.unwrap_or_default(),
        location_id: query.location_id.unwrap_or_default(),
        status,
        from: range_param("from", query.from)?,
        to: range_param("to", query.to)?,
        page: paging.page,
        limit: paging.limit,
    };
    let found = client(&state)
        .list_sessions(request(message, caller.on_behalf()))
        .await
        .map_err(upstream)?
        .into_inner();
    Ok(Json(paging.page_from(
        found.sessions.into_iter().map(Into::into).collect(),
        found.total,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "paid_out", "amount": "12.40", "reason": "window cleaner"}))]
pub struct NewCashMovement {
    /// `paid_in` or `paid_out`.
    kind: String,
    #[schema(value_type = String)]
    amount: MoneyText,
    reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CashMovementView {
    id: String,
    session_id: String,
    kind: String,
    amount: String,
    reason: String,
    /// A user id.
    by: String,
    at: String,
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/cash-movements", params(("id" = String, Path, description = "The session's id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")),
    request_body = NewCashMovement, responses((status = 201, description = "Recorded", body = CashMovementView),
        (status = 409, description = "`session_closed`", body = crate::openapi::ErrorBody)))]
pub async fn move_cash(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewCashMovement>,
) -> Result<Created<CashMovementView>, ApiError> {
    let message = pb::MoveCashRequest {
        session_id: id,
        kind: body.kind,
        amount: body.amount.0,
        reason: body.reason,
        idempotency_key: idempotency_key(&headers)?,
    };
    let m = client(&state)
        .move_cash(request(message, caller.on_behalf()))
        .await
        .map_err(upstream)?
        .into_inner();
    Ok(created(CashMovementView {
        id: m.id,
        session_id: m.session_id,
        kind: m.kind,
        amount: m.amount,
        reason: m.reason,
        by: m.by,
        at: m.at,
    }))
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}/report", params(("id" = String, Path, description = "The session's id")),
    responses((status = 200, description = "The X report while open, the Z report once closed", body = ReportView)))]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ReportView>, ApiError> {
    let report = client(&state)
        .get_session_report(request(pb::GetSessionRequest { id }, caller.on_behalf()))
        .await
        .map_err(upstream)?;
    Ok(Json(report.into_inner().into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"counted_cash": "412.35"}))]
pub struct CloseBody {
    #[schema(value_type = String)]
    counted_cash: MoneyText,
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/close", params(("id" = String, Path, description = "The session's id"), ("X-Approval" = Option<String>, Header, description = "A `cash_difference` approval when the count differs from the expected cash by more than the limit")),
    request_body = CloseBody, responses((status = 200, description = "The closed session with its Z report", body = SessionView),
        (status = 403, description = "`approval_required` (`cash_difference`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "`session_closed`", body = crate::openapi::ErrorBody)))]
pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CloseBody>,
) -> Result<Json<SessionView>, ApiError> {
    let message = pb::CloseSessionRequest {
        id,
        counted_cash: body.counted_cash.0,
    };
    let session = client(&state)
        .close_session(with_approvals(
            request(message, caller.on_behalf()),
            &headers,
        ))
        .await
        .map_err(upstream)?;
    Ok(Json(session.into_inner().into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JournalQuery {
    /// Entries after this `seq` (0 from the start).
    #[param(value_type = Option<i64>, minimum = 0)]
    after_seq: Option<String>,
    /// 100 unless given; at most 1,000.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JournalEntryView {
    seq: i64,
    kind: String,
    document_id: String,
    recorded_at: String,
    /// Canonical JSON text: keys sorted, no whitespace.
    content: String,
    prev_hash: String,
    /// Lowercase hex SHA-256 of `prev_hash + content`.
    hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JournalView {
    /// Oldest first.
    data: Vec<JournalEntryView>,
    /// `null` at the end.
    next_after_seq: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/registers/{id}/journal", params(("id" = String, Path, description = "The register's id"), JournalQuery),
    responses((status = 200, description = "The register's journal, oldest first", body = JournalView)))]
pub async fn journal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<JournalQuery>,
) -> Result<Json<JournalView>, ApiError> {
    let after_seq = match query.after_seq.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::malformed(Some("after_seq".into()), "a whole number ≥ 0"))?,
    };
    let limit = match query.limit.as_deref().map(str::trim) {
        None | Some("") => 100,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1_000).contains(n))
            .ok_or_else(|| ApiError::malformed(Some("limit".into()), "1 to 1000"))?,
    };
    let message = pb::GetJournalRequest {
        register_id: id,
        after_seq,
        limit,
    };
    let journal = client(&state)
        .get_journal(request(message, caller.on_behalf()))
        .await
        .map_err(upstream)?
        .into_inner();
    Ok(Json(JournalView {
        data: journal
            .entries
            .into_iter()
            .map(|e| JournalEntryView {
                seq: e.seq,
                kind: e.kind,
                document_id: e.document_id,
                recorded_at: e.recorded_at,
                content: e.content,
                prev_hash: e.prev_hash,
                hash: e.hash,
            })
            .collect(),
        next_after_seq: journal.next_after_seq,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationView {
    register_id: String,
    /// How many entries were checked.
    entries: u64,
    last_seq: i64,
    last_hash: String,
    valid: bool,
    /// The first entry that does not follow, if any.
    broken_at_seq: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/registers/{id}/journal/verify", params(("id" = String, Path, description = "The register's id")),
    responses((status = 200, description = "The chain recomputed on the server", body = VerificationView)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<VerificationView>, ApiError> {
    let v = client(&state)
        .verify_journal(request(
            pb::VerifyJournalRequest { register_id: id },
            caller.on_behalf(),
        ))
        .await
        .map_err(upstream)?
        .into_inner();
    Ok(Json(VerificationView {
        register_id: v.register_id,
        entries: v.entries,
        last_seq: v.last_seq,
        last_hash: v.last_hash,
        valid: v.valid,
        broken_at_seq: v.broken_at_seq,
    }))
}
