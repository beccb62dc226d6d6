//! The public page of the registry (`/registro`): no login, Spanish first.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::codes::{TrialId, TrialIdKind};
use traza_domain::vocab::{AccessRoute, AtmpClass, Origin};
use traza_store::PublicTherapy;

use super::widgets::origin_name;
use super::{Lang, page, store_error};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct RegistryQuery {
    q: Option<String>,
}

fn route_text(l: Lang, r: AccessRoute) -> (&'static str, &'static str) {
    match r {
        AccessRoute::ClinicalTrial => (
            l.t("clinical-trial"),
            l.t("a-study-authorised-by-the-spanish"),
        ),
        AccessRoute::CompassionateUse => (
            l.t("compassionate-use"),
            l.t("a-medicine-still-under-investigation-for"),
        ),
        AccessRoute::HospitalExemption => (
            l.t("hospital-exemption"),
            l.t("an-advanced-therapy-made-on-a"),
        ),
    }
}

/// An ATMP class (Regulation (EC) 1394/2007 Art. 2) in the page's language. Shared with the
/// network pages, which reach this module and not the other way round.
pub(super) fn class_name(l: Lang, c: AtmpClass) -> &'static str {
    match c {
        AtmpClass::SomaticCellTherapy => l.t("net-class-somatic-cell-therapy"),
        AtmpClass::TissueEngineered => l.t("net-class-tissue-engineered"),
        AtmpClass::GeneTherapy => l.t("net-class-gene-therapy"),
        AtmpClass::Combined => l.t("net-class-combined"),
    }
}

/// The public EU register's page of a clinical trial: CTIS (Regulation (EU) No 536/2014) for
/// an EU CT number, the EU Clinical Trials Register for an older EudraCT number (Directive
/// 2001/20/EC); `None` for anything else, shown as plain text. The id must be one the domain
/// accepts (`TrialId`: the EU CT sequence starts with 5, the year is plausible), so a link
/// never sends a patient to another trial's search.
pub(crate) fn trial_register_url(id: &str) -> Option<String> {
    let id = TrialId::parse(id.trim()).ok()?;
    // The id is digits and hyphens only: nothing to escape in a query.
    Some(match id.kind() {
        TrialIdKind::EuCt => format!(
            "https://euclinicaltrials.eu/search-for-clinical-trials/?lang=en&EUCT={}",
            id.as_str()
        ),
        TrialIdKind::EudraCt => format!(
            "https://www.clinicaltrialsregister.eu/ctr-search/search?query={}",
            id.as_str()
        ),
    })
}

/// A trial id (or any authorisation reference) as a page shows it: linked to the public EU
/// register when it is a trial id, else as it is.
pub(super) fn trial_link(l: Lang, id: &str) -> Markup {
    html! {
        @if let Some(url) = trial_register_url(id) {
            a href=(url) rel="external noopener noreferrer" title=(l.t("net-open-in-the-eu-register")) { code { (id.trim()) } }
        } @else {
            code { (id) }
        }
    }
}

fn therapy(l: Lang, t: &PublicTherapy) -> Markup {
    // The registry carries the stored words; one it does not know shows as stored.
    let class = t
        .atmp_class
        .parse::<AtmpClass>()
        .map_or(t.atmp_class.as_str(), |c| class_name(l, c));
    let origin = t
        .origin
        .parse::<Origin>()
        .map_or(t.origin.as_str(), |o| origin_name(l, o));
    html! {
        article.card {
            h2 { (t.name) }
            p.hint { (class) " · " (origin) " · " (l.t("updated-on")) " " (l.date(t.last_changed.date_naive())) }
            ul {
                @for s in &t.sites {
                    li { strong { (s.laboratory) } " (" (s.city) ") — " (route_text(l, s.access_route).0)
                        @if let Some(id) = &s.trial_id { " · " (l.t("trial")) " " (trial_link(l, id)) } }
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
        p { (l.t("these-are-the-advanced-therapies-medicines")) }
        form.filters method="get" action="/registro" role="search" {
            div { label for="q" { (l.t("search-by-name-or-trial-number")) }
                input #q name="q" value=[query] placeholder=(l.t("e-g-chondrocytes")); }
            button.primary type="submit" { (l.t("search")) }
        }
        @if query.is_some() {
            @if shown.is_empty() {
                div.notice.warn role="status" #no-listada {
                    p { strong { (l.t("this-therapy-is-not-in-the")) } }
                    p { (l.t("no-laboratory-of-the-network-is")) }
                }
            } @else {
                p #encontradas { (shown.len()) " " (if shown.len() == 1 { l.t("therapy-found") } else { l.t("therapies-found") }) }
            }
        }
        @for t in &shown { (therapy(l, t)) }
        h2 { (l.t("the-three-access-routes")) }
        dl.facts {
            @for r in AccessRoute::ALL {
                @let (name, text) = route_text(l, *r);
                dt { (name) } dd { (text) }
            }
        }
        h2 { (l.t("what-if-a-therapy-is-not")) }
        p { (l.t("not-listed-means-that-no-laboratory")) }
        p.hint { (l.t("data-as-of")) " " (l.instant(published.registry.generated_at)) }
    };
    let html = Html(
        page(
            None,
            l,
            l.t("registry-of-authorised-advanced-therapies"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_eu_ct_number_links_to_ctis() {
        assert_eq!(
            trial_register_url("2023-503817-22-00").as_deref(),
            Some(
                "https://euclinicaltrials.eu/search-for-clinical-trials/?lang=en&EUCT=2023-503817-22-00"
            )
        );
        // Typed with a stray space, as an authorisation reference may be.
        assert_eq!(
            trial_register_url(" 2025-521904-13-00 ").as_deref(),
            Some(
                "https://euclinicaltrials.eu/search-for-clinical-trials/?lang=en&EUCT=2025-521904-13-00"
            )
        );
    }

    #[test]
    fn a_eudract_number_links_to_the_eu_clinical_trials_register() {
        assert_eq!(
            trial_register_url("2015-001726-39").as_deref(),
            Some("https://www.clinicaltrialsregister.eu/ctr-search/search?query=2015-001726-39")
        );
    }

    #[test]
    fn anything_else_is_not_linked() {
        for not_a_trial in [
            "",
            "AEMPS/UC/2018/0412",
            "AEMPS/MTA-FNI/2024/007",
            // The shape without the EU CT sequence's leading 5, or of a wrong length.
            "2023-103817-22-00",
            "2015-001726-3",
            "2015-001726-399",
            // An impossible year; letters where digits go; something appended.
            "1994-001726-39",
            "2015-00172A-39",
            "2015-001726-39&x=1",
            "https://evil.example/2015-001726-39",
        ] {
            assert_eq!(trial_register_url(not_a_trial), None, "{not_a_trial:?}");
        }
    }

    #[test]
    fn a_trial_id_shows_as_a_link_and_anything_else_as_text() {
        let linked = trial_link(Lang::Es, "2015-001726-39").into_string();
        assert!(
            linked.contains(r#"href="https://www.clinicaltrialsregister.eu/ctr-search/search?query=2015-001726-39""#),
            "{linked}"
        );
        let plain = trial_link(Lang::Es, "AEMPS/UC/2018/0412").into_string();
        assert_eq!(plain, "<code>AEMPS/UC/2018/0412</code>");
    }

    #[test]
    fn classes_read_as_words_in_both_languages() {
        assert_eq!(
            class_name(Lang::Es, AtmpClass::TissueEngineered),
            "Ingeniería tisular"
        );
        assert_eq!(
            class_name(Lang::En, AtmpClass::SomaticCellTherapy),
            "Somatic cell therapy"
        );
    }
}
