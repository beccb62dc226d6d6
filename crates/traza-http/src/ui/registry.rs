//! The public page of the registry (`/registro`): no login, Spanish first.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::vocab::AccessRoute;
use traza_store::PublicTherapy;

use super::{Lang, page, store_error};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct RegistryQuery {
    q: Option<String>,
}

fn route_text(l: Lang, r: AccessRoute) -> (&'static str, &'static str) {
    match r {
        AccessRoute::ClinicalTrial => (
            l.t("Ensayo clínico", "Clinical trial"),
            l.t(
                "Un estudio autorizado por la AEMPS, con su identificador público (EudraCT o EU CT). Solo participan los pacientes que cumplen sus criterios y lo aceptan por escrito; participar no cuesta dinero.",
                "A study authorised by the Spanish agency (AEMPS), with a public identifier (EudraCT or EU CT). Only patients who meet its criteria and consent in writing take part; taking part costs no money.",
            ),
        ),
        AccessRoute::CompassionateUse => (
            l.t("Uso compasivo", "Compassionate use"),
            l.t(
                "Un medicamento aún en investigación para un paciente concreto sin alternativa, autorizado caso a caso por la AEMPS a petición de su médico en el hospital.",
                "A medicine still under investigation, for one patient without alternatives, authorised case by case by AEMPS at the request of the hospital doctor.",
            ),
        ),
        AccessRoute::HospitalExemption => (
            l.t("Exención hospitalaria", "Hospital exemption"),
            l.t(
                "Un medicamento de terapia avanzada fabricado de forma no industrial y autorizado por la AEMPS para usarse en un hospital público, bajo la responsabilidad de un médico.",
                "An advanced therapy made on a non-routine basis and authorised by AEMPS for use in a public hospital, under a doctor's responsibility.",
            ),
        ),
    }
}

fn therapy(l: Lang, t: &PublicTherapy) -> Markup {
    html! {
        article.card {
            h2 { (t.name) }
            p.hint { (t.atmp_class) " · " (t.origin) " · " (l.t("actualizado el", "updated on")) " " (l.date(t.last_changed.date_naive())) }
            ul {
                @for s in &t.sites {
                    li { strong { (s.laboratory) } " (" (s.city) ") — " (route_text(l, s.access_route).0)
                        @if let Some(id) = &s.trial_id { " · " (l.t("ensayo", "trial")) " " code { (id) } } }
                }
            }
        }
    }
}

pub async fn registro(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<RegistryQuery>,
) -> Response {
    let l = Lang::from_headers(&headers);
    let published = match state.store.public_registry().await {
        Ok(p) => p,
        Err(e) => return store_error(l, e),
    };
    let query =
        q.q.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.chars().count() <= 200);
    let shown: Vec<&PublicTherapy> = match query {
        Some(text) => published.registry.search(text),
        None => published.registry.therapies.iter().collect(),
    };
    let body = html! {
        p { (l.t(
            "Estas son las terapias avanzadas (medicamentos de células, tejidos o genes) que los laboratorios GMP de la red están autorizados a fabricar hoy, y por qué vía puede recibirlas un paciente.",
            "These are the advanced therapies (medicines made from cells, tissues or genes) that the network's GMP laboratories are authorised to make today, and the way a patient can receive them.")) }
        form.filters method="get" action="/registro" role="search" {
            div { label for="q" { (l.t("Buscar por nombre o número de ensayo", "Search by name or trial number")) }
                input #q name="q" value=[query] placeholder=(l.t("p. ej. condrocitos", "e.g. chondrocytes")); }
            button.primary type="submit" { (l.t("Buscar", "Search")) }
        }
        @if query.is_some() {
            @if shown.is_empty() {
                div.notice.warn role="status" #no-listada {
                    p { strong { (l.t("Esta terapia no está en el registro.", "This therapy is not in the registry.")) } }
                    p { (l.t(
                        "Ningún laboratorio de la red está autorizado hoy a fabricarla. Desconfíe de quien le ofrezca, a cambio de dinero, una «terapia celular» o «con células madre» que no figure aquí ni en un ensayo clínico autorizado: consulte a su médico del sistema público de salud.",
                        "No laboratory of the network is authorised to make it today. Be wary of anyone offering, for money, a 'cell' or 'stem cell' therapy that is not listed here nor in an authorised clinical trial: ask your doctor in the public health system.")) }
                }
            } @else {
                p #encontradas { (shown.len()) " " (if shown.len() == 1 { l.t("terapia encontrada", "therapy found") } else { l.t("terapias encontradas", "therapies found") }) }
            }
        }
        @for t in &shown { (therapy(l, t)) }
        h2 { (l.t("Las tres vías de acceso", "The three access routes")) }
        dl.facts {
            @for r in AccessRoute::ALL {
                @let (name, text) = route_text(l, *r);
                dt { (name) } dd { (text) }
            }
        }
        h2 { (l.t("¿Y si una terapia no aparece?", "What if a therapy is not listed?")) }
        p { (l.t(
            "Que no aparezca significa que ningún laboratorio de la red tiene hoy autorización para fabricarla por ninguna de estas vías. Las terapias avanzadas legítimas no se venden en clínicas privadas ni por internet: se reciben en un hospital, dentro de un ensayo, por uso compasivo o por exención hospitalaria.",
            "Not listed means that no laboratory of the network is authorised today to make it by any of these routes. Legitimate advanced therapies are not sold in private clinics or online: they are given in a hospital, in a trial, by compassionate use or under the hospital exemption.")) }
        p.hint { (l.t("Datos actualizados a", "Data as of")) " " (l.instant(published.registry.generated_at)) }
    };
    let html = Html(
        page(
            None,
            l,
            l.t(
                "Registro de terapias avanzadas autorizadas",
                "Registry of authorised advanced therapies",
            ),
            "/registro",
            body,
        )
        .into_string(),
    );
    // Public, like the registry's JSON (nothing about a batch or a person is on it), and
    // cached as briefly; its language comes from the cookie or `Accept-Language`.
    (
        [
            (header::CACHE_CONTROL, "public, max-age=2"),
            (header::VARY, "Cookie, Accept-Language"),
        ],
        html,
    )
        .into_response()
}
