//! Review by exception on the release page (SPEC §8): a guided batch's exceptions first, each
//! open one with QA's resolution form (a comment; a signature for a critical one).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::vocab::ExceptionSeverity;
use traza_store::ExceptionView;

use crate::AppState;
use crate::error::ApiError;
use crate::ui::widgets::vocab_word;
use crate::ui::{Session, error_box, urlencode};

/// The exceptions of batch `number`, with a resolution form on each open one when the reader
/// may resolve them; nothing for a batch without exceptions.
pub(super) fn review(
    s: &Session,
    number: &str,
    exceptions: &[ExceptionView],
    may_resolve: bool,
) -> Markup {
    let l = s.lang;
    if exceptions.is_empty() {
        return html! {};
    }
    html! {
        section.card #revision aria-labelledby="revision-titulo" {
            h2 #revision-titulo { (l.t("batch-record-exceptions")) }
            ul.exceptions {
                @for e in exceptions {
                    li #(format!("excepcion-{}", e.id)) {
                        p { strong { "#" (e.id) " · " (vocab_word(l, "exception-kind", e.kind.as_str())) " · " (vocab_word(l, "exception-severity", e.severity.as_str())) } " · " (e.step_code) }
                        p { (e.message) }
                        @if e.status == "open" {
                            @if may_resolve {
                                form.card method="post" action={ "/lotes/" (number) "/excepciones/" (e.id) } {
                                    input type="hidden" name="csrf" value=(s.csrf());
                                    label for={ "comentario-" (e.id) } { (l.t("exception-resolution")) }
                                    textarea id={ "comentario-" (e.id) } name="comment" required rows="2" {}
                                    @if e.severity == ExceptionSeverity::Critical {
                                        label for={ "clave-" (e.id) } { (l.t("password-electronic-signature")) }
                                        input id={ "clave-" (e.id) } type="password" name="password" required autocomplete="current-password";
                                    }
                                    button type="submit" { (l.t("exception-resolve")) }
                                }
                            } @else {
                                p.fail { (l.t("exception-open")) }
                            }
                        } @else {
                            p.pass { (l.t("exception-resolved")) " · " (e.resolved_by.clone().unwrap_or_default()) " · " (e.resolution.clone().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ResolveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    comment: String,
    password: Option<String>,
}

/// QA resolves an exception from the release page; back there, at the review.
pub(super) async fn resolve(
    State(state): State<AppState>,
    s: Session,
    Path((number, id)): Path<(String, i64)>,
    axum::Form(f): axum::Form<ResolveForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    let password = f.password.as_deref().filter(|p| !p.is_empty());
    match state
        .store
        .resolve_exception(&s.actor, &number, id, &f.comment, password)
        .await
    {
        Ok(_) => {
            Redirect::to(&format!("/lotes/{}/liberar#revision", urlencode(&number))).into_response()
        }
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status;
            super::release::render(&state, &s, &number, Some(error_box(s.lang, &e)), status).await
        }
    }
}
