//! `tillstream.ledger.v1.LedgerService`.

use chrono::{NaiveDate, Utc};
use tillstream_eventstore::EventStore;
use tillstream_kernel::{Currency, Money};
use tillstream_proto::ledger::v1 as pb;
use tillstream_proto::ledger::v1::ledger_service_server::LedgerService;
use tillstream_service::grpc::{metadata_of, status_with_field, store_status};
use tillstream_service::moments::{moment, range_end, range_start};
use tonic::{Code, Request, Response, Status};

use crate::commands::manual::{LineRequest, post_manual, reverse};
use crate::domain::accounts::AccountType;
use crate::projections::daily;
use crate::projections::journal::{self, EntryFilter, EntryRow, LineRow};
use crate::projections::trial_balance::{BalanceError, trial_balance};

#[derive(Debug, Clone)]
pub struct LedgerApi {
    pub store: EventStore,
    /// Lists and reports: the read-only pool (`Process::reads`).
    pub reads: sqlx::PgPool,
    pub currency: Currency,
}

#[tonic::async_trait]
impl LedgerService for LedgerApi {
    async fn list_entries(
        &self,
        request: Request<pb::ListEntriesRequest>,
    ) -> Result<Response<pb::ListEntriesResponse>, Status> {
        let request = request.into_inner();
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let filter = EntryFilter {
            id: text(&request.id),
            source_id: text(&request.source_id),
            account: text(&request.account),
            from: range_start(&request.from).map_err(|e| invalid("from", e))?,
            until: range_end(&request.to).map_err(|e| invalid("to", e))?,
        };
        let limit = match request.limit {
            0 => 50,
            n => n.min(200),
        };
        let offset = u64::from(request.page.max(1) - 1) * u64::from(limit);
        let (rows, total) = journal::entries(&self.reads, &filter, limit, offset)
            .await
            .map_err(internal)?;
        let entries = rows
            .into_iter()
            .map(|(row, lines)| self.entry(row, lines))
            .collect();
        Ok(Response::new(pb::ListEntriesResponse { entries, total }))
    }

    async fn get_trial_balance(
        &self,
        request: Request<pb::GetTrialBalanceRequest>,
    ) -> Result<Response<pb::TrialBalance>, Status> {
        let as_of = moment(&request.into_inner().as_of).map_err(|e| invalid("as_of", e))?;
        let balance = trial_balance(&self.reads, as_of, self.currency)
            .await
            .map_err(balance_status)?;
        Ok(Response::new(pb::TrialBalance {
            accounts: balance
                .accounts
                .into_iter()
                .map(|a| pb::AccountBalance {
                    code: a.account.code().to_owned(),
                    name: a.account.name().to_owned(),
                    r#type: type_name(a.account.account_type()).to_owned(),
                    debits: a.debits.to_string(),
                    credits: a.credits.to_string(),
                    balance: a.balance.to_string(),
                })
                .collect(),
            total_debits: balance.total_debits.to_string(),
            total_credits: balance.total_credits.to_string(),
        }))
    }

    async fn post_entry(
        &self,
        request: Request<pb::PostEntryRequest>,
    ) -> Result<Response<pb::Entry>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let lines: Vec<LineRequest> = request
            .lines
            .iter()
            .map(|l| LineRequest {
                account: l.account.clone(),
                debit: l.debit.clone(),
                credit: l.credit.clone(),
            })
            .collect();
        let key = Some(request.idempotency_key.trim()).filter(|k| !k.is_empty());
        let id = post_manual(
            &self.store,
            self.currency,
            &request.memo,
            &lines,
            key,
            metadata,
        )
        .await
        .map_err(Status::from)?;
        self.read_entry(&id).await.map(Response::new)
    }

    async fn reverse_entry(
        &self,
        request: Request<pb::ReverseEntryRequest>,
    ) -> Result<Response<pb::Entry>, Status> {
        let metadata = metadata_of(&request);
        let request = request.into_inner();
        let id = reverse(
            &self.store,
            self.currency,
            &request.id,
            &request.reason,
            metadata,
        )
        .await
        .map_err(Status::from)?;
        self.read_entry(&id).await.map(Response::new)
    }

    async fn get_daily_report(
        &self,
        request: Request<pb::GetDailyReportRequest>,
    ) -> Result<Response<pb::DailyReport>, Status> {
        let request = request.into_inner();
        let day = match request.date.trim() {
            "" => Utc::now().date_naive(),
            text => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| invalid("date", format!("`{text}` is not a date (2026-11-24)")))?,
        };
        let location = Some(request.location_id.trim()).filter(|l| !l.is_empty());
        let report = daily::read(&self.reads, day, location)
            .await
            .map_err(internal)?;
        let money = |amount| Money::new(amount, self.currency).to_string();
        Ok(Response::new(pb::DailyReport {
            date: day.to_string(),
            sales_count: u64::try_from(report.sales_count).unwrap_or(0),
            gross: money(report.gross),
            discounts: money(report.discounts),
            net: money(report.net),
            tax: money(report.tax),
            returns: money(report.returns),
            total: money(report.total),
            by_tender: report
                .by_tender
                .into_iter()
                .map(|(tender, amount)| (tender, money(amount)))
                .collect(),
        }))
    }
}

impl LedgerApi {
    fn entry(&self, row: EntryRow, lines: Vec<LineRow>) -> pb::Entry {
        let money = |amount| Money::new(amount, self.currency).to_string();
        pb::Entry {
            reverses: if row.source_type == "reversal" {
                row.source_id.clone()
            } else {
                String::new()
            },
            reversed_by: row.reversed_by.unwrap_or_default(),
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
        }
    }

    /// An entry just written, read back as clients see it.
    async fn read_entry(&self, id: &str) -> Result<pb::Entry, Status> {
        let filter = EntryFilter {
            id: Some(id.to_owned()),
            ..Default::default()
        };
        let (rows, _) = journal::entries(self.store.pool(), &filter, 1, 0)
            .await
            .map_err(internal)?;
        rows.into_iter()
            .next()
            .map(|(row, lines)| self.entry(row, lines))
            .ok_or_else(|| Status::not_found(format!("no entry `{id}`")))
    }
}

/// Stored figures beyond today's bounds are `DATA_LOSS` (the gateway's 409
/// `stored_value_out_of_range`), naming the entry; never an opaque internal error.
fn balance_status(error: BalanceError) -> Status {
    match error {
        BalanceError::Database(error) => internal(error),
        error @ (BalanceError::OutOfRange { .. }
        | BalanceError::SumOverflow { .. }
        | BalanceError::Money(_)) => {
            tracing::warn!(%error, "trial balance over stored values out of range");
            Status::data_loss(error.to_string())
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> Status {
    status_with_field(Code::InvalidArgument, Some(field), message)
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
