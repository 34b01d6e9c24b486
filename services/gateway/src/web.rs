//! The web register at `/` and the back office at `/admin`: plain HTML, CSS and JavaScript
//! modules compiled into the binary (`assets/web`), no build step and nothing fetched from
//! elsewhere. They call the public REST API with the user's own token, like any frontend.
//!
//! Every asset is answered with a strong `ETag` (the hash of the whole shell, which only a
//! new binary changes) and `Cache-Control: no-cache`, so a browser revalidates cheaply and
//! a deploy reaches registers at once. The service worker (`/sw.js`, served from the root so
//! its scope is the whole origin) caches the same files for when the gateway is gone.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// (name, content type, body) of every file the pages load.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "register.html",
        HTML,
        include_str!("../assets/web/register.html"),
    ),
    ("admin.html", HTML, include_str!("../assets/web/admin.html")),
    ("app.css", CSS, include_str!("../assets/web/app.css")),
    ("admin.css", CSS, include_str!("../assets/web/admin.css")),
    ("api.js", JS, include_str!("../assets/web/api.js")),
    ("offline.js", JS, include_str!("../assets/web/offline.js")),
    ("cart.js", JS, include_str!("../assets/web/cart.js")),
    (
        "till-tools.js",
        JS,
        include_str!("../assets/web/till-tools.js"),
    ),
    ("register.js", JS, include_str!("../assets/web/register.js")),
    ("admin.js", JS, include_str!("../assets/web/admin.js")),
    ("admin-ui.js", JS, include_str!("../assets/web/admin-ui.js")),
    (
        "admin-dashboard.js",
        JS,
        include_str!("../assets/web/admin-dashboard.js"),
    ),
    (
        "admin-catalog.js",
        JS,
        include_str!("../assets/web/admin-catalog.js"),
    ),
    (
        "admin-stock.js",
        JS,
        include_str!("../assets/web/admin-stock.js"),
    ),
    (
        "admin-sales.js",
        JS,
        include_str!("../assets/web/admin-sales.js"),
    ),
    (
        "admin-orders.js",
        JS,
        include_str!("../assets/web/admin-orders.js"),
    ),
    ("sw.js", JS, include_str!("../assets/web/sw.js")),
];

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// One version for the whole shell: the service worker names its cache after it, so a new
/// binary replaces every cached file together.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = DefaultHasher::new();
    for (name, _, body) in ASSETS {
        name.hash(&mut hasher);
        body.hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
});

/// The service worker, with the shell's version written in.
static WORKER: LazyLock<String> = LazyLock::new(|| {
    let (_, _, source) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == "sw.js")
        .copied()
        .unwrap_or(("sw.js", JS, ""));
    source.replace("__SHELL_VERSION__", &VERSION)
});

pub async fn register(headers: HeaderMap) -> Response {
    serve("register.html", &headers)
}

pub async fn admin(headers: HeaderMap) -> Response {
    serve("admin.html", &headers)
}

pub async fn worker(headers: HeaderMap) -> Response {
    answer(JS, WORKER.as_bytes(), &headers)
}

pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    // The pages have routes of their own, and the worker is served with its version in.
    if name.ends_with(".html") || name == "sw.js" {
        return Err(ApiError::not_found(format!("no asset `{name}`")));
    }
    Ok(serve(&name, &headers))
}

fn serve(name: &str, headers: &HeaderMap) -> Response {
    match ASSETS.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, body)) => answer(content_type, body.as_bytes(), headers),
        None => ApiError::not_found(format!("no asset `{name}`")).into_response(),
    }
}

fn answer(content_type: &'static str, body: &'static [u8], headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", *VERSION);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
    let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let common = [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, etag),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                     script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
                ),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_carries_the_shell_version() {
        assert!(WORKER.contains(VERSION.as_str()), "{}", &WORKER[..200]);
        assert!(!WORKER.contains("__SHELL_VERSION__"));
    }

    #[tokio::test]
    async fn a_revalidation_with_the_current_tag_is_answered_without_a_body() {
        let mut headers = HeaderMap::new();
        let tag = format!("\"{}\"", *VERSION);
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("x")),
        );
        assert_eq!(register(headers).await.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(
            register(HeaderMap::new()).await.status(),
            StatusCode::OK,
            "a first visit gets the page"
        );
    }

    #[tokio::test]
    async fn pages_are_not_assets_and_unknown_names_are_404() {
        for name in ["register.html", "sw.js"] {
            let answer = asset(Path(name.to_owned()), HeaderMap::new()).await;
            assert!(answer.is_err(), "{name}");
        }
        for name in ["../Cargo.toml", "nope.js"] {
            let answer = asset(Path(name.to_owned()), HeaderMap::new()).await;
            let status = answer.map(|r| r.status()).unwrap_or(StatusCode::OK);
            assert_eq!(status, StatusCode::NOT_FOUND, "{name}");
        }
        assert!(
            asset(Path("register.js".to_owned()), HeaderMap::new())
                .await
                .is_ok()
        );
    }
}
