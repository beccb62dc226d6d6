//! The user's own account: changing one's password (SPEC §2 "Users": authentication). The
//! change ends every session of the user, this one too, so the page then asks to log in again.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use super::widgets::html_page_status;
use super::{Session, error_box, page};
use crate::AppState;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new().route("/cuenta/clave", get(password_page).post(change_password))
}

fn password_form(s: &Session) -> Markup {
    let l = s.lang;
    html! {
        form.card method="post" action="/cuenta/clave" {
            input type="hidden" name="csrf" value=(s.csrf());
            label for="current_password" { (l.t("current-password")) }
            input #current_password type="password" name="current_password" required autocomplete="current-password";
            label for="new_password" { (l.t("new-password")) }
            input #new_password type="password" name="new_password" required minlength="12" autocomplete="new-password" aria-describedby="pw_rules";
            p.hint #pw_rules { (l.t("at-least-12-characters-it-may")) }
            label for="repeat_password" { (l.t("repeat-the-new-password")) }
            input #repeat_password type="password" name="repeat_password" required minlength="12" autocomplete="new-password";
            p.hint { (l.t("changing-it-ends-every-open-session")) }
            button.primary type="submit" { (l.t("change-the-password")) }
        }
    }
}

async fn password_page(s: Session) -> Response {
    let title = s.lang.t("change-my-password");
    html_page_status(
        &s,
        StatusCode::OK,
        title,
        "/cuenta/clave",
        password_form(&s),
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    repeat_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    s: Session,
    axum::Form(f): axum::Form<PasswordForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let title = l.t("change-my-password");
    let result: Result<(), ApiError> = async {
        if f.new_password != f.repeat_password {
            return Err(ApiError::validation(
                "repeat_password",
                l.t("does-not-match-the-new-password"),
            ));
        }
        state
            .store
            .change_own_password(&s.actor, &f.current_password, &f.new_password)
            .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            let body = html! {
                div.notice.ok role="status" { p { (l.t("password-changed-every-session-of-yours")) } }
                p { a href="/entrar" { (l.t("log-in")) } }
            };
            let mut r = maud::Render::render(&page(None, l, title, "/cuenta/clave", body))
                .into_string()
                .into_response();
            r.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
        Err(e) => {
            let body = html! { (error_box(l, &e)) (password_form(&s)) };
            html_page_status(&s, e.status, title, "/cuenta/clave", body)
        }
    }
}
