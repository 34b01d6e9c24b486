//! Journal entries (listed, posted by hand, reversed), account balances and the trial
//! balance at any moment.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tillstream_proto::ledger::v1 as pb;
use tillstream_proto::ledger::v1::ledger_service_client::LedgerServiceClient;
use utoipa::{IntoParams, ToSchema};

use super::{Created, Page, Paging, created, idempotency_key, moment_param, optional, range_param};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{JsonBody, MoneyText, Query};
use crate::upstream::request;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// An account code of the chart, e.g. `4000`.
    account: Option<String>,
    /// A sale id, for its entries.
    source_id: Option<String>,
    /// A date (the whole day, UTC) or an RFC 3339 time; inclusive.
    from: Option<String>,
    /// A date (the whole day, UTC) or an RFC 3339 time; inclusive.
    to: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    id: String,
    posted_at: String,
    source_type: String,
    source_id: String,
    memo: String,
    lines: Vec<EntryLineView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reverses: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reversed_by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryLineView {
    account: String,
    debit: String,
    credit: String,
}

impl From<pb::Entry> for EntryView {
    fn from(e: pb::Entry) -> Self {
        EntryView {
            id: e.id,
            posted_at: e.posted_at,
            source_type: e.source_type,
            source_id: e.source_id,
            memo: e.memo,
            lines: e
                .lines
                .into_iter()
                .map(|l| EntryLineView {
                    account: l.account,
                    debit: l.debit,
                    credit: l.credit,
                })
                .collect(),
            reverses: optional(e.reverses),
            reversed_by: optional(e.reversed_by),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/ledger/entries", params(EntriesQuery), responses((status = 200, description = "A page of entries", body = Page<EntryView>)))]
pub async fn entries(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<EntriesQuery>,
) -> Result<Json<Page<EntryView>>, ApiError> {
    let paging = Paging::parse(query.page.as_deref(), query.limit.as_deref())?;
    let message = pb::ListEntriesRequest {
        source_id: query.source_id.unwrap_or_default(),
        account: query.account.unwrap_or_default(),
        from: range_param("from", query.from)?,
        to: range_param("to", query.to)?,
        page: paging.page,
        limit: paging.limit,
        id: String::new(),
    };
    let found = client(&state)
        .list_entries(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("ledger", &status))?
        .into_inner();
    Ok(Json(paging.page_from(
        found.entries.into_iter().map(Into::into).collect(),
        found.total,
    )))
}

/// One entry, with what reverses it or what it reverses.
#[utoipa::path(get, path = "/api/v1/ledger/entries/{id}", params(("id" = String, Path, description = "The entry's id")), responses((status = 200, description = "The entry", body = EntryView)))]
pub async fn entry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<EntryView>, ApiError> {
    let message = pb::ListEntriesRequest {
        id: id.clone(),
        limit: 1,
        ..Default::default()
    };
    let found = client(&state)
        .list_entries(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("ledger", &status))?
        .into_inner();
    found
        .entries
        .into_iter()
        .next()
        .map(|e| Json(e.into()))
        .ok_or_else(|| ApiError::not_found(format!("no entry `{id}`")))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"memo": "Float for the till", "lines": [{"account": "1000", "debit": "200.00"}, {"account": "1100", "credit": "200.00"}]}))]
pub struct NewEntry {
    memo: String,
    lines: Vec<NewEntryLine>,
}

/// A debit or a credit (the other absent or "0").
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewEntryLine {
    account: String,
    debit: Option<MoneyText>,
    credit: Option<MoneyText>,
}

#[utoipa::path(post, path = "/api/v1/ledger/entries", params(("Idempotency-Key" = Option<String>, Header, description = "Repeat the request with the same key to get the same answer, once")), request_body = NewEntry,
    responses((status = 201, description = "Posted", body = EntryView)))]
pub async fn post_entry(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewEntry>,
) -> Result<Created<EntryView>, ApiError> {
    let message = pb::PostEntryRequest {
        memo: body.memo,
        lines: body
            .lines
            .into_iter()
            .map(|l| pb::EntryLine {
                account: l.account,
                debit: l.debit.map(|m| m.0).unwrap_or_default(),
                credit: l.credit.map(|m| m.0).unwrap_or_default(),
            })
            .collect(),
        idempotency_key: idempotency_key(&headers)?,
    };
    let entry = client(&state)
        .post_entry(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("ledger", &status))?;
    Ok(created(entry.into_inner().into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "posted to the wrong account"}))]
pub struct ReverseBody {
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/ledger/entries/{id}/reverse", params(("id" = String, Path, description = "The entry's id")), request_body = ReverseBody,
    responses((status = 201, description = "The reversing entry", body = EntryView), (status = 409, description = "Already reversed", body = crate::openapi::ErrorBody)))]
pub async fn reverse(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReverseBody>,
) -> Result<Created<EntryView>, ApiError> {
    let message = pb::ReverseEntryRequest {
        id,
        reason: body.reason,
    };
    let entry = client(&state)
        .reverse_entry(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("ledger", &status))?;
    Ok(created(entry.into_inner().into()))
}

/// `{code, name, type, balance}` per account of the chart (balance: debit − credit).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountBalanceView {
    code: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    balance: String,
}

#[utoipa::path(get, path = "/api/v1/ledger/accounts", responses((status = 200, description = "The chart of accounts with balances", body = Vec<AccountBalanceView>)))]
pub async fn accounts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AccountBalanceView>>, ApiError> {
    let balance = client(&state)
        .get_trial_balance(request(
            pb::GetTrialBalanceRequest::default(),
            caller.on_behalf(),
        ))
        .await
        .map_err(|status| ApiError::from_status("ledger", &status))?
        .into_inner();
    Ok(Json(
        balance
            .accounts
            .into_iter()
            .map(|a| AccountBalanceView {
                code: a.code,
                name: a.name,
                kind: a.r#type,
                balance: a.balance,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrialBalanceQuery {
    /// RFC 3339; balances of the entries posted up to then.
    as_of: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrialBalanceView {
    accounts: Vec<AccountView>,
    total_debits: String,
    total_credits: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    code: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    debits: String,
    credits: String,
    balance: String,
}

#[utoipa::path(get, path = "/api/v1/ledger/trial-balance", params(TrialBalanceQuery), responses((status = 200, description = "The trial balance", body = TrialBalanceView)))]
pub async fn trial_balance(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<TrialBalanceQuery>,
) -> Result<Json<TrialBalanceView>, ApiError> {
    let message = pb::GetTrialBalanceRequest {
        as_of: moment_param("as_of", query.as_of)?,
    };
    let balance = client(&state)
        .get_trial_balance(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("ledger", &status))?
        .into_inner();
    Ok(Json(TrialBalanceView {
        accounts: balance
            .accounts
            .into_iter()
            .map(|a| AccountView {
                code: a.code,
                name: a.name,
                kind: a.r#type,
                debits: a.debits,
                credits: a.credits,
                balance: a.balance,
            })
            .collect(),
        total_debits: balance.total_debits,
        total_credits: balance.total_credits,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DailyQuery {
    /// `YYYY-MM-DD` (UTC); today when absent.
    date: Option<String>,
    location_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DailyReportView {
    date: String,
    sales_count: u64,
    gross: String,
    discounts: String,
    net: String,
    tax: String,
    returns: String,
    total: String,
    by_tender: std::collections::BTreeMap<String, String>,
}

/// The day's Z-report figures (`date` defaults to today, UTC; all locations unless one).
#[utoipa::path(get, path = "/api/v1/reports/daily", params(DailyQuery), responses((status = 200, description = "The day's Z-report figures", body = DailyReportView)))]
pub async fn daily_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DailyQuery>,
) -> Result<Json<DailyReportView>, ApiError> {
    let date = query.date.unwrap_or_default().trim().to_owned();
    if !date.is_empty() && chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_err() {
        return Err(ApiError::malformed(
            Some("date".into()),
            "a date such as 2026-11-24",
        ));
    }
    let message = pb::GetDailyReportRequest {
        date,
        location_id: query.location_id.unwrap_or_default(),
    };
    let report = client(&state)
        .get_daily_report(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("ledger", &status))?
        .into_inner();
    Ok(Json(DailyReportView {
        date: report.date,
        sales_count: report.sales_count,
        gross: report.gross,
        discounts: report.discounts,
        net: report.net,
        tax: report.tax,
        returns: report.returns,
        total: report.total,
        by_tender: report.by_tender.into_iter().collect(),
    }))
}

fn client(state: &AppState) -> LedgerServiceClient<crate::upstream::Replica> {
    LedgerServiceClient::new(state.upstreams.ledger.pick())
}
