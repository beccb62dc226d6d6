//! The web application (issue 6): server-rendered pages in Spanish first, for laboratory
//! staff, QA and the coordination unit. Every page calls the same store methods as the JSON
//! API, so every rule is the server's; the pages only show and ask. Forms work without
//! JavaScript; a few lines of script (served as a file, never inline) only add hints while
//! typing.
//!
//! A session is a bearer token of the store kept in an HttpOnly, SameSite=Strict cookie
//! (Secure behind TLS); it expires with the token (12 h) and logging out revokes it. Every
//! form carries a CSRF token derived from the session, checked on every POST.

mod account;
mod explain;
mod fmt;
mod holds;
mod i18n;
mod pages;
pub(crate) mod pdf;
mod problems;
mod registry;
mod scripts;
mod style;
mod vigilance;
mod widgets;

use axum::Router;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use traza_domain::access::Actor;
use traza_domain::vocab::Role;
use traza_store::ErrorCode;

pub(crate) use explain::{audit_what, error_box, error_title, field_label, rule_line};
pub use fmt::Lang;

use crate::AppState;
use crate::error::ApiError;

const SESSION_COOKIE: &str = "traza_sesion";
/// The CSRF token of the login form, before there is a session (double-submit cookie).
const LOGIN_CSRF_COOKIE: &str = "traza_csrf_entrada";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/entrar", get(login_page).post(login))
        .route("/salir", post(logout))
        .route("/idioma", get(switch_language))
        .route("/estilo.css", get(style::css))
        .route("/registro", get(registry::registro))
        .merge(scripts::routes())
        .merge(pages::routes())
        .merge(account::routes())
        .merge(vigilance::routes())
}

/// The pages that may take minutes (an import), for the long timeout.
pub fn long_router() -> Router<AppState> {
    pages::long_routes()
}

/// A cookie's value from the request headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Behind a TLS-terminating proxy the cookie must be `Secure`.
fn behind_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn hex_digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// Equal without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A path of this site to go back to (after logging in, or switching the language), never
/// another site: anything else is `/`.
///
/// Browsers read a `Location` leniently: they drop tabs and line breaks anywhere in it and
/// take a backslash for `/` (WHATWG URL Standard, "basic URL parser"), so `/%09/evil.example`
/// (a tab) and `/\evil.example` both lead to `//evil.example`, another host. A control
/// character cannot even go into a header, nor can a non-ASCII one through `Redirect` (the
/// answer would be a 500). So the path starts with exactly one `/` and holds only printable
/// ASCII other than the backslash: no control character, no whitespace. The paths this site
/// sends back here are its own request URIs, percent-encoded, so none is refused.
fn local_path(p: Option<&str>) -> String {
    let is_local = |p: &str| {
        let mut chars = p.chars();
        chars.next() == Some('/')
            && !matches!(chars.next(), Some('/' | '\\'))
            && p.chars().all(|c| c.is_ascii_graphic() && c != '\\')
    };
    match p {
        Some(p) if is_local(p) => p.to_owned(),
        _ => "/".to_owned(),
    }
}

/// The logged-in user of a page.
pub struct Session {
    pub actor: Actor,
    token: String,
    pub lang: Lang,
}

impl Session {
    /// The CSRF token of this session's forms.
    pub fn csrf(&self) -> String {
        hex_digest(&["traza-csrf", &self.token])
    }

    /// Whether a form's CSRF token is this session's.
    pub fn csrf_ok(&self, sent: &str) -> bool {
        same(sent, &self.csrf())
    }

    /// The answer to a form whose CSRF token is not this session's.
    pub fn csrf_refused(&self) -> Response {
        {
            page_error(
                self.lang,
                StatusCode::FORBIDDEN,
                self.lang.t("the-form-has-expired-or-did"),
            )
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = Lang::from_headers(&parts.headers);
        let back = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let to_login = || {
            let target = format!("/entrar?volver={}", urlencode(&back));
            Redirect::to(&target).into_response()
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned) else {
            return Err(to_login());
        };
        if token.is_empty() || token.len() > 256 {
            return Err(to_login());
        }
        let session = async {
            let actor = state.store.actor_for_token(&token).await?;
            state.store.touch_web_session(&token).await?;
            Ok(actor)
        };
        match session.await {
            Ok(actor) => Ok(Session { actor, token, lang }),
            Err(
                traza_store::StoreError::Unauthenticated | traza_store::StoreError::NotFound(_),
            ) => Err(to_login()),
            Err(e) => Err(store_error(lang, e)),
        }
    }
}

/// Percent-encodes a query value.
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The navigation of a role: what its people come to do.
fn nav(l: Lang, actor: &Actor) -> Vec<(&'static str, &'static str)> {
    let mut items = vec![("/lotes", l.t("batches"))];
    match actor.role {
        Role::LabStaff => items.push(("/lotes/nuevo", l.t("new-batch"))),
        Role::Qa => items.push(("/liberacion", l.t("release-queue"))),
        _ => {}
    }
    if matches!(actor.role, Role::Coordinator | Role::Auditor | Role::Admin) {
        items.push(("/panel", l.t("network-dashboard")));
    }
    if actor.role.is_lab_bound() {
        items.push(("/registros-maestros", l.t("nav-master-records")));
    }
    if actor.role.is_lab_bound() || actor.role == Role::Coordinator {
        items.push(("/materiales", l.t("nav-materials")));
    }
    if actor.role.is_lab_bound() {
        items.push(("/equipos", l.t("nav-equipment")));
    }
    items.push(("/red", l.t("network")));
    if actor
        .may(traza_domain::access::Action::ImportHistory)
        .is_ok()
    {
        items.push(("/importar", l.t("import")));
    }
    items.push(("/trazabilidad", l.t("traceability")));
    items.push(("/vigilancia", l.t("vigilance")));
    if actor.may(traza_domain::access::Action::ManageUsers).is_ok() {
        items.push(("/usuarios", l.t("users-title")));
    }
    items
}

fn role_name(l: Lang, role: Role) -> &'static str {
    match role {
        Role::Admin => l.t("administrator"),
        Role::Coordinator => l.t("coordinator"),
        Role::LabStaff => l.t("laboratory-staff"),
        Role::Qa => l.t("quality-assurance"),
        Role::Auditor => l.t("auditor"),
    }
}

/// A whole page: header, navigation, language switch, the user and logout, then `body`.
pub fn page(s: Option<&Session>, lang: Lang, title: &str, path: &str, body: Markup) -> Markup {
    let l = lang;
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Traza" }
                link rel="stylesheet" href="/estilo.css";
            }
            body {
                a.skip href="#contenido" { (l.t("skip-to-content")) }
                header.top {
                    a.brand href="/" { "Traza" }
                    @if let Some(s) = s {
                        nav aria-label=(l.t("sections")) {
                            ul {
                                @for (href, label) in nav(l, &s.actor) {
                                    li { a href=(href) aria-current=[(path == href).then_some("page")] { (label) } }
                                }
                            }
                        }
                    }
                    div.who {
                        a.lang href={ "/idioma?l=" (if l == Lang::Es { "en" } else { "es" }) "&volver=" (urlencode(path)) }
                            lang=(if l == Lang::Es { "en" } else { "es" }) {
                            (l.t("espa-ol"))
                        }
                        @if let Some(s) = s {
                            span.user { (s.actor.full_name) " · " (role_name(l, s.actor.role)) }
                            a href="/cuenta/clave" { (l.t("my-password")) }
                            form.inline method="post" action="/salir" {
                                input type="hidden" name="csrf" value=(s.csrf());
                                button.link type="submit" { (l.t("log-out")) }
                            }
                        }
                    }
                }
                main id="contenido" tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page that only says what went wrong.
pub fn page_error(lang: Lang, status: StatusCode, message: &str) -> Response {
    failure(
        lang,
        status,
        html! { div.notice.error role="alert" { p { (message) } } },
    )
}

/// An address that is neither a page nor a resource: for the API's paths the JSON error body,
/// for anything else a page in the reader's language (no raw JSON in a browser).
pub fn not_found(uri: &axum::http::Uri, headers: &HeaderMap) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || path.starts_with("/public/") {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such resource",
        )
        .into_response();
    }
    let lang = Lang::from_headers(headers);
    page_error(lang, StatusCode::NOT_FOUND, lang.t("page-not-found"))
}

/// The page of a request that could not be done: what went wrong, and the way back.
fn failure(lang: Lang, status: StatusCode, what: Markup) -> Response {
    let body = html! {
        (what)
        p { a href="/" { (lang.t("back-to-the-start")) } }
    };
    let title = lang.t("that-could-not-be-done");
    (
        status,
        Html(page(None, lang, title, "", body).into_string()),
    )
        .into_response()
}

/// A store error as an error page.
pub fn store_error(lang: Lang, e: traza_store::StoreError) -> Response {
    let api = ApiError::from(e);
    failure(lang, api.status, error_box(lang, &api))
}

async fn home(s: Session) -> Redirect {
    Redirect::to(match s.actor.role {
        Role::Qa => "/liberacion",
        Role::Coordinator | Role::Auditor | Role::Admin => "/panel",
        Role::LabStaff => "/lotes",
    })
}

#[derive(Deserialize)]
struct Back {
    volver: Option<String>,
    l: Option<String>,
}

async fn switch_language(headers: HeaderMap, Query(q): Query<Back>) -> Response {
    let lang = if q.l.as_deref() == Some("en") {
        "en"
    } else {
        "es"
    };
    let mut r = Redirect::to(&local_path(q.volver.as_deref())).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{}={lang}; Path=/; SameSite=Strict; Max-Age=31536000{}",
        fmt::LANG_COOKIE,
        if behind_tls(&headers) { "; Secure" } else { "" }
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

fn login_form(l: Lang, csrf: &str, back: &str, failure: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = failure {
            div.notice.error role="alert" { p { (message) } }
        }
        form.card method="post" action="/entrar" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="volver" value=(back);
            label for="username" { (l.t("username")) }
            input #username type="text" name="username" autocomplete="username" required autofocus;
            label for="password" { (l.t("password")) }
            input #password type="password" name="password" autocomplete="current-password" required;
            button.primary type="submit" { (l.t("log-in")) }
        }
    }
}

async fn login_page(headers: HeaderMap, Query(q): Query<Back>) -> Response {
    let l = Lang::from_headers(&headers);
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    let csrf = hex::encode(bytes);
    let back = local_path(q.volver.as_deref());
    let body = login_form(l, &csrf, &back, None);
    let mut r =
        Html(page(None, l, l.t("log-in-to-traza"), "/entrar", body).into_string()).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3600, behind_tls(&headers)),
    );
    r
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    username: String,
    password: String,
    volver: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    crate::extract::ClientAddress(address): crate::extract::ClientAddress,
    headers: HeaderMap,
    axum::Form(f): axum::Form<LoginForm>,
) -> Response {
    let l = Lang::from_headers(&headers);
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !same(expected, &f.csrf) {
        return page_error(
            l,
            StatusCode::FORBIDDEN,
            l.t("the-login-form-has-expired-reload"),
        );
    }
    let back = local_path(f.volver.as_deref());
    let refused = |status: StatusCode, message: String| {
        let body = login_form(l, &f.csrf, &back, Some(&message));
        let title = l.t("log-in-to-traza");
        (
            status,
            Html(page(None, l, title, "/entrar", body).into_string()),
        )
            .into_response()
    };
    match state.store.login(&f.username, &f.password, address).await {
        Ok((_, issued)) => {
            let max_age = (issued.expires_at - chrono::Utc::now())
                .num_seconds()
                .max(0);
            let mut r = Redirect::to(&back).into_response();
            let tls = behind_tls(&headers);
            r.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &issued.token, max_age, tls),
            );
            r.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(LOGIN_CSRF_COOKIE, "", 0, tls),
            );
            r
        }
        Err(
            traza_store::StoreError::Unauthenticated
            | traza_store::StoreError::NotFound(_)
            | traza_store::StoreError::InvalidSignature,
        ) => refused(
            StatusCode::UNAUTHORIZED,
            l.t("wrong-username-or-password").to_owned(),
        ),
        Err(traza_store::StoreError::AuthRefused(r)) => match r {
            traza_domain::auth::AuthRefusal::AccountLocked { until } => refused(
                StatusCode::LOCKED,
                format!(
                    "{} {} {}",
                    l.t("the-account-is-locked-after-several"),
                    l.instant(until),
                    l.t("or-ask-an-administrator-to-unlock")
                ),
            ),
            traza_domain::auth::AuthRefusal::TooManyAttempts { .. } => refused(
                StatusCode::TOO_MANY_REQUESTS,
                l.t("too-many-failed-attempts-from-this").to_owned(),
            ),
        },
        Err(e) => store_error(l, e),
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    axum::Form(f): axum::Form<CsrfOnly>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    if let Err(e) = state.store.logout(&s.token).await {
        return store_error(s.lang, e);
    }
    let mut r = Redirect::to("/entrar").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, behind_tls(&headers)),
    );
    r
}

/// A script of this site (see `scripts`), run once the page is parsed. Never inline: the
/// Content-Security-Policy refuses inline scripts.
pub fn script(src: &str) -> Markup {
    html! { script src=(src) defer {} }
}
