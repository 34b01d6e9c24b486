//! Interactive API docs at `/docs`: Swagger UI over the document the gateway serves at
//! `/api/v1/openapi.json`, its assets compiled into the binary (`assets/swagger-ui`,
//! swagger-ui-dist 5.35.0, Apache-2.0, its LICENSE and NOTICE beside it), so nothing is
//! fetched from a CDN and the page works where the gateway has no internet.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

const PAGE: &str = include_str!("../assets/docs.html");
const INIT: &str = include_str!("../assets/docs-init.js");
const BUNDLE: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js");
const STYLES: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css");

/// The bundle and styles change only with the binary: a day in caches.
const CACHE: &str = "public, max-age=86400";

pub async fn page() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response()
}

pub async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    let (content_type, body): (&str, &'static [u8]) = match name.as_str() {
        "swagger-ui-bundle.js" => ("text/javascript; charset=utf-8", BUNDLE),
        "swagger-ui.css" => ("text/css; charset=utf-8", STYLES),
        "init.js" => ("text/javascript; charset=utf-8", INIT.as_bytes()),
        _ => return Err(ApiError::not_found(format!("no asset `{name}`"))),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, CACHE),
        ],
        body,
    )
        .into_response())
}
