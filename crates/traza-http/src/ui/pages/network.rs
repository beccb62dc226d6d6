//! The coordination unit's view of the network: laboratories, products with their
//! specifications, and the assignments of products to laboratories.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::access::Action;
use traza_domain::codes::{LabCode, ProductCode};
use traza_domain::network::Laboratory;
use traza_domain::vocab::AccessRoute;

use crate::AppState;
use crate::error::ApiError;
use crate::ui::fmt::Lang;
use crate::ui::widgets::{
    Done, date_field, empty, html_page_status, origin_name, qc_table, required, route_name,
};
use crate::ui::{Session, error_box, store_error};

fn certificate_class(until: Option<NaiveDate>, today: NaiveDate) -> &'static str {
    match until {
        Some(d) if d < today => "expired",
        Some(d) if (d - today).num_days() <= 60 => "soon",
        _ => "",
    }
}

pub(super) async fn network(
    State(state): State<AppState>,
    s: Session,
    Query(d): Query<Done>,
) -> Response {
    let notice = match d.hecho.as_deref() {
        Some("asignada") => {
            Some(html! { div.notice.ok role="status" { p { (s.lang.t("assignment-created")) } } })
        }
        Some("terminada") => {
            Some(html! { div.notice.ok role="status" { p { (s.lang.t("assignment-ended")) } } })
        }
        _ => None,
    };
    render_network(&state, &s, notice, StatusCode::OK).await
}

async fn render_network(
    state: &AppState,
    s: &Session,
    notice: Option<Markup>,
    status: StatusCode,
) -> Response {
    let l = s.lang;
    let today = Utc::now().date_naive();
    let (labs, products, assignments) = match (
        state.store.list_labs(&s.actor).await,
        state.store.list_products(&s.actor).await,
        state.store.list_assignments(&s.actor, None, None).await,
    ) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return store_error(l, e),
    };
    let manage = s.actor.may(Action::ManageNetwork).is_ok();
    let csrf = s.csrf();
    let body = html! {
        @if let Some(n) = notice { (n) }
        h2 { (l.t("laboratories")) }
        table {
            thead { tr { th { (l.t("code")) } th { (l.t("name")) } th { (l.t("city")) } th { (l.t("specialisations")) } th { (l.t("gmp-certificate-until")) } th { (l.t("capacity-month")) } } }
            tbody { @for lab in &labs { (lab_row(l, lab, today)) } }
        }
        p.hint { (l.t("highlighted-certificates-expiring-within-60-days")) }
        h2 { (l.t("products-and-specifications")) }
        @for p in &products {
            details.card {
                summary { strong { (p.name) } " (" (p.code.as_str()) ") · " (origin_name(l, p.origin)) " · " (l.t("specification-v")) (p.spec_version) }
                (qc_table(l, p.specification.tests(), &[]))
            }
        }
        h2 { (l.t("assignments")) }
        table {
            thead { tr { th { (l.t("product")) } th { (l.t("laboratory")) } th { (l.t("route")) } th { (l.t("from")) } th { (l.t("until")) } th { (l.t("reason")) } @if manage { th { (l.t("end")) } } } }
            tbody { @for a in &assignments { tr class=(if a.period.covers(today) { "" } else { "muted" }) {
                td { (a.product_code.as_str()) } td { (a.lab_code.as_str()) } td { (route_name(l, a.access_route)) }
                td { (l.date(a.period.valid_from)) } td { (l.opt_date(a.period.valid_until)) } td { (a.reason) }
                @if manage { td { @if a.period.valid_until.is_none_or(|u| u >= today) {
                    form method="post" action={ "/red/asignaciones/" (a.id) "/fin" } {
                        input type="hidden" name="csrf" value=(csrf);
                        label for={ "fin" (a.id) } { (l.t("last-day")) }
                        input id={ "fin" (a.id) } type="date" name="until" required value=(today.to_string());
                        label for={ "finmotivo" (a.id) } { (l.t("reason")) }
                        input id={ "finmotivo" (a.id) } name="reason" required;
                        button type="submit" { (l.t("end")) }
                    } } } }
            } } }
        }
        @if manage {
            form.card method="post" action="/red/asignaciones" aria-labelledby="nueva-asignacion" {
                h2 #nueva-asignacion { (l.t("new-assignment-of-a-product-to")) }
                input type="hidden" name="csrf" value=(csrf);
                label for="as_product" { (l.t("product")) }
                select #as_product name="product_code" required { @for p in &products { option value=(p.code.as_str()) { (p.name) " (" (p.code.as_str()) ")" } } }
                label for="as_lab" { (l.t("laboratory")) }
                select #as_lab name="lab_code" required { @for lab in &labs { option value=(lab.code.as_str()) { (lab.code.as_str()) " — " (lab.name) } } }
                label for="as_route" { (l.t("access-route")) }
                select #as_route name="access_route" required { @for r in AccessRoute::ALL { option value=(r.as_str()) { (route_name(l, *r)) } } }
                label for="as_ref" { (l.t("authorisation-reference")) }
                input #as_ref name="authorisation_ref";
                label for="as_from" { (l.t("from")) }
                input #as_from type="date" name="valid_from" required value=(today.to_string());
                label for="as_until" { (l.t("until-optional")) }
                input #as_until type="date" name="valid_until";
                label for="as_reason" { (l.t("reason")) }
                input #as_reason name="reason" required;
                button.primary type="submit" { (l.t("assign")) }
            }
        }
    };
    html_page_status(s, status, l.t("the-network"), "/red", body)
}

#[derive(Deserialize, Default)]
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

pub(super) async fn create_assignment(
    State(state): State<AppState>,
    s: Session,
    axum::Form(f): axum::Form<AssignmentForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let result: Result<(), ApiError> = async {
        let proposal = traza_domain::network::AssignmentProposal {
            product_code: ProductCode::parse(&required(l, "product_code", &f.product_code)?)
                .map_err(|e| ApiError::validation("product_code", e))?,
            lab_code: LabCode::parse(&required(l, "lab_code", &f.lab_code)?)
                .map_err(|e| ApiError::validation("lab_code", e))?,
            access_route: required(l, "access_route", &f.access_route)?
                .parse()
                .map_err(|e| ApiError::validation("access_route", e))?,
            authorisation_ref: empty(f.authorisation_ref.clone()),
            period: traza_domain::network::Period {
                valid_from: date_field(l, "valid_from", &f.valid_from)?,
                valid_until: match empty(f.valid_until.clone()) {
                    None => None,
                    Some(_) => Some(date_field(l, "valid_until", &f.valid_until)?),
                },
            },
            reason: required(l, "reason", &f.reason)?,
        };
        state.store.create_assignment(&s.actor, proposal).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/red?hecho=asignada").into_response(),
        Err(e) => {
            let status = e.status;
            render_network(&state, &s, Some(error_box(l, &e)), status).await
        }
    }
}

pub(super) async fn end_assignment(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<i64>,
    axum::Form(f): axum::Form<AssignmentForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let result: Result<(), ApiError> = async {
        let until = date_field(l, "until", &f.until)?;
        state
            .store
            .end_assignment(&s.actor, id, until, &required(l, "reason", &f.reason)?)
            .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/red?hecho=terminada").into_response(),
        Err(e) => {
            let status = e.status;
            render_network(&state, &s, Some(error_box(l, &e)), status).await
        }
    }
}

fn lab_row(l: Lang, lab: &Laboratory, today: NaiveDate) -> Markup {
    html! {
        tr {
            td { (lab.code.as_str()) } td { (lab.name) } td { (lab.city) }
            td { @for (i, c) in lab.specialisations.iter().enumerate() { @if i > 0 { ", " } (c.as_str()) } }
            td class=(certificate_class(lab.gmp_certificate_valid_until, today)) { (l.opt_date(lab.gmp_certificate_valid_until)) }
            td { (lab.capacity_per_month.map(|c| c.to_string()).unwrap_or_default()) }
        }
    }
}
