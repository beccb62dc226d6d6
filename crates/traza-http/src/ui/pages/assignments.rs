//! The assignments of products to laboratories: the table and the standing of each (in force,
//! to come, ended), the form for a new one (shown on the network page, `/red`), each
//! assignment's own page (`/red/asignaciones/{id}`) with the form that ends it, and the ended
//! ones listed apart (`/red/asignaciones/terminadas`), so the network page stays short however
//! long the network's history grows.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Days, NaiveDate};
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::access::Action;
use traza_domain::codes::{LabCode, ProductCode};
use traza_domain::network::{
    Assignment, AssignmentProposal, EndAssignmentRefusal, Laboratory, Period, Product,
};
use traza_domain::vocab::AccessRoute;
use traza_store::{AuditQuery, ErrorCode, RuleDetail, StoreError};

use super::network::{certificate_text, fill, lab_status, lab_status_text, render_network};
use super::products::product_status_name;
use crate::AppState;
use crate::error::ApiError;
use crate::ui::fmt::Lang;
use crate::ui::registry::{class_name, trial_link};
use crate::ui::widgets::{
    Done, date_field, empty, html_page_status, origin_name, required, route_name, rules_today,
};
use crate::ui::{Session, error_box, page_error, rule_line, store_error};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/red/asignaciones", post(create_assignment))
        // A fixed segment is matched before the `{id}` beside it.
        .route("/red/asignaciones/terminadas", get(ended_assignments))
        .route("/red/asignaciones/{id}", get(assignment_page))
        .route("/red/asignaciones/{id}/fin", post(end_assignment))
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

pub(super) fn done_notice(l: Lang, d: &Done) -> Option<Markup> {
    d.hecho
        .as_deref()
        .and_then(|h| done_text(l, h))
        .map(|t| html! { div.notice.ok role="status" { p { (t) } } })
}

/// The form for a new assignment, on the network page, with a refusal's reasons above it.
pub(super) fn assignment_form(
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
    let valid_from = proposal.period.valid_from;
    let (status, shown) = match state.store.create_assignment(&s.actor, proposal).await {
        Ok(_) => return Redirect::to("/red?hecho=asignada").into_response(),
        // Every reason the store refused it for, each with what it is about.
        Err(StoreError::Refused {
            code: ErrorCode::LabNotEligible,
            details,
            ..
        }) if !details.is_empty() => (StatusCode::CONFLICT, refusal_box(l, &details, valid_from)),
        Err(e) => {
            let e = ApiError::from(e);
            (e.status, error_box(l, &e))
        }
    };
    render_network(&state, &s, None, status, &f, Some(shown)).await
}

fn refusal_box(l: Lang, reasons: &[RuleDetail], valid_from: NaiveDate) -> Markup {
    html! {
        div.notice.error role="alert" #asignacion-rechazada {
            p { strong { (l.t("error-the-laboratory-cannot-take-this-assignment")) } }
            ul { @for r in reasons { li { (refusal_text(l, r, valid_from)) } } }
        }
    }
}

/// One reason of the store's refusal in the page's language, with what it is about (the
/// domain's `EligibilityRefusal::subject`): the certificate's last day beside the
/// assignment's first (`valid_from`, as proposed), the overlapping assignment as a link; the
/// others as every rule is said (`rule_line`: the class or the route in words).
fn refusal_text(l: Lang, r: &RuleDetail, valid_from: NaiveDate) -> Markup {
    let subject = r.subject.as_deref().unwrap_or_default();
    match r.rule.as_str() {
        "gmp_certificate_expired" => match subject.parse::<NaiveDate>() {
            Ok(until) => html! {
                (fill(l.t("net-refusal-certificate"), &[("%u", &l.date(until)), ("%d", &l.date(valid_from))]))
            },
            Err(_) => html! { (rule_line(l, r)) },
        },
        "overlapping_assignment" => match subject.trim_start_matches('#').parse::<i64>() {
            Ok(id) => html! {
                (l.t("it-overlaps-another-assignment-of-the")) " (" (assignment_link(l, id)) ")"
            },
            Err(_) => html! { (rule_line(l, r)) },
        },
        _ => html! { (rule_line(l, r)) },
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

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a date")
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
