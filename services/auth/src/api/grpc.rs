//! `tillstream.auth.v1.AuthService`.

use tillstream_eventstore::{EventMetadata, EventStore};
use tillstream_proto::auth::v1 as pb;
use tillstream_proto::auth::v1::auth_service_server::AuthService;
use tonic::{Request, Response, Status};

use crate::api::error::AppError;
use crate::commands::login::login;
use crate::commands::register_user::register_user;
use crate::domain::user::{Role, UserError};
use crate::keys;
use crate::tokens::ACCESS_TOKEN_TTL;

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
        let request = request.into_inner();
        let access_token = login(&self.store, &request.username, &request.password).await?;
        Ok(Response::new(pb::Tokens {
            access_token,
            token_type: "Bearer".to_owned(),
            expires_in: i64::try_from(ACCESS_TOKEN_TTL.as_secs()).unwrap_or(900),
        }))
    }

    async fn create_user(
        &self,
        request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let actor = request
            .metadata()
            .get("x-actor")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let request = request.into_inner();
        let role: Role = request
            .role
            .parse()
            .map_err(|e: tillstream_access::UnknownRole| AppError::from(UserError::from(e)))?;
        let metadata = EventMetadata {
            actor,
            ..Default::default()
        };
        let row = register_user(
            &self.store,
            &request.username,
            &request.password,
            role,
            metadata,
        )
        .await?;
        Ok(Response::new(pb::User {
            id: row.id,
            username: row.username,
            role: row.role,
            disabled: row.disabled,
        }))
    }

    async fn get_jwks(&self, _: Request<pb::GetJwksRequest>) -> Result<Response<pb::Jwks>, Status> {
        let keys = keys::all(self.store.pool())
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(Response::new(pb::Jwks {
            json: keys::jwks(&keys).to_string(),
        }))
    }
}
