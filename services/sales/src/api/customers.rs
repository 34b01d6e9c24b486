//! `tillstream.sales.v1.CustomerService` and `GiftCardService`.

use tillstream_eventstore::{EventStore, StoreError};
use tillstream_kernel::{Currency, Money};
use tillstream_proto::sales::v1 as pb;
use tillstream_proto::sales::v1::customer_service_server::CustomerService;
use tillstream_proto::sales::v1::gift_card_service_server::GiftCardService;
use tillstream_service::Role;
use tillstream_service::grpc::{caller_of, metadata_of};
use tonic::{Request, Response, Status};

use crate::api::convert;
use crate::commands::accounts::{self, Paid, PaymentRequest};
use crate::commands::customers::{self, Changes, CustomerView, NewCustomerRequest};
use crate::commands::gift_cards::{self, IssueRequest};
use crate::domain::customer::Personal;
use crate::domain::pricing::Payment;
use crate::domain::stored_value::account::PaymentMethod;
use crate::domain::stored_value::gift_card::Issue;
use crate::error::AppError;
use crate::privacy::MasterKey;
use crate::privacy::search::query_tokens;
use crate::projections::customers::{self as customer_rows, Search};
use crate::projections::gift_cards::GiftCardRow;
use crate::projections::sales::{self, SaleFilter};

#[derive(Debug, Clone)]
pub struct CustomersApi {
    pub store: EventStore,
    pub reads: sqlx::PgPool,
    pub master: MasterKey,
    pub currency: Currency,
}

pub(super) fn store_error(error: sqlx::Error) -> AppError {
    AppError::Store(StoreError::from(error))
}

pub(super) fn text(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

pub(super) fn money(text: &str, currency: Currency, field: &str) -> Result<Money, AppError> {
    Money::parse(text.trim(), currency)
        .and_then(Money::within_range)
        .map_err(|e| AppError::invalid(field, e.to_string()))
}

/// `(limit, offset)` of a page request: 50 by default, at most 200.
pub(super) fn paging(page: u32, limit: u32) -> (u32, u64) {
    let limit = match limit {
        0 => 50,
        n => n.min(200),
    };
    (limit, u64::from(page.max(1) - 1) * u64::from(limit))
}

/// Only a manager sets a credit limit.
fn check_credit_limit(caller: &tillstream_service::Claims, asked: bool) -> Result<(), AppError> {
    if asked && !caller.role.allows(Role::Manager) {
        return Err(AppError::Denied {
            reason: "forbidden",
            field: Some("credit_limit".into()),
            message: "only a manager sets a credit limit".into(),
        });
    }
    Ok(())
}

fn customer_message(view: CustomerView) -> pb::Customer {
    let personal = view.personal.unwrap_or_else(|| Personal {
        name: "erased".into(),
        ..Personal::default()
    });
    pb::Customer {
        id: view.id,
        number: view.number,
        name: personal.name,
        email: personal.email,
        phone: personal.phone,
        tax_id: personal.tax_id,
        notes: personal.notes,
        credit_limit: view.credit_limit.to_string(),
        version: view.version,
        created_at: tillstream_kernel::time::rfc3339(&view.created_at),
        erased: view.erased,
    }
}

fn gift_card_message(issue: &Issue, balance: Money, status: &str) -> pb::GiftCard {
    pb::GiftCard {
        id: issue.id.to_string(),
        code: issue.code.clone(),
        balance: balance.to_string(),
        initial_amount: issue.amount.to_string(),
        status: status.to_owned(),
        issued_at: tillstream_kernel::time::rfc3339(&issue.issued_at),
        customer_id: issue.customer_id.clone().unwrap_or_default(),
        currency: issue.amount.currency().code().to_owned(),
        payments: issue.payments.iter().map(convert::payment).collect(),
    }
}

impl CustomersApi {
    async fn view(&self, id: &str) -> Result<CustomerView, AppError> {
        let row = customer_rows::get(&self.reads, id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| AppError::NotFound(format!("no customer `{}`", id.trim())))?;
        customers::view(&self.master, row, self.currency)
    }
}

#[tonic::async_trait]
impl CustomerService for CustomersApi {
    #[tracing::instrument(skip_all)]
    async fn create_customer(
        &self,
        request: Request<pb::CreateCustomerRequest>,
    ) -> Result<Response<pb::Customer>, Status> {
        let metadata = metadata_of(&request);
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        check_credit_limit(&caller, request.credit_limit.is_some())?;
        let credit_limit = match &request.credit_limit {
            Some(limit) => money(limit, self.currency, "credit_limit")?,
            None => Money::zero(self.currency),
        };
        let parsed = NewCustomerRequest {
            personal: Personal {
                name: request.name,
                email: request.email,
                phone: request.phone,
                tax_id: request.tax_id,
                notes: request.notes,
            },
            credit_limit,
        };
        let key = text(&request.idempotency_key);
        let view = customers::create(&self.store, &self.master, parsed, key, metadata).await?;
        Ok(Response::new(customer_message(view)))
    }

    async fn get_customer(
        &self,
        request: Request<pb::GetCustomerRequest>,
    ) -> Result<Response<pb::Customer>, Status> {
        let view = self.view(&request.into_inner().id).await?;
        Ok(Response::new(customer_message(view)))
    }

    #[tracing::instrument(skip_all)]
    async fn search_customers(
        &self,
        request: Request<pb::SearchCustomersRequest>,
    ) -> Result<Response<pb::SearchCustomersResponse>, Status> {
        let request = request.into_inner();
        let (limit, offset) = paging(request.page, request.limit);
        let q = request.q.trim();
        if q.chars().count() > 200 {
            return Err(AppError::invalid("q", "at most 200 characters").into());
        }
        let tokens = query_tokens(&self.master, q).map_err(AppError::from)?;
        let search = (!q.is_empty()).then_some(Search {
            number: q,
            whole: &tokens.whole,
            words: &tokens.words,
        });
        let (rows, total) = customer_rows::page(&self.reads, search, limit, offset)
            .await
            .map_err(store_error)?;
        let customers = rows
            .into_iter()
            .map(|row| customers::view(&self.master, row, self.currency).map(customer_message))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Response::new(pb::SearchCustomersResponse {
            customers,
            total,
        }))
    }

    #[tracing::instrument(skip_all, fields(customer_id = %request.get_ref().id))]
    async fn update_customer(
        &self,
        request: Request<pb::UpdateCustomerRequest>,
    ) -> Result<Response<pb::Customer>, Status> {
        let metadata = metadata_of(&request);
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        check_credit_limit(&caller, request.credit_limit.is_some())?;
        // An empty string clears an optional field.
        let clearable = |value: &Option<String>| value.as_ref().map(|v| text(v));
        let changes = Changes {
            name: request.name.clone(),
            email: clearable(&request.email),
            phone: clearable(&request.phone),
            tax_id: clearable(&request.tax_id),
            notes: clearable(&request.notes),
            credit_limit: request
                .credit_limit
                .as_deref()
                .map(|limit| money(limit, self.currency, "credit_limit"))
                .transpose()?,
        };
        let expected = (request.expected_version > 0).then_some(request.expected_version);
        let view = customers::update(
            &self.store,
            &self.master,
            &request.id,
            changes,
            expected,
            self.currency,
            metadata,
        )
        .await?;
        Ok(Response::new(customer_message(view)))
    }

    #[tracing::instrument(skip_all, fields(customer_id = %request.get_ref().id))]
    async fn erase_customer(
        &self,
        request: Request<pb::EraseCustomerRequest>,
    ) -> Result<Response<pb::EraseCustomerResponse>, Status> {
        let metadata = metadata_of(&request);
        let caller = caller_of(&request)?;
        if !caller.role.allows(Role::Admin) {
            return Err(AppError::Forbidden("only an admin erases a customer".into()).into());
        }
        let id = customers::erase(&self.store, &request.into_inner().id, metadata).await?;
        Ok(Response::new(pb::EraseCustomerResponse {
            id,
            erased: true,
        }))
    }

    async fn list_customer_sales(
        &self,
        request: Request<pb::ListCustomerSalesRequest>,
    ) -> Result<Response<pb::ListSalesResponse>, Status> {
        let request = request.into_inner();
        let customer = self.view(&request.customer_id).await?;
        let (limit, offset) = paging(request.page, request.limit);
        let filter = SaleFilter {
            customer_id: Some(customer.id),
            ..SaleFilter::default()
        };
        let (views, total) = sales::page(&self.reads, &filter, limit, offset)
            .await
            .map_err(store_error)?;
        Ok(Response::new(pb::ListSalesResponse {
            sales: views.into_iter().map(convert::sale_view).collect(),
            total,
        }))
    }

    async fn get_account(
        &self,
        request: Request<pb::GetAccountRequest>,
    ) -> Result<Response<pb::Account>, Status> {
        let customer = self.view(&request.into_inner().customer_id).await?;
        let entries = customer_rows::entries(&self.reads, &customer.id)
            .await
            .map_err(store_error)?;
        let currency = self.currency;
        Ok(Response::new(pb::Account {
            balance: customer.balance.to_string(),
            credit_limit: customer.credit_limit.to_string(),
            store_credit: customer.store_credit.to_string(),
            entries: entries
                .into_iter()
                .map(|(at, kind, amount, reference)| pb::AccountEntry {
                    at: tillstream_kernel::time::rfc3339(&at),
                    kind,
                    amount: Money::new(amount, currency).to_string(),
                    reference,
                })
                .collect(),
            currency: currency.code().to_owned(),
            customer_id: customer.id,
        }))
    }

    #[tracing::instrument(skip_all, fields(customer_id = %request.get_ref().customer_id))]
    async fn pay_account(
        &self,
        request: Request<pb::PayAccountRequest>,
    ) -> Result<Response<pb::AccountPayment>, Status> {
        let metadata = metadata_of(&request);
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let method = PaymentMethod::parse(&request.method)
            .ok_or_else(|| AppError::invalid("method", "cash or card"))?;
        let parsed = PaymentRequest {
            customer_id: request.customer_id.trim().to_owned(),
            amount: money(&request.amount, self.currency, "amount")?,
            method,
            reference: text(&request.reference),
            session_id: text(&request.session_id),
            cashier_id: caller.sub.clone(),
        };
        let key = text(&request.idempotency_key);
        let Paid {
            payment,
            customer_id,
            balance,
        } = accounts::pay(&self.store, parsed, key, metadata).await?;
        Ok(Response::new(pb::AccountPayment {
            id: payment.payment_id,
            customer_id,
            amount: payment.amount.to_string(),
            method: payment.method.as_str().to_owned(),
            reference: payment.reference.unwrap_or_default(),
            session_id: payment.session_id.unwrap_or_default(),
            paid_at: tillstream_kernel::time::rfc3339(&payment.paid_at),
            balance: balance.to_string(),
        }))
    }
}

#[tonic::async_trait]
impl GiftCardService for CustomersApi {
    #[tracing::instrument(skip_all)]
    async fn issue_gift_card(
        &self,
        request: Request<pb::IssueGiftCardRequest>,
    ) -> Result<Response<pb::GiftCard>, Status> {
        let metadata = metadata_of(&request);
        let caller = caller_of(&request)?;
        let request = request.into_inner();
        let payments = convert::payments(&request.payments, self.currency, "payments")?;
        let parsed = IssueRequest {
            amount: money(&request.amount, self.currency, "amount")?,
            payments: payments.into_iter().collect::<Vec<Payment>>(),
            customer_id: text(&request.customer_id),
            session_id: text(&request.session_id),
            location_id: text(&request.location_id),
            cashier_id: caller.sub.clone(),
        };
        let key = text(&request.idempotency_key);
        let issue = gift_cards::issue(&self.store, parsed, key, metadata).await?;
        Ok(Response::new(gift_card_message(
            &issue,
            issue.amount,
            "active",
        )))
    }

    async fn get_gift_card(
        &self,
        request: Request<pb::GetGiftCardRequest>,
    ) -> Result<Response<pb::GiftCard>, Status> {
        let code = request.into_inner().code;
        let GiftCardRow {
            balance,
            status,
            document,
            currency,
            ..
        } = gift_cards::find(&self.reads, &code)
            .await?
            .ok_or_else(|| AppError::NotFound("no gift card with this code".into()))?;
        let currency: Currency = currency
            .parse()
            .map_err(|_| AppError::Internal("a gift card in an unknown currency".into()))?;
        Ok(Response::new(gift_card_message(
            &document.0,
            Money::new(balance, currency),
            &status,
        )))
    }
}
