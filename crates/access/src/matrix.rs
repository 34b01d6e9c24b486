//! The role matrix: who may call each route of the REST contract. One table, read by the
//! gateway's authorization layer and tested route by route; `docs/api.md` prints it.

use crate::Role;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed.
    Public,
    /// A valid token whose role is this one or above.
    AtLeast(Role),
}

/// One route: the method, the path as the router writes it (`{id}` for a parameter), and
/// who may call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

const fn rule(method: &'static str, path: &'static str, access: Access) -> Rule {
    Rule {
        method,
        path,
        access,
    }
}

use Access::{AtLeast, Public};
use Role::{Admin, Cashier, Manager};

/// Every route of the contract.
pub const RULES: &[Rule] = &[
    rule("POST", "/api/v1/auth/login", Public),
    rule("POST", "/api/v1/auth/pin-login", Public),
    rule("POST", "/api/v1/auth/refresh", Public),
    rule("POST", "/api/v1/auth/logout", AtLeast(Cashier)),
    rule("GET", "/api/v1/auth/me", AtLeast(Cashier)),
    rule("POST", "/api/v1/auth/approvals", AtLeast(Cashier)),
    rule("PUT", "/api/v1/auth/me/pin", AtLeast(Cashier)),
    rule("GET", "/.well-known/jwks.json", Public),
    rule("POST", "/api/v1/users", AtLeast(Admin)),
    rule("GET", "/api/v1/users", AtLeast(Admin)),
    rule("PATCH", "/api/v1/users/{id}", AtLeast(Admin)),
    rule("POST", "/api/v1/users/{id}/pin", AtLeast(Manager)),
    rule("POST", "/api/v1/products", AtLeast(Manager)),
    rule("GET", "/api/v1/products", AtLeast(Cashier)),
    rule("GET", "/api/v1/products/lookup", AtLeast(Cashier)),
    rule("GET", "/api/v1/products/{id}", AtLeast(Cashier)),
    rule("PATCH", "/api/v1/products/{id}", AtLeast(Manager)),
    rule(
        "POST",
        "/api/v1/products/{id}/discontinue",
        AtLeast(Manager),
    ),
    rule("POST", "/api/v1/products/{id}/reactivate", AtLeast(Manager)),
    rule("POST", "/api/v1/products/imports", AtLeast(Manager)),
    rule("GET", "/api/v1/products/imports/{id}", AtLeast(Manager)),
    rule(
        "POST",
        "/api/v1/products/imports/{id}/retry",
        AtLeast(Manager),
    ),
    rule("POST", "/api/v1/locations", AtLeast(Manager)),
    rule("GET", "/api/v1/locations", AtLeast(Cashier)),
    rule("POST", "/api/v1/stock/receipts", AtLeast(Manager)),
    rule("POST", "/api/v1/stock/adjustments", AtLeast(Manager)),
    rule("POST", "/api/v1/stock/counts", AtLeast(Manager)),
    rule("POST", "/api/v1/stock/transfers", AtLeast(Manager)),
    rule("GET", "/api/v1/stock", AtLeast(Cashier)),
    rule("GET", "/api/v1/stock/movements", AtLeast(Manager)),
    rule("POST", "/api/v1/suppliers", AtLeast(Manager)),
    rule("GET", "/api/v1/suppliers", AtLeast(Manager)),
    rule("GET", "/api/v1/suppliers/{id}", AtLeast(Manager)),
    rule("PATCH", "/api/v1/suppliers/{id}", AtLeast(Manager)),
    rule("POST", "/api/v1/suppliers/{id}/payments", AtLeast(Manager)),
    rule("POST", "/api/v1/purchase-orders", AtLeast(Manager)),
    rule("GET", "/api/v1/purchase-orders", AtLeast(Manager)),
    rule("GET", "/api/v1/purchase-orders/{id}", AtLeast(Manager)),
    rule("PATCH", "/api/v1/purchase-orders/{id}", AtLeast(Manager)),
    rule(
        "POST",
        "/api/v1/purchase-orders/{id}/submit",
        AtLeast(Manager),
    ),
    rule(
        "POST",
        "/api/v1/purchase-orders/{id}/receipts",
        AtLeast(Manager),
    ),
    rule(
        "POST",
        "/api/v1/purchase-orders/{id}/invoices",
        AtLeast(Manager),
    ),
    rule(
        "POST",
        "/api/v1/purchase-orders/{id}/close",
        AtLeast(Manager),
    ),
    rule(
        "POST",
        "/api/v1/purchase-orders/{id}/cancel",
        AtLeast(Manager),
    ),
    rule("GET", "/api/v1/purchasing/suggestions", AtLeast(Manager)),
    rule("POST", "/api/v1/sales", AtLeast(Cashier)),
    rule("GET", "/api/v1/sales", AtLeast(Cashier)),
    rule("GET", "/api/v1/sales/{id}", AtLeast(Cashier)),
    // A cashier may reach these: sales asks them for a manager's approval (api.md).
    rule("POST", "/api/v1/sales/{id}/returns", AtLeast(Cashier)),
    rule("POST", "/api/v1/sales/{id}/void", AtLeast(Cashier)),
    rule("POST", "/api/v1/sales/batch", AtLeast(Cashier)),
    rule("GET", "/api/v1/sales/{id}/receipt", AtLeast(Cashier)),
    // A cashier registers and serves customers; sales refuses a cashier's `credit_limit`
    // itself (the field, not the route, is a manager's). Erasing is for good: admins only.
    rule("POST", "/api/v1/customers", AtLeast(Cashier)),
    rule("GET", "/api/v1/customers", AtLeast(Cashier)),
    rule("GET", "/api/v1/customers/{id}", AtLeast(Cashier)),
    rule("PATCH", "/api/v1/customers/{id}", AtLeast(Cashier)),
    rule("GET", "/api/v1/customers/{id}/sales", AtLeast(Cashier)),
    rule("POST", "/api/v1/customers/{id}/erase", AtLeast(Admin)),
    rule("GET", "/api/v1/customers/{id}/account", AtLeast(Cashier)),
    rule(
        "POST",
        "/api/v1/customers/{id}/account/payments",
        AtLeast(Cashier),
    ),
    rule("POST", "/api/v1/gift-cards", AtLeast(Cashier)),
    rule("GET", "/api/v1/gift-cards/{code}", AtLeast(Cashier)),
    // The workshop is a cashier's counter: taking in, moving along, fitting and collecting.
    rule("POST", "/api/v1/repairs", AtLeast(Cashier)),
    rule("GET", "/api/v1/repairs", AtLeast(Cashier)),
    rule("GET", "/api/v1/repairs/{id}", AtLeast(Cashier)),
    rule("POST", "/api/v1/repairs/{id}/status", AtLeast(Cashier)),
    rule("POST", "/api/v1/repairs/{id}/parts", AtLeast(Cashier)),
    rule("POST", "/api/v1/repairs/{id}/labor", AtLeast(Cashier)),
    rule("POST", "/api/v1/repairs/{id}/collect", AtLeast(Cashier)),
    rule("GET", "/api/v1/customers/{id}/repairs", AtLeast(Cashier)),
    rule("POST", "/api/v1/registers", AtLeast(Manager)),
    rule("GET", "/api/v1/registers", AtLeast(Cashier)),
    rule("POST", "/api/v1/registers/{id}/sessions", AtLeast(Cashier)),
    rule("GET", "/api/v1/registers/{id}/journal", AtLeast(Manager)),
    rule(
        "GET",
        "/api/v1/registers/{id}/journal/verify",
        AtLeast(Manager),
    ),
    rule("GET", "/api/v1/sessions", AtLeast(Manager)),
    rule("GET", "/api/v1/sessions/{id}", AtLeast(Cashier)),
    rule(
        "POST",
        "/api/v1/sessions/{id}/cash-movements",
        AtLeast(Cashier),
    ),
    rule("GET", "/api/v1/sessions/{id}/report", AtLeast(Cashier)),
    rule("POST", "/api/v1/sessions/{id}/close", AtLeast(Cashier)),
    rule("GET", "/api/v1/ledger/accounts", AtLeast(Manager)),
    rule("GET", "/api/v1/ledger/trial-balance", AtLeast(Manager)),
    rule("GET", "/api/v1/ledger/entries", AtLeast(Manager)),
    rule("POST", "/api/v1/ledger/entries", AtLeast(Manager)),
    rule("GET", "/api/v1/ledger/entries/{id}", AtLeast(Manager)),
    rule(
        "POST",
        "/api/v1/ledger/entries/{id}/reverse",
        AtLeast(Manager),
    ),
    rule("GET", "/api/v1/reports/daily", AtLeast(Manager)),
    rule("POST", "/api/v1/webhooks", AtLeast(Admin)),
    rule("GET", "/api/v1/webhooks", AtLeast(Admin)),
    rule("GET", "/api/v1/webhooks/{id}", AtLeast(Admin)),
    rule("DELETE", "/api/v1/webhooks/{id}", AtLeast(Admin)),
    rule("GET", "/api/v1/webhooks/{id}/deliveries", AtLeast(Admin)),
    rule(
        "POST",
        "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
        AtLeast(Admin),
    ),
    rule("GET", "/api/v1/openapi.json", Public),
    rule("GET", "/api/v1/asyncapi.json", Public),
    rule("GET", "/docs", Public),
    rule("GET", "/docs/{asset}", Public),
    // The web register and back office: the shell is public, every call it makes is not.
    rule("GET", "/", Public),
    rule("GET", "/admin", Public),
    rule("GET", "/sw.js", Public),
    rule("GET", "/app/{asset}", Public),
    rule("GET", "/healthz", Public),
    rule("GET", "/readyz", Public),
    rule("GET", "/metrics", Public),
];

/// Every gRPC method of the services, by its path (`/<package>.<Service>/<Method>`). The
/// services check the forwarded token against these themselves; auth checks its own.
pub const GRPC_RULES: &[(&str, Access)] = &[
    ("/tillstream.auth.v1.AuthService/Login", Public),
    ("/tillstream.auth.v1.AuthService/PinLogin", Public),
    ("/tillstream.auth.v1.AuthService/Refresh", Public),
    ("/tillstream.auth.v1.AuthService/Logout", AtLeast(Cashier)),
    ("/tillstream.auth.v1.AuthService/CreateUser", AtLeast(Admin)),
    ("/tillstream.auth.v1.AuthService/ListUsers", AtLeast(Admin)),
    ("/tillstream.auth.v1.AuthService/UpdateUser", AtLeast(Admin)),
    ("/tillstream.auth.v1.AuthService/SetPin", AtLeast(Manager)),
    ("/tillstream.auth.v1.AuthService/GetJwks", Public),
    ("/tillstream.auth.v1.AuthService/Approve", AtLeast(Cashier)),
    (
        "/tillstream.auth.v1.AuthService/SetOwnPin",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.catalog.v1.CatalogService/CreateProduct",
        AtLeast(Manager),
    ),
    (
        "/tillstream.catalog.v1.CatalogService/GetProduct",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.catalog.v1.CatalogService/LookupProduct",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.catalog.v1.CatalogService/CreateImport",
        AtLeast(Manager),
    ),
    (
        "/tillstream.catalog.v1.CatalogService/GetImport",
        AtLeast(Manager),
    ),
    (
        "/tillstream.catalog.v1.CatalogService/RetryImport",
        AtLeast(Manager),
    ),
    (
        "/tillstream.catalog.v1.CatalogService/SearchProducts",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.catalog.v1.CatalogService/UpdateProduct",
        AtLeast(Manager),
    ),
    (
        "/tillstream.catalog.v1.CatalogService/DiscontinueProduct",
        AtLeast(Manager),
    ),
    (
        "/tillstream.catalog.v1.CatalogService/ReactivateProduct",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.InventoryService/CreateLocation",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.InventoryService/ListLocations",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.inventory.v1.InventoryService/ReceiveStock",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.InventoryService/AdjustStock",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.InventoryService/CountStock",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.InventoryService/TransferStock",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.InventoryService/GetStock",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.inventory.v1.InventoryService/ListMovements",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/CreateSupplier",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/GetSupplier",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/ListSuppliers",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/UpdateSupplier",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/PaySupplier",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/CreatePurchaseOrder",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/GetPurchaseOrder",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/ListPurchaseOrders",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/UpdatePurchaseOrder",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/SubmitPurchaseOrder",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/ReceivePurchaseOrder",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/InvoicePurchaseOrder",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/ClosePurchaseOrder",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/CancelPurchaseOrder",
        AtLeast(Manager),
    ),
    (
        "/tillstream.inventory.v1.PurchasingService/SuggestPurchases",
        AtLeast(Manager),
    ),
    (
        "/tillstream.sales.v1.SalesService/ReturnSale",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.SalesService/VoidSale",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.SalesService/CreateSale",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.SalesService/GetSale",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.SalesService/CreateSaleBatch",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.SalesService/ListSales",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.SalesService/GetReceipt",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.RegisterService/CreateRegister",
        AtLeast(Manager),
    ),
    (
        "/tillstream.sales.v1.RegisterService/ListRegisters",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.RegisterService/OpenSession",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.RegisterService/GetSession",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.RegisterService/ListSessions",
        AtLeast(Manager),
    ),
    (
        "/tillstream.sales.v1.RegisterService/MoveCash",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.RegisterService/GetSessionReport",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.RegisterService/CloseSession",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.RegisterService/GetJournal",
        AtLeast(Manager),
    ),
    (
        "/tillstream.sales.v1.RegisterService/VerifyJournal",
        AtLeast(Manager),
    ),
    (
        "/tillstream.sales.v1.CustomerService/CreateCustomer",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.CustomerService/GetCustomer",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.CustomerService/SearchCustomers",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.CustomerService/UpdateCustomer",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.CustomerService/EraseCustomer",
        AtLeast(Admin),
    ),
    (
        "/tillstream.sales.v1.CustomerService/ListCustomerSales",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.CustomerService/GetAccount",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.CustomerService/PayAccount",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.GiftCardService/IssueGiftCard",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.GiftCardService/GetGiftCard",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.RepairService/CreateRepair",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.RepairService/GetRepair",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.RepairService/ListRepairs",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.RepairService/ChangeRepairStatus",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.RepairService/AddRepairPart",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.RepairService/AddRepairLabor",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.sales.v1.RepairService/CollectRepair",
        AtLeast(Cashier),
    ),
    (
        "/tillstream.ledger.v1.LedgerService/ListEntries",
        AtLeast(Manager),
    ),
    (
        "/tillstream.ledger.v1.LedgerService/GetTrialBalance",
        AtLeast(Manager),
    ),
    (
        "/tillstream.ledger.v1.LedgerService/PostEntry",
        AtLeast(Manager),
    ),
    (
        "/tillstream.ledger.v1.LedgerService/ReverseEntry",
        AtLeast(Manager),
    ),
    (
        "/tillstream.ledger.v1.LedgerService/GetDailyReport",
        AtLeast(Manager),
    ),
    (
        "/tillstream.webhooks.v1.WebhooksService/CreateSubscription",
        AtLeast(Admin),
    ),
    (
        "/tillstream.webhooks.v1.WebhooksService/ListSubscriptions",
        AtLeast(Admin),
    ),
    (
        "/tillstream.webhooks.v1.WebhooksService/GetSubscription",
        AtLeast(Admin),
    ),
    (
        "/tillstream.webhooks.v1.WebhooksService/DeleteSubscription",
        AtLeast(Admin),
    ),
    (
        "/tillstream.webhooks.v1.WebhooksService/ListDeliveries",
        AtLeast(Admin),
    ),
    (
        "/tillstream.webhooks.v1.WebhooksService/RetryDelivery",
        AtLeast(Admin),
    ),
];

/// The rule for a gRPC method, by its path.
pub fn grpc_access(path: &str) -> Option<Access> {
    GRPC_RULES
        .iter()
        .find(|(method, _)| *method == path)
        .map(|(_, access)| *access)
}

/// The rule for a route, by method and router path.
pub fn access(method: &str, path: &str) -> Option<Access> {
    RULES
        .iter()
        .find(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
        .map(|r| r.access)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_appears_once() {
        for (i, a) in RULES.iter().enumerate() {
            assert!(
                !RULES[i + 1..]
                    .iter()
                    .any(|b| a.method == b.method && a.path == b.path),
                "{} {} twice",
                a.method,
                a.path
            );
        }
        assert_eq!(access("get", "/api/v1/sales/{id}"), Some(AtLeast(Cashier)));
        assert_eq!(access("DELETE", "/api/v1/sales/{id}"), None);
    }

    #[test]
    fn every_rpc_in_proto_has_exactly_one_grpc_rule() {
        use prost::Message;
        let set = prost_types::FileDescriptorSet::decode(tillstream_proto::FILE_DESCRIPTOR_SET)
            .unwrap_or_default();
        let mut methods: Vec<String> = set
            .file
            .iter()
            .flat_map(|file| {
                let package = file.package().to_owned();
                file.service.iter().flat_map(move |service| {
                    let prefix = format!("/{package}.{}/", service.name());
                    service
                        .method
                        .iter()
                        .map(move |method| format!("{prefix}{}", method.name()))
                })
            })
            .collect();
        methods.sort();
        let mut ruled: Vec<String> = GRPC_RULES.iter().map(|(m, _)| (*m).to_owned()).collect();
        ruled.sort();
        assert!(!methods.is_empty());
        assert_eq!(methods, ruled);
    }
}
