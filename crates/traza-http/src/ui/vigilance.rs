//! Biovigilance pages (SPEC §6): the work list of reaction reports, a report with its donor
//! look-back and the coordinator's conclusion, and the report form reached from an
//! administration on the batch page. Each calls the store method the API calls.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::access::Action;
use traza_domain::vigilance::{Imputability, ReactionSeverity, ReactionStatus};
use traza_store::{NewReaction, ReactionReport, ReactionView};

use super::fmt::Lang;
use super::widgets::{Done, date_field, html_page, html_page_status, required, status_badge};
use super::{Session, error_box, store_error};
use crate::AppState;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/vigilancia", get(work_list))
        .route("/vigilancia/{id}", get(report_page))
        .route("/vigilancia/{id}/cerrar", axum::routing::post(close))
        .route(
            "/lotes/{number}/administraciones/{id}/reaccion",
            get(report_form_page).post(report),
        )
}

pub fn severity_name(l: Lang, s: ReactionSeverity) -> &'static str {
    match s {
        ReactionSeverity::Serious => l.t("grave", "serious"),
        ReactionSeverity::NonSerious => l.t("no grave", "non-serious"),
    }
}

fn imputability_name(l: Lang, i: Imputability) -> &'static str {
    match i {
        Imputability::Excluded => l.t("descartada", "excluded"),
        Imputability::Unlikely => l.t("improbable", "unlikely"),
        Imputability::Possible => l.t("posible", "possible"),
        Imputability::Probable => l.t("probable", "probable"),
        Imputability::Certain => l.t("cierta", "certain"),
    }
}

/// A reaction's status as a badge: open reports stand out.
pub fn status_tag(l: Lang, s: ReactionStatus) -> Markup {
    match s {
        ReactionStatus::Open => html! { span.badge.rejected { (l.t("ABIERTA", "OPEN")) } },
        ReactionStatus::Closed => html! { span.badge { (l.t("cerrada", "closed")) } },
    }
}

/// A short link to a report: `#id · grave · ABIERTA`.
pub fn reaction_link(
    l: Lang,
    id: i64,
    severity: ReactionSeverity,
    status: ReactionStatus,
) -> Markup {
    html! {
        a href={ "/vigilancia/" (id) } {
            (l.t("Reacción", "Reaction")) " #" (id) " · " (severity_name(l, severity))
        }
        " " (status_tag(l, status))
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    estado: Option<String>,
    cursor: Option<String>,
}

async fn work_list(
    State(state): State<AppState>,
    s: Session,
    Query(q): Query<ListQuery>,
) -> Response {
    let l = s.lang;
    let (status, which) = match q.estado.as_deref() {
        None | Some("abiertas") => (Some(ReactionStatus::Open), "abiertas"),
        Some("cerradas") => (Some(ReactionStatus::Closed), "cerradas"),
        _ => (None, "todas"),
    };
    let page_of = match state
        .store
        .list_reactions(&s.actor, status, q.cursor.as_deref(), 100)
        .await
    {
        Ok(p) => p,
        Err(e) => return store_error(l, e),
    };
    let tab = |key: &str, label: &str| {
        html! { a href={ "/vigilancia?estado=" (key) } aria-current=[(which == key).then_some("page")] { (label) } }
    };
    let body = html! {
        p.hint { (l.t(
            "Reacciones y acontecimientos adversos notificados sobre administraciones. Cada notificación abre una búsqueda retrospectiva de todo el material del mismo donante en la red, y sigue abierta hasta que la coordinación la cierra con una conclusión.",
            "Adverse reactions and events reported against administrations. Each report starts a look-back over all material of the same donor in the network, and stays open until the coordination unit closes it with a conclusion."
        )) }
        nav.filters aria-label=(l.t("Estado", "Status")) {
            (tab("abiertas", l.t("Abiertas", "Open"))) (tab("cerradas", l.t("Cerradas", "Closed"))) (tab("todas", l.t("Todas", "All")))
        }
        @if page_of.items.is_empty() { p.muted { (l.t("No hay notificaciones.", "No reports.")) } } @else {
            table {
                thead { tr {
                    th { "#" } th { (l.t("Notificada", "Reported")) } th { (l.t("Gravedad", "Severity")) }
                    th { (l.t("Lote", "Batch")) } th { (l.t("Producto · laboratorio", "Product · laboratory")) }
                    th { (l.t("Paciente", "Patient")) } th { (l.t("Imputabilidad", "Imputability")) } th { (l.t("Estado", "Status")) }
                } }
                tbody { @for r in &page_of.items { tr {
                    td { a href={ "/vigilancia/" (r.id) } { "#" (r.id) } }
                    td { (l.date(r.reported_on)) }
                    td { @if r.severity == ReactionSeverity::Serious { strong.fail { (severity_name(l, r.severity)) } } @else { (severity_name(l, r.severity)) } }
                    td { a href={ "/lotes/" (r.batch_number) } { (r.batch_number) } }
                    td { (r.product_code) " · " (r.lab_code) }
                    td { (r.patient_code) }
                    td { (imputability_name(l, r.imputability)) }
                    td { (status_tag(l, r.status)) }
                } } }
            }
        }
        @if let Some(c) = &page_of.next_cursor {
            p.pager { a href={ "/vigilancia?estado=" (which) "&cursor=" (c) } { (l.t("Más antiguas →", "Older →")) } }
        }
    };
    html_page(
        &s,
        l.t("Biovigilancia", "Biovigilance"),
        "/vigilancia",
        body,
    )
}

fn reaction_facts(l: Lang, r: &ReactionView) -> Markup {
    html! {
        dl.facts {
            dt { (l.t("Estado", "Status")) } dd { (status_tag(l, r.status)) }
            dt { (l.t("Gravedad", "Severity")) } dd { (severity_name(l, r.severity)) }
            dt { (l.t("Imputabilidad", "Imputability")) } dd { (imputability_name(l, r.imputability)) }
            dt { (l.t("Lote", "Batch")) } dd { a href={ "/lotes/" (r.batch_number) } { (r.batch_number) } " · " (r.product_code) " · " (r.lab_code) }
            dt { (l.t("Paciente", "Patient")) } dd { (r.patient_code) }
            dt { (l.t("Administración", "Administration")) } dd { "#" (r.administration_id) " · " (l.date(r.administered_on)) }
            dt { (l.t("Notificada", "Reported")) } dd { (l.date(r.reported_on)) " · " (r.reported_by) " · " (l.instant(r.reported_at)) }
            dt { (l.t("Descripción", "Description")) } dd { (r.description) }
            @if let Some(c) = &r.conclusion {
                dt { (l.t("Conclusión", "Conclusion")) } dd { (c) }
                dt { (l.t("Cerrada por", "Closed by")) } dd { (r.closed_by.clone().unwrap_or_default()) @if let Some(at) = r.closed_at { " · " (l.instant(at)) } }
            }
        }
    }
}

fn report_body(s: &Session, rep: &ReactionReport, notice: Option<Markup>) -> Markup {
    let l = s.lang;
    let r = &rep.reaction;
    let lb = &rep.look_back;
    let scope = s.actor.scope();
    // A batch of another laboratory is named by its code; only batches in scope link.
    let batch_ref = |number: &str, lab: &str| {
        html! { @if scope.includes_code(lab) { a href={ "/lotes/" (number) } { (number) } } @else { (number) } }
    };
    html! {
        @if let Some(n) = notice { (n) }
        div.grid {
            section.card aria-labelledby="notificacion" { h2 #notificacion { (l.t("Notificación", "Report")) } (reaction_facts(l, r)) }
            section.card aria-labelledby="retener" {
                h2 #retener {
                    @if r.status == ReactionStatus::Open { (l.t("Qué hacer ahora", "What to do now")) }
                    @else { (l.t("Alcance de la búsqueda retrospectiva", "Reach of the look-back")) }
                }
                p { strong { (l.t("Lotes del donante que retener", "The donor's batches to hold")) } }
                @if lb.batches_to_hold.is_empty() { p.muted { (l.t("Ninguno.", "None.")) } } @else {
                    ul { @for b in &lb.batches_to_hold { li { (b) } } }
                }
                p { strong { (l.t("Pacientes que seguir", "Patients to follow up")) } }
                @if lb.patients_to_follow_up.is_empty() { p.muted { (l.t("Ninguno más que el paciente afectado.", "None besides the affected patient.")) } } @else {
                    ul { @for p in &lb.patients_to_follow_up { li { (p) } } }
                }
            }
        }
        section aria-labelledby="retro" {
            h2 #retro { (l.t("Búsqueda retrospectiva del donante", "Donor look-back")) " " (lb.donor_code) }
            p.hint { (l.t(
                "Todo el material del mismo donante en la red, de cualquier laboratorio; solo se muestran códigos.",
                "All material of the same donor in the network, from any laboratory; codes only."
            )) }
            h3 { (l.t("Otros pacientes del mismo lote", "Other patients of the same batch")) }
            @if lb.same_batch_recipients.is_empty() { p.muted { (l.t("Ninguno.", "None.")) } } @else {
                table { thead { tr { th { (l.t("Paciente", "Patient")) } th { (l.t("Administrado", "Administered")) } } }
                    tbody { @for p in &lb.same_batch_recipients { tr { td { (p.patient_code) } td { (l.date(p.administered_on)) } } } } }
            }
            h3 { (l.t("Otros lotes del mismo donante", "Other batches of the same donor")) }
            @if lb.other_batches.is_empty() { p.muted { (l.t("Ninguno.", "None.")) } } @else {
                table {
                    thead { tr { th { (l.t("Lote", "Batch")) } th { (l.t("Laboratorio", "Laboratory")) } th { (l.t("Producto", "Product")) } th { (l.t("Estado", "Status")) } th { (l.t("Pacientes", "Patients")) } } }
                    tbody { @for b in &lb.other_batches { tr {
                        td { (batch_ref(&b.batch_number, &b.lab_code)) }
                        td { (b.lab_code) }
                        td { (b.product_code) }
                        td { (status_badge(l, b.status)) }
                        td {
                            @if b.recipients.is_empty() {
                                @if let Some(p) = &b.made_for { (p) " " span.hint { (l.t("(destinatario, sin administrar)", "(intended, not administered)")) } } @else { "—" }
                            } @else {
                                ul { @for p in &b.recipients { li { (p.patient_code) " · " (l.date(p.administered_on)) } } }
                            }
                        }
                    } } }
                }
            }
        }
        @if r.status == ReactionStatus::Open && s.actor.may(Action::CloseReaction).is_ok() {
            form.card method="post" action={ "/vigilancia/" (r.id) "/cerrar" } {
                input type="hidden" name="csrf" value=(s.csrf());
                label for="conclusion" { (l.t("Conclusión de la investigación", "Conclusion of the investigation")) }
                textarea #conclusion name="conclusion" required rows="3" {}
                button.primary type="submit" { (l.t("Cerrar la notificación", "Close the report")) }
            }
        }
    }
}

async fn report_page(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    let l = s.lang;
    let Ok(id) = id.parse::<i64>() else {
        return store_error(l, traza_store::StoreError::NotFound("reaction"));
    };
    let notice = match d.hecho.as_deref() {
        Some("notificada") => Some(l.t(
            "Reacción notificada. Revise la búsqueda retrospectiva del donante.",
            "Reaction reported. Review the donor look-back.",
        )),
        Some("cerrada") => Some(l.t("Notificación cerrada.", "Report closed.")),
        _ => None,
    }
    .map(|t| html! { div.notice.ok role="status" { p { (t) } } });
    render_report(&state, &s, id, notice, StatusCode::OK).await
}

async fn render_report(
    state: &AppState,
    s: &Session,
    id: i64,
    notice: Option<Markup>,
    status: StatusCode,
) -> Response {
    let l = s.lang;
    match state.store.get_reaction(&s.actor, id).await {
        Ok(rep) => html_page_status(
            s,
            status,
            &format!("{} #{id}", l.t("Reacción adversa", "Adverse reaction")),
            "/vigilancia",
            report_body(s, &rep, notice),
        ),
        Err(e) => store_error(l, e),
    }
}

#[derive(Deserialize, Default)]
struct CloseForm {
    #[serde(default)]
    csrf: String,
    conclusion: Option<String>,
}

async fn close(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<CloseForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let Ok(id) = id.parse::<i64>() else {
        return store_error(l, traza_store::StoreError::NotFound("reaction"));
    };
    let result: Result<_, ApiError> = async {
        let conclusion = required(l, "conclusion", &f.conclusion)?;
        Ok(state
            .store
            .close_reaction(&s.actor, id, &conclusion)
            .await?)
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/vigilancia/{id}?hecho=cerrada")).into_response(),
        Err(e) => {
            let status = e.status;
            render_report(&state, &s, id, Some(error_box(l, &e)), status).await
        }
    }
}

#[derive(Deserialize, Default)]
struct ReportForm {
    #[serde(default)]
    csrf: String,
    reported_on: Option<String>,
    severity: Option<String>,
    imputability: Option<String>,
    description: Option<String>,
}

async fn report_form_page(
    State(state): State<AppState>,
    s: Session,
    Path((number, id)): Path<(String, String)>,
) -> Response {
    render_report_form(&state, &s, &number, &id, None, StatusCode::OK).await
}

async fn render_report_form(
    state: &AppState,
    s: &Session,
    number: &str,
    administration: &str,
    error: Option<Markup>,
    status: StatusCode,
) -> Response {
    let l = s.lang;
    let v = match state.store.get_batch(&s.actor, number).await {
        Ok(v) => v,
        Err(e) => return store_error(l, e),
    };
    let Some(a) = administration
        .parse::<i64>()
        .ok()
        .and_then(|id| v.administrations.iter().find(|a| a.id == id))
    else {
        return store_error(l, traza_store::StoreError::NotFound("administration"));
    };
    let n = v.batch.batch_number.as_str();
    let body = html! {
        @if let Some(e) = error { (e) }
        dl.facts.card {
            dt { (l.t("Lote", "Batch")) } dd { a href={ "/lotes/" (n) } { (n) } " · " (v.batch.product_code.as_str()) " · " (v.batch.lab_code.as_str()) }
            dt { (l.t("Donante", "Donor")) } dd { (v.batch.donor_code.as_str()) }
            dt { (l.t("Paciente", "Patient")) } dd { (a.patient_code) }
            dt { (l.t("Administración", "Administration")) } dd { "#" (a.id) " · " (l.date(a.administered_on)) " · " (a.hospital) }
        }
        p.hint { (l.t(
            "Al notificar, Traza busca todos los demás lotes del mismo donante en toda la red y los pacientes que los recibieron, para que se retengan y se sigan.",
            "On reporting, Traza finds every other batch of the same donor across the network and the patients who received them, so they can be held and followed up."
        )) }
        form.card method="post" action={ "/lotes/" (n) "/administraciones/" (a.id) "/reaccion" } {
            input type="hidden" name="csrf" value=(s.csrf());
            label for="reported_on" { (l.t("Fecha de notificación", "Reported on")) }
            input #reported_on type="date" name="reported_on" required value=(Utc::now().date_naive().to_string());
            label for="severity" { (l.t("Gravedad", "Severity")) }
            select #severity name="severity" { @for sv in ReactionSeverity::ALL { option value=(sv.as_str()) { (severity_name(l, *sv)) } } }
            label for="imputability" { (l.t("Imputabilidad al producto", "Imputability to the product")) }
            select #imputability name="imputability" { @for i in Imputability::ALL { option value=(i.as_str()) selected[*i == Imputability::Possible] { (imputability_name(l, *i)) } } }
            label for="description" { (l.t("Descripción de la reacción", "Description of the reaction")) }
            textarea #description name="description" required rows="4" {}
            button.primary type="submit" { (l.t("Notificar la reacción adversa", "Report the adverse reaction")) }
        }
    };
    html_page_status(
        s,
        status,
        l.t(
            "Notificar una reacción adversa",
            "Report an adverse reaction",
        ),
        "/vigilancia",
        body,
    )
}

async fn report(
    State(state): State<AppState>,
    s: Session,
    Path((number, administration)): Path<(String, String)>,
    axum::Form(f): axum::Form<ReportForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let result: Result<ReactionReport, ApiError> = async {
        let id = administration
            .parse::<i64>()
            .map_err(|_| ApiError::from(traza_store::StoreError::NotFound("administration")))?;
        let severity: ReactionSeverity = required(l, "severity", &f.severity)?
            .parse()
            .map_err(|e| ApiError::validation("severity", e))?;
        let imputability: Imputability = required(l, "imputability", &f.imputability)?
            .parse()
            .map_err(|e| ApiError::validation("imputability", e))?;
        let new = NewReaction {
            reported_on: date_field(l, "reported_on", &f.reported_on)?,
            severity,
            imputability,
            description: required(l, "description", &f.description)?,
        };
        Ok(state
            .store
            .report_reaction(&s.actor, &number, id, new)
            .await?)
    }
    .await;
    match result {
        Ok(rep) => Redirect::to(&format!("/vigilancia/{}?hecho=notificada", rep.reaction.id))
            .into_response(),
        Err(e) => {
            let status = e.status;
            render_report_form(
                &state,
                &s,
                &number,
                &administration,
                Some(error_box(l, &e)),
                status,
            )
            .await
        }
    }
}
