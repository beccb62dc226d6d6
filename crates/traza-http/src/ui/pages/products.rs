//! A product's page (`/red/productos/{code}`): what it is, in words; its specification (the
//! release tests, their limits or values); its assignments; and, for the coordination unit,
//! the words the public registry searches (`indications`, `keywords`: SPEC §6), changed
//! through the same store call as `PATCH /products/{code}`, so the change is audited.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::access::Action;
use traza_domain::network::{Assignment, Product};
use traza_domain::spec::SpecTest;
use traza_domain::vocab::{ProductStatus, TestKind};
use traza_store::ProductUpdate;

use super::assignments::assignments_table;
use super::network::fill;
use crate::AppState;
use crate::error::ApiError;
use crate::ui::fmt::Lang;
use crate::ui::registry::class_name;
use crate::ui::widgets::{
    Done, html_page_status, origin_name, route_name, rules_today, value_label,
};
use crate::ui::{Session, error_box, page_error, store_error};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/red/productos/{code}",
        get(product_page).post(update_words),
    )
}

pub(super) fn product_status_name(l: Lang, s: ProductStatus) -> &'static str {
    match s {
        ProductStatus::Active => l.t("net-product-active"),
        ProductStatus::Withdrawn => l.t("net-product-withdrawn"),
    }
}

fn days_text(l: Lang, n: u32) -> String {
    if n == 1 {
        l.t("net-one-day").to_owned()
    } else {
        fill(l.t("net-n-days"), &[("%n", &n.to_string())])
    }
}

/// What a release test accepts: its limits, or the value it expects.
fn acceptance(l: Lang, t: &SpecTest) -> String {
    match t.kind {
        TestKind::Categorical => value_label(l, t.expected.as_deref().unwrap_or_default()),
        TestKind::Numeric => match (&t.min, &t.max) {
            (Some(a), Some(b)) => format!(
                "{} – {}",
                l.number(&a.to_string()),
                l.number(&b.to_string())
            ),
            (Some(a), None) => format!("≥ {}", l.number(&a.to_string())),
            (None, Some(b)) => format!("≤ {}", l.number(&b.to_string())),
            (None, None) => l.t("net-recorded-only").to_owned(),
        },
    }
}

fn spec_table(l: Lang, tests: &[SpecTest]) -> Markup {
    html! {
        div.scroll { table #especificacion {
            thead { tr {
                th { (l.t("test")) } th { (l.t("net-test-kind")) } th { (l.t("unit")) }
                th { (l.t("net-acceptance")) } th { (l.t("net-possible-values")) }
                th { (l.t("net-required-for-release")) }
            } }
            tbody { @for t in tests { tr {
                td { code { (t.test) } }
                td { @match t.kind {
                    TestKind::Numeric => { (l.t("net-kind-numeric")) }
                    TestKind::Categorical => { (l.t("net-kind-categorical")) }
                } }
                td { (t.unit) }
                td { (acceptance(l, t)) }
                td {
                    @if t.kind == TestKind::Numeric {
                        span.muted { (l.t("net-a-number")) }
                    } @else if t.values.is_empty() {
                        span.muted { (l.t("net-any-word")) }
                    } @else {
                        (t.values.iter().map(|v| value_label(l, v)).collect::<Vec<_>>().join(", "))
                    }
                }
                td { @if t.required { (l.t("yes")) } @else { (l.t("net-no")) } }
            } } }
        } }
    }
}

/// The lines of a word list as typed (one word or phrase a line), without blanks or repeats.
fn words_of(typed: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in typed.lines() {
        let word = line.trim();
        if !word.is_empty()
            && !out
                .iter()
                .any(|w| traza_store::fold(w) == traza_store::fold(word))
        {
            out.push(word.to_owned());
        }
    }
    out
}

#[derive(Deserialize, Default)]
pub(super) struct WordsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    indications: String,
    #[serde(default)]
    keywords: String,
}

fn done_text(l: Lang, what: &str) -> Option<&'static str> {
    Some(match what {
        "palabras" => l.t("net-registry-words-saved"),
        "sin-cambios" => l.t("unchanged"),
        _ => return None,
    })
}

async fn product_page(
    State(state): State<AppState>,
    s: Session,
    Path(code): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    let notice = d
        .hecho
        .as_deref()
        .and_then(|h| done_text(s.lang, h))
        .map(|t| html! { div.notice.ok role="status" { p { (t) } } });
    render_product(&state, &s, &code, notice, StatusCode::OK, None).await
}

async fn render_product(
    state: &AppState,
    s: &Session,
    code: &str,
    notice: Option<Markup>,
    status: StatusCode,
    typed: Option<&WordsForm>,
) -> Response {
    let l = s.lang;
    if let Err(e) = s.actor.may(Action::ReadNetwork) {
        return store_error(l, e.into());
    }
    let p = match state.store.get_product(&s.actor, code).await {
        Ok(p) => p,
        Err(traza_store::StoreError::NotFound(_)) => {
            return page_error(l, StatusCode::NOT_FOUND, l.t("page-not-found"));
        }
        Err(e) => return store_error(l, e),
    };
    let (assignments, products) = match (
        state
            .store
            .list_assignments(&s.actor, Some(p.code.as_str()), None)
            .await,
        state.store.list_products(&s.actor).await,
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return store_error(l, e),
    };
    let manage = s.actor.may(Action::ManageNetwork).is_ok();
    let body = html! {
        @if let Some(n) = notice { (n) }
        p { a href="/red#productos" { "← " (l.t("net-back-to-the-network")) } }
        (facts(l, &p))
        h2 #especificacion-titulo { (l.t("specification")) " (" (l.t("specification-v")) (p.spec_version) ")" }
        (spec_table(l, p.specification.tests()))
        h2 { (l.t("assignments")) }
        @if assignments.is_empty() {
            p.muted { (l.t("none")) }
        } @else {
            @let all: Vec<&Assignment> = assignments.iter().collect();
            (assignments_table(l, &all, &products, rules_today()))
        }
        @if manage { (words_form(s, &p, typed)) }
    };
    let title = format!("{} ({})", p.name, p.code.as_str());
    html_page_status(
        s,
        status,
        &title,
        &format!("/red/productos/{}", p.code.as_str()),
        body,
    )
}

fn facts(l: Lang, p: &Product) -> Markup {
    let list = |words: &[String]| {
        if words.is_empty() {
            html! { span.muted { "—" } }
        } else {
            html! { (words.join(", ")) }
        }
    };
    html! {
        dl.facts #producto {
            dt { (l.t("code")) } dd { (p.code.as_str()) }
            dt { (l.t("status")) } dd { (product_status_name(l, p.status)) }
            dt { (l.t("net-atmp-class")) } dd { (class_name(l, p.atmp_class)) }
            dt { (l.t("origin")) } dd { (origin_name(l, p.origin)) }
            dt { (l.t("net-access-routes")) } dd {
                (p.access_routes.iter().map(|r| route_name(l, *r)).collect::<Vec<_>>().join(", "))
            }
            dt { (l.t("net-shelf-life")) } dd { (days_text(l, p.shelf_life_days)) }
            dt { (l.t("net-indications")) } dd #indicaciones { (list(&p.indications)) }
            dt { (l.t("net-keywords")) } dd #palabras-clave { (list(&p.keywords)) }
        }
    }
}

fn words_form(s: &Session, p: &Product, typed: Option<&WordsForm>) -> Markup {
    let l = s.lang;
    let indications = typed.map_or_else(|| p.indications.join("\n"), |f| f.indications.clone());
    let keywords = typed.map_or_else(|| p.keywords.join("\n"), |f| f.keywords.clone());
    html! {
        form.card #palabras method="post" action={ "/red/productos/" (p.code.as_str()) } aria-labelledby="palabras-titulo" {
            h2 #palabras-titulo { (l.t("net-registry-words")) }
            p.hint #palabras_hint { (l.t("net-registry-words-hint")) }
            input type="hidden" name="csrf" value=(s.csrf());
            label for="indications" { (l.t("net-indications")) }
            textarea #indications name="indications" rows="5" aria-describedby="palabras_hint" { (indications) }
            label for="keywords" { (l.t("net-keywords")) }
            textarea #keywords name="keywords" rows="5" aria-describedby="palabras_hint" { (keywords) }
            button.primary type="submit" { (l.t("net-save-the-registry-words")) }
        }
    }
}

/// Changes the registry's words of a product: the coordination unit only (checked here and
/// by the store); the same call as the API's, so it is audited like it.
async fn update_words(
    State(state): State<AppState>,
    s: Session,
    Path(code): Path<String>,
    axum::Form(f): axum::Form<WordsForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    if let Err(e) = s.actor.may(Action::ManageNetwork) {
        return store_error(l, e.into());
    }
    let current = match state.store.get_product(&s.actor, &code).await {
        Ok(p) => p,
        Err(traza_store::StoreError::NotFound(_)) => {
            return page_error(l, StatusCode::NOT_FOUND, l.t("page-not-found"));
        }
        Err(e) => return store_error(l, e),
    };
    let path = format!("/red/productos/{}", current.code.as_str());
    let indications = words_of(&f.indications);
    let keywords = words_of(&f.keywords);
    if indications == current.indications && keywords == current.keywords {
        return Redirect::to(&format!("{path}?hecho=sin-cambios")).into_response();
    }
    let update = ProductUpdate {
        indications: Some(indications),
        keywords: Some(keywords),
        ..ProductUpdate::default()
    };
    // The registry's limits on the lists (how many words, how long each) are the store's: a
    // list over them comes back as its refusal, said in the page's language, with what was
    // typed.
    match state.store.update_product(&s.actor, &code, update).await {
        Ok(_) => Redirect::to(&format!("{path}?hecho=palabras")).into_response(),
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status;
            render_product(&state, &s, &code, Some(error_box(l, &e)), status, Some(&f)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_list_is_one_word_or_phrase_a_line_without_blanks_or_repeats() {
        assert_eq!(
            words_of("  linfoma \r\n\nleucemia linfoblástica aguda\nLINFOMA\n"),
            ["linfoma", "leucemia linfoblástica aguda"]
        );
        assert!(words_of(" \n \n").is_empty());
    }
}
