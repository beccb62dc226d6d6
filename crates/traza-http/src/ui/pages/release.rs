//! QA: the release queue, and the certification (release) of one batch.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::batch::Batch;
use traza_domain::vocab::{BatchStatus, SignatureMeaning, Source};
use traza_store::{BatchFilter, BatchView, RuleDetail};

use super::batch_record::facts;
use crate::AppState;
use crate::error::ApiError;
use crate::ui::fmt::Lang;
use crate::ui::widgets::{html_page, html_page_status, meaning_text, qc_table};
use crate::ui::{Session, error_box, holds, rule_line, store_error, urlencode};

pub(super) async fn release_queue(State(state): State<AppState>, s: Session) -> Response {
    let l = s.lang;
    let filter = BatchFilter {
        status: Some(BatchStatus::Quarantine),
        limit: 200,
        ..Default::default()
    };
    let page_of = match state.store.list_batches(&s.actor, &filter).await {
        Ok(p) => p,
        Err(e) => return store_error(l, e),
    };
    // Every batch's blockers at once: a fixed number of queries for the whole queue.
    let numbers: Vec<String> = page_of
        .items
        .iter()
        .map(|b| b.batch_number.as_str().to_owned())
        .collect();
    let mut blockers = match state.store.release_blockers_of(&s.actor, &numbers).await {
        Ok(b) => b,
        Err(e) => return store_error(l, e),
    };
    let mut rows = Vec::new();
    for b in page_of.items {
        let found = blockers.remove(b.batch_number.as_str()).unwrap_or_default();
        rows.push((b, found));
    }
    // Most urgent first: the soonest expiry (none last), then the oldest end of manufacture.
    // Imported history waits apart: it is old, and is not certified from this queue's urgency.
    rows.sort_by_key(|(b, _)| {
        (
            b.expiry_date.is_none(),
            b.expiry_date,
            b.manufacturing_end,
            b.batch_number.as_str().to_owned(),
        )
    });
    let (history, current): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .partition(|(b, _)| b.source == Source::Import);
    let table = |rows: &[(Batch, Vec<RuleDetail>)]| {
        html! {
            table {
                thead { tr { th { (l.t("batch")) } th { (l.t("product")) } th { (l.t("manufacturing-end")) } th { (l.t("expiry")) } th { (l.t("blocking")) } th {} } }
                tbody {
                    @for (b, blockers) in rows {
                        tr {
                            td { a href={ "/lotes/" (b.batch_number.as_str()) } { (b.batch_number.as_str()) } (holds::held_badge(l, b.on_hold)) }
                            td { (b.product_code.as_str()) }
                            td { (l.opt_date(b.manufacturing_end)) }
                            td { (l.opt_date(b.expiry_date)) }
                            td { @if blockers.is_empty() { span.pass { (l.t("nothing-ready-to-certify")) } } @else {
                                ul { @for r in blockers { li { (rule_line(l, r)) } } } } }
                            td { a href={ "/lotes/" (b.batch_number.as_str()) "/liberar" } { (l.t("review")) } }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        p { (l.t("batches-in-quarantine-in-your-laboratories")) }
        @if current.is_empty() { p.muted { (l.t("no-batches-in-quarantine")) } } @else {
            div.scroll { (table(&current)) }
        }
        @if !history.is_empty() {
            h2 #historia { (l.t("queue-imported-history")) }
            p.hint { (l.t("queue-imported-history-hint")) }
            div.scroll { (table(&history)) }
        }
    };
    html_page(&s, l.t("release-queue-2"), "/liberacion", body)
}

pub(super) async fn release_page(
    State(state): State<AppState>,
    s: Session,
    Path(number): Path<String>,
) -> Response {
    render(&state, &s, &number, None, StatusCode::OK).await
}

pub(super) async fn render(
    state: &AppState,
    s: &Session,
    number: &str,
    notice: Option<Markup>,
    status: StatusCode,
) -> Response {
    let l = s.lang;
    let v = match state.store.get_batch(&s.actor, number).await {
        Ok(v) => v,
        Err(e) => return store_error(l, e),
    };
    let blockers = match state.store.release_blockers(&s.actor, number).await {
        Ok(b) => b,
        Err(e) => return store_error(l, e),
    };
    let product = state
        .store
        .get_product(&s.actor, v.batch.product_code.as_str())
        .await
        .ok();
    let signers = other_signers(state, s, &v).await;
    // Review by exception: a guided batch's exceptions come first (SPEC §8).
    let exceptions = state
        .store
        .list_exceptions(&s.actor, number)
        .await
        .unwrap_or_default();
    let may_resolve = s
        .actor
        .may_in_lab(traza_domain::access::Action::Release, &v.batch.lab_code)
        .is_ok();
    let review = super::exceptions::review(s, number, &exceptions, may_resolve);
    let b = &v.batch;
    let body = html! {
        @if let Some(n) = notice { (n) }
        @if let Some(n) = signers { (n) }
        (review)
        div.grid {
            section.card { h2 { (l.t("batch")) } (facts(l, b, product.as_ref())) p { a href={ "/lotes/" (b.batch_number.as_str()) } { (l.t("see-the-whole-record")) } } }
            section.card aria-labelledby="reglas" {
                h2 #reglas { (l.t("release-rules")) }
                @if blockers.is_empty() {
                    div.notice.ok { p { (l.t("every-rule-is-met-the-batch")) } }
                } @else {
                    div.notice.error role="alert" {
                        p { strong { (l.t("it-cannot-be-certified-yet")) } }
                        ul #bloqueos { @for r in &blockers { li data-rule=(r.rule) { (rule_line(l, r)) @if l == Lang::Es { " — " span.hint { (r.message) } } } } }
                    }
                }
            }
        }
        @if let Some(p) = &product { h2 { (l.t("qc-results")) } (qc_table(l, p.specification.tests(), &v.qc_results)) }
        @if b.status == BatchStatus::Quarantine {
            form #form-rechazar .card method="post" action={ "/lotes/" (b.batch_number.as_str()) "/rechazar" } aria-labelledby="rechazo" {
                h2 #rechazo { (l.t("reject-title")) }
                p.hint { (l.t("reject-hint")) }
                input type="hidden" name="csrf" value=(s.csrf());
                input type="hidden" name="version" value=(b.version);
                label for="reject_reason" { (l.t("reason-for-rejection")) }
                textarea #reject_reason name="reason" required rows="2" {}
                label for="reject_password" { (l.t("password-electronic-signature")) }
                input #reject_password type="password" name="password" required autocomplete="current-password";
                button.danger type="submit" { (l.t("reject-the-batch-signed")) }
            }
        }
        @if blockers.is_empty() {
            form.card method="post" action={ "/lotes/" (b.batch_number.as_str()) "/liberar" } aria-labelledby="firma" {
                h2 #firma { (l.t("electronic-certification-signature")) }
                input type="hidden" name="csrf" value=(s.csrf());
                input type="hidden" name="version" value=(b.version);
                p { strong { (l.t("meaning-of-the-signature")) ": " } (meaning_text(l, SignatureMeaning::QpCertified)) }
                p { (l.t("signer")) ": " strong { (s.actor.full_name) } " (" (s.actor.username.as_str()) ") · " (l.instant(Utc::now())) }
                label for="password" { (l.t("re-enter-your-password-to-sign")) }
                input #password type="password" name="password" required autocomplete="current-password";
                button.primary type="submit" { (l.t("sign-and-release")) }
            }
        }
    };
    html_page_status(
        s,
        status,
        &format!("{} {}", l.t("certify-batch"), b.batch_number.as_str()),
        "/liberacion",
        body,
    )
}

/// Four eyes, said before anyone tries to sign: when the reader created the batch or recorded
/// data on it, who else of the laboratory's QA could certify it, or that nobody could (then
/// the laboratory needs another QA person, which the administrator adds).
pub(super) async fn other_signers(state: &AppState, s: &Session, v: &BatchView) -> Option<Markup> {
    let l = s.lang;
    let took_part = traza_domain::signing::participants(
        &v.created_by,
        v.events.iter().map(|e| e.recorded_by.as_str()),
        v.qc_results.iter().map(|r| r.recorded_by.as_str()),
    );
    if !took_part.contains(s.actor.username.as_str())
        || !matches!(
            v.batch.status,
            BatchStatus::InProduction | BatchStatus::Quarantine
        )
    {
        return None;
    }
    let qa = state
        .store
        .qa_of_lab(&s.actor, &v.batch.lab_code)
        .await
        .ok()?;
    let others: Vec<&String> = qa.difference(&took_part).collect();
    Some(if others.is_empty() {
        html! {
            div.notice.error #nadie-mas role="alert" {
                p { strong { (l.t("four-eyes-you-took-part")) } }
                p { (l.t("four-eyes-nobody-else")) }
            }
        }
    } else {
        html! {
            div.notice.warn #otros-firmantes role="note" {
                p { (l.t("four-eyes-you-took-part")) }
                p { (l.t("four-eyes-who-else")) ": " @for (i, u) in others.iter().enumerate() { @if i > 0 { ", " } strong { (u) } } }
            }
        }
    })
}

#[derive(Deserialize)]
pub(super) struct ReleaseForm {
    #[serde(default)]
    csrf: String,
    version: Option<i64>,
    #[serde(default)]
    password: String,
}

pub(super) async fn release(
    State(state): State<AppState>,
    s: Session,
    Path(number): Path<String>,
    axum::Form(f): axum::Form<ReleaseForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    match state
        .store
        .release_batch(
            &s.actor,
            &number,
            f.version,
            &f.password,
            SignatureMeaning::QpCertified,
        )
        .await
    {
        Ok(_) => {
            Redirect::to(&format!("/lotes/{}?hecho=liberado", urlencode(&number))).into_response()
        }
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status;
            render(&state, &s, &number, Some(error_box(s.lang, &e)), status).await
        }
    }
}
