//! Traza's HTTP server (axum 0.8): the JSON API of SPEC §3 under `/api/v1`, its OpenAPI 3.1
//! document generated from the handlers, and the operational endpoints.

pub mod api;
mod docs;
pub mod error;
pub mod extract;
pub mod ui;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use traza_store::ErrorCode;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Request, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use traza_store::Store;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiError, InternalDetail};

/// What every handler shares: one `Arc`, so that the clone each request makes of the state
/// is one reference count, not one per cache the store holds.
#[derive(Clone)]
pub struct AppState {
    pub store: std::sync::Arc<Store>,
}

impl AppState {
    pub fn new(store: Store) -> AppState {
        AppState {
            store: std::sync::Arc::new(store),
        }
    }
}

/// Request ids: a random prefix drawn once per process (several `traza serve` run behind one
/// load balancer) and a counter, so that a request costs no draw from the system's random
/// source. Unique across processes and restarts, as a UUID per request was.
#[derive(Clone)]
struct RequestIds {
    prefix: std::sync::Arc<str>,
    next: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    fn new() -> RequestIds {
        RequestIds {
            prefix: format!("{:012x}", rand::random::<u64>() >> 16).into(),
            next: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n:x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Largest JSON body accepted (CSV imports have their own, streamed route).
pub const BODY_LIMIT: usize = 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "Traza API", description = "Manufacturing tracker for a network of GMP laboratories making advanced therapy medicinal products."),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().2
}

/// OpenAPI 3.1 requires a `description` on every response; a handler that gives none gets
/// the status's reason phrase (`Not Found`), so the document stays valid for real tools.
fn describe_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            for (status, response) in op.responses.responses.iter_mut() {
                if let RefOr::T(r) = response
                    && r.description.trim().is_empty()
                {
                    r.description = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|s| StatusCode::from_u16(s).ok())
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("response")
                        .to_owned();
                }
            }
        }
    }
}

/// The API's routes with a short timeout, those that may run for minutes, and the document
/// of both.
fn api_routes() -> (Router<AppState>, Router<AppState>, utoipa::openapi::OpenApi) {
    let (short, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        // The batch record PDF speaks the pages' language (their catalogues), which the API
        // modules may not import: its route comes from the pages' side.
        .nest("/api/v1", api::router().merge(ui::pdf::api_router()))
        .nest("/public/v1", api::public::router())
        .split_for_parts();
    let (long, long_doc) = OpenApiRouter::new()
        .nest("/api/v1", api::long_router())
        .split_for_parts();
    doc.merge(long_doc);
    describe_responses(&mut doc);
    (short, long, doc)
}

/// A request may take this long, except an import.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// An import of a few million rows, upload included.
const IMPORT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// For what is the same for every caller until the next release (the OpenAPI document).
const RELEASE_CONSTANT: [(HeaderName, &str); 1] = [(header::CACHE_CONTROL, "public, max-age=300")];

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let (short, long, doc) = api_routes();
    // Each group's handlers run in tasks of their own, inside the group's timeout.
    let within =
        |routes: Router<AppState>, limit| {
            routes.layer(middleware::from_fn(run_to_completion)).layer(
                TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, limit),
            )
        };
    let doc_json = Arc::new(serde_json::to_value(&doc).unwrap_or_default());
    let docs_html = Arc::new(docs::render(&doc_json));
    let operations = Router::new()
        .route(
            "/api/v1/openapi.json",
            get(move || async move { (RELEASE_CONSTANT, Json((*doc_json).clone())) }),
        )
        .route(
            "/api/v1/docs",
            get(move || async move { (RELEASE_CONSTANT, Html((*docs_html).clone())) }),
        )
        .route(
            "/api/v1/docs.css",
            get(move || async move {
                (
                    RELEASE_CONSTANT,
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
                    docs::CSS,
                )
            }),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(middleware::from_fn(run_to_completion));
    let router = Router::new()
        .merge(within(short, REQUEST_TIMEOUT))
        .merge(within(long, IMPORT_TIMEOUT))
        .merge(operations)
        .merge(within(ui::router(), REQUEST_TIMEOUT))
        .merge(within(ui::long_router(), IMPORT_TIMEOUT))
        .fallback(|uri: axum::http::Uri, headers: axum::http::HeaderMap| async move { ui::not_found(&uri, &headers) })
        .method_not_allowed_fallback(|| async { ApiError::new(StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed, "this resource does not take that method") })
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(refuse_nul_in_uri))
        .layer(middleware::from_fn(log_server_errors))
        .layer(CatchPanicLayer::custom(|_| ApiError::internal("a handler panicked").into_response()))
        .layer(CompressionLayer::new())
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
            // The matched route, never the URI: trace paths carry donor and patient codes.
            let route = req.extensions().get::<axum::extract::MatchedPath>().map_or("-", |p| p.as_str()).to_owned();
            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
            tracing::info_span!("request", method = %req.method(), route = %route, request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds::new()));
    with_security_headers(router)
}

/// What a browser may do with a page of Traza. Pages load their stylesheet and their one
/// script as files of this site (`/estilo.css`, `/identidad.*.js`, `/api/v1/docs.css`) and
/// carry no inline `<script>`, `<style>` or `style=` at all: so `'self'` suffices, with
/// neither `'unsafe-inline'` nor hashes of inline blocks to keep in step with the code, and
/// text a user typed can never run as a script. (Charts are inline SVG drawn with
/// presentation attributes, which the policy does not govern.)
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'; object-src 'none'";

/// Headers on every answer: the policy above, no MIME sniffing, no referrer to other sites
/// (page URLs carry batch numbers and donor codes), no framing (clickjacking of a signature
/// form), and `no-store` unless the handler said how its answer may be cached. Denied by
/// default: only answers that cannot carry GMP data say otherwise (the public registry, the
/// stylesheet and script, the OpenAPI document and its page); a new route that forgets is
/// kept out of browser and proxy caches.
fn with_security_headers(router: Router) -> Router {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
}

/// Runs the request's handler in a task of its own, which the request only awaits: a client
/// that hangs up (hyper drops the request's future) or a timeout that fires (`TimeoutLayer`
/// drops it) then drops only the `JoinHandle`, and the handler runs to its end, committing or
/// rolling back its transaction. Its answer is discarded; its work is done or undone whole, as
/// if the client had waited.
///
/// Why no handler may be dropped while it holds a database connection: sqlx-postgres 0.9's
/// `PgTransactionManager::begin` sends `BEGIN` and awaits its answer under a guard that queues
/// a `ROLLBACK` only when `transaction_depth > 0`, and at the top level the depth is still 0
/// while `BEGIN` is in flight (sea-orm's `DatabaseTransaction` rolls back on drop by the same
/// depth). A future dropped at that await hands the connection back to the pool with a
/// transaction open on the server: the next user's `BEGIN` is a no-op, its `SET TRANSACTION
/// ISOLATION LEVEL` fails ("must be called before any query", a 500), or its statements run
/// inside a stranger's transaction. The test `requests_cancelled_mid_transaction_leave_no_
/// transaction_open` shows it. Spawning costs about a microsecond per request.
async fn run_to_completion(req: Request<Body>, next: Next) -> Response {
    use tracing::Instrument;
    match tokio::spawn(next.run(req).in_current_span()).await {
        Ok(response) => response,
        // For `CatchPanicLayer`, outside, to answer as for any panicking handler.
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only a runtime shutting down cancels a task.
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ShuttingDown,
            "the server is shutting down",
        )
        .into_response(),
    }
}

/// No key or filter in Traza may hold a NUL character, and PostgreSQL refuses one in text
/// with an error: an encoded NUL anywhere in the path or query is a malformed request.
async fn refuse_nul_in_uri(req: Request<Body>, next: Next) -> Response {
    let uri = req.uri();
    let has_nul = |s: &str| s.as_bytes().windows(3).any(|w| w == b"%00");
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        return ApiError::bad_request("the request URI contains an encoded NUL character")
            .into_response();
    }
    next.run(req).await
}

/// Logs a 5xx once, inside the request span, with the detail the client never sees.
async fn log_server_errors(req: Request<Body>, next: Next) -> Response {
    let id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|r| r.header_value().to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let mut response = next.run(req).await;
    if response.status().is_server_error() {
        let detail = response
            .extensions_mut()
            .remove::<InternalDetail>()
            .map_or_else(|| "no detail".to_owned(), |d| d.0);
        tracing::error!(request_id = %id, status = %response.status(), %detail, "request failed");
    }
    if response.status() == StatusCode::SERVICE_UNAVAILABLE
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Timeout,
            "the request took too long",
        )
        .into_response();
    }
    response
}

/// The process is up.
async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// The database answers.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "database": state.store.backend()})),
        ),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": state.store.backend()})),
        ),
    }
}

/// How long a client may take to send a request's line and headers before its connection is
/// closed. Without it a client that sends a header a minute (slowloris) holds a connection and
/// its task forever, and a few thousand of them exhaust the process's file descriptors. Ten
/// seconds is far more than any real client over any real network needs; an idle keep-alive
/// connection is closed after as long, which costs a returning client one new handshake.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound server, ready to run: tests bind `127.0.0.1:0` and read the port.
pub struct Server {
    listener: TcpListener,
    app: Router,
    /// See [`HEADER_READ_TIMEOUT`], the default; tests shorten it.
    pub header_read_timeout: Duration,
}

impl Server {
    pub async fn bind(addr: &str, state: AppState) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Server {
            listener,
            app: router(state),
            header_read_timeout: HEADER_READ_TIMEOUT,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    ///
    /// Each connection is served by hyper's HTTP/1 builder rather than `axum::serve`, which
    /// sets no timer and so no header read timeout at all. Requests carry the peer's address
    /// as axum's `ConnectInfo<SocketAddr>`.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        accept_failed(e).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let app = self.app.clone();
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let mut req = req.map(Body::new);
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                tower::ServiceExt::oneshot(app.clone(), req)
            });
            let connection = graceful
                .watch(http.serve_connection(hyper_util::rt::TokioIo::new(stream), service));
            tokio::spawn(async move {
                // A client that hung up or was too slow; nothing for the log at info.
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "connection ended");
                }
            });
        }
        // No new connections; open ones finish their request in flight and close.
        drop(self.listener);
        graceful.shutdown().await;
        Ok(())
    }
}

/// An error from `accept`. One connection's failure (reset before it was accepted) is no
/// reason to wait; running out of file descriptors is, or the loop would spin on it.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "accepting a connection failed; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
