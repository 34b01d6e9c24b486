//! Sales events → money entries: `SaleCompleted` books the tenders (cash net of change)
//! against revenue and sales tax; `SaleReturned` books returned revenue and tax against the
//! refund tenders; `SaleVoided` posts the exact reverse of the sale's own entry.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use tillstream_eventstore::EventStore;
use tillstream_kernel::{Currency, Money, Tender};
use tillstream_messaging::{ChunkHandled, Handled, Handler, HandlerError, InboundEvent};
use tillstream_proto::sales::v1 as sales;

use super::{drawers, metadata_for, repairs, retry, stored_value};
use crate::commands::post_entry::{Posting, post_entries, post_entry};
use crate::domain::entry::Lines;
use crate::domain::journal::Source;
use crate::domain::posting::{ReturnMoney, SaleMoney, return_entry, sale_entry, void_entry};
use crate::projections::{daily, journal};

#[derive(Debug, Clone)]
pub struct SalesPostings {
    pub store: EventStore,
    pub currency: Currency,
}

const COMPLETED: &str = "tillstream.sales.v1.SaleCompleted";

impl Handler for SalesPostings {
    const HANDLES_CHUNKS: bool = true;
    const APPENDS: bool = true;

    fn wants(&self, event: &InboundEvent) -> bool {
        matches!(
            event.ce_type.as_str(),
            COMPLETED
                | "tillstream.sales.v1.SaleReturned"
                | "tillstream.sales.v1.SaleVoided"
                | drawers::PAID_IN
                | drawers::PAID_OUT
                | drawers::CLOSED
                | stored_value::GIFT_CARD_ISSUED
                | stored_value::ACCOUNT_PAID
                | repairs::COLLECTED
        )
    }

    async fn lock_first(
        &self,
        tx: &mut PgConnection,
        events: &[&InboundEvent],
        _chunked: bool,
    ) -> Result<(), HandlerError> {
        repairs::lock_repairs(tx, events).await
    }

    async fn handle(&self, tx: &mut PgConnection, event: &InboundEvent) -> Handled {
        match event.ce_type.as_str() {
            COMPLETED => self.completed(tx, event).await,
            "tillstream.sales.v1.SaleReturned" => self.returned(tx, event).await,
            "tillstream.sales.v1.SaleVoided" => self.voided(tx, event).await,
            drawers::PAID_IN | drawers::PAID_OUT | drawers::CLOSED => {
                if let Some(posting) = drawers::posting(event)? {
                    self.post(tx, posting).await?;
                }
                Ok(())
            }
            stored_value::GIFT_CARD_ISSUED | stored_value::ACCOUNT_PAID => {
                self.post(tx, stored_value::posting(event)?).await?;
                Ok(())
            }
            repairs::COLLECTED => {
                if let Some(posting) = repairs::collected_posting(tx, event, self.currency).await? {
                    self.post(tx, posting).await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A run of completed sales (a backlog after an outage, a busy hour) posts in a few
    /// statements; a return or void between runs is posted on its own, in order, so it
    /// finds the sale it refers to. Anything `handle` would refuse or retry declines the
    /// chunk, which then goes event by event.
    async fn handle_chunk(&self, tx: &mut PgConnection, events: &[&InboundEvent]) -> ChunkHandled {
        let mut run = Vec::new();
        for event in events {
            if event.ce_type == COMPLETED {
                run.push(completed_posting(event)?);
            } else {
                self.post_run(tx, &mut run).await?;
                self.handle(tx, event).await?;
            }
        }
        self.post_run(tx, &mut run).await?;
        Ok(true)
    }
}

/// A completed sale's money entry and what it adds to its day.
fn completed_posting(event: &InboundEvent) -> Result<(Posting, daily::SaleFigures), HandlerError> {
    let completed = event.decode::<sales::SaleCompleted>()?;
    let sale = completed
        .sale
        .ok_or_else(|| HandlerError::Reject("SaleCompleted without a sale".into()))?;
    let money = sale_money(&sale).map_err(HandlerError::Reject)?;
    let currency = money.revenue.currency();
    let lines = sale_entry(currency, &money)
        .map_err(|e| HandlerError::Reject(format!("sale {}: {e}", sale.id)))?;
    let figures = sale_figures(&sale, &money).map_err(HandlerError::Reject)?;
    let posting = Posting {
        source: source("sale", &sale.id, event),
        memo: format!("Sale {}", sale.sale_number),
        lines,
        metadata: metadata_for(event),
    };
    Ok((posting, figures))
}

fn source(kind: &str, sale_id: &str, event: &InboundEvent) -> Source {
    Source {
        kind: kind.into(),
        id: sale_id.to_owned(),
        event_id: event.event_id.to_string(),
    }
}

impl SalesPostings {
    async fn post_run(
        &self,
        tx: &mut PgConnection,
        run: &mut Vec<(Posting, daily::SaleFigures)>,
    ) -> Result<(), HandlerError> {
        if run.is_empty() {
            return Ok(());
        }
        let (postings, figures): (Vec<_>, Vec<_>) = std::mem::take(run).into_iter().unzip();
        post_entries(&self.store, tx, postings)
            .await
            .map_err(retry)?;
        daily::record_sales(tx, &figures).await?;
        Ok(())
    }

    async fn completed(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<(), HandlerError> {
        let (posting, figures) = completed_posting(event)?;
        if self.post(tx, posting).await? {
            daily::record_sales(tx, std::slice::from_ref(&figures)).await?;
        }
        Ok(())
    }

    async fn returned(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<(), HandlerError> {
        let returned = event.decode::<sales::SaleReturned>()?;
        let context = format!("return {} of sale {}", returned.return_id, returned.sale_id);
        let currency: Currency = returned
            .currency
            .parse()
            .map_err(|e| HandlerError::Reject(format!("{context}: {e}")))?;
        let money = |text: &str| {
            Money::parse(text, currency)
                .map_err(|e| HandlerError::Reject(format!("{context}: {e}")))
        };
        let refunds = returned
            .refunds
            .iter()
            .map(|p| {
                Ok((
                    tender(&p.method).map_err(HandlerError::Reject)?,
                    money(&p.amount)?,
                ))
            })
            .collect::<Result<Vec<_>, HandlerError>>()?;
        let ret = ReturnMoney {
            revenue: money(&returned.revenue)?,
            tax: money(&returned.tax)?,
            refunds,
        };
        let lines = return_entry(currency, &ret)
            .map_err(|e| HandlerError::Reject(format!("{context}: {e}")))?;
        let memo = format!("Return {}", returned.return_id);
        let posting = Posting {
            source: source("sale_return", &returned.sale_id, event),
            memo,
            lines,
            metadata: metadata_for(event),
        };
        if self.post(tx, posting).await? {
            let day = day_of(&returned.returned_at).map_err(HandlerError::Reject)?;
            let refunds: Vec<(String, Decimal)> = ret
                .refunds
                .iter()
                .map(|(tender, amount)| (tender.as_str().to_owned(), amount.amount()))
                .collect();
            daily::record_return(tx, day, &returned.location_id, &refunds).await?;
        }
        Ok(())
    }

    async fn voided(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<(), HandlerError> {
        let voided = event.decode::<sales::SaleVoided>()?;
        let Some(entry) =
            journal::entry_of_source(tx, "sale", &voided.sale_id, self.currency).await?
        else {
            // The void follows its sale on the same stream: the sale is still on its way.
            return Err(HandlerError::Retry(format!(
                "sale {} has no entry yet",
                voided.sale_id
            )));
        };
        let entry = Lines::new(self.currency, entry)
            .map_err(|e| HandlerError::Reject(format!("sale {}'s entry: {e}", voided.sale_id)))?;
        let memo = format!("Void of sale {}: {}", voided.sale_id, voided.reason);
        let lines = void_entry(&entry);
        let posting = Posting {
            source: source("sale_void", &voided.sale_id, event),
            memo,
            lines,
            metadata: metadata_for(event),
        };
        if self.post(tx, posting).await? {
            daily::record_void(tx, &voided.sale_id).await?;
        }
        Ok(())
    }

    async fn post(&self, tx: &mut PgConnection, posting: Posting) -> Result<bool, HandlerError> {
        let posted = post_entry(&self.store, tx, posting).await.map_err(retry)?;
        Ok(posted.is_some())
    }
}

/// The UTC day of an RFC 3339 time.
fn day_of(rfc3339: &str) -> Result<NaiveDate, String> {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|at| at.with_timezone(&Utc).date_naive())
        .map_err(|e| format!("`{rfc3339}`: {e}"))
}

/// What a sale adds to its day's report, from the amounts the sale event stores.
fn sale_figures(sale: &sales::Sale, money: &SaleMoney) -> Result<daily::SaleFigures, String> {
    let amount = |text: &str| {
        Decimal::from_str_exact(text).map_err(|e| format!("sale {}: `{text}`: {e}", sale.id))
    };
    let mut tenders = std::collections::BTreeMap::new();
    for (tender, paid) in &money.payments {
        *tenders
            .entry(tender.as_str().to_owned())
            .or_insert(Decimal::ZERO) += paid.amount();
    }
    // Change leaves the drawer: cash takings are net of it.
    *tenders.entry("cash".to_owned()).or_insert(Decimal::ZERO) -= money.change.amount();
    tenders.retain(|_, amount| !amount.is_zero());
    Ok(daily::SaleFigures {
        sale_id: sale.id.clone(),
        day: day_of(&sale.created_at)?,
        location_id: sale.location_id.clone(),
        gross: amount(&sale.subtotal)?,
        discounts: amount(&sale.discount_total)?,
        net: money.revenue.amount(),
        tax: amount(&sale.tax_total)?,
        total: amount(&sale.total)?,
        tenders,
    })
}

fn tender(method: &str) -> Result<Tender, String> {
    Tender::ALL
        .into_iter()
        .find(|t| t.as_str() == method)
        .ok_or_else(|| format!("unknown tender `{method}`"))
}

/// The money side as the sale event states it; nothing is recomputed but the sums.
fn sale_money(sale: &sales::Sale) -> Result<SaleMoney, String> {
    let currency: Currency = sale
        .currency
        .parse()
        .map_err(|e| format!("sale {}: {e}", sale.id))?;
    let money =
        |text: &str| Money::parse(text, currency).map_err(|e| format!("sale {}: {e}", sale.id));
    let payments = sale
        .payments
        .iter()
        .map(|p| {
            let tender = tender(&p.method).map_err(|e| format!("sale {}: {e}", sale.id))?;
            Ok((tender, money(&p.amount)?))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let revenue = Money::sum(
        currency,
        sale.lines
            .iter()
            .map(|l| money(&l.revenue))
            .collect::<Result<Vec<_>, _>>()?,
    )
    .map_err(|e| e.to_string())?;
    Ok(SaleMoney {
        payments,
        change: money(&sale.change)?,
        revenue,
        tax: money(&sale.tax_total)?,
    })
}
