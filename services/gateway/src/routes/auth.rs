//! Logging in, who am I, the public keys, and users.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tillstream_proto::auth::v1 as pb;
use tillstream_proto::auth::v1::auth_service_client::AuthServiceClient;

use super::{Created, created};
use crate::AppState;
use crate::access::{Admin, AnyUser};
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::upstream::request;

#[derive(Debug, Deserialize)]
pub struct LoginBody {
    username: String,
    password: String,
}

#[derive(Debug, Serialize)]
pub struct TokensView {
    access_token: String,
    token_type: String,
    expires_in: i64,
}

pub async fn login(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Json<TokensView>, ApiError> {
    let tokens = client(&state)
        .login(request(
            pb::LoginRequest {
                username: body.username,
                password: body.password,
            },
            None,
        ))
        .await
        .map_err(|status| ApiError::from_status("auth", &status))?
        .into_inner();
    Ok(Json(TokensView {
        access_token: tokens.access_token,
        token_type: tokens.token_type,
        expires_in: tokens.expires_in,
    }))
}

#[derive(Debug, Serialize)]
pub struct MeView {
    id: String,
    username: String,
    role: String,
}

pub async fn me(caller: AnyUser) -> Json<MeView> {
    Json(MeView {
        id: caller.claims.sub,
        username: caller.claims.name,
        role: caller.claims.role.to_string(),
    })
}

/// The JWKS exactly as auth publishes it.
pub async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let jwks = client(&state)
        .get_jwks(request(pb::GetJwksRequest {}, None))
        .await
        .map_err(|status| ApiError::from_status("auth", &status))?
        .into_inner()
        .json;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        jwks,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct NewUser {
    username: String,
    password: String,
    role: String,
}

#[derive(Debug, Serialize)]
pub struct UserView {
    id: String,
    username: String,
    role: String,
    disabled: bool,
}

pub async fn create_user(
    State(state): State<AppState>,
    caller: Admin,
    JsonBody(body): JsonBody<NewUser>,
) -> Result<Created<UserView>, ApiError> {
    let user = client(&state)
        .create_user(request(
            pb::CreateUserRequest {
                username: body.username,
                password: body.password,
                role: body.role,
            },
            Some(&caller.claims),
        ))
        .await
        .map_err(|status| ApiError::from_status("auth", &status))?
        .into_inner();
    Ok(created(UserView {
        id: user.id,
        username: user.username,
        role: user.role,
        disabled: user.disabled,
    }))
}

fn client(state: &AppState) -> AuthServiceClient<tonic::transport::Channel> {
    AuthServiceClient::new(state.upstreams.auth.clone())
}
