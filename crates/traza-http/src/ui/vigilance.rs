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
        ReactionSeverity::Serious => l.t("serious"),
        ReactionSeverity::NonSerious => l.t("non-serious"),
    }
}

fn imputability_name(l: Lang, i: Imputability) -> &'static str {
    match i {
        Imputability::Excluded => l.t("excluded"),
        Imputability::Unlikely => l.t("unlikely"),
        Imputability::Possible => l.t("possible"),
        Imputability::Probable => l.t("probable"),
        Imputability::Certain => l.t("certain"),
    }
}

/// A reaction's status as a badge: open reports stand out.
pub fn status_tag(l: Lang, s: ReactionStatus) -> Markup {
    match s {
        ReactionStatus::Open => html! { span.badge.rejected { (l.t("open")) } },
        ReactionStatus::Closed => html! { span.badge { (l.t("closed")) } },
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
            (l.t("reaction")) " #" (id) " · " (severity_name(l, severity))
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
        p.hint { (l.t("adverse-reactions-and-events-reported-against")) }
        nav.filters aria-label=(l.t("status")) {
            (tab("abiertas", l.t("open-2"))) (tab("cerradas", l.t("closed-2"))) (tab("todas", l.t("all-2")))
        }
        @if page_of.items.is_empty() { p.muted { (l.t("no-reports")) } } @else {
            div.scroll { table {
                thead { tr {
                    th { "#" } th { (l.t("reported")) } th { (l.t("severity")) }
                    th { (l.t("batch")) } th { (l.t("product-laboratory")) }
                    th { (l.t("patient")) } th { (l.t("imputability")) } th { (l.t("status")) }
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
            } }
        }
        @if let Some(c) = &page_of.next_cursor {
            p.pager { a href={ "/vigilancia?estado=" (which) "&cursor=" (c) } { (l.t("older")) } }
        }
    };
    html_page(&s, l.t("biovigilance"), "/vigilancia", body)
}

fn reaction_facts(l: Lang, r: &ReactionView) -> Markup {
    html! {
        dl.facts {
            dt { (l.t("status")) } dd { (status_tag(l, r.status)) }
            dt { (l.t("severity")) } dd { (severity_name(l, r.severity)) }
            dt { (l.t("imputability")) } dd { (imputability_name(l, r.imputability)) }
            dt { (l.t("batch")) } dd { a href={ "/lotes/" (r.batch_number) } { (r.batch_number) } " · " (r.product_code) " · " (r.lab_code) }
            dt { (l.t("patient")) } dd { (r.patient_code) }
            dt { (l.t("administration")) } dd { "#" (r.administration_id) " · " (l.date(r.administered_on)) }
            dt { (l.t("reported")) } dd { (l.date(r.reported_on)) " · " (r.reported_by) " · " (l.instant(r.reported_at)) }
            dt { (l.t("description")) } dd { (r.description) }
            @if let Some(c) = &r.conclusion {
                dt { (l.t("conclusion")) } dd { (c) }
                dt { (l.t("closed-by")) } dd { (r.closed_by.clone().unwrap_or_default()) @if let Some(at) = r.closed_at { " · " (l.instant(at)) } }
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
            section.card aria-labelledby="notificacion" { h2 #notificacion { (l.t("report")) } (reaction_facts(l, r)) }
            section.card aria-labelledby="retener" {
                h2 #retener {
                    @if r.status == ReactionStatus::Open { (l.t("what-to-do-now")) }
                    @else { (l.t("reach-of-the-look-back")) }
                }
                p { strong { (l.t("the-donor-s-batches-to-hold")) } }
                @if lb.batches_to_hold.is_empty() { p.muted { (l.t("none-2")) } } @else {
                    ul { @for b in &lb.batches_to_hold { li { (b) } } }
                }
                p { strong { (l.t("patients-to-follow-up")) } }
                @if lb.patients_to_follow_up.is_empty() { p.muted { (l.t("none-besides-the-affected-patient")) } } @else {
                    ul { @for p in &lb.patients_to_follow_up { li { (p) } } }
                }
            }
        }
        section aria-labelledby="retro" {
            h2 #retro { (l.t("donor-look-back")) " " (lb.donor_code) }
            p.hint { (l.t("all-material-of-the-same-donor")) }
            h3 { (l.t("other-patients-of-the-same-batch")) }
            @if lb.same_batch_recipients.is_empty() { p.muted { (l.t("none-2")) } } @else {
                div.scroll { table { thead { tr { th { (l.t("patient")) } th { (l.t("administered")) } } }
                    tbody { @for p in &lb.same_batch_recipients { tr { td { (p.patient_code) } td { (l.date(p.administered_on)) } } } } } }
            }
            h3 { (l.t("other-batches-of-the-same-donor")) }
            @if lb.other_batches.is_empty() { p.muted { (l.t("none-2")) } } @else {
                div.scroll { table {
                    thead { tr { th { (l.t("batch")) } th { (l.t("laboratory")) } th { (l.t("product")) } th { (l.t("status")) } th { (l.t("patients")) } } }
                    tbody { @for b in &lb.other_batches { tr {
                        td { (batch_ref(&b.batch_number, &b.lab_code)) }
                        td { (b.lab_code) }
                        td { (b.product_code) }
                        td { (status_badge(l, b.status)) }
                        td {
                            @if b.recipients.is_empty() {
                                @if let Some(p) = &b.made_for { (p) " " span.hint { (l.t("intended-not-administered")) } } @else { "—" }
                            } @else {
                                ul { @for p in &b.recipients { li { (p.patient_code) " · " (l.date(p.administered_on)) } } }
                            }
                        }
                    } } }
                } }
            }
        }
        @if r.status == ReactionStatus::Open && s.actor.may(Action::CloseReaction).is_ok() {
            form.card method="post" action={ "/vigilancia/" (r.id) "/cerrar" } {
                input type="hidden" name="csrf" value=(s.csrf());
                label for="conclusion" { (l.t("conclusion-of-the-investigation")) }
                textarea #conclusion name="conclusion" required rows="3" {}
                button.primary type="submit" { (l.t("close-the-report")) }
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
        Some("notificada") => Some(l.t("reaction-reported-review-the-donor-look")),
        Some("cerrada") => Some(l.t("report-closed")),
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
            &format!("{} #{id}", l.t("adverse-reaction")),
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
            dt { (l.t("batch")) } dd { a href={ "/lotes/" (n) } { (n) } " · " (v.batch.product_code.as_str()) " · " (v.batch.lab_code.as_str()) }
            dt { (l.t("donor")) } dd { (v.batch.donor_code.as_str()) }
            dt { (l.t("patient")) } dd { (a.patient_code) }
            dt { (l.t("administration")) } dd { "#" (a.id) " · " (l.date(a.administered_on)) " · " (a.hospital) }
        }
        p.hint { (l.t("on-reporting-traza-finds-every-other")) }
        form.card method="post" action={ "/lotes/" (n) "/administraciones/" (a.id) "/reaccion" } {
            input type="hidden" name="csrf" value=(s.csrf());
            label for="reported_on" { (l.t("reported-on")) }
            input #reported_on type="date" name="reported_on" required value=(Utc::now().date_naive().to_string());
            label for="severity" { (l.t("severity")) }
            select #severity name="severity" { @for sv in ReactionSeverity::ALL { option value=(sv.as_str()) { (severity_name(l, *sv)) } } }
            label for="imputability" { (l.t("imputability-to-the-product")) }
            select #imputability name="imputability" { @for i in Imputability::ALL { option value=(i.as_str()) selected[*i == Imputability::Possible] { (imputability_name(l, *i)) } } }
            label for="description" { (l.t("description-of-the-reaction")) }
            textarea #description name="description" required rows="4" {}
            button.primary type="submit" { (l.t("report-the-adverse-reaction")) }
        }
    };
    html_page_status(
        s,
        status,
        l.t("report-an-adverse-reaction-2"),
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
