//! The coordination unit's view of the network (`/red`): laboratories with their status and
//! GMP certificate in words, products (each on its own page, `products`), the assignments in
//! force or to come, and the form for a new one. Each assignment has its own page
//! (`/red/asignaciones/{id}`) with the form that ends it; ended ones are listed apart
//! (`/red/asignaciones/terminadas`), so the network page stays short however long the
//! network's history grows.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Days, NaiveDate};
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::access::Action;
use traza_domain::codes::{LabCode, ProductCode};
use traza_domain::network::{
    Assignment, AssignmentProposal, EligibilityRefusal, EndAssignmentRefusal, Laboratory, Period,
    Product, check_assignment,
};
use traza_domain::vocab::{AccessRoute, LabStatus};
use traza_store::{AuditQuery, ErrorCode};

use super::products::product_status_name;
use crate::AppState;
use crate::error::ApiError;
use crate::ui::fmt::Lang;
use crate::ui::registry::{class_name, trial_link};
use crate::ui::widgets::{
    Done, date_field, empty, html_page_status, origin_name, required, route_name, rules_today,
};
use crate::ui::{Session, error_box, page_error, store_error};

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

fn lab_status_text(l: Lang, lab: &Laboratory) -> String {
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

/// Where an assignment stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Standing {
    Upcoming,
    InForce,
    Ended,
}

pub(super) fn standing(period: &Period, today: NaiveDate) -> Standing {
    if period.valid_until.is_some_and(|u| u < today) {
        Standing::Ended
    } else if period.valid_from > today {
        Standing::Upcoming
    } else {
        Standing::InForce
    }
}

pub(super) fn standing_badge(l: Lang, period: &Period, today: NaiveDate) -> Markup {
    match standing(period, today) {
        Standing::InForce => html! { span.badge.released { (l.t("net-in-force")) } },
        Standing::Upcoming => html! { span.badge.quarantine { (l.t("net-upcoming")) } },
        Standing::Ended => html! { span.badge { (l.t("net-ended")) } },
    }
}

/// The link to an assignment's page, by its number.
pub(super) fn assignment_link(l: Lang, id: i64) -> Markup {
    html! { a href={ "/red/asignaciones/" (id) } { (l.t("net-number-short")) " " (id) } }
}

/// A table of assignments (in a box that scrolls by itself on a narrow screen).
pub(super) fn assignments_table(
    l: Lang,
    assignments: &[&Assignment],
    products: &[Product],
    today: NaiveDate,
) -> Markup {
    let product_name = |code: &ProductCode| {
        products
            .iter()
            .find(|p| &p.code == code)
            .map(|p| p.name.as_str())
    };
    html! {
        div.scroll { table.assignments {
            thead { tr {
                th { (l.t("net-assignment")) } th { (l.t("product")) } th { (l.t("laboratory")) }
                th { (l.t("route")) } th { (l.t("from")) } th { (l.t("until")) } th { (l.t("status")) }
            } }
            tbody { @for a in assignments { tr {
                td { (assignment_link(l, a.id)) }
                td { a href={ "/red/productos/" (a.product_code.as_str()) } title=[product_name(&a.product_code)] { (a.product_code.as_str()) } }
                td { (a.lab_code.as_str()) }
                td { (route_name(l, a.access_route)) }
                td { (l.date(a.period.valid_from)) }
                td { @if let Some(u) = a.period.valid_until { (l.date(u)) } @else { span.muted { (l.t("net-no-end")) } } }
                td { (standing_badge(l, &a.period, today)) }
            } } }
        } }
    }
}

fn done_text(l: Lang, what: &str) -> Option<&'static str> {
    Some(match what {
        "asignada" => l.t("assignment-created"),
        "terminada" => l.t("assignment-ended"),
        _ => return None,
    })
}

fn done_notice(l: Lang, d: &Done) -> Option<Markup> {
    d.hecho
        .as_deref()
        .and_then(|h| done_text(l, h))
        .map(|t| html! { div.notice.ok role="status" { p { (t) } } })
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

async fn render_network(
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

fn assignment_form(
    s: &Session,
    labs: &[Laboratory],
    products: &[Product],
    f: &AssignmentForm,
    refusal: Option<Markup>,
    today: NaiveDate,
) -> Markup {
    let l = s.lang;
    let is = |typed: &Option<String>, value: &str| typed.as_deref() == Some(value);
    html! {
        form.card method="post" action="/red/asignaciones" aria-labelledby="nueva-asignacion" {
            h2 #nueva-asignacion { (l.t("new-assignment-of-a-product-to")) }
            @if let Some(r) = refusal { (r) }
            input type="hidden" name="csrf" value=(s.csrf());
            label for="as_product" { (l.t("product")) }
            select #as_product name="product_code" required {
                @for p in products {
                    option value=(p.code.as_str()) selected[is(&f.product_code, p.code.as_str())] {
                        (p.name) " (" (p.code.as_str()) ") · " (class_name(l, p.atmp_class))
                        @if p.status != traza_domain::vocab::ProductStatus::Active { " · " (product_status_name(l, p.status)) }
                    }
                }
            }
            label for="as_lab" { (l.t("laboratory")) }
            select #as_lab name="lab_code" required {
                @for lab in labs {
                    option value=(lab.code.as_str()) selected[is(&f.lab_code, lab.code.as_str())] {
                        (lab.code.as_str()) " — " (lab.name) " · " (lab_status_text(l, lab))
                        @if lab.gmp_certificate_valid_until.is_some_and(|d| d < today) {
                            " · " (l.t("net-gmp-certificate")) " " (certificate_text(l, lab.gmp_certificate_valid_until, today))
                        }
                    }
                }
            }
            label for="as_route" { (l.t("access-route")) }
            select #as_route name="access_route" required {
                @for r in AccessRoute::ALL {
                    option value=(r.as_str()) selected[is(&f.access_route, r.as_str())] { (route_name(l, *r)) }
                }
            }
            label for="as_ref" { (l.t("authorisation-reference")) }
            input #as_ref name="authorisation_ref" value=[f.authorisation_ref.as_deref()] aria-describedby="as_ref_hint";
            p #as_ref_hint.hint { (l.t("net-authorisation-reference-hint")) }
            label for="as_from" { (l.t("from")) }
            input #as_from type="date" name="valid_from" required value=(f.valid_from.clone().unwrap_or_else(|| today.to_string()));
            label for="as_until" { (l.t("until-optional")) }
            input #as_until type="date" name="valid_until" value=[f.valid_until.as_deref()];
            label for="as_reason" { (l.t("reason")) }
            input #as_reason name="reason" required value=[f.reason.as_deref()];
            button.primary type="submit" { (l.t("assign")) }
        }
    }
}

#[derive(Deserialize, Default, Clone)]
pub(super) struct AssignmentForm {
    #[serde(default)]
    csrf: String,
    product_code: Option<String>,
    lab_code: Option<String>,
    access_route: Option<String>,
    authorisation_ref: Option<String>,
    valid_from: Option<String>,
    valid_until: Option<String>,
    until: Option<String>,
    reason: Option<String>,
}

impl AssignmentForm {
    fn proposal(&self, l: Lang) -> Result<AssignmentProposal, ApiError> {
        Ok(AssignmentProposal {
            product_code: ProductCode::parse(&required(l, "product_code", &self.product_code)?)
                .map_err(|e| ApiError::validation("product_code", e))?,
            lab_code: LabCode::parse(&required(l, "lab_code", &self.lab_code)?)
                .map_err(|e| ApiError::validation("lab_code", e))?,
            access_route: required(l, "access_route", &self.access_route)?
                .parse()
                .map_err(|e| ApiError::validation("access_route", e))?,
            authorisation_ref: empty(self.authorisation_ref.clone()),
            period: Period {
                valid_from: date_field(l, "valid_from", &self.valid_from)?,
                valid_until: match empty(self.valid_until.clone()) {
                    None => None,
                    Some(_) => Some(date_field(l, "valid_until", &self.valid_until)?),
                },
            },
            reason: required(l, "reason", &self.reason)?,
        })
    }
}

pub(super) async fn create_assignment(
    State(state): State<AppState>,
    s: Session,
    axum::Form(f): axum::Form<AssignmentForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let proposal = match f.proposal(l) {
        Ok(p) => p,
        Err(e) => {
            let status = e.status;
            return render_network(&state, &s, None, status, &f, Some(error_box(l, &e))).await;
        }
    };
    let e = match state
        .store
        .create_assignment(&s.actor, proposal.clone())
        .await
    {
        Ok(_) => return Redirect::to("/red?hecho=asignada").into_response(),
        Err(e) => ApiError::from(e),
    };
    // The store's reasons are in English; the domain's own, reckoned again here on what the
    // store holds now, read in the page's language with what each is about.
    let reasons = if e.code == ErrorCode::LabNotEligible {
        eligibility(&state, &s, &proposal).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let refusal = if reasons.is_empty() {
        error_box(l, &e)
    } else {
        refusal_box(l, &reasons)
    };
    render_network(&state, &s, None, e.status, &f, Some(refusal)).await
}

/// Why the network would refuse `p`, by the domain's rule, on the store's current records.
async fn eligibility(
    state: &AppState,
    s: &Session,
    p: &AssignmentProposal,
) -> Result<Vec<EligibilityRefusal>, traza_store::StoreError> {
    let lab = state.store.get_lab(&s.actor, p.lab_code.as_str()).await?;
    let product = state
        .store
        .get_product(&s.actor, p.product_code.as_str())
        .await?;
    let existing = state
        .store
        .list_assignments(
            &s.actor,
            Some(p.product_code.as_str()),
            Some(p.lab_code.as_str()),
        )
        .await?;
    Ok(check_assignment(&lab, &product, p, &existing)
        .err()
        .unwrap_or_default())
}

fn refusal_box(l: Lang, reasons: &[EligibilityRefusal]) -> Markup {
    html! {
        div.notice.error role="alert" #asignacion-rechazada {
            p { strong { (l.t("error-the-laboratory-cannot-take-this-assignment")) } }
            ul { @for r in reasons { li { (refusal_text(l, r)) } } }
        }
    }
}

/// One reason an assignment is refused, in the page's language, with what it is about.
fn refusal_text(l: Lang, r: &EligibilityRefusal) -> Markup {
    use EligibilityRefusal as R;
    match r {
        R::LabSuspended => html! { (l.t("the-laboratory-is-suspended")) },
        R::LabTrainingOnly => html! { (l.t("the-laboratory-is-for-training-only")) },
        R::MissingSpecialisation(class) => {
            html! { (l.t("the-laboratory-lacks-the-product-s")) ": " (class_name(l, *class)) }
        }
        R::GmpCertificateExpired {
            valid_until,
            valid_from,
        } => html! {
            (fill(l.t("net-refusal-certificate"), &[("%u", &l.date(*valid_until)), ("%d", &l.date(*valid_from))]))
        },
        R::ProductWithdrawn => html! { (l.t("the-product-is-withdrawn")) },
        R::RouteNotOffered(route) => {
            html! { (l.t("the-product-is-not-offered-by")) ": " (route_name(l, *route)) }
        }
        R::EndsBeforeItStarts => html! { (l.t("the-period-ends-before-it-starts")) },
        R::Overlaps { assignment_id } => html! {
            (l.t("it-overlaps-another-assignment-of-the")) " (" (assignment_link(l, *assignment_id)) ")"
        },
        R::MissingTrialId => html! { (l.t("a-clinical-trial-assignment-needs-the")) },
    }
}

/// An assignment by the number in its address; anything else is not one.
async fn find_assignment(
    state: &AppState,
    s: &Session,
    id: &str,
) -> Result<Assignment, traza_store::StoreError> {
    let id: i64 = id
        .parse()
        .map_err(|_| traza_store::StoreError::NotFound("assignment"))?;
    state
        .store
        .list_assignments(&s.actor, None, None)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(traza_store::StoreError::NotFound("assignment"))
}

/// `/red/asignaciones/{id}`: one assignment, its history, and the form that ends it.
pub(super) async fn assignment_page(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    let notice = done_notice(s.lang, &d);
    render_assignment(
        &state,
        &s,
        &id,
        notice,
        StatusCode::OK,
        &AssignmentForm::default(),
    )
    .await
}

async fn render_assignment(
    state: &AppState,
    s: &Session,
    id: &str,
    notice: Option<Markup>,
    status: StatusCode,
    typed: &AssignmentForm,
) -> Response {
    let l = s.lang;
    let today = rules_today();
    let a = match find_assignment(state, s, id).await {
        Ok(a) => a,
        Err(traza_store::StoreError::NotFound(_)) => {
            return page_error(l, StatusCode::NOT_FOUND, l.t("page-not-found"));
        }
        Err(e) => return store_error(l, e),
    };
    let product = state
        .store
        .get_product(&s.actor, a.product_code.as_str())
        .await
        .ok();
    let lab = state
        .store
        .get_lab(&s.actor, a.lab_code.as_str())
        .await
        .ok();
    // The trail says who ended it and why; only the roles that may read the trail see it.
    let history = if s.actor.may(Action::ReadAuditTrail).is_ok() {
        state
            .store
            .audit_trail(
                &s.actor,
                &AuditQuery {
                    entity_type: Some("assignment".into()),
                    entity_key: Some(a.id.to_string()),
                    after_id: None,
                    limit: 100,
                },
            )
            .await
            .map(|p| p.items)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let manage = s.actor.may(Action::ManageNetwork).is_ok();
    let title = format!(
        "{} {} {}",
        l.t("net-assignment"),
        l.t("net-number-short"),
        a.id
    );
    // The days it may end on: from its first day to the day before its present end (the
    // domain refuses any other: an assignment is shortened, never lengthened). None left, or
    // already ended: no form.
    let first = a.period.valid_from;
    let last = a
        .period
        .valid_until
        .and_then(|u| u.checked_sub_days(Days::new(1)));
    let endable = standing(&a.period, today) != Standing::Ended && last.is_none_or(|d| d >= first);
    let suggested = match last {
        Some(d) if d >= first => today.clamp(first, d),
        _ => today.max(first),
    };
    let default_end = typed.until.clone().unwrap_or_else(|| suggested.to_string());
    let body = html! {
        @if let Some(n) = notice { (n) }
        p { a href="/red#asignaciones" { "← " (l.t("net-back-to-the-network")) } }
        dl.facts #asignacion {
            dt { (l.t("status")) } dd { (standing_badge(l, &a.period, today)) }
            dt { (l.t("product")) } dd {
                a href={ "/red/productos/" (a.product_code.as_str()) } {
                    @if let Some(p) = &product { (p.name) " (" (a.product_code.as_str()) ")" } @else { (a.product_code.as_str()) }
                }
                @if let Some(p) = &product { " · " (class_name(l, p.atmp_class)) " · " (origin_name(l, p.origin)) }
            }
            dt { (l.t("laboratory")) } dd {
                (a.lab_code.as_str())
                @if let Some(lab) = &lab { " — " (lab.name) " (" (lab.city) ") " (lab_status(l, lab)) }
            }
            dt { (l.t("access-route")) } dd { (route_name(l, a.access_route)) }
            dt { (l.t("authorisation-reference")) } dd {
                @if let Some(r) = &a.authorisation_ref { (trial_link(l, r)) } @else { span.muted { "—" } }
            }
            dt { (l.t("from")) } dd { (l.date(a.period.valid_from)) }
            dt { (l.t("until")) } dd {
                @if let Some(u) = a.period.valid_until { (l.date(u)) } @else { span.muted { (l.t("net-no-end")) } }
            }
            dt { (l.t("reason")) } dd { (a.reason) }
            dt { (l.t("net-assigned-by")) } dd { (a.assigned_by) }
        }
        @if manage && endable {
            form.card #terminar method="post" action={ "/red/asignaciones/" (a.id) "/fin" } aria-labelledby="terminar-titulo" {
                h2 #terminar-titulo { (l.t("net-end-the-assignment")) }
                input type="hidden" name="csrf" value=(s.csrf());
                label for="fin" { (l.t("last-day")) }
                input #fin type="date" name="until" required value=(default_end)
                    min=(first.to_string()) max=[last.map(|d| d.to_string())] aria-describedby="fin_hint";
                p #fin_hint.hint { (l.t("net-end-hint")) }
                label for="finmotivo" { (l.t("reason")) }
                input #finmotivo name="reason" required value=[typed.reason.as_deref()];
                button.danger type="submit" { (l.t("net-end-the-assignment")) }
            }
        }
        @if !history.is_empty() {
            h2 { (l.t("net-assignment-history")) }
            div.scroll { table {
                thead { tr { th { (l.t("when")) } th { (l.t("who")) } th { (l.t("what")) } th { (l.t("reason")) } } }
                tbody { @for e in &history { tr {
                    td { (l.instant(e.at)) }
                    td { (e.actor) }
                    td { (history_what(l, e)) }
                    td { (e.reason.as_deref().unwrap_or("")) }
                } } }
            } }
        }
    };
    html_page_status(
        s,
        status,
        &title,
        &format!("/red/asignaciones/{}", a.id),
        body,
    )
}

/// An assignment's audit event in words: made, or ended on a day.
fn history_what(l: Lang, e: &traza_store::StoredAuditEvent) -> Markup {
    let until = e
        .after
        .as_ref()
        .and_then(|a| a.get("valid_until"))
        .and_then(|v| v.as_str())
        .and_then(|d| d.parse::<NaiveDate>().ok());
    html! {
        @match e.action.as_str() {
            "assignment.create" => { (l.t("action-assignment-create")) }
            "assignment.end" => {
                (l.t("action-assignment-end"))
                @if let Some(u) = until { ": " (l.t("last-day")) " " (l.date(u)) }
            }
            other => { (other) }
        }
    }
}

/// Ends an assignment (`/red/asignaciones/{id}/fin`). A refusal comes back to the
/// assignment's page with what was typed and why, in words about an assignment.
pub(super) async fn end_assignment(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<AssignmentForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let a = match find_assignment(&state, &s, &id).await {
        Ok(a) => a,
        Err(traza_store::StoreError::NotFound(_)) => {
            return page_error(l, StatusCode::NOT_FOUND, l.t("page-not-found"));
        }
        Err(e) => return store_error(l, e),
    };
    let mut until = None;
    let result: Result<(), ApiError> = async {
        let day = date_field(l, "until", &f.until)?;
        until = Some(day);
        state
            .store
            .end_assignment(&s.actor, a.id, day, &required(l, "reason", &f.reason)?)
            .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            Redirect::to(&format!("/red/asignaciones/{}?hecho=terminada", a.id)).into_response()
        }
        Err(e) => {
            let status = e.status;
            // The error code's own title speaks of a batch ("the batch does not allow that
            // action"): an assignment's refusal is said here, by the domain's reason.
            let why = match (e.code, until) {
                (ErrorCode::InvalidTransition, Some(day)) => Some(end_refusal_text(
                    l,
                    traza_domain::network::end_assignment(&a.period, day).err(),
                )),
                _ => None,
            };
            let shown = match why {
                Some(text) => html! {
                    div.notice.error role="alert" #fin-rechazado {
                        p { strong { (l.t("net-end-refused")) } }
                        p { (text) }
                    }
                },
                None => error_box(l, &e),
            };
            render_assignment(&state, &s, &a.id.to_string(), Some(shown), status, &f).await
        }
    }
}

fn end_refusal_text(l: Lang, r: Option<EndAssignmentRefusal>) -> String {
    match r {
        Some(EndAssignmentRefusal::BeforeStart { from, .. }) => {
            fill(l.t("net-end-before-start"), &[("%d", &l.date(from))])
        }
        Some(EndAssignmentRefusal::AlreadyEnded(current)) => {
            fill(l.t("net-end-already-ends"), &[("%d", &l.date(current))])
        }
        // Changed by someone else in between: the page shows it as it is now.
        None => l.t("net-end-changed").to_owned(),
    }
}

/// `/red/asignaciones/terminadas`: the assignments whose last day has passed, newest end
/// first. They are never deleted: batches made under them keep pointing to them.
pub(super) async fn ended_assignments(State(state): State<AppState>, s: Session) -> Response {
    let l = s.lang;
    let today = rules_today();
    let (products, assignments) = match (
        state.store.list_products(&s.actor).await,
        state.store.list_assignments(&s.actor, None, None).await,
    ) {
        (Ok(p), Ok(a)) => (p, a),
        (Err(e), _) | (_, Err(e)) => return store_error(l, e),
    };
    let mut ended: Vec<&Assignment> = assignments
        .iter()
        .filter(|a| standing(&a.period, today) == Standing::Ended)
        .collect();
    ended.sort_by(|a, b| {
        b.period
            .valid_until
            .cmp(&a.period.valid_until)
            .then(b.id.cmp(&a.id))
    });
    let body = html! {
        p { a href="/red#asignaciones" { "← " (l.t("net-back-to-the-network")) } }
        p.hint { (l.t("net-ended-hint")) }
        @if ended.is_empty() {
            p.muted #ninguna { (l.t("none")) }
        } @else {
            (assignments_table(l, &ended, &products, today))
        }
    };
    html_page_status(
        &s,
        StatusCode::OK,
        l.t("net-ended-assignments"),
        "/red/asignaciones/terminadas",
        body,
    )
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

    #[test]
    fn an_assignment_stands_by_its_period() {
        let today = day("2026-12-03");
        let p = |from: &str, until: Option<&str>| Period {
            valid_from: day(from),
            valid_until: until.map(day),
        };
        assert_eq!(standing(&p("2026-01-01", None), today), Standing::InForce);
        assert_eq!(
            standing(&p("2026-01-01", Some("2026-12-03")), today),
            Standing::InForce,
            "its last day is a day in force"
        );
        assert_eq!(
            standing(&p("2026-01-01", Some("2026-12-02")), today),
            Standing::Ended
        );
        assert_eq!(standing(&p("2027-01-01", None), today), Standing::Upcoming);
    }
}
