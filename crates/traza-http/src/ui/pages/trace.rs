//! Traceability search: from a donor or patient code to the batches and administrations.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use traza_domain::codes::{DonorCode, PatientCode};
use traza_domain::vocab::BatchStatus;

use crate::AppState;
use crate::error::ApiError;
use crate::ui::vigilance::reaction_link;
use crate::ui::widgets::{empty, html_page, status_name};
use crate::ui::{Session, error_box};

#[derive(Deserialize, Default)]
pub(super) struct TraceQuery {
    codigo: Option<String>,
}

pub(super) async fn trace(
    State(state): State<AppState>,
    s: Session,
    Query(q): Query<TraceQuery>,
) -> Response {
    let l = s.lang;
    let code = empty(q.codigo);
    let mut error = None;
    let mut as_donor = Vec::new();
    let mut as_patient = Vec::new();
    if let Some(c) = &code {
        if let Ok(d) = DonorCode::parse(c) {
            match state.store.trace_donor(&s.actor, &d).await {
                Ok(t) => as_donor = t,
                Err(e) => error = Some(ApiError::from(e)),
            }
        }
        if let Ok(p) = PatientCode::parse(c) {
            match state.store.trace_patient(&s.actor, &p).await {
                Ok(t) => as_patient = t,
                Err(e) => error = Some(ApiError::from(e)),
            }
        }
    }
    let chain = |title: &str, rows: &[traza_store::TraceBatch]| {
        html! {
            h2 { (title) }
            @if rows.is_empty() { p.muted { (l.t("nothing")) } } @else {
                div.scroll { table {
                    thead { tr { th { (l.t("donor")) } th { (l.t("batch")) } th { (l.t("product")) } th { (l.t("status")) } th { (l.t("patient-s")) } } }
                    tbody { @for t in rows { tr {
                        td { (t.donor_code) }
                        td { a href={ "/lotes/" (t.batch_number) } { (t.batch_number) } }
                        td { (t.product_code) " · " (t.lab_code) }
                        td { (t.status.parse::<BatchStatus>().map(|st| status_name(l, st)).unwrap_or(&t.status)) }
                        td { @if t.administrations.is_empty() { (t.patient_code.clone().unwrap_or_else(|| "—".into())) } @else {
                            ul { @for a in &t.administrations { li {
                                (a.patient_code) " · " (l.date(a.administered_on))
                                @for r in &a.reactions { br; (reaction_link(l, r.id, r.severity, r.status)) }
                            } } } } }
                    } } }
                } }
            }
        }
    };
    let body = html! {
        form.filters method="get" action="/trazabilidad" role="search" {
            div { label for="codigo" { (l.t("donor-or-patient-code")) } input #codigo name="codigo" value=[code.as_deref()] required autocomplete="off"; }
            button.primary type="submit" { (l.t("search")) }
        }
        @if let Some(e) = &error { (error_box(l, e)) }
        @if code.is_some() {
            (chain(l.t("as-donor-batches-and-who-received"), &as_donor))
            (chain(l.t("as-patient-batches-received-and-their"), &as_patient))
        }
    };
    html_page(&s, l.t("traceability"), "/trazabilidad", body)
}
