//! Journal entries and the trial balance.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tillstream_proto::ledger::v1 as pb;
use tillstream_proto::ledger::v1::ledger_service_client::LedgerServiceClient;

use super::{Page, Paging};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::Query;
use crate::upstream::request;

#[derive(Debug, Deserialize)]
pub struct EntriesQuery {
    account: Option<String>,
    source_id: Option<String>,
    page: Option<String>,
    limit: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct EntryView {
    id: String,
    posted_at: String,
    source_type: String,
    source_id: String,
    memo: String,
    lines: Vec<EntryLineView>,
}

#[derive(Debug, Serialize)]
pub struct EntryLineView {
    account: String,
    debit: String,
    credit: String,
}

pub async fn entries(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<EntriesQuery>,
) -> Result<Json<Page<EntryView>>, ApiError> {
    let paging = Paging::parse(query.page.as_deref(), query.limit.as_deref())?;
    let entries = client(&state)
        .list_entries(request(
            pb::ListEntriesRequest {
                source_id: query.source_id.unwrap_or_default(),
                account: query.account.unwrap_or_default(),
            },
            caller.on_behalf(),
        ))
        .await
        .map_err(|status| ApiError::from_status("ledger", &status))?
        .into_inner()
        .entries;
    let views = entries
        .into_iter()
        .map(|e| EntryView {
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
        })
        .collect();
    Ok(Json(paging.page_of(views)))
}

#[derive(Debug, Serialize)]
pub struct TrialBalanceView {
    accounts: Vec<AccountView>,
    total_debits: String,
    total_credits: String,
}

#[derive(Debug, Serialize)]
pub struct AccountView {
    code: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    debits: String,
    credits: String,
    balance: String,
}

pub async fn trial_balance(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TrialBalanceView>, ApiError> {
    let balance = client(&state)
        .get_trial_balance(request(pb::GetTrialBalanceRequest {}, caller.on_behalf()))
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

fn client(state: &AppState) -> LedgerServiceClient<tonic::transport::Channel> {
    LedgerServiceClient::new(state.upstreams.ledger.clone())
}
