//! The catalog of published events: what docs/events.md lists, the AsyncAPI document
//! describes and a webhook subscription may name.

/// One published protobuf event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishedEvent {
    /// The service whose stream carries it.
    pub service: &'static str,
    /// The aggregate: the subject's third token (`<prefix>.sales.sale.SaleCompleted`).
    pub aggregate: &'static str,
    /// The event type; `ce-type` is `tillstream.<service>.v1.<event>`.
    pub event: &'static str,
    /// The protobuf message of its data, in the service's package.
    pub message: &'static str,
}

impl PublishedEvent {
    /// Its CloudEvents type, `tillstream.<service>.v1.<event>`.
    pub fn ce_type(&self) -> String {
        format!("tillstream.{}.v1.{}", self.service, self.event)
    }

    /// The full name of its data's message, `tillstream.<service>.v1.<message>`.
    pub fn message_name(&self) -> String {
        format!("tillstream.{}.v1.{}", self.service, self.message)
    }
}

const fn event(
    service: &'static str,
    aggregate: &'static str,
    event: &'static str,
    message: &'static str,
) -> PublishedEvent {
    PublishedEvent {
        service,
        aggregate,
        event,
        message,
    }
}

/// Every published event, by service.
pub const EVENTS: &[PublishedEvent] = &[
    event("auth", "user", "UserRegistered", "UserRegistered"),
    event("auth", "user", "LocationsChanged", "LocationsChanged"),
    event("auth", "user", "RoleChanged", "RoleChanged"),
    event("auth", "user", "PasswordChanged", "PasswordChanged"),
    event("auth", "user", "PasswordRehashed", "PasswordRehashed"),
    event("auth", "user", "PinSet", "PinSet"),
    event("auth", "user", "UserDisabled", "UserDisabled"),
    event("auth", "user", "UserEnabled", "UserEnabled"),
    event("catalog", "product", "ProductCreated", "ProductCreated"),
    event("catalog", "product", "ProductRenamed", "ProductRenamed"),
    event("catalog", "product", "ProductRepriced", "ProductRepriced"),
    event("catalog", "product", "TaxRateChanged", "TaxRateChanged"),
    event("catalog", "product", "BarcodeAdded", "BarcodeAdded"),
    event("catalog", "product", "BarcodeRemoved", "BarcodeRemoved"),
    event("catalog", "product", "CategoryChanged", "CategoryChanged"),
    event(
        "catalog",
        "product",
        "ReorderPointChanged",
        "ReorderPointChanged",
    ),
    event(
        "catalog",
        "product",
        "ProductDiscontinued",
        "ProductDiscontinued",
    ),
    event(
        "catalog",
        "product",
        "ProductReactivated",
        "ProductReactivated",
    ),
    event(
        "inventory",
        "location",
        "LocationCreated",
        "LocationCreated",
    ),
    event("inventory", "stock", "StockReceived", "StockReceived"),
    event("inventory", "stock", "StockSold", "StockSold"),
    event("inventory", "sale_cost", "SaleCosted", "SaleCosted"),
    event("inventory", "stock", "StockReturned", "StockReturned"),
    event(
        "inventory",
        "stock",
        "StockVoidReversed",
        "StockVoidReversed",
    ),
    event(
        "inventory",
        "stock",
        "StockFittedToRepair",
        "StockFittedToRepair",
    ),
    event(
        "inventory",
        "stock",
        "StockReturnedFromRepair",
        "StockReturnedFromRepair",
    ),
    event("inventory", "stock", "StockAdjusted", "StockAdjusted"),
    event("inventory", "stock", "StockCounted", "StockCounted"),
    event(
        "inventory",
        "stock",
        "StockTransferredOut",
        "StockTransferredOut",
    ),
    event(
        "inventory",
        "stock",
        "StockTransferredIn",
        "StockTransferredIn",
    ),
    event(
        "inventory",
        "stock",
        "StockWentNegative",
        "StockWentNegative",
    ),
    event("inventory", "stock", "LowStock", "LowStock"),
    event(
        "inventory",
        "supplier",
        "SupplierRegistered",
        "SupplierRegistered",
    ),
    event(
        "inventory",
        "supplier",
        "SupplierChanged",
        "SupplierChanged",
    ),
    event("inventory", "supplier", "SupplierPaid", "SupplierPaid"),
    event(
        "inventory",
        "purchase_order",
        "PurchaseOrderDrafted",
        "PurchaseOrderDrafted",
    ),
    event(
        "inventory",
        "purchase_order",
        "PurchaseOrderRevised",
        "PurchaseOrderRevised",
    ),
    event(
        "inventory",
        "purchase_order",
        "PurchaseOrderSubmitted",
        "PurchaseOrderSubmitted",
    ),
    event(
        "inventory",
        "purchase_order",
        "PurchaseOrderReceived",
        "PurchaseOrderReceived",
    ),
    event(
        "inventory",
        "purchase_order",
        "PurchaseInvoiceRecorded",
        "PurchaseInvoiceRecorded",
    ),
    event(
        "inventory",
        "purchase_order",
        "PurchaseOrderClosed",
        "PurchaseOrderClosed",
    ),
    event(
        "inventory",
        "purchase_order",
        "PurchaseOrderCancelled",
        "PurchaseOrderCancelled",
    ),
    event("sales", "sale", "SaleCompleted", "SaleCompleted"),
    event("sales", "sale", "SaleReturned", "SaleReturned"),
    event("sales", "sale", "SaleVoided", "SaleVoided"),
    event("sales", "register", "RegisterCreated", "RegisterCreated"),
    event("sales", "session", "SessionOpened", "SessionOpened"),
    event("sales", "session", "CashPaidIn", "CashMoved"),
    event("sales", "session", "CashPaidOut", "CashMoved"),
    event("sales", "session", "SessionClosed", "SessionClosed"),
    event(
        "sales",
        "customer",
        "CustomerRegistered",
        "CustomerRegistered",
    ),
    event("sales", "customer", "CustomerUpdated", "CustomerUpdated"),
    event("sales", "customer", "CustomerErased", "CustomerErased"),
    event("sales", "giftcard", "GiftCardIssued", "GiftCardIssued"),
    event("sales", "giftcard", "GiftCardRedeemed", "GiftCardRedeemed"),
    event("sales", "giftcard", "GiftCardCredited", "GiftCardCredited"),
    event("sales", "account", "AccountMoved", "AccountMoved"),
    event("sales", "account", "AccountPaid", "AccountPaid"),
    event("sales", "repair", "RepairReceived", "RepairReceived"),
    event(
        "sales",
        "repair",
        "RepairStatusChanged",
        "RepairStatusChanged",
    ),
    event("sales", "repair", "RepairPartFitted", "RepairPartFitted"),
    event("sales", "repair", "RepairLaborAdded", "RepairLaborAdded"),
    event("sales", "repair", "RepairCollected", "RepairCollected"),
    event("sales", "repair", "RepairCancelled", "RepairCancelled"),
    event("ledger", "entry", "EntryPosted", "EntryPosted"),
    event(
        "webhooks",
        "subscription",
        "WebhookSubscribed",
        "WebhookSubscribed",
    ),
    event(
        "webhooks",
        "subscription",
        "WebhookRemoved",
        "WebhookRemoved",
    ),
];

/// The event whose `ce-type` is `ce_type`.
pub fn by_ce_type(ce_type: &str) -> Option<&'static PublishedEvent> {
    let (service, event) = ce_type.strip_prefix("tillstream.")?.split_once(".v1.")?;
    EVENTS
        .iter()
        .find(|known| known.service == service && known.event == event)
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    #[test]
    fn every_event_names_a_message_of_the_descriptor_set() {
        let set = prost_types::FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET).unwrap();
        let messages: Vec<String> = set
            .file
            .iter()
            .flat_map(|file| {
                file.message_type
                    .iter()
                    .map(move |m| format!("{}.{}", file.package(), m.name()))
            })
            .collect();
        for published in EVENTS {
            assert!(
                messages.contains(&published.message_name()),
                "{published:?}"
            );
            assert_eq!(by_ce_type(&published.ce_type()), Some(published));
        }
        assert_eq!(by_ce_type("tillstream.sales.v1.Nothing"), None);
        assert_eq!(by_ce_type("SaleCompleted"), None);
    }
}
