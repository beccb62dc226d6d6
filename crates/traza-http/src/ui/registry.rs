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

fn therapy(l: Lang, t: &PublicTherapy) -> Markup {
    html! {
        article.card {
            h2 { (t.name) }
            p.hint { (t.atmp_class) " · " (t.origin) " · " (l.t("updated-on")) " " (l.date(t.last_changed.date_naive())) }
            ul {
                @for s in &t.sites {
                    li { strong { (s.laboratory) } " (" (s.city) ") — " (route_text(l, s.access_route).0)
                        @if let Some(id) = &s.trial_id { " · " (l.t("trial")) " " code { (id) } } }
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
