//! Sales events as the sales service's relay publishes them, for tests and benchmarks of
//! their consumers that run without the sales service.

use async_nats::HeaderMap;
use futures::StreamExt;
use prost::Message;
use tillstream_messaging::{Naming, StreamSettings, ensure_service_stream, headers};
use tillstream_proto::sales::v1 as sales;

/// A two-line sale paid by card and cash with change: 20.00 + 2.00 tax = 22.00, of which
/// 12.00 by card and 10.00 net in cash.
pub fn two_line_sale(location_id: &str, day: &str, number: usize) -> sales::Sale {
    let line = |line_no| sales::SaleLine {
        line_no,
        product_id: "01TESTPRODUCT00000000000000".into(),
        quantity: "1".into(),
        unit_price: "10.00".into(),
        gross: "10.00".into(),
        discount: "0.00".into(),
        net: "10.00".into(),
        tax_rate: "10".into(),
        tax: "1.00".into(),
        line_total: "11.00".into(),
        revenue: "10.00".into(),
        ..Default::default()
    };
    let payment = |method: &str, amount: &str| sales::Payment {
        method: method.into(),
        amount: amount.into(),
        ..Default::default()
    };
    sales::Sale {
        id: ulid::Ulid::generate().to_string(),
        sale_number: format!("T-{number:06}"),
        status: "completed".into(),
        location_id: location_id.into(),
        created_at: format!("{day}T12:00:00Z"),
        lines: vec![line(1), line(2)],
        subtotal: "20.00".into(),
        discount_total: "0.00".into(),
        tax_total: "2.00".into(),
        total: "22.00".into(),
        payments: vec![payment("card", "12.00"), payment("cash", "20.00")],
        change: "10.00".into(),
        currency: "EUR".into(),
        ..Default::default()
    }
}

/// One event to publish: its `ce-id`, type name (`SaleCompleted`), sale id and data.
#[derive(Debug, Clone)]
pub struct SalesEvent {
    pub event_id: String,
    pub event_type: &'static str,
    pub sale_id: String,
    pub data: Vec<u8>,
}

impl SalesEvent {
    pub fn completed(sale: sales::Sale) -> Self {
        SalesEvent {
            event_id: ulid::Ulid::generate().to_string(),
            event_type: "SaleCompleted",
            sale_id: sale.id.clone(),
            data: sales::SaleCompleted {
                sale: Some(sale),
                ..Default::default()
            }
            .encode_to_vec(),
        }
    }

    pub fn voided(sale_id: &str) -> Self {
        SalesEvent {
            event_id: ulid::Ulid::generate().to_string(),
            event_type: "SaleVoided",
            sale_id: sale_id.to_owned(),
            data: sales::SaleVoided {
                sale_id: sale_id.to_owned(),
                reason: "test".into(),
                ..Default::default()
            }
            .encode_to_vec(),
        }
    }
}

/// Publishes `events` to the sales stream under `prefix` (created if need be), 256 in
/// flight, each acknowledged by JetStream. `msg_id_suffix` lets a test publish an event a
/// second time past the broker's duplicate window, as a redelivery would bring it.
pub async fn publish(
    nats_url: &str,
    prefix: &str,
    events: &[SalesEvent],
    msg_id_suffix: &str,
) -> anyhow::Result<()> {
    let client = async_nats::connect(nats_url).await?;
    let js = async_nats::jetstream::new(client);
    let naming = Naming::new(prefix).map_err(anyhow::Error::msg)?;
    for service in ["sales", "inventory"] {
        ensure_service_stream(&js, &naming, service, &StreamSettings::default()).await?;
    }
    let acks = futures::stream::iter(events)
        .map(|event| {
            let subject = naming.event_subject("sales", "sale", event.event_type);
            let mut h = HeaderMap::new();
            h.insert(
                headers::MSG_ID,
                format!("{}{msg_id_suffix}", event.event_id).as_str(),
            );
            h.insert(headers::SPECVERSION, "1.0");
            h.insert(headers::ID, event.event_id.as_str());
            h.insert(
                headers::TYPE,
                format!("tillstream.sales.v1.{}", event.event_type).as_str(),
            );
            h.insert(headers::SUBJECT, format!("sale-{}", event.sale_id).as_str());
            let js = js.clone();
            async move {
                js.publish_with_headers(subject, h, event.data.clone().into())
                    .await?
                    .await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(256);
    acks.collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok(())
}
