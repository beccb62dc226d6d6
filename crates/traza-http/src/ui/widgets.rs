//! What several pages show or ask alike: status badges and names, QC tables, the page frame,
//! form-field parsing. Used by the feature modules (`pages`, `vigilance`, `holds`, `account`);
//! uses none of them.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::batch::QcResult;
use traza_domain::spec::SpecTest;
use traza_domain::vocab::{
    AccessRoute, BatchStatus, Origin, QcOutcome, SignatureMeaning, TestKind,
};

use super::fmt::Lang;
use super::{Session, page};
use crate::error::ApiError;

pub(super) fn status_name(l: Lang, s: BatchStatus) -> &'static str {
    match s {
        BatchStatus::InProduction => l.t("En producción", "In production"),
        BatchStatus::Quarantine => l.t("Cuarentena", "Quarantine"),
        BatchStatus::Released => l.t("Liberado", "Released"),
        BatchStatus::Rejected => l.t("Rechazado", "Rejected"),
        BatchStatus::Administered => l.t("Administrado", "Administered"),
    }
}

pub(super) fn status_badge(l: Lang, s: BatchStatus) -> Markup {
    html! { span class={ "badge " (s.as_str()) } { (status_name(l, s)) } }
}

pub(super) fn route_name(l: Lang, r: AccessRoute) -> &'static str {
    match r {
        AccessRoute::ClinicalTrial => l.t("Ensayo clínico", "Clinical trial"),
        AccessRoute::CompassionateUse => l.t("Uso compasivo", "Compassionate use"),
        AccessRoute::HospitalExemption => l.t("Exención hospitalaria", "Hospital exemption"),
    }
}

pub(super) fn origin_name(l: Lang, o: Origin) -> &'static str {
    match o {
        Origin::Autologous => l.t("Autólogo", "Autologous"),
        Origin::Allogeneic => l.t("Alogénico", "Allogeneic"),
    }
}

pub(super) fn outcome(l: Lang, o: QcOutcome) -> Markup {
    match o {
        QcOutcome::Pass => html! { span.pass { "✔ " (l.t("Conforme", "Pass")) } },
        QcOutcome::Fail => html! { span.fail { "✘ " (l.t("Fuera de especificación", "Fail")) } },
    }
}

pub(super) fn html_page(s: &Session, title: &str, path: &str, body: Markup) -> Response {
    Html(page(Some(s), s.lang, title, path, body).into_string()).into_response()
}

pub(super) fn html_page_status(
    s: &Session,
    status: StatusCode,
    title: &str,
    path: &str,
    body: Markup,
) -> Response {
    (
        status,
        Html(page(Some(s), s.lang, title, path, body).into_string()),
    )
        .into_response()
}

pub(super) fn empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A decimal typed the Spanish way (`92,5`) as the API takes it (`92.5`).
pub(super) fn decimal_input(s: &str) -> String {
    let t = s.trim();
    if t.contains(',') && !t.contains('.') {
        t.replace(',', ".")
    } else {
        t.to_owned()
    }
}

/// The `?hecho=…` of the page a form redirects to: what was just done.
#[derive(Deserialize, Default)]
pub(super) struct Done {
    pub(super) hecho: Option<String>,
}

/// The specification's tests beside the batch's current results.
pub(super) fn qc_table(l: Lang, tests: &[SpecTest], results: &[QcResult]) -> Markup {
    let current = traza_domain::batch::current_results(results);
    let limits = |t: &SpecTest| -> String {
        match t.kind {
            TestKind::Categorical => t.expected.clone().unwrap_or_default(),
            TestKind::Numeric => match (&t.min, &t.max) {
                (Some(a), Some(b)) => format!(
                    "{} – {}",
                    l.number(&a.to_string()),
                    l.number(&b.to_string())
                ),
                (Some(a), None) => format!("≥ {}", l.number(&a.to_string())),
                (None, Some(b)) => format!("≤ {}", l.number(&b.to_string())),
                (None, None) => String::new(),
            },
        }
    };
    html! {
        table {
            thead { tr {
                th { (l.t("Ensayo", "Test")) } th { (l.t("Especificación", "Specification")) } th { (l.t("Unidad", "Unit")) }
                th { (l.t("Resultado", "Result")) } th { (l.t("Valoración", "Outcome")) } th { (l.t("Registrado por", "Recorded by")) }
            } }
            tbody {
                @for t in tests {
                    @let r = current.iter().find(|r| r.test == t.test);
                    tr {
                        td { (t.test) @if t.required { " *" } }
                        td { (limits(t)) }
                        td { (t.unit) }
                        td { @if let Some(r) = r { (l.number(&r.value)) " " (r.unit) @if r.supersedes.is_some() { " " span.badge { (l.t("repetición", "retest")) } } } @else { span.muted { (l.t("pendiente", "pending")) } } }
                        td { @if let Some(r) = r { (outcome(l, r.outcome)) } }
                        td { @if let Some(r) = r { (r.recorded_by) " (#" (r.id) ")" } }
                    }
                }
            }
        }
        p.hint { "* " (l.t("ensayo obligatorio para la liberación", "required for release")) }
    }
}

pub(super) fn meaning_text(l: Lang, m: SignatureMeaning) -> &'static str {
    match m {
        SignatureMeaning::QpCertified => l.t(
            "Certifico, como Persona Cualificada, que este lote se ha fabricado y controlado conforme a las NCF y a su especificación, y lo libero.",
            "I certify, as Qualified Person, that this batch was made and tested under GMP and its specification, and I release it.",
        ),
        SignatureMeaning::Rejected => l.t("Rechazo este lote.", "I reject this batch."),
        SignatureMeaning::HistoricalReleaseConfirmed => l.t(
            "Confirmo, como Calidad del laboratorio, que este lote histórico liberado puede administrarse: he comprobado su registro, su caducidad y su cadena de identidad.",
            "I confirm, as QA of the laboratory, that this released historical batch may be administered: I checked its record, its expiry and its chain of identity.",
        ),
    }
}

pub(super) fn required(
    l: Lang,
    field: &'static str,
    v: &Option<String>,
) -> Result<String, ApiError> {
    empty(v.clone())
        .ok_or_else(|| ApiError::validation(field, l.t("es obligatorio", "is required")))
}

pub(super) fn date_field(
    l: Lang,
    field: &'static str,
    v: &Option<String>,
) -> Result<NaiveDate, ApiError> {
    required(l, field, v)?
        .parse()
        .map_err(|_| ApiError::validation(field, l.t("no es una fecha", "is not a date")))
}
