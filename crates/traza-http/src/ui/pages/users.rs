//! The users' administration (SPEC §2 "Users, roles, scope"): the list of accounts, a new
//! user, and for each user deactivation or reactivation, a password reset typed by the
//! administrator and the lifting of a lockout.
//!
//! Only a role that may `ManageUsers` (the administrator) gets these pages: the role is checked
//! here on every request, before anything is read or written, and again by the store. Every
//! write is the store call the API makes (`create_user`, `update_user`, `unlock_user`), so each
//! carries its audit event and revokes what the API revokes (a deactivation or a reset ends
//! every session of that user).

use std::collections::{BTreeSet, HashMap};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::access::{Action, check_user_labs};
use traza_domain::auth::{PasswordRefusal, check_new_password};
use traza_domain::codes::{LabCode, Username};
use traza_domain::network::Laboratory;
use traza_domain::vocab::Role;
use traza_store::{AuditQuery, ErrorCode, NewUser, StoreError, UserUpdate, UserView};

use crate::AppState;
use crate::error::ApiError;
use crate::ui::fmt::Lang;
use crate::ui::widgets::html_page_status;
use crate::ui::{Session, error_box, error_title, role_name, store_error, urlencode};

/// The longest full name the store takes.
const FULL_NAME_MAX: usize = 200;
/// Audit pages read to find the accounts locked now (1,000 events each): user events are
/// few (creations, changes, locks), so this bounds a pathological trail, not a real one.
const LOCK_PAGES: usize = 50;

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

/// A refused form: the error's code, and each field's problem in the page's language.
struct Refusal {
    status: StatusCode,
    code: ErrorCode,
    fields: Vec<(String, String)>,
}

impl Refusal {
    fn invalid(fields: Vec<(String, String)>) -> Refusal {
        Refusal {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: ErrorCode::ValidationFailed,
            fields,
        }
    }

    fn view(&self, l: Lang) -> Markup {
        html! {
            div.notice.error role="alert" {
                p { strong { (error_title(l, self.code)) } }
                ul { @for (field, problem) in &self.fields { li { (field) ": " (problem) } } }
            }
        }
    }
}

fn password_problem(l: Lang, e: &PasswordRefusal) -> &'static str {
    match e {
        PasswordRefusal::TooShort => l.t("users-password-too-short"),
        PasswordRefusal::TooLong => l.t("users-password-too-long"),
        PasswordRefusal::ContainsUsername => l.t("users-password-has-username"),
        PasswordRefusal::Common => l.t("users-password-common"),
    }
}

/// A form's field as the page labels it.
fn label(l: Lang, field: &str) -> String {
    match field {
        "username" => l.t("username"),
        "full_name" => l.t("users-full-name"),
        "role" => l.t("users-role"),
        "labs" => l.t("laboratories"),
        "password" => l.t("users-initial-password"),
        "new_password" => l.t("new-password"),
        other => other,
    }
    .to_owned()
}

/// The new user of the form, every field checked at once with the rules the store applies,
/// so that a refusal is said in the page's language.
fn new_user(l: Lang, sent: &Sent) -> Result<NewUser, Refusal> {
    let mut problems: Vec<(String, String)> = Vec::new();
    let mut refuse = |field: &str, problem: &str| problems.push((label(l, field), problem.into()));
    let username = Username::parse(sent.get("username").trim());
    if username.is_err() {
        refuse("username", l.t("users-username-invalid"));
    }
    let full_name = sent.get("full_name").trim().to_owned();
    if full_name.is_empty() {
        refuse("full_name", l.t("is-required-2"));
    } else if full_name.chars().count() > FULL_NAME_MAX {
        refuse("full_name", l.t("users-name-too-long"));
    }
    let role = sent.get("role").parse::<Role>();
    if role.is_err() {
        refuse("role", l.t("users-role-unknown"));
    }
    let mut labs = BTreeSet::new();
    for lab in sent.all("labs") {
        match LabCode::parse(lab) {
            Ok(code) => {
                labs.insert(code);
            }
            Err(_) => refuse("labs", l.t("users-lab-unknown")),
        }
    }
    if let Ok(role) = role
        && check_user_labs(role, &labs).is_err()
    {
        refuse(
            "labs",
            if role.is_lab_bound() {
                l.t("users-labs-required")
            } else {
                l.t("users-labs-not-allowed")
            },
        );
    }
    let password = sent.get("password").to_owned();
    if let Ok(name) = &username
        && let Err(e) = check_new_password(&password, name.as_str())
    {
        refuse("password", password_problem(l, &e));
    }
    match (username, role) {
        (Ok(username), Ok(role)) if problems.is_empty() => Ok(NewUser {
            username,
            full_name,
            role,
            labs,
            password,
        }),
        _ => Err(Refusal::invalid(problems)),
    }
}

/// A store's refusal of a form: a name taken, or a field the store refused (said in English
/// only when the page has no words of its own for it).
fn store_refusal(l: Lang, e: StoreError) -> Result<Refusal, ApiError> {
    match e {
        StoreError::Duplicate(_) => Ok(Refusal {
            status: StatusCode::CONFLICT,
            code: ErrorCode::Duplicate,
            fields: vec![(label(l, "username"), l.t("users-username-taken").into())],
        }),
        StoreError::Invalid(errors) => Ok(Refusal::invalid(
            errors
                .0
                .into_iter()
                .map(|f| (label(l, &f.field), f.message))
                .collect(),
        )),
        other => Err(ApiError::from(other)),
    }
}

async fn create_user(State(state): State<AppState>, s: Session, body: Bytes) -> Response {
    let sent = Sent::parse(&body);
    if !s.csrf_ok(sent.get("csrf")) {
        return s.csrf_refused();
    }
    if let Some(r) = refused_role(&s) {
        return r;
    }
    let l = s.lang;
    let typed = Typed {
        username: sent.get("username").trim().to_owned(),
        full_name: sent.get("full_name").to_owned(),
        role: sent.get("role").to_owned(),
        labs: sent.all("labs").map(str::to_owned).collect(),
    };
    let refused = match new_user(l, &sent) {
        Err(refusal) => Ok(refusal),
        Ok(new) => match state.store.create_user(&s.actor, new).await {
            Ok(created) => return done("creado", created.username.as_str()),
            Err(e) => store_refusal(l, e),
        },
    };
    let (status, notice) = match refused {
        Ok(refusal) => (refusal.status, refusal.view(l)),
        Err(e) => (e.status, error_box(l, &e)),
    };
    render(&state, &s, Some(notice), status, &typed).await
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
    let l = s.lang;
    let (store, actor) = (&state.store, &s.actor);
    let result: Result<&str, Result<Refusal, ApiError>> = async {
        let not_found = || {
            Err(ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                "no such form",
            ))
        };
        let Some(action) = UserAction::parse(&action) else {
            return Err(not_found());
        };
        let (update, what) = match action {
            UserAction::Unlock => {
                store
                    .unlock_user(actor, &username)
                    .await
                    .map_err(|e| store_refusal(l, e))?;
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
            UserAction::ResetPassword => {
                let password = sent.get("new_password");
                if let Err(e) = check_new_password(password, &username) {
                    return Err(Ok(Refusal::invalid(vec![(
                        format!("{} ({username})", label(l, "new_password")),
                        password_problem(l, &e).into(),
                    )])));
                }
                (
                    UserUpdate {
                        password: Some(password.to_owned()),
                        ..UserUpdate::default()
                    },
                    "clave",
                )
            }
        };
        store
            .update_user(actor, &username, update)
            .await
            .map_err(|e| store_refusal(l, e))?;
        Ok(what)
    }
    .await;
    let (status, notice) = match result {
        Ok(what) => return done(what, &username),
        Err(Ok(refusal)) => (refusal.status, refusal.view(l)),
        Err(Err(e)) => (e.status, error_box(l, &e)),
    };
    render(&state, &s, Some(notice), status, &Typed::default()).await
}

/// The accounts locked now, and until when. The store keeps the lock counters outside the
/// GMP rows, but every lock and every unlock is an audit event (SPEC §2): the last of them for
/// an account says whether a lock stands.
async fn locked_now(
    state: &AppState,
    s: &Session,
) -> Result<HashMap<String, DateTime<Utc>>, StoreError> {
    let mut locks: HashMap<String, DateTime<Utc>> = HashMap::new();
    let mut after_id = None;
    for _ in 0..LOCK_PAGES {
        let page = state
            .store
            .audit_trail(
                &s.actor,
                &AuditQuery {
                    entity_type: Some("user".into()),
                    entity_key: None,
                    after_id,
                    limit: 1000,
                },
            )
            .await?;
        for e in &page.items {
            match e.action.as_str() {
                "user.lock" => {
                    let until = e
                        .after
                        .as_ref()
                        .and_then(|a| a["locked_until"].as_str())
                        .and_then(|t| t.parse::<DateTime<Utc>>().ok());
                    if let Some(until) = until {
                        locks.insert(e.entity_key.clone(), until);
                    }
                }
                "user.unlock" => {
                    locks.remove(&e.entity_key);
                }
                _ => {}
            }
        }
        match page.next_cursor.and_then(|c| c.parse().ok()) {
            Some(next) => after_id = Some(next),
            None => break,
        }
    }
    let now = Utc::now();
    locks.retain(|_, until| *until > now);
    Ok(locks)
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
    let locks = match locked_now(state, s).await {
        Ok(locks) => locks,
        Err(e) => return store_error(l, e),
    };
    let body = html! {
        @if let Some(n) = notice { (n) }
        section aria-labelledby="cuentas" {
            h2 #cuentas { (l.t("users-accounts")) }
            div.scroll { (users_table(s, &users, &locks)) }
        }
        section aria-labelledby="nuevo" {
            h2 #nuevo { (l.t("users-new-user")) }
            (new_user_form(s, &labs, typed))
        }
    };
    html_page_status(s, status, l.t("users-title"), "/usuarios", body)
}

fn users_table(s: &Session, users: &[UserView], locks: &HashMap<String, DateTime<Utc>>) -> Markup {
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
                    @let locked = locks.get(name);
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
                                br; span.badge.expired { (l.t("users-locked-until")) " " (l.instant(*until)) }
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
