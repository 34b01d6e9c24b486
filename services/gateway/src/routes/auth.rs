//! Logging in, who am I, the public keys, and users.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tillstream_proto::auth::v1 as pb;
use tillstream_proto::auth::v1::auth_service_client::AuthServiceClient;
use utoipa::ToSchema;

use super::{Created, Page, PageQuery, created};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::{JsonBody, Query};
use crate::upstream::request;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"username": "ada", "password": "correct horse battery staple"}))]
pub struct LoginBody {
    username: String,
    password: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJFZERTQSIs…", "refresh_token": "01JD5…", "token_type": "Bearer", "expires_in": 900}))]
pub struct TokensView {
    access_token: String,
    refresh_token: String,
    token_type: String,
    expires_in: i64,
}

impl From<pb::Tokens> for TokensView {
    fn from(tokens: pb::Tokens) -> Self {
        TokensView {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            token_type: tokens.token_type,
            expires_in: tokens.expires_in,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginBody,
    responses((status = 200, description = "Tokens", body = TokensView),
        (status = 401, description = "Unknown user, wrong secret, or a spent or revoked token", body = crate::openapi::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Json<TokensView>, ApiError> {
    let message = pb::LoginRequest {
        username: body.username,
        password: body.password,
    };
    let tokens = client(&state)
        .login(request(message, None))
        .await
        .map_err(|status| ApiError::from_status("auth", &status))?;
    Ok(Json(tokens.into_inner().into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"username": "ada", "pin": "4821"}))]
pub struct PinLoginBody {
    username: String,
    pin: String,
}

#[utoipa::path(post, path = "/api/v1/auth/pin-login", request_body = PinLoginBody,
    responses((status = 200, description = "Tokens", body = TokensView),
        (status = 401, description = "Unknown user, wrong secret, or a spent or revoked token", body = crate::openapi::ErrorBody)))]
pub async fn pin_login(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<PinLoginBody>,
) -> Result<Json<TokensView>, ApiError> {
    let message = pb::PinLoginRequest {
        username: body.username,
        pin: body.pin,
    };
    let tokens = client(&state)
        .pin_login(request(message, None))
        .await
        .map_err(|status| ApiError::from_status("auth", &status))?;
    Ok(Json(tokens.into_inner().into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"refresh_token": "01JD5…"}))]
pub struct RefreshBody {
    refresh_token: String,
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", request_body = RefreshBody,
    responses((status = 200, description = "Tokens", body = TokensView),
        (status = 401, description = "Unknown user, wrong secret, or a spent or revoked token", body = crate::openapi::ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<RefreshBody>,
) -> Result<Json<TokensView>, ApiError> {
    let message = pb::RefreshRequest {
        refresh_token: body.refresh_token,
    };
    let tokens = client(&state)
        .refresh(request(message, None))
        .await
        .map_err(|status| ApiError::from_status("auth", &status))?;
    Ok(Json(tokens.into_inner().into()))
}

/// 204: the session is over (also when it already was).
#[utoipa::path(post, path = "/api/v1/auth/logout", request_body = RefreshBody,
    responses((status = 204, description = "Logged out")))]
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<RefreshBody>,
) -> Result<StatusCode, ApiError> {
    let message = pb::LogoutRequest {
        refresh_token: body.refresh_token,
    };
    client(&state)
        .logout(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("auth", &status))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P", "username": "ada", "role": "manager", "location_ids": []}))]
pub struct MeView {
    id: String,
    username: String,
    role: String,
    /// Where the caller may sell; empty for every location.
    location_ids: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/auth/me", responses((status = 200, description = "The caller", body = MeView)))]
pub async fn me(caller: Caller) -> Json<MeView> {
    Json(MeView {
        id: caller.claims.sub,
        username: caller.claims.name,
        role: caller.claims.role.to_string(),
        location_ids: caller.claims.locations,
    })
}

/// The JWKS exactly as auth publishes it.
#[utoipa::path(get, path = "/.well-known/jwks.json",
    responses((status = 200, description = "The public keys tokens are signed with (RFC 7517)", body = Object)))]
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

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"username": "bo", "password": "a long passphrase", "role": "cashier", "location_ids": ["01JD5W2N8Q3V6R1T4Y7Z0A9B2C"]}))]
pub struct NewUser {
    username: String,
    password: String,
    role: String,
    /// The locations the user may sell, open sessions and take returns at (at most 100);
    /// absent or empty for every location.
    #[serde(default)]
    location_ids: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JD5W2N8Q3V6R1T4Y7U0I9O2P", "username": "bo", "role": "cashier", "disabled": false, "has_pin": true, "location_ids": [], "created_at": "2026-11-24T09:00:00Z"}))]
pub struct UserView {
    id: String,
    username: String,
    role: String,
    disabled: bool,
    has_pin: bool,
    location_ids: Vec<String>,
    created_at: String,
}

impl From<pb::User> for UserView {
    fn from(user: pb::User) -> Self {
        UserView {
            id: user.id,
            username: user.username,
            role: user.role,
            disabled: user.disabled,
            has_pin: user.has_pin,
            location_ids: user.location_ids,
            created_at: user.created_at,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/users", request_body = NewUser,
    responses((status = 201, description = "Created", body = UserView)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewUser>,
) -> Result<Created<UserView>, ApiError> {
    let user = client(&state)
        .create_user(request(
            pb::CreateUserRequest {
                username: body.username,
                password: body.password,
                role: body.role,
                location_ids: body.location_ids,
            },
            caller.on_behalf(),
        ))
        .await
        .map_err(|status| ApiError::from_status("auth", &status))?;
    Ok(created(user.into_inner().into()))
}

#[utoipa::path(get, path = "/api/v1/users", params(PageQuery),
    responses((status = 200, description = "A page of users", body = Page<UserView>)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PageQuery>,
) -> Result<Json<Page<UserView>>, ApiError> {
    let paging = query.paging()?;
    let users = client(&state)
        .list_users(request(pb::ListUsersRequest {}, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("auth", &status))?
        .into_inner()
        .users;
    Ok(Json(
        paging.page_of(users.into_iter().map(Into::into).collect()),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "manager", "disabled": false, "location_ids": []}))]
pub struct UserPatch {
    role: Option<String>,
    disabled: Option<bool>,
    password: Option<String>,
    /// Replaces the user's locations; `[]` for every location.
    location_ids: Option<Vec<String>>,
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", params(("id" = String, Path, description = "The user's id")),
    request_body = UserPatch, responses((status = 200, description = "The user", body = UserView)))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UserPatch>,
) -> Result<Json<UserView>, ApiError> {
    let message = pb::UpdateUserRequest {
        id,
        role: body.role,
        disabled: body.disabled,
        password: body.password,
        location_ids: body.location_ids.map(|ids| pb::LocationIds { ids }),
    };
    let user = client(&state)
        .update_user(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("auth", &status))?;
    Ok(Json(user.into_inner().into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"pin": "4821"}))]
pub struct PinBody {
    pin: String,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/pin", params(("id" = String, Path, description = "The user's id")),
    request_body = PinBody, responses((status = 200, description = "The user", body = UserView)))]
pub async fn set_pin(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PinBody>,
) -> Result<Json<UserView>, ApiError> {
    let message = pb::SetPinRequest { id, pin: body.pin };
    let user = client(&state)
        .set_pin(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("auth", &status))?;
    Ok(Json(user.into_inner().into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"current_password": "…", "pin": "4821"}))]
pub struct OwnPinBody {
    current_password: String,
    pin: String,
}

/// One's own PIN, with one's current password (a wrong one counts toward the lockout).
#[utoipa::path(put, path = "/api/v1/auth/me/pin", request_body = OwnPinBody,
    responses((status = 200, description = "The user", body = UserView),
        (status = 401, description = "The current password is wrong", body = crate::openapi::ErrorBody),
        (status = 422, description = "Not 4 to 8 digits", body = crate::openapi::ErrorBody)))]
pub async fn set_own_pin(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<OwnPinBody>,
) -> Result<Json<UserView>, ApiError> {
    let message = pb::SetOwnPinRequest {
        current_password: body.current_password,
        pin: body.pin,
    };
    let user = client(&state)
        .set_own_pin(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("auth", &status))?;
    Ok(Json(user.into_inner().into()))
}

fn client(state: &AppState) -> AuthServiceClient<crate::upstream::Replica> {
    AuthServiceClient::new(state.upstreams.auth.pick())
}
