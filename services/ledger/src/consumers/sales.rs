//! `SaleCompleted` → the sale's money entry: tenders (cash net of change) against revenue
//! and sales tax.

use prost::Message;
use sqlx::PgConnection;
use tillstream_eventstore::EventStore;
use tillstream_kernel::{Currency, Money, Tender};
use tillstream_messaging::{Handler, HandlerError, InboundEvent};
use tillstream_proto::sales::v1 as sales;

use super::{metadata_for, retry};
use crate::commands::post_entry::post_entry;
use crate::domain::journal::Source;
use crate::domain::posting::{SaleMoney, sale_entry};

#[derive(Debug, Clone)]
pub struct SalesPostings {
    pub store: EventStore,
}

impl Handler for SalesPostings {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<(), HandlerError> {
        if event.ce_type != "tillstream.sales.v1.SaleCompleted" {
            return Ok(());
        }
        let completed = sales::SaleCompleted::decode(event.data.clone())
            .map_err(|e| HandlerError::Reject(format!("not a SaleCompleted: {e}")))?;
        let sale = completed
            .sale
            .ok_or_else(|| HandlerError::Reject("SaleCompleted without a sale".into()))?;
        let money = sale_money(&sale).map_err(HandlerError::Reject)?;
        let currency = money.revenue.currency();
        let lines = sale_entry(currency, &money)
            .map_err(|e| HandlerError::Reject(format!("sale {}: {e}", sale.id)))?;
        let source = Source {
            kind: "sale".into(),
            id: sale.id.clone(),
            event_id: event.event_id.to_string(),
        };
        let memo = format!("Sale {}", sale.sale_number);
        post_entry(&self.store, tx, source, memo, lines, metadata_for(event))
            .await
            .map_err(retry)?;
        Ok(())
    }
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
            let tender = Tender::ALL
                .into_iter()
                .find(|t| t.as_str() == p.method)
                .ok_or_else(|| format!("sale {}: unknown tender `{}`", sale.id, p.method))?;
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
