//! `POST /api/v1/auth/approvals`: a manager's PIN or password entered at a cashier's till
//! becomes an approval token for one action, which the till sends as `X-Approval` with the
//! request that needs it.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use tillstream_proto::auth::v1 as pb;
use tillstream_proto::auth::v1::auth_service_client::AuthServiceClient;
use utoipa::ToSchema;

use super::{Created, created};
use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::upstream::request;

/// The header a request carries its approvals in (comma-separated when it needs several).
pub const APPROVAL_HEADER: &str = "x-approval";

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"username": "maya", "pin": "4821", "action": "price_override", "reason": "damaged box"}))]
pub struct ApprovalBody {
    username: String,
    pin: Option<String>,
    password: Option<String>,
    /// `price_override`, `discount`, `return`, `void`, `refund_tender` or `cash_difference`.
    action: String,
    reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApproverView {
    id: String,
    username: String,
    role: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"approval_token": "eyJhbGciOiJFZERTQSIs…", "approval_id": "01JD5…", "approver": {"id": "01JD4…", "username": "maya", "role": "manager"}, "action": "price_override", "expires_in": 120}))]
pub struct ApprovalView {
    approval_token: String,
    approval_id: String,
    approver: ApproverView,
    action: String,
    expires_in: i64,
}

/// 201: an approval for one action, for 120 s, used once.
#[utoipa::path(post, path = "/api/v1/auth/approvals", request_body = ApprovalBody,
    responses((status = 201, description = "The approval", body = ApprovalView),
        (status = 401, description = "Bad credentials (they count toward the approver's lockout)", body = crate::openapi::ErrorBody),
        (status = 403, description = "`approver_not_allowed`: the approver is below manager", body = crate::openapi::ErrorBody),
        (status = 422, description = "An unknown action, or neither or both of pin and password", body = crate::openapi::ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ApprovalBody>,
) -> Result<Created<ApprovalView>, ApiError> {
    let message = pb::ApproveRequest {
        username: body.username,
        pin: body.pin.unwrap_or_default(),
        password: body.password.unwrap_or_default(),
        action: body.action,
        reason: body.reason.unwrap_or_default(),
    };
    let approval = AuthServiceClient::new(state.upstreams.auth.pick())
        .approve(request(message, caller.on_behalf()))
        .await
        .map_err(|status| ApiError::from_status("auth", &status))?
        .into_inner();
    Ok(created(ApprovalView {
        approval_token: approval.approval_token,
        approval_id: approval.approval_id,
        approver: ApproverView {
            id: approval.approver_id,
            username: approval.approver_username,
            role: approval.approver_role,
        },
        action: approval.action,
        expires_in: approval.expires_in,
    }))
}
