//! What a sale's goods cost: the movements it took from stock, each at the cost recorded on
//! it, stated once per sale beside them so the ledger books the sale's cost of goods in one
//! entry instead of one per line. Its own stream per sale, appended in the transaction that
//! takes the sale's stock.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::stock_item;

/// A stream per sale: `sale_cost-<sale id>`.
pub fn stream_id(sale_id: &str) -> String {
    format!("sale_cost-{sale_id}")
}

/// The sale of a sale cost stream.
pub fn parse_stream_id(stream_id: &str) -> Option<&str> {
    stream_id.strip_prefix("sale_cost-")
}

/// One movement a sale took from stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Costed {
    pub product_id: String,
    pub quantity: Decimal,
    pub unit_cost: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    SaleCosted {
        location_id: String,
        /// In the order the sale took them.
        movements: Vec<Costed>,
    },
}

impl tillstream_kernel::DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::SaleCosted { .. } => "SaleCosted",
        }
    }
}

/// The `StockSold` movements among the events one line of `product_id` decided.
pub fn sold(product_id: &str, events: &[stock_item::Event]) -> impl Iterator<Item = Costed> {
    events.iter().filter_map(move |event| match event {
        stock_item::Event::StockSold {
            quantity,
            unit_cost,
        } => Some(Costed {
            product_id: product_id.to_owned(),
            quantity: *quantity,
            unit_cost: *unit_cost,
        }),
        _ => None,
    })
}

/// The `SaleCosted` of a sale's `StockSold` movements, `None` when it took nothing from
/// stock.
pub fn costed(location_id: &str, sold: Vec<Costed>) -> Option<Event> {
    (!sold.is_empty()).then(|| Event::SaleCosted {
        location_id: location_id.to_owned(),
        movements: sold,
    })
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::{Costed, Event, costed, sold};
    use crate::domain::stock_item;

    #[test]
    fn a_sale_is_costed_from_its_sold_movements_only() {
        let line = [
            stock_item::Event::StockSold {
                quantity: Decimal::from(2),
                unit_cost: Decimal::new(150, 2),
            },
            stock_item::Event::StockWentNegative {
                on_hand: Decimal::from(-1),
            },
        ];
        let movements: Vec<Costed> = sold("p-1", &line).collect();
        assert_eq!(
            costed("loc-1", movements),
            Some(Event::SaleCosted {
                location_id: "loc-1".into(),
                movements: vec![Costed {
                    product_id: "p-1".into(),
                    quantity: Decimal::from(2),
                    unit_cost: Decimal::new(150, 2),
                }],
            })
        );
        assert_eq!(costed("loc-1", Vec::new()), None);
    }
}
