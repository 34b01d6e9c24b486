//! The gateway: the REST contract (`api-v1.md`) in front, the services' gRPC behind. It owns
//! nothing; it authenticates, authorises, validates the shape of requests and forwards.

pub mod access;
pub mod asyncapi;
mod docs;
pub mod error;
pub mod grpc;
pub mod in_flight;
pub mod json;
pub mod limits;
pub mod openapi;
pub mod replicas;
pub mod routes;
mod settings;
pub mod trace;
pub mod upstream;
mod web;

use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::{get, patch, post, put};
use tillstream_process::{listen, serve_until_signal};
use tillstream_telemetry::{Dependency, Probe, install_metrics, ops_router};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use settings::{GatewaySettings, SettingsError};

use crate::access::KeyCache;
use crate::error::ApiError;
use crate::limits::RateLimits;
use crate::upstream::Upstreams;

pub const SERVICE: &str = "gateway";

/// The largest JSON body a route accepts.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// What every handler reaches: the services and auth's keys.
#[derive(Debug, Clone)]
pub struct AppState {
    pub upstreams: Upstreams,
    pub keys: KeyCache,
    /// Browser origins allowed to call the API.
    pub cors_origins: Vec<HeaderValue>,
    pub limits: Arc<RateLimits>,
    pub in_flight: in_flight::InFlight,
    /// Whether answers carry `Server-Timing` (`TILLSTREAM_SERVER_TIMING`).
    pub server_timing: bool,
}

impl AppState {
    pub fn new(settings: &GatewaySettings) -> Self {
        let upstreams = Upstreams::connect_lazy(&settings.upstreams);
        let keys = KeyCache::fetching(tillstream_process::fetch_from_auth(
            upstreams.auth.pick().channel().clone(),
        ));
        let cors_origins = settings
            .cors_origins
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect();
        AppState {
            upstreams,
            keys,
            cors_origins,
            limits: Arc::new(RateLimits::new(
                settings.rate_limit_user_rps,
                settings.rate_limit_addr_rps,
            )),
            in_flight: in_flight::InFlight::default(),
            server_timing: settings.server_timing,
        }
    }
}

/// Cross-origin calls from the configured origins (web registers in a browser): preflights
/// are answered here, before routing and authentication; the trace id and `Retry-After` are
/// readable by the page.
fn cors(origins: Vec<HeaderValue>) -> CorsLayer {
    use axum::http::{HeaderName, Method};
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("traceparent"),
            HeaderName::from_static("x-approval"),
        ])
        .expose_headers([
            HeaderName::from_static("x-trace-id"),
            header::RETRY_AFTER,
            header::ETAG,
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// The REST routes of the contract, the operations routes, JSON 404 and 405.
pub fn router(state: AppState) -> Router {
    use routes::{
        approvals, auth, catalog, customer_accounts, customers, gift_cards, imports, inventory,
        ledger, purchase_invoices, purchase_orders, purchasing, registers, repairs, sale_batches,
        sale_changes, sales, suppliers, webhooks,
    };
    let csv_limit = DefaultBodyLimit::max(imports::CSV_LIMIT);
    let api = Router::new()
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/pin-login", post(auth::pin_login))
        .route("/api/v1/auth/refresh", post(auth::refresh))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/auth/me", get(auth::me))
        .route("/api/v1/auth/approvals", post(approvals::approve))
        .route("/api/v1/auth/me/pin", put(auth::set_own_pin))
        .route("/.well-known/jwks.json", get(auth::jwks))
        .route(
            "/api/v1/users",
            post(auth::create_user).get(auth::list_users),
        )
        .route("/api/v1/users/{id}", patch(auth::update_user))
        .route("/api/v1/users/{id}/pin", post(auth::set_pin))
        .route(
            "/api/v1/products",
            post(catalog::create).get(catalog::search),
        )
        .route("/api/v1/products/lookup", get(catalog::lookup))
        .route(
            "/api/v1/products/imports",
            post(imports::create).layer(csv_limit),
        )
        .route("/api/v1/products/imports/{id}", get(imports::get))
        .route(
            "/api/v1/products/imports/{id}/retry",
            post(imports::retry).layer(csv_limit),
        )
        .route(
            "/api/v1/products/{id}",
            get(catalog::get).patch(catalog::update),
        )
        .route(
            "/api/v1/products/{id}/discontinue",
            post(catalog::discontinue),
        )
        .route(
            "/api/v1/products/{id}/reactivate",
            post(catalog::reactivate),
        )
        .route(
            "/api/v1/locations",
            post(inventory::create_location).get(inventory::list_locations),
        )
        .route("/api/v1/stock/receipts", post(inventory::receive))
        .route("/api/v1/stock/adjustments", post(inventory::adjust))
        .route("/api/v1/stock/counts", post(inventory::count))
        .route("/api/v1/stock/transfers", post(inventory::transfer))
        .route("/api/v1/stock", get(inventory::stock))
        .route("/api/v1/stock/movements", get(inventory::movements))
        .route(
            "/api/v1/suppliers",
            post(suppliers::create).get(suppliers::list),
        )
        .route(
            "/api/v1/suppliers/{id}",
            get(suppliers::get).patch(suppliers::update),
        )
        .route("/api/v1/suppliers/{id}/payments", post(suppliers::pay))
        .route(
            "/api/v1/purchase-orders",
            post(purchase_orders::create).get(purchase_orders::list),
        )
        .route(
            "/api/v1/purchase-orders/{id}",
            get(purchase_orders::get).patch(purchase_orders::update),
        )
        .route(
            "/api/v1/purchase-orders/{id}/submit",
            post(purchase_orders::submit),
        )
        .route(
            "/api/v1/purchase-orders/{id}/receipts",
            post(purchase_orders::receive),
        )
        .route(
            "/api/v1/purchase-orders/{id}/invoices",
            post(purchase_invoices::invoice),
        )
        .route(
            "/api/v1/purchase-orders/{id}/close",
            post(purchase_orders::close),
        )
        .route(
            "/api/v1/purchase-orders/{id}/cancel",
            post(purchase_orders::cancel),
        )
        .route(
            "/api/v1/purchasing/suggestions",
            get(purchasing::suggestions),
        )
        .route("/api/v1/sales", post(sales::create).get(sales::list))
        .route("/api/v1/sales/{id}", get(sales::get))
        .route(
            "/api/v1/sales/{id}/returns",
            post(sale_changes::return_goods),
        )
        .route("/api/v1/sales/{id}/void", post(sale_changes::void))
        .route("/api/v1/sales/{id}/receipt", get(sales::receipt))
        .route("/api/v1/sales/batch", post(sale_batches::upload))
        .route(
            "/api/v1/customers",
            post(customers::create).get(customers::search),
        )
        .route(
            "/api/v1/customers/{id}",
            get(customers::get).patch(customers::update),
        )
        .route("/api/v1/customers/{id}/sales", get(customers::sales))
        .route("/api/v1/customers/{id}/erase", post(customers::erase))
        .route(
            "/api/v1/customers/{id}/account",
            get(customer_accounts::get),
        )
        .route(
            "/api/v1/customers/{id}/account/payments",
            post(customer_accounts::pay),
        )
        .route("/api/v1/gift-cards", post(gift_cards::issue))
        .route("/api/v1/gift-cards/{code}", get(gift_cards::get))
        .route("/api/v1/repairs", post(repairs::create).get(repairs::list))
        .route("/api/v1/repairs/{id}", get(repairs::get))
        .route("/api/v1/repairs/{id}/status", post(repairs::change_status))
        .route("/api/v1/repairs/{id}/parts", post(repairs::add_part))
        .route("/api/v1/repairs/{id}/labor", post(repairs::add_labor))
        .route("/api/v1/repairs/{id}/collect", post(repairs::collect))
        .route("/api/v1/customers/{id}/repairs", get(repairs::of_customer))
        .route(
            "/api/v1/registers",
            post(registers::create).get(registers::list),
        )
        .route("/api/v1/registers/{id}/sessions", post(registers::open))
        .route("/api/v1/registers/{id}/journal", get(registers::journal))
        .route(
            "/api/v1/registers/{id}/journal/verify",
            get(registers::verify),
        )
        .route("/api/v1/sessions", get(registers::list_sessions))
        .route("/api/v1/sessions/{id}", get(registers::get))
        .route(
            "/api/v1/sessions/{id}/cash-movements",
            post(registers::move_cash),
        )
        .route("/api/v1/sessions/{id}/report", get(registers::report))
        .route("/api/v1/sessions/{id}/close", post(registers::close))
        .route(
            "/api/v1/ledger/entries",
            get(ledger::entries).post(ledger::post_entry),
        )
        // Entries are never edited or deleted: PATCH and DELETE here are 405.
        .route("/api/v1/ledger/entries/{id}", get(ledger::entry))
        .route("/api/v1/ledger/entries/{id}/reverse", post(ledger::reverse))
        .route("/api/v1/ledger/accounts", get(ledger::accounts))
        .route("/api/v1/reports/daily", get(ledger::daily_report))
        .route("/api/v1/ledger/trial-balance", get(ledger::trial_balance))
        .route(
            "/api/v1/webhooks",
            post(webhooks::create).get(webhooks::list),
        )
        .route(
            "/api/v1/webhooks/{id}",
            get(webhooks::get).delete(webhooks::delete),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
            post(webhooks::retry),
        )
        .route("/api/v1/openapi.json", get(openapi::openapi_json))
        .route("/api/v1/asyncapi.json", get(asyncapi::asyncapi_json))
        .route("/docs", get(docs::page))
        .route("/docs/{asset}", get(docs::asset))
        .route("/", get(web::register))
        .route("/admin", get(web::admin))
        .route("/sw.js", get(web::worker))
        .route("/app/{asset}", get(web::asset))
        .route_layer(axum::middleware::from_fn_with_state(
            state.in_flight.clone(),
            in_flight::guard,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::authorize,
        ))
        .route_layer(axum::middleware::from_fn(json::no_nul_in_path))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state.clone());
    let origins = state.cors_origins.clone();
    let server_timing = state.server_timing;
    let ops = ops_router(SERVICE, readiness_probe(state), install_metrics());
    let app = ops.merge(api);
    let app = if origins.is_empty() {
        app
    } else {
        app.layer(cors(origins))
    };
    app.layer(axum::middleware::from_fn_with_state(
        server_timing,
        trace::traced,
    ))
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("no such route; see /api/v1/openapi.json")
}

async fn wrong_method() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

/// Ready when every service is. Auth answers `/readyz` only once its bootstrap admin
/// exists (it creates it before it listens), so that is covered too.
fn readiness_probe(state: AppState) -> Probe {
    Arc::new(move || {
        let upstreams = state.upstreams.clone();
        Box::pin(async move {
            upstreams
                .readiness()
                .await
                .into_iter()
                .map(|(name, outcome)| Dependency {
                    name: name.into(),
                    up: outcome.is_ok(),
                    required: true,
                    detail: outcome.err(),
                })
                .collect()
        })
    })
}

/// Serves the REST side on `listener` until `shutdown`, then drains in-flight requests.
pub async fn serve(
    settings: GatewaySettings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    serve_all(settings, listener, None, shutdown).await
}

/// Serves REST on `http`, and the gRPC mirror on `grpc` when given, until `shutdown`; both
/// drain their in-flight requests before this returns.
pub async fn serve_all(
    settings: GatewaySettings,
    http: TcpListener,
    grpc: Option<TcpListener>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let state = AppState::new(&settings);
    let grpc_side = match grpc {
        None => None,
        Some(listener) => {
            let app =
                grpc::router(&state, shutdown.child_token()).map_err(std::io::Error::other)?;
            tracing::info!(service = SERVICE, addr = %listener.local_addr()?, "gRPC listening");
            let serving = axum::serve(
                tillstream_process::without_nagle(listener),
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown.clone().cancelled_owned());
            Some(tokio::spawn(serving.into_future()))
        }
    };
    let app = router(state);
    tracing::info!(service = SERVICE, addr = %http.local_addr()?, "listening");
    let rest = axum::serve(
        tillstream_process::without_nagle(http),
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.cancelled_owned())
    .await;
    if let Some(grpc_side) = grpc_side {
        grpc_side.await.map_err(std::io::Error::other)??;
    }
    rest
}

/// The whole of the gateway's `main`: logs, settings from the environment (exit code 2 and
/// the variable named when one is wrong), the listener, Ctrl-C/SIGTERM, then `serve`.
pub async fn run_main() -> ExitCode {
    tillstream_telemetry::init_logging(SERVICE);
    let settings = match GatewaySettings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            tracing::error!(%error, "bad configuration");
            return ExitCode::from(2);
        }
    };
    let (listener, grpc) = match (
        listen(settings.http_addr).await,
        listen(settings.grpc_addr).await,
    ) {
        (Ok(http), Ok(grpc)) => (http, grpc),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    serve_until_signal(|shutdown| serve_all(settings, listener, Some(grpc), shutdown)).await
}
