//! `tillstream.auth.v1.AuthService`. Like every service, auth checks each caller's token and
//! role itself (the service kit's guard, with auth's own keys), whatever the gateway checked.

use tillstream_access::{Claims, Role};
use tillstream_eventstore::{EventMetadata, EventStore};
use tillstream_proto::auth::v1 as pb;
use tillstream_proto::auth::v1::auth_service_server::AuthService;
use tonic::{Request, Response, Status};

use crate::commands::approve::approve;
use crate::commands::change_user::{UserChanges, set_own_pin, set_pin, update_user};
use crate::commands::login::{Secret, login};
use crate::commands::register_user::register_user;
use crate::commands::sessions::{self, Tokens};
use crate::domain::user::UserError;
use crate::error::AppError;
use crate::keys;
use crate::projections::users::{self, UserRow};

#[derive(Debug, Clone)]
pub struct AuthApi {
    pub store: EventStore,
}

#[tonic::async_trait]
impl AuthService for AuthApi {
    #[tracing::instrument(skip_all, fields(username = %request.get_ref().username))]
    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::Tokens>, Status> {
        let addr = header(&request, "x-client-addr");
        let request = request.into_inner();
        let secret = Secret::Password(&request.password);
        let tokens = login(&self.store, &request.username, secret, addr.as_deref()).await?;
        Ok(Response::new(tokens_to_proto(tokens)))
    }

    #[tracing::instrument(skip_all, fields(username = %request.get_ref().username))]
    async fn pin_login(
        &self,
        request: Request<pb::PinLoginRequest>,
    ) -> Result<Response<pb::Tokens>, Status> {
        let addr = header(&request, "x-client-addr");
        let request = request.into_inner();
        let secret = Secret::Pin(&request.pin);
        let tokens = login(&self.store, &request.username, secret, addr.as_deref()).await?;
        Ok(Response::new(tokens_to_proto(tokens)))
    }

    #[tracing::instrument(skip_all, fields(approver = %request.get_ref().username, action = %request.get_ref().action))]
    async fn approve(
        &self,
        request: Request<pb::ApproveRequest>,
    ) -> Result<Response<pb::Approval>, Status> {
        let addr = header(&request, "x-client-addr");
        let request = request.into_inner();
        let secret = match (request.pin.as_str(), request.password.as_str()) {
            (pin, "") if !pin.is_empty() => Secret::Pin(pin),
            ("", password) if !password.is_empty() => Secret::Password(password),
            _ => {
                return Err(
                    AppError::invalid("pin", "either a PIN or a password, not both").into(),
                );
            }
        };
        let approval = approve(
            &self.store,
            &request.username,
            secret,
            &request.action,
            addr.as_deref(),
        )
        .await?;
        Ok(Response::new(pb::Approval {
            approval_token: approval.token,
            approval_id: approval.id,
            approver_id: approval.approver_id,
            approver_username: approval.approver_username,
            approver_role: approval.approver_role.to_string(),
            action: approval.action,
            expires_in: approval.expires_in,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn refresh(
        &self,
        request: Request<pb::RefreshRequest>,
    ) -> Result<Response<pb::Tokens>, Status> {
        let tokens = sessions::refresh(self.store.pool(), &request.get_ref().refresh_token).await?;
        Ok(Response::new(tokens_to_proto(tokens)))
    }

    #[tracing::instrument(skip_all)]
    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let caller = caller(&request)?;
        sessions::logout(
            self.store.pool(),
            &request.get_ref().refresh_token,
            &caller.sub,
        )
        .await?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    #[tracing::instrument(skip_all, fields(username = %request.get_ref().username))]
    async fn create_user(
        &self,
        request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let caller = caller(&request)?;
        let trace = traceparent(&request);
        let request = request.into_inner();
        let role = parse_role(&request.role)?;
        let row = register_user(
            &self.store,
            &request.username,
            &request.password,
            role,
            &request.location_ids,
            metadata(&caller, trace),
        )
        .await?;
        Ok(Response::new(user_to_proto(row)))
    }

    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        caller(&request)?;
        let rows = users::all(self.store.pool())
            .await
            .map_err(AppError::from)?;
        Ok(Response::new(pb::ListUsersResponse {
            users: rows.into_iter().map(user_to_proto).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(user_id = %request.get_ref().id))]
    async fn update_user(
        &self,
        request: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let caller = caller(&request)?;
        let trace = traceparent(&request);
        let request = request.into_inner();
        let changes = UserChanges {
            role: request.role.as_deref().map(parse_role).transpose()?,
            disabled: request.disabled,
            password: request.password,
            location_ids: request.location_ids.map(|l| l.ids),
        };
        let row = update_user(&self.store, &request.id, changes, metadata(&caller, trace)).await?;
        Ok(Response::new(user_to_proto(row)))
    }

    #[tracing::instrument(skip_all, fields(user_id = %request.get_ref().id))]
    async fn set_pin(
        &self,
        request: Request<pb::SetPinRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let caller = caller(&request)?;
        let trace = traceparent(&request);
        let request = request.into_inner();
        let row = set_pin(
            &self.store,
            &request.id,
            &request.pin,
            caller.role,
            metadata(&caller, trace),
        )
        .await?;
        Ok(Response::new(user_to_proto(row)))
    }

    async fn set_own_pin(
        &self,
        request: Request<pb::SetOwnPinRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let caller = caller(&request)?;
        let trace = traceparent(&request);
        let addr = header(&request, "x-client-addr");
        let request = request.into_inner();
        let row = set_own_pin(
            &self.store,
            &caller,
            &request.current_password,
            &request.pin,
            addr.as_deref(),
            metadata(&caller, trace),
        )
        .await?;
        Ok(Response::new(user_to_proto(row)))
    }

    async fn get_jwks(&self, _: Request<pb::GetJwksRequest>) -> Result<Response<pb::Jwks>, Status> {
        let keys = keys::all(self.store.pool()).await.map_err(AppError::from)?;
        Ok(Response::new(pb::Jwks {
            json: keys::jwks(&keys).to_string(),
        }))
    }
}

/// The caller the service kit's guard verified and let through (the role matrix,
/// `GRPC_RULES`, decides who may call what).
fn caller<T>(request: &Request<T>) -> Result<Claims, Status> {
    request
        .extensions()
        .get::<Claims>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("an access token is required"))
}

fn header<T>(request: &Request<T>, name: &str) -> Option<String> {
    request
        .metadata()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Who acted (the verified caller) and the trace of the request, for the events it records.
fn metadata(caller: &Claims, traceparent: Option<String>) -> EventMetadata {
    EventMetadata {
        actor: Some(caller.sub.clone()),
        traceparent,
        ..Default::default()
    }
}

/// The request's `traceparent`, when well formed.
fn traceparent<T>(request: &Request<T>) -> Option<String> {
    header(request, "traceparent").filter(|t| tillstream_kernel::trace_id_of(t).is_some())
}

fn parse_role(text: &str) -> Result<Role, AppError> {
    text.parse()
        .map_err(|e: tillstream_access::UnknownRole| AppError::from(UserError::from(e)))
}

fn tokens_to_proto(tokens: Tokens) -> pb::Tokens {
    pb::Tokens {
        access_token: tokens.access_token,
        token_type: "Bearer".to_owned(),
        expires_in: i64::try_from(tokens.expires_in.as_secs()).unwrap_or(i64::MAX),
        refresh_token: tokens.refresh_token,
    }
}

fn user_to_proto(row: UserRow) -> pb::User {
    pb::User {
        id: row.id,
        username: row.username,
        role: row.role,
        disabled: row.disabled,
        has_pin: row.pin_hash.is_some(),
        location_ids: row.location_ids,
        created_at: row
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    }
}
