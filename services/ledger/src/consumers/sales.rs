//! Sales events → money entries: `SaleCompleted` books the tenders (cash net of change)
//! against revenue and sales tax; `SaleReturned` books returned revenue and tax against the
//! refund tenders; `SaleVoided` posts the exact reverse of the sale's own entry.

use prost::Message;
use sqlx::PgConnection;
use tillstream_eventstore::EventStore;
use tillstream_kernel::{Currency, Money, Tender};
use tillstream_messaging::{Handler, HandlerError, InboundEvent};
use tillstream_proto::sales::v1 as sales;

use super::{metadata_for, retry};
use crate::commands::post_entry::post_entry;
use crate::domain::entry::Lines;
use crate::domain::journal::Source;
use crate::domain::posting::{ReturnMoney, SaleMoney, return_entry, sale_entry, void_entry};
use crate::projections::journal;

#[derive(Debug, Clone)]
pub struct SalesPostings {
    pub store: EventStore,
    pub currency: Currency,
}

impl Handler for SalesPostings {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<(), HandlerError> {
        match event.ce_type.as_str() {
            "tillstream.sales.v1.SaleCompleted" => self.completed(tx, event).await,
            "tillstream.sales.v1.SaleReturned" => self.returned(tx, event).await,
            "tillstream.sales.v1.SaleVoided" => self.voided(tx, event).await,
            _ => Ok(()),
        }
    }
}

impl SalesPostings {
    async fn completed(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<(), HandlerError> {
        let completed = sales::SaleCompleted::decode(event.data.clone())
            .map_err(|e| HandlerError::Reject(format!("not a SaleCompleted: {e}")))?;
        let sale = completed
            .sale
            .ok_or_else(|| HandlerError::Reject("SaleCompleted without a sale".into()))?;
        let money = sale_money(&sale).map_err(HandlerError::Reject)?;
        let currency = money.revenue.currency();
        let lines = sale_entry(currency, &money)
            .map_err(|e| HandlerError::Reject(format!("sale {}: {e}", sale.id)))?;
        let memo = format!("Sale {}", sale.sale_number);
        self.post(tx, event, "sale", &sale.id, memo, lines).await
    }

    async fn returned(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<(), HandlerError> {
        let returned = sales::SaleReturned::decode(event.data.clone())
            .map_err(|e| HandlerError::Reject(format!("not a SaleReturned: {e}")))?;
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
        self.post(tx, event, "sale_return", &returned.sale_id, memo, lines)
            .await
    }

    async fn voided(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<(), HandlerError> {
        let voided = sales::SaleVoided::decode(event.data.clone())
            .map_err(|e| HandlerError::Reject(format!("not a SaleVoided: {e}")))?;
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
        self.post(
            tx,
            event,
            "sale_void",
            &voided.sale_id,
            memo,
            void_entry(&entry),
        )
        .await
    }

    async fn post(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
        kind: &str,
        sale_id: &str,
        memo: String,
        lines: Lines,
    ) -> Result<(), HandlerError> {
        let source = Source {
            kind: kind.into(),
            id: sale_id.to_owned(),
            event_id: event.event_id.to_string(),
        };
        post_entry(&self.store, tx, source, memo, lines, metadata_for(event))
            .await
            .map_err(retry)?;
        Ok(())
    }
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
