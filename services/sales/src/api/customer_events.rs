//! Customers', accounts' and gift cards' published events in protobuf
//! (`proto/sales/v1/customers.proto`). Personal data leaves sealed; a gift card's code
//! leaves as its last four digits.

use prost::Message;
use tillstream_eventstore::RecordedEvent;
use tillstream_kernel::time::rfc3339;
use tillstream_messaging::MessagingError;
use tillstream_proto::sales::v1 as pb;

use super::convert;
use super::events::decode;
use crate::domain::customer::{self, CustomerId};
use crate::domain::stored_value::account;
use crate::domain::stored_value::gift_card::{self, GiftCardId};
use crate::privacy::Sealed;

/// The names of the messages this module publishes.
pub const NAMES: [&str; 8] = [
    "CustomerRegistered",
    "CustomerUpdated",
    "CustomerErased",
    "GiftCardIssued",
    "GiftCardRedeemed",
    "GiftCardCredited",
    "AccountMoved",
    "AccountPaid",
];

type Encoded = (&'static str, Vec<u8>);

/// The event's message when its stream is a customer's, an account's or a gift card's.
pub fn encode(event: &RecordedEvent) -> Result<Option<Encoded>, MessagingError> {
    let stream = event.stream_id.as_str();
    let of = |prefix: &str| {
        stream
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('-'))
            .map(str::to_owned)
    };
    if let Some(id) = of(CustomerId::STREAM_PREFIX) {
        return customer_event(event, id).map(Some);
    }
    if let Some(id) = of(GiftCardId::STREAM_PREFIX) {
        return gift_card_event(event, id).map(Some);
    }
    if let Some(id) = of("account") {
        return account_event(event, id).map(Some);
    }
    Ok(None)
}

fn sealed(sealed: &Sealed) -> pb::Sealed {
    let (nonce, ciphertext) = sealed.sealed.split_at(sealed.sealed.len().min(24));
    pb::Sealed {
        key_id: sealed.key_id.clone(),
        nonce: nonce.to_vec(),
        ciphertext: ciphertext.to_vec(),
    }
}

fn customer_event(event: &RecordedEvent, customer_id: String) -> Result<Encoded, MessagingError> {
    Ok(match decode(event)? {
        customer::Event::CustomerRegistered {
            number,
            personal,
            credit_limit,
            registered_at,
            ..
        } => {
            let data = pb::CustomerRegistered {
                customer_id,
                number,
                personal: Some(sealed(&personal)),
                credit_limit: credit_limit.to_string(),
                registered_at: rfc3339(&registered_at),
                currency: credit_limit.currency().code().to_owned(),
            };
            ("CustomerRegistered", data.encode_to_vec())
        }
        customer::Event::CustomerUpdated {
            personal,
            credit_limit,
            updated_at,
        } => {
            let data = pb::CustomerUpdated {
                customer_id,
                personal: personal.as_ref().map(sealed),
                credit_limit: credit_limit.to_string(),
                version: event.version,
                updated_at: rfc3339(&updated_at),
            };
            ("CustomerUpdated", data.encode_to_vec())
        }
        customer::Event::CustomerErased { erased_at } => {
            let data = pb::CustomerErased {
                customer_id,
                erased_at: rfc3339(&erased_at),
            };
            ("CustomerErased", data.encode_to_vec())
        }
    })
}

fn gift_card_event(event: &RecordedEvent, gift_card_id: String) -> Result<Encoded, MessagingError> {
    Ok(match decode(event)? {
        gift_card::Event::GiftCardIssued(issue) => {
            let code = &issue.code;
            let data = pb::GiftCardIssued {
                gift_card_id,
                code_last4: code.chars().skip(code.len().saturating_sub(4)).collect(),
                amount: issue.amount.to_string(),
                payments: issue.payments.iter().map(convert::payment).collect(),
                change: issue.change.to_string(),
                customer_id: issue.customer_id.clone().unwrap_or_default(),
                session_id: issue.session_id.clone().unwrap_or_default(),
                location_id: issue.location_id.clone().unwrap_or_default(),
                issued_at: rfc3339(&issue.issued_at),
                currency: issue.amount.currency().code().to_owned(),
            };
            ("GiftCardIssued", data.encode_to_vec())
        }
        gift_card::Event::GiftCardRedeemed {
            sale_id,
            amount,
            balance,
            at,
        } => {
            let data = pb::GiftCardRedeemed {
                gift_card_id,
                sale_id,
                amount: amount.to_string(),
                balance: balance.to_string(),
                at: rfc3339(&at),
            };
            ("GiftCardRedeemed", data.encode_to_vec())
        }
        gift_card::Event::GiftCardCredited {
            source_id,
            amount,
            balance,
            at,
        } => {
            let data = pb::GiftCardCredited {
                gift_card_id,
                source_id,
                amount: amount.to_string(),
                balance: balance.to_string(),
                at: rfc3339(&at),
            };
            ("GiftCardCredited", data.encode_to_vec())
        }
    })
}

fn account_event(event: &RecordedEvent, customer_id: String) -> Result<Encoded, MessagingError> {
    Ok(match decode(event)? {
        account::Event::AccountMoved {
            movement,
            amount,
            source_id,
            balance,
            store_credit,
            at,
        } => {
            let data = pb::AccountMoved {
                customer_id,
                kind: movement.as_str().to_owned(),
                amount: amount.to_string(),
                source_id,
                balance: balance.to_string(),
                store_credit: store_credit.to_string(),
                at: rfc3339(&at),
            };
            ("AccountMoved", data.encode_to_vec())
        }
        account::Event::AccountPaid { payment, balance } => {
            let data = pb::AccountPaid {
                customer_id,
                payment_id: payment.payment_id,
                amount: payment.amount.to_string(),
                method: payment.method.as_str().to_owned(),
                reference: payment.reference.unwrap_or_default(),
                session_id: payment.session_id.unwrap_or_default(),
                balance: balance.to_string(),
                paid_at: rfc3339(&payment.paid_at),
                currency: payment.amount.currency().code().to_owned(),
            };
            ("AccountPaid", data.encode_to_vec())
        }
    })
}
