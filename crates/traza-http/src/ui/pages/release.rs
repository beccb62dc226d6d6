//! QA: the release queue, and the certification (release) of one batch.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::vocab::{BatchStatus, SignatureMeaning};
use traza_store::BatchFilter;

use super::batch_record::facts;
use crate::AppState;
use crate::error::ApiError;
use crate::ui::fmt::Lang;
use crate::ui::widgets::{html_page, html_page_status, meaning_text, qc_table};
use crate::ui::{Session, error_box, holds, rule_text, store_error, urlencode};

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
    let mut rows = Vec::new();
    for b in page_of.items {
        let blockers = state
            .store
            .release_blockers(&s.actor, b.batch_number.as_str())
            .await
            .unwrap_or_default();
        rows.push((b, blockers));
    }
    let body = html! {
        p { (l.t("Lotes en cuarentena de sus laboratorios, con lo que aún impide certificarlos.", "Batches in quarantine in your laboratories, with what still stops their certification.")) }
        @if rows.is_empty() { p.muted { (l.t("No hay lotes en cuarentena.", "No batches in quarantine.")) } } @else {
            table {
                thead { tr { th { (l.t("Lote", "Batch")) } th { (l.t("Producto", "Product")) } th { (l.t("Fin de fabricación", "Manufacturing end")) } th { (l.t("Pendiente", "Blocking")) } th {} } }
                tbody {
                    @for (b, blockers) in &rows {
                        tr {
                            td { a href={ "/lotes/" (b.batch_number.as_str()) } { (b.batch_number.as_str()) } (holds::held_badge(l, b.on_hold)) }
                            td { (b.product_code.as_str()) }
                            td { (l.opt_date(b.manufacturing_end)) }
                            td { @if blockers.is_empty() { span.pass { (l.t("Nada: puede certificarse", "Nothing: ready to certify")) } } @else {
                                ul { @for r in blockers { li { (rule_text(l, &r.rule).unwrap_or(&r.message)) } } } } }
                            td { a href={ "/lotes/" (b.batch_number.as_str()) "/liberar" } { (l.t("Revisar", "Review")) } }
                        }
                    }
                }
            }
        }
    };
    html_page(
        &s,
        l.t("Cola de liberación", "Release queue"),
        "/liberacion",
        body,
    )
}

pub(super) async fn release_page(
    State(state): State<AppState>,
    s: Session,
    Path(number): Path<String>,
) -> Response {
    render_release(&state, &s, &number, None, StatusCode::OK).await
}

async fn render_release(
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
    let b = &v.batch;
    let body = html! {
        @if let Some(n) = notice { (n) }
        div.grid {
            section.card { h2 { (l.t("Lote", "Batch")) } (facts(l, b, product.as_ref())) p { a href={ "/lotes/" (b.batch_number.as_str()) } { (l.t("Ver el registro completo", "See the whole record")) } } }
            section.card aria-labelledby="reglas" {
                h2 #reglas { (l.t("Reglas de liberación", "Release rules")) }
                @if blockers.is_empty() {
                    div.notice.ok { p { (l.t("Se cumplen todas las reglas: el lote puede certificarse.", "Every rule is met: the batch can be certified.")) } }
                } @else {
                    div.notice.error role="alert" {
                        p { strong { (l.t("No se puede certificar todavía:", "It cannot be certified yet:")) } }
                        ul #bloqueos { @for r in &blockers { li data-rule=(r.rule) { (rule_text(l, &r.rule).unwrap_or(&r.message)) @if l == Lang::Es { " — " span.hint { (r.message) } } } } }
                    }
                }
            }
        }
        @if let Some(p) = &product { h2 { (l.t("Control de calidad", "QC results")) } (qc_table(l, p.specification.tests(), &v.qc_results)) }
        @if blockers.is_empty() {
            form.card method="post" action={ "/lotes/" (b.batch_number.as_str()) "/liberar" } aria-labelledby="firma" {
                h2 #firma { (l.t("Firma electrónica de certificación", "Electronic certification signature")) }
                input type="hidden" name="csrf" value=(s.csrf());
                input type="hidden" name="version" value=(b.version);
                p { strong { (l.t("Significado de la firma", "Meaning of the signature")) ": " } (meaning_text(l, SignatureMeaning::QpCertified)) }
                p { (l.t("Firmante", "Signer")) ": " strong { (s.actor.full_name) } " (" (s.actor.username.as_str()) ") · " (l.instant(Utc::now())) }
                label for="password" { (l.t("Vuelva a escribir su contraseña para firmar", "Re-enter your password to sign")) }
                input #password type="password" name="password" required autocomplete="current-password";
                button.primary type="submit" { (l.t("Firmar y liberar", "Sign and release")) }
            }
        }
    };
    html_page_status(
        s,
        status,
        &format!(
            "{} {}",
            l.t("Certificar el lote", "Certify batch"),
            b.batch_number.as_str()
        ),
        "/liberacion",
        body,
    )
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
            render_release(&state, &s, &number, Some(error_box(s.lang, &e)), status).await
        }
    }
}
