//! The users' administration (SPEC §2 "Users, roles, scope"): the list of accounts, a new
//! user, and for each user deactivation or reactivation, a password reset typed by the
//! administrator and the lifting of a lockout.
//!
//! Only a role that may `ManageUsers` (the administrator) gets these pages: the role is checked
//! here on every request, before anything is read or written, and again by the store. Every
//! write is the store call the API makes (`create_user`, `update_user`, `unlock_user`), so each
//! carries its audit event and revokes what the API revokes (a deactivation or a reset ends
//! every session of that user). The rules are the store's too: a refusal comes back with each
//! field's problem, said in the page's language (`error_box`), and the lock shown on an
//! account is the one the store's login applies (`UserView::locked_until`).

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::access::Action;
use traza_domain::codes::{LabCode, Username};
use traza_domain::network::Laboratory;
use traza_domain::validation::{Fields, Problem};
use traza_domain::vocab::Role;
use traza_store::{ErrorCode, NewUser, StoreError, UserUpdate, UserView};

use crate::AppState;
use crate::error::ApiError;
use crate::ui::fmt::Lang;
use crate::ui::widgets::html_page_status;
use crate::ui::{Session, error_box, error_title, role_name, store_error, urlencode};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/usuarios", get(users_page).post(create_user))
        .route("/usuarios/{username}/{action}", post(user_action))
}

/// The page is the administrator's: anyone else gets the forbidden page, on every request.
fn refused_role(s: &Session) -> Option<Response> {
    s.actor
        .may(Action::ManageUsers)
        .err()
        .map(|e| store_error(s.lang, StoreError::from(e)))
}

/// What the page says was just done (`?hecho=…&usuario=…` after a form's redirect).
#[derive(Deserialize, Default)]
struct Done {
    hecho: Option<String>,
    usuario: Option<String>,
}

fn done_text(l: Lang, what: &str) -> Option<&'static str> {
    Some(match what {
        "creado" => l.t("users-done-created"),
        "desactivado" => l.t("users-done-deactivated"),
        "reactivado" => l.t("users-done-reactivated"),
        "clave" => l.t("users-done-password"),
        "desbloqueado" => l.t("users-done-unlocked"),
        _ => return None,
    })
}

async fn users_page(State(state): State<AppState>, s: Session, Query(d): Query<Done>) -> Response {
    if let Some(r) = refused_role(&s) {
        return r;
    }
    let l = s.lang;
    let notice = d.hecho.as_deref().and_then(|h| done_text(l, h)).map(|t| {
        html! { div.notice.ok role="status" { p { (t) " " (d.usuario.as_deref().unwrap_or_default()) } } }
    });
    render(&state, &s, notice, StatusCode::OK, &Typed::default()).await
}

/// What was typed into the new-user form, shown again when it is refused (never the password).
#[derive(Default)]
struct Typed {
    username: String,
    full_name: String,
    role: String,
    labs: BTreeSet<String>,
}

/// The fields of a form as the browser sent them; a name may come more than once (the
/// laboratories' check boxes).
struct Sent(Vec<(String, String)>);

impl Sent {
    fn parse(body: &[u8]) -> Sent {
        Sent(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The new user of the form: its typed values parsed as the API parses them (a name, a role,
/// laboratory codes). Every rule on them (the full name, the laboratories a role takes, the
/// password policy, a name taken) is the store's, said by its refusal.
fn new_user(sent: &Sent) -> Result<NewUser, ApiError> {
    let mut f = Fields::default();
    let username = f.check("username", Username::parse(sent.get("username").trim()));
    let role = match sent.get("role") {
        "" => {
            f.push("role", Problem::Empty);
            None
        }
        word => f.check("role", word.parse::<Role>()),
    };
    let labs = sent
        .all("labs")
        .filter_map(|lab| f.check("labs", LabCode::parse(lab)))
        .collect();
    f.finish()?;
    match (username, role) {
        (Some(username), Some(role)) => Ok(NewUser {
            username,
            full_name: sent.get("full_name").to_owned(),
            role,
            labs,
            password: sent.get("password").to_owned(),
        }),
        // Never: a value missing here was a field refused above.
        _ => Err(ApiError::validation("username", Problem::Empty)),
    }
}

/// A refused form in the page's language: the error's title and each field's problem. A name
/// taken is the store's `duplicate`, which names no field: the one thing this page creates
/// is a user, so it is said as the username taken.
fn refusal(l: Lang, e: &ApiError) -> Markup {
    if e.code == ErrorCode::Duplicate {
        return html! {
            div.notice.error role="alert" {
                p { strong { (error_title(l, e.code)) } }
                ul { li { (l.t("username")) ": " (l.t("users-username-taken")) } }
            }
        };
    }
    error_box(l, e)
}

async fn create_user(State(state): State<AppState>, s: Session, body: Bytes) -> Response {
    let sent = Sent::parse(&body);
    if !s.csrf_ok(sent.get("csrf")) {
        return s.csrf_refused();
    }
    if let Some(r) = refused_role(&s) {
        return r;
    }
    let typed = Typed {
        username: sent.get("username").trim().to_owned(),
        full_name: sent.get("full_name").to_owned(),
        role: sent.get("role").to_owned(),
        labs: sent.all("labs").map(str::to_owned).collect(),
    };
    let e = match new_user(&sent) {
        Err(e) => e,
        Ok(new) => match state.store.create_user(&s.actor, new).await {
            Ok(created) => return done("creado", created.username.as_str()),
            Err(e) => ApiError::from(e),
        },
    };
    render(&state, &s, Some(refusal(s.lang, &e)), e.status, &typed).await
}

/// Back to the list, saying what was done to whom.
fn done(what: &str, username: &str) -> Response {
    Redirect::to(&format!(
        "/usuarios?hecho={what}&usuario={}#usuario-{}",
        urlencode(username),
        urlencode(username)
    ))
    .into_response()
}

/// The forms of one user, by the last segment of their address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UserAction {
    Deactivate,
    Reactivate,
    ResetPassword,
    Unlock,
}

impl UserAction {
    fn parse(segment: &str) -> Option<UserAction> {
        Some(match segment {
            "desactivar" => Self::Deactivate,
            "reactivar" => Self::Reactivate,
            "clave" => Self::ResetPassword,
            "desbloquear" => Self::Unlock,
            _ => return None,
        })
    }
}

async fn user_action(
    State(state): State<AppState>,
    s: Session,
    Path((username, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let sent = Sent::parse(&body);
    if !s.csrf_ok(sent.get("csrf")) {
        return s.csrf_refused();
    }
    if let Some(r) = refused_role(&s) {
        return r;
    }
    let (store, actor) = (&state.store, &s.actor);
    let result: Result<&str, ApiError> = async {
        let Some(action) = UserAction::parse(&action) else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                "no such form",
            ));
        };
        let (update, what) = match action {
            UserAction::Unlock => {
                store.unlock_user(actor, &username).await?;
                return Ok("desbloqueado");
            }
            UserAction::Deactivate => (
                UserUpdate {
                    active: Some(false),
                    ..UserUpdate::default()
                },
                "desactivado",
            ),
            UserAction::Reactivate => (
                UserUpdate {
                    active: Some(true),
                    ..UserUpdate::default()
                },
                "reactivado",
            ),
            // The password policy is the store's: a refusal comes back as its `password`.
            UserAction::ResetPassword => (
                UserUpdate {
                    password: Some(sent.get("new_password").to_owned()),
                    ..UserUpdate::default()
                },
                "clave",
            ),
        };
        store.update_user(actor, &username, update).await?;
        Ok(what)
    }
    .await;
    match result {
        Ok(what) => done(what, &username),
        Err(e) => {
            let notice = refusal(s.lang, &e);
            render(&state, &s, Some(notice), e.status, &Typed::default()).await
        }
    }
}

async fn render(
    state: &AppState,
    s: &Session,
    notice: Option<Markup>,
    status: StatusCode,
    typed: &Typed,
) -> Response {
    let l = s.lang;
    let users = match state.store.list_users(&s.actor).await {
        Ok(u) => u,
        Err(e) => return store_error(l, e),
    };
    let labs = match state.store.list_labs(&s.actor).await {
        Ok(labs) => labs,
        Err(e) => return store_error(l, e),
    };
    let body = html! {
        @if let Some(n) = notice { (n) }
        section aria-labelledby="cuentas" {
            h2 #cuentas { (l.t("users-accounts")) }
            div.scroll { (users_table(s, &users)) }
        }
        section aria-labelledby="nuevo" {
            h2 #nuevo { (l.t("users-new-user")) }
            (new_user_form(s, &labs, typed))
        }
    };
    html_page_status(s, status, l.t("users-title"), "/usuarios", body)
}

fn users_table(s: &Session, users: &[UserView]) -> Markup {
    let l = s.lang;
    let csrf = s.csrf();
    let form = |username: &str, action: &str, class: &str, text: &str| {
        html! {
            form.inline method="post" action={ "/usuarios/" (urlencode(username)) "/" (action) } {
                input type="hidden" name="csrf" value=(csrf);
                button class=(class) type="submit" { (text) }
            }
        }
    };
    html! {
        table #tabla-usuarios {
            thead { tr {
                th { (l.t("username")) } th { (l.t("users-full-name")) } th { (l.t("users-role")) }
                th { (l.t("laboratories")) } th { (l.t("state")) } th { (l.t("actions")) }
            } }
            tbody {
                @for u in users {
                    @let name = u.username.as_str();
                    @let me = name == s.actor.username.as_str();
                    // The lock the login applies now, as the store reckons it.
                    @let locked = u.locked_until;
                    tr id={ "usuario-" (name) } {
                        td { code { (name) } @if me { " " span.muted { (l.t("users-you")) } } }
                        td { (u.full_name) }
                        td { (role_name(l, u.role)) }
                        td { @if u.labs.is_empty() { "—" } @else {
                            (u.labs.iter().map(LabCode::as_str).collect::<Vec<_>>().join(", "))
                        } }
                        td {
                            @if u.active { (l.t("users-active")) } @else { strong { (l.t("users-inactive")) } }
                            @if let Some(until) = locked {
                                br; span.badge.expired { (l.t("users-locked-until")) " " (l.instant(until)) }
                            }
                        }
                        td {
                            div {
                                // Nobody deactivates the account they are using here.
                                @if u.active && !me { (form(name, "desactivar", "danger", l.t("users-deactivate"))) }
                                @if !u.active { (form(name, "reactivar", "", l.t("users-reactivate"))) }
                                @if locked.is_some() { (form(name, "desbloquear", "primary", l.t("users-unlock"))) }
                            }
                            details {
                                summary { (l.t("users-reset-password")) }
                                form method="post" action={ "/usuarios/" (urlencode(name)) "/clave" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    label for={ "clave-" (name) } { (l.t("new-password")) }
                                    input id={ "clave-" (name) } type="password" name="new_password" required minlength="12" autocomplete="new-password";
                                    p.hint { (l.t("users-reset-hint")) }
                                    button type="submit" { (l.t("users-set-password")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn new_user_form(s: &Session, labs: &[Laboratory], typed: &Typed) -> Markup {
    let l = s.lang;
    html! {
        form.card #form-usuario method="post" action="/usuarios" {
            input type="hidden" name="csrf" value=(s.csrf());
            label for="username" { (l.t("username")) }
            input #username name="username" required autocomplete="off" spellcheck="false"
                aria-describedby="username_rules" value=(typed.username);
            p.hint #username_rules { (l.t("users-username-hint")) }
            label for="full_name" { (l.t("users-full-name")) }
            input #full_name name="full_name" required autocomplete="off" value=(typed.full_name);
            label for="role" { (l.t("users-role")) }
            select #role name="role" required {
                option value="" { "—" }
                @for role in Role::ALL {
                    option value=(role.as_str()) selected[typed.role == role.as_str()] { (role_name(l, *role)) }
                }
            }
            fieldset {
                legend { (l.t("laboratories")) }
                p.hint { (l.t("users-labs-hint")) }
                @for lab in labs {
                    @let code = lab.code.as_str();
                    label {
                        input type="checkbox" name="labs" value=(code) checked[typed.labs.contains(code)];
                        " " (code) " · " (lab.name)
                    }
                    br;
                }
            }
            label for="password" { (l.t("users-initial-password")) }
            input #password type="password" name="password" required minlength="12" autocomplete="new-password" aria-describedby="pw_rules";
            p.hint #pw_rules { (l.t("at-least-12-characters-it-may")) }
            button.primary type="submit" { (l.t("users-create")) }
        }
    }
}
