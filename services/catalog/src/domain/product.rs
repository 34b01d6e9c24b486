//! The product aggregate. So far: creation, with the rules a new product must satisfy.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tillstream_eventstore::DomainEvent;
use tillstream_kernel::{Decider, Money};

use super::barcode;

tillstream_kernel::typed_id!(
    /// A product's id.
    ProductId
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Create {
        id: ProductId,
        details: ProductDetails,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    ProductCreated {
        id: ProductId,
        details: ProductDetails,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::ProductCreated { .. } => "ProductCreated",
        }
    }
}

/// A product rule broken; `field` is the request field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    #[error("the product already exists")]
    AlreadyExists,
    #[error("{message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ProductError {
    ProductError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// The folded state: whether the product exists, and its details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub details: Option<ProductDetails>,
}

impl Decider for Product {
    type State = Product;
    type Command = Command;
    type Event = Event;
    type Error = ProductError;

    fn decide(state: &Product, command: &Command) -> Result<Vec<Event>, ProductError> {
        match command {
            Command::Create { id, details } => {
                if state.details.is_some() {
                    return Err(ProductError::AlreadyExists);
                }
                validate(details)?;
                Ok(vec![Event::ProductCreated {
                    id: *id,
                    details: details.clone(),
                }])
            }
        }
    }

    fn evolve(mut state: Product, event: &Event) -> Product {
        match event {
            Event::ProductCreated { details, .. } => state.details = Some(details.clone()),
        }
        state
    }
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
}
