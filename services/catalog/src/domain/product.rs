//! The product aggregate: creation with the rules a product must satisfy, edits that record
//! one event per thing that changed, discontinuing and reactivating.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tillstream_kernel::DomainEvent;
use tillstream_kernel::{Decider, Money};

use super::barcode;

tillstream_kernel::typed_id!(
    /// A product's id.
    ProductId,
    stream = "product"
);

/// The longest name a receipt and a shelf label can carry.
pub const NAME_MAX_CHARS: usize = 200;

/// What a new product is made of, parsed from a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDetails {
    pub sku: String,
    pub name: String,
    pub price: Money,
    pub tax_rate: Decimal,
    pub barcodes: Vec<String>,
    pub category: Option<String>,
    pub reorder_point: Option<Decimal>,
}

/// An edit: absent fields stay as they are; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductChanges {
    pub name: Option<String>,
    pub price: Option<Money>,
    pub tax_rate: Option<Decimal>,
    /// The complete new list of codes.
    pub barcodes: Option<Vec<String>>,
    pub category: Option<Option<String>>,
    pub reorder_point: Option<Option<Decimal>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Create {
        id: ProductId,
        details: ProductDetails,
    },
    Update {
        changes: ProductChanges,
    },
    Discontinue,
    Reactivate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    ProductCreated {
        id: ProductId,
        details: ProductDetails,
    },
    ProductRenamed {
        name: String,
    },
    ProductRepriced {
        old_price: Money,
        new_price: Money,
    },
    TaxRateChanged {
        old_rate: Decimal,
        new_rate: Decimal,
    },
    BarcodeAdded {
        barcode: String,
    },
    BarcodeRemoved {
        barcode: String,
    },
    CategoryChanged {
        category: Option<String>,
    },
    ReorderPointChanged {
        reorder_point: Option<Decimal>,
    },
    ProductDiscontinued,
    ProductReactivated,
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::ProductCreated { .. } => "ProductCreated",
            Event::ProductRenamed { .. } => "ProductRenamed",
            Event::ProductRepriced { .. } => "ProductRepriced",
            Event::TaxRateChanged { .. } => "TaxRateChanged",
            Event::BarcodeAdded { .. } => "BarcodeAdded",
            Event::BarcodeRemoved { .. } => "BarcodeRemoved",
            Event::CategoryChanged { .. } => "CategoryChanged",
            Event::ReorderPointChanged { .. } => "ReorderPointChanged",
            Event::ProductDiscontinued => "ProductDiscontinued",
            Event::ProductReactivated => "ProductReactivated",
        }
    }
}

/// A product rule broken; `field` is the request field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    #[error("the product already exists")]
    AlreadyExists,
    #[error("no such product")]
    NotFound,
    #[error("{message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ProductError {
    ProductError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// The folded state: whether the product exists, its details, whether it is sold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub details: Option<ProductDetails>,
    #[serde(default)]
    pub discontinued: bool,
}

impl Decider for Product {
    type State = Product;
    type Command = Command;
    type Event = Event;
    type Error = ProductError;

    fn decide(state: &Product, command: &Command) -> Result<Vec<Event>, ProductError> {
        if let Command::Create { id, details } = command {
            if state.details.is_some() {
                return Err(ProductError::AlreadyExists);
            }
            validate(details)?;
            return Ok(vec![Event::ProductCreated {
                id: *id,
                details: details.clone(),
            }]);
        }
        let Some(current) = &state.details else {
            return Err(ProductError::NotFound);
        };
        Ok(match command {
            Command::Create { .. } => Vec::new(),
            Command::Update { changes } => update(current, changes)?,
            Command::Discontinue if state.discontinued => Vec::new(),
            Command::Discontinue => vec![Event::ProductDiscontinued],
            Command::Reactivate if !state.discontinued => Vec::new(),
            Command::Reactivate => vec![Event::ProductReactivated],
        })
    }

    fn evolve(mut state: Product, event: &Event) -> Product {
        if let Event::ProductCreated { details, .. } = event {
            state.details = Some(details.clone());
            return state;
        }
        match event {
            Event::ProductDiscontinued => state.discontinued = true,
            Event::ProductReactivated => state.discontinued = false,
            _ => {}
        }
        if let Some(details) = state.details.as_mut() {
            match event {
                Event::ProductRenamed { name } => details.name.clone_from(name),
                Event::ProductRepriced { new_price, .. } => details.price = *new_price,
                Event::TaxRateChanged { new_rate, .. } => details.tax_rate = *new_rate,
                Event::BarcodeAdded { barcode } => details.barcodes.push(barcode.clone()),
                Event::BarcodeRemoved { barcode } => details.barcodes.retain(|b| b != barcode),
                Event::CategoryChanged { category } => details.category.clone_from(category),
                Event::ReorderPointChanged { reorder_point } => {
                    details.reorder_point = *reorder_point;
                }
                _ => {}
            }
        }
        state
    }
}

/// One event per field that changes; the product as edited must satisfy every rule.
fn update(current: &ProductDetails, changes: &ProductChanges) -> Result<Vec<Event>, ProductError> {
    let mut edited = current.clone();
    if let Some(name) = &changes.name {
        edited.name = name.trim().to_owned();
    }
    if let Some(price) = changes.price {
        if price.currency() != current.price.currency() {
            return Err(invalid("price", "a price stays in the store's currency"));
        }
        edited.price = price;
    }
    if let Some(rate) = changes.tax_rate {
        edited.tax_rate = rate;
    }
    if let Some(barcodes) = &changes.barcodes {
        edited.barcodes.clone_from(barcodes);
    }
    if let Some(category) = &changes.category {
        edited.category = category
            .as_ref()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
    }
    if let Some(reorder_point) = changes.reorder_point {
        edited.reorder_point = reorder_point;
    }
    validate(&edited)?;

    let mut events = Vec::new();
    if edited.name != current.name {
        events.push(Event::ProductRenamed {
            name: edited.name.clone(),
        });
    }
    if edited.price != current.price {
        events.push(Event::ProductRepriced {
            old_price: current.price,
            new_price: edited.price,
        });
    }
    if edited.tax_rate != current.tax_rate {
        events.push(Event::TaxRateChanged {
            old_rate: current.tax_rate,
            new_rate: edited.tax_rate,
        });
    }
    for code in current
        .barcodes
        .iter()
        .filter(|c| !edited.barcodes.contains(c))
    {
        events.push(Event::BarcodeRemoved {
            barcode: code.clone(),
        });
    }
    for code in edited
        .barcodes
        .iter()
        .filter(|c| !current.barcodes.contains(c))
    {
        events.push(Event::BarcodeAdded {
            barcode: code.clone(),
        });
    }
    if edited.category != current.category {
        events.push(Event::CategoryChanged {
            category: edited.category.clone(),
        });
    }
    if edited.reorder_point != current.reorder_point {
        events.push(Event::ReorderPointChanged {
            reorder_point: edited.reorder_point,
        });
    }
    Ok(events)
}

fn validate(details: &ProductDetails) -> Result<(), ProductError> {
    let sku = details.sku.trim();
    if sku.is_empty() || sku.len() > 64 || sku.chars().any(char::is_whitespace) {
        return Err(invalid("sku", "a SKU has 1 to 64 characters and no spaces"));
    }
    let name_chars = details.name.trim().chars().count();
    if name_chars == 0 || name_chars > NAME_MAX_CHARS {
        return Err(invalid(
            "name",
            format!("a name has 1 to {NAME_MAX_CHARS} characters"),
        ));
    }
    if details.price.is_negative() {
        return Err(invalid("price", "a price cannot be negative"));
    }
    if details.tax_rate < Decimal::ZERO || details.tax_rate >= Decimal::ONE {
        return Err(invalid(
            "tax_rate",
            "a tax rate is a fraction, at least 0 and below 1",
        ));
    }
    if details.reorder_point.is_some_and(|r| r < Decimal::ZERO) {
        return Err(invalid(
            "reorder_point",
            "a reorder point cannot be negative",
        ));
    }
    for (index, code) in details.barcodes.iter().enumerate() {
        barcode::validate(code)
            .map_err(|message| invalid(format!("barcodes[{index}]"), message))?;
        if details.barcodes[..index].contains(code) {
            return Err(invalid(
                format!("barcodes[{index}]"),
                "the barcode is listed twice",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tillstream_kernel::{Currency, given};

    use super::*;

    fn details() -> ProductDetails {
        ProductDetails {
            sku: "COFFEE-1KG".into(),
            name: "Café molido 1 kg".into(),
            price: Money::parse("12.50", Currency::USD).unwrap(),
            tax_rate: "0.08".parse().unwrap(),
            barcodes: vec!["4006381333931".into()],
            category: Some("Coffee".into()),
            reorder_point: Some(Decimal::from(5)),
        }
    }

    #[test]
    fn a_valid_product_is_created() {
        let id = ProductId::generate();
        given::<Product>(vec![])
            .when(Command::Create {
                id,
                details: details(),
            })
            .then(vec![Event::ProductCreated {
                id,
                details: details(),
            }]);
    }

    #[test]
    fn a_product_cannot_be_created_twice() {
        let id = ProductId::generate();
        given::<Product>(vec![Event::ProductCreated {
            id,
            details: details(),
        }])
        .when(Command::Create {
            id,
            details: details(),
        })
        .then_error(ProductError::AlreadyExists);
    }

    #[test]
    fn each_rule_names_its_field() {
        let field_of = |change: fn(&mut ProductDetails)| {
            let mut d = details();
            change(&mut d);
            match Product::decide(
                &Product::default(),
                &Command::Create {
                    id: ProductId::generate(),
                    details: d,
                },
            ) {
                Err(ProductError::Invalid { field, .. }) => field,
                other => panic!("expected a field error, got {other:?}"),
            }
        };
        assert_eq!(field_of(|d| d.sku = " ".into()), "sku");
        assert_eq!(field_of(|d| d.name = String::new()), "name");
        assert_eq!(field_of(|d| d.name = "é".repeat(201)), "name");
        assert_eq!(field_of(|d| d.price = d.price.negate()), "price");
        assert_eq!(field_of(|d| d.tax_rate = Decimal::ONE), "tax_rate");
        assert_eq!(
            field_of(|d| d.reorder_point = Some(Decimal::NEGATIVE_ONE)),
            "reorder_point"
        );
        assert_eq!(
            field_of(|d| d.barcodes.push("4006381333932".into())),
            "barcodes[1]"
        );
        assert_eq!(
            field_of(|d| d.barcodes.push("4006381333931".into())),
            "barcodes[1]"
        );
    }

    fn created() -> Vec<Event> {
        vec![Event::ProductCreated {
            id: ProductId::generate(),
            details: details(),
        }]
    }

    #[test]
    fn an_edit_records_one_event_per_change_and_nothing_for_the_same_values() {
        let changes = ProductChanges {
            name: Some("Café en grano 1 kg".into()),
            price: Some(Money::parse("13.10", Currency::USD).unwrap()),
            tax_rate: Some("0.08".parse().unwrap()),
            barcodes: Some(vec!["96385074".into()]),
            category: Some(None),
            reorder_point: None,
        };
        given::<Product>(created())
            .when(Command::Update { changes })
            .then(vec![
                Event::ProductRenamed {
                    name: "Café en grano 1 kg".into(),
                },
                Event::ProductRepriced {
                    old_price: Money::parse("12.50", Currency::USD).unwrap(),
                    new_price: Money::parse("13.10", Currency::USD).unwrap(),
                },
                Event::BarcodeRemoved {
                    barcode: "4006381333931".into(),
                },
                Event::BarcodeAdded {
                    barcode: "96385074".into(),
                },
                Event::CategoryChanged { category: None },
            ]);
        given::<Product>(created())
            .when(Command::Update {
                changes: ProductChanges {
                    name: Some(" Café molido 1 kg ".into()),
                    ..Default::default()
                },
            })
            .then(vec![]);
    }

    #[test]
    fn an_edit_obeys_the_creation_rules_and_needs_a_product() {
        let bad_price = ProductChanges {
            price: Some(Money::parse("-1", Currency::USD).unwrap()),
            ..Default::default()
        };
        given::<Product>(created())
            .when(Command::Update { changes: bad_price })
            .then_error(invalid("price", "a price cannot be negative"));
        given::<Product>(vec![])
            .when(Command::Discontinue)
            .then_error(ProductError::NotFound);
    }

    #[test]
    fn discontinuing_and_reactivating_happen_once_each() {
        given::<Product>(created())
            .when(Command::Discontinue)
            .then(vec![Event::ProductDiscontinued]);
        let mut gone = created();
        gone.push(Event::ProductDiscontinued);
        given::<Product>(gone.clone())
            .when(Command::Discontinue)
            .then(vec![]);
        given::<Product>(gone)
            .when(Command::Reactivate)
            .then(vec![Event::ProductReactivated]);
    }
}
