//! The coordination unit's view of the network (`/red`): laboratories with their status and
//! GMP certificate in words, products (each on its own page, `products`), the assignments in
//! force or to come, and the form for a new one. The assignments' own pages, the form's
//! handling and the ended ones are `assignments`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use maud::{Markup, html};
use traza_domain::access::Action;
use traza_domain::network::{Assignment, Laboratory};
use traza_domain::vocab::LabStatus;

use super::assignments::{
    AssignmentForm, Standing, assignment_form, assignments_table, done_notice, standing,
};
use super::products::product_status_name;
use crate::AppState;
use crate::ui::fmt::Lang;
use crate::ui::registry::class_name;
use crate::ui::widgets::{Done, html_page_status, origin_name, route_name, rules_today};
use crate::ui::{Session, store_error};

/// A GMP certificate within this many days of its end is shown as expiring soon.
const CERTIFICATE_WARNING_DAYS: i64 = 60;

/// A catalogue text with its `%n` (a count) and `%d`/`%u` (dates) filled in. Fluent's own
/// variables are not used: the catalogues are formatted once, without arguments.
pub(super) fn fill(template: &str, marks: &[(&str, &str)]) -> String {
    marks
        .iter()
        .fold(template.to_owned(), |text, (mark, value)| {
            text.replace(mark, value)
        })
}

fn certificate_class(until: Option<NaiveDate>, today: NaiveDate) -> &'static str {
    match until {
        Some(d) if d < today => "expired",
        Some(d) if (d - today).num_days() <= CERTIFICATE_WARNING_DAYS => "soon",
        _ => "",
    }
}

/// A GMP certificate's end in words, with its date: "caduca en 12 días (15/12/2026)",
/// "caducado hace 3 días (30/11/2026)", so that colour is never the only sign.
pub(super) fn certificate_text(l: Lang, until: Option<NaiveDate>, today: NaiveDate) -> String {
    let Some(until) = until else {
        return l.t("net-cert-none").to_owned();
    };
    let date = l.date(until);
    let days = (until - today).num_days();
    let (template, n) = match days {
        d if d < -1 => (l.t("net-cert-expired-days-ago"), -d),
        -1 => (l.t("net-cert-expired-yesterday"), 1),
        0 => (l.t("net-cert-expires-today"), 0),
        1 => (l.t("net-cert-expires-tomorrow"), 1),
        d if d <= CERTIFICATE_WARNING_DAYS => (l.t("net-cert-expires-in-days"), d),
        d => (l.t("net-cert-valid-until"), d),
    };
    fill(template, &[("%n", &n.to_string()), ("%d", &date)])
}

/// Whether a laboratory may make clinical batches, in words: active, suspended, training only.
pub(super) fn lab_status(l: Lang, lab: &Laboratory) -> Markup {
    html! {
        @if lab.status == LabStatus::Suspended {
            span.badge.rejected { (l.t("net-lab-suspended")) }
        }
        @if lab.training_only {
            @if lab.status == LabStatus::Suspended { " " }
            span.badge.quarantine { (l.t("net-lab-training-only")) }
        }
        @if lab.manufactures() {
            span.badge.released { (l.t("net-lab-active")) }
        }
    }
}

pub(super) fn lab_status_text(l: Lang, lab: &Laboratory) -> String {
    let mut words = Vec::new();
    if lab.status == LabStatus::Suspended {
        words.push(l.t("net-lab-suspended"));
    }
    if lab.training_only {
        words.push(l.t("net-lab-training-only"));
    }
    if words.is_empty() {
        words.push(l.t("net-lab-active"));
    }
    words.join(", ")
}

fn specialisations(l: Lang, lab: &Laboratory) -> String {
    lab.specialisations
        .iter()
        .map(|c| class_name(l, *c))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) async fn network(
    State(state): State<AppState>,
    s: Session,
    Query(d): Query<Done>,
) -> Response {
    let notice = done_notice(s.lang, &d);
    render_network(
        &state,
        &s,
        notice,
        StatusCode::OK,
        &AssignmentForm::default(),
        None,
    )
    .await
}

/// The network page; `typed` and `refusal` are a refused new assignment's (`assignments`).
pub(super) async fn render_network(
    state: &AppState,
    s: &Session,
    notice: Option<Markup>,
    status: StatusCode,
    typed: &AssignmentForm,
    refusal: Option<Markup>,
) -> Response {
    let l = s.lang;
    let today = rules_today();
    let (labs, products, assignments) = match (
        state.store.list_labs(&s.actor).await,
        state.store.list_products(&s.actor).await,
        state.store.list_assignments(&s.actor, None, None).await,
    ) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return store_error(l, e),
    };
    let manage = s.actor.may(Action::ManageNetwork).is_ok();
    let current: Vec<&Assignment> = assignments
        .iter()
        .filter(|a| standing(&a.period, today) != Standing::Ended)
        .collect();
    let ended = assignments.len() - current.len();
    let body = html! {
        @if let Some(n) = notice { (n) }
        @if manage { p { a href="#nueva-asignacion" { (l.t("new-assignment-of-a-product-to")) } } }
        h2 #laboratorios { (l.t("laboratories")) }
        div.scroll { table.labs {
            thead { tr {
                th { (l.t("code")) } th { (l.t("name")) } th { (l.t("city")) } th { (l.t("status")) }
                th { (l.t("specialisations")) } th { (l.t("net-gmp-certificate")) } th { (l.t("capacity-month")) }
            } }
            tbody { @for lab in &labs { (lab_row(l, lab, today)) } }
        } }
        p.hint { (l.t("highlighted-certificates-expiring-within-60-days")) }
        h2 #productos { (l.t("products-and-specifications")) }
        div.scroll { table.products {
            thead { tr {
                th { (l.t("product")) } th { (l.t("code")) } th { (l.t("net-atmp-class")) } th { (l.t("origin")) }
                th { (l.t("net-access-routes")) } th { (l.t("status")) }
            } }
            tbody { @for p in &products { tr {
                td { a href={ "/red/productos/" (p.code.as_str()) } { (p.name) } }
                td { (p.code.as_str()) }
                td { (class_name(l, p.atmp_class)) }
                td { (origin_name(l, p.origin)) }
                td { (p.access_routes.iter().map(|r| route_name(l, *r)).collect::<Vec<_>>().join(", ")) }
                td { (product_status_name(l, p.status)) }
            } } }
        } }
        p.hint { (l.t("net-product-page-hint")) }
        h2 #asignaciones { (l.t("net-current-assignments")) }
        @if current.is_empty() {
            p.muted { (l.t("none")) }
        } @else {
            (assignments_table(l, &current, &products, today))
        }
        p { a href="/red/asignaciones/terminadas" { (l.t("net-ended-assignments")) " (" (ended) ")" } }
        @if manage { (assignment_form(s, &labs, &products, typed, refusal, today)) }
    };
    html_page_status(s, status, l.t("the-network"), "/red", body)
}

fn lab_row(l: Lang, lab: &Laboratory, today: NaiveDate) -> Markup {
    html! {
        tr {
            td { (lab.code.as_str()) } td { (lab.name) } td { (lab.city) }
            td { (lab_status(l, lab)) }
            td { (specialisations(l, lab)) }
            td class=(certificate_class(lab.gmp_certificate_valid_until, today)) { (certificate_text(l, lab.gmp_certificate_valid_until, today)) }
            td { (lab.capacity_per_month.map(|c| c.to_string()).unwrap_or_default()) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    #[test]
    fn a_certificate_end_reads_in_words_with_its_date() {
        let today = day("2026-12-03");
        let text = |until: &str| certificate_text(Lang::Es, Some(day(until)), today);
        assert_eq!(text("2026-12-15"), "caduca en 12 días (15/12/2026)");
        assert_eq!(text("2026-11-30"), "caducado hace 3 días (30/11/2026)");
        assert_eq!(text("2026-12-02"), "caducó ayer (02/12/2026)");
        assert_eq!(text("2026-12-03"), "caduca hoy (03/12/2026)");
        assert_eq!(text("2026-12-04"), "caduca mañana (04/12/2026)");
        assert_eq!(text("2028-03-31"), "vigente hasta el 31/03/2028");
        assert_eq!(
            certificate_text(Lang::En, Some(day("2026-11-30")), today),
            "expired 3 days ago (2026-11-30)"
        );
        assert_eq!(
            certificate_text(Lang::En, None, today),
            "no expiry date recorded"
        );
    }
}
