//! `tillstream.ledger.v1.LedgerService`.

use tillstream_eventstore::EventStore;
use tillstream_kernel::{Currency, Money};
use tillstream_proto::ledger::v1 as pb;
use tillstream_proto::ledger::v1::ledger_service_server::LedgerService;
use tillstream_service::grpc::store_status;
use tonic::{Request, Response, Status};

use crate::domain::accounts::{Account, AccountType};
use crate::projections::journal;

#[derive(Debug, Clone)]
pub struct LedgerApi {
    pub store: EventStore,
    pub currency: Currency,
}

#[tonic::async_trait]
impl LedgerService for LedgerApi {
    async fn list_entries(
        &self,
        request: Request<pb::ListEntriesRequest>,
    ) -> Result<Response<pb::ListEntriesResponse>, Status> {
        let request = request.into_inner();
        let filter = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let rows = journal::entries(
            self.store.pool(),
            filter(&request.source_id).as_deref(),
            filter(&request.account).as_deref(),
        )
        .await
        .map_err(internal)?;
        let money = |amount| Money::new(amount, self.currency).to_string();
        let entries = rows
            .into_iter()
            .map(|(row, lines)| pb::Entry {
                id: row.id,
                posted_at: row.posted_at,
                source_type: row.source_type,
                source_id: row.source_id,
                source_event_id: row.source_event_id,
                memo: row.memo,
                lines: lines
                    .into_iter()
                    .map(|l| pb::EntryLine {
                        account: l.account,
                        debit: money(l.debit),
                        credit: money(l.credit),
                    })
                    .collect(),
            })
            .collect();
        Ok(Response::new(pb::ListEntriesResponse { entries }))
    }

    async fn get_trial_balance(
        &self,
        _: Request<pb::GetTrialBalanceRequest>,
    ) -> Result<Response<pb::TrialBalance>, Status> {
        let totals = journal::account_totals(self.store.pool())
            .await
            .map_err(internal)?;
        let currency = self.currency;
        let mut total_debits = Money::zero(currency);
        let mut total_credits = Money::zero(currency);
        let mut accounts = Vec::with_capacity(Account::ALL.len());
        for account in Account::ALL {
            let (debits, credits) = totals
                .iter()
                .find(|(code, _, _)| code == account.code())
                .map_or(
                    (Money::zero(currency), Money::zero(currency)),
                    |(_, d, c)| (Money::new(*d, currency), Money::new(*c, currency)),
                );
            total_debits = total_debits
                .checked_add(debits)
                .map_err(|e| Status::internal(e.to_string()))?;
            total_credits = total_credits
                .checked_add(credits)
                .map_err(|e| Status::internal(e.to_string()))?;
            let balance = debits
                .checked_sub(credits)
                .map_err(|e| Status::internal(e.to_string()))?;
            accounts.push(pb::AccountBalance {
                code: account.code().to_owned(),
                name: account.name().to_owned(),
                r#type: type_name(account.account_type()).to_owned(),
                debits: debits.to_string(),
                credits: credits.to_string(),
                balance: balance.to_string(),
            });
        }
        Ok(Response::new(pb::TrialBalance {
            accounts,
            total_debits: total_debits.to_string(),
            total_credits: total_credits.to_string(),
        }))
    }
}

fn type_name(account_type: AccountType) -> &'static str {
    match account_type {
        AccountType::Asset => "asset",
        AccountType::Liability => "liability",
        AccountType::Equity => "equity",
        AccountType::Revenue => "revenue",
        AccountType::Expense => "expense",
    }
}

fn internal(error: sqlx::Error) -> Status {
    store_status(error.into(), str::to_owned)
}
