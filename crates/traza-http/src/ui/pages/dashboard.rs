//! The network dashboard: lead times, capacity, batches by status, out-of-specification rates,
//! over a range of manufacturing start dates. Every number links to the batches behind it (the
//! batch list with the same filters), and each measure is drawn on its own scale.

use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{Days, NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::vocab::BatchStatus;
use traza_store::Dashboard;

use crate::AppState;
use crate::ui::fmt::Lang;
use crate::ui::widgets::{empty, html_page, status_name};
use crate::ui::{Session, store_error, urlencode};

#[derive(Deserialize, Default)]
pub(super) struct Range {
    desde: Option<String>,
    hasta: Option<String>,
}

/// One bar: its label, its value on the measure's scale, the value as said, and the batches
/// behind it.
struct Bar {
    label: String,
    value: f64,
    shown: String,
    link: String,
}

/// Horizontal bars in HTML (text stays at the page's size on a phone), each against `full`:
/// the measure's own scale.
fn bars(title: &str, id: &str, rows: &[Bar], full: f64) -> Markup {
    let full = full.max(1e-9);
    html! {
        figure.bars #(id) {
            figcaption.hint { (title) }
            ul {
                @for r in rows {
                    @let pct = (r.value / full * 100.0).clamp(0.0, 100.0);
                    li.bar-row {
                        span.bar-label { (r.label) }
                        // An SVG bar: its length is an attribute, as the CSP allows no inline style.
                        svg.bar-track viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" {
                            rect width="100" height="10" fill="#e8edf3" {}
                            rect width=(format!("{pct:.1}")) height="10" fill="#0b5cab" {}
                        }
                        a.bar-value href=(r.link) { (r.shown) }
                    }
                }
            }
        }
    }
}

/// "1 día", "12 días".
fn days(l: Lang, v: Option<i64>) -> String {
    match v {
        Some(1) => format!("1 {}", l.t("day")),
        Some(d) => format!("{d} {}", l.t("days")),
        None => "—".into(),
    }
}

pub(super) async fn dashboard(
    State(state): State<AppState>,
    s: Session,
    Query(range): Query<Range>,
) -> Response {
    let l = s.lang;
    let date = |v: &Option<String>| empty(v.clone()).and_then(|d| d.parse::<NaiveDate>().ok());
    let (from, to) = (date(&range.desde), date(&range.hasta));
    let d: Dashboard = match state.store.dashboard(&s.actor, from, to).await {
        Ok(d) => d,
        Err(e) => return store_error(l, e),
    };
    // The batch list with the dashboard's range and `more` filters.
    let within = format!(
        "{}{}",
        from.map(|d| format!("&desde={d}")).unwrap_or_default(),
        to.map(|d| format!("&hasta={d}")).unwrap_or_default()
    );
    let list = |more: &str| format!("/lotes?x=1{more}{within}");
    let lab_q = |lab: &str| format!("&laboratorio={}", urlencode(lab));

    let mut per_lab_status: std::collections::BTreeMap<(String, String), i64> = Default::default();
    for c in &d.by_status {
        *per_lab_status
            .entry((c.lab_code.clone(), c.status.clone()))
            .or_insert(0) += c.batches;
    }
    let statuses = BatchStatus::ALL;

    let (first, next, _) = traza_domain::batch::capacity_month(Utc::now().date_naive());
    let last = next.checked_sub_days(Days::new(1)).unwrap_or(next);
    let capacity: Vec<Bar> = d
        .labs
        .iter()
        .filter_map(|f| {
            f.capacity_per_month.map(|c| {
                let share = if c == 0 {
                    0.0
                } else {
                    f.started_this_month as f64 / f64::from(c)
                };
                Bar {
                    label: f.lab_code.clone(),
                    value: share,
                    shown: format!(
                        "{} / {} ({} %)",
                        f.started_this_month,
                        c,
                        l.number(&format!("{:.0}", share * 100.0))
                    ),
                    link: format!(
                        "/lotes?x=1{}&desde={first}&hasta={last}",
                        lab_q(&f.lab_code)
                    ),
                }
            })
        })
        .collect();
    // Capacity on a 0–100 % scale (or beyond, when a laboratory went over).
    let capacity_full = capacity.iter().map(|b| b.value).fold(1.0_f64, f64::max);
    let oos: Vec<Bar> = d
        .labs
        .iter()
        .filter(|f| f.qc_results > 0)
        .map(|f| {
            let rate = f.qc_failed as f64 / f.qc_results as f64;
            Bar {
                label: f.lab_code.clone(),
                value: rate,
                shown: format!(
                    "{} % ({} / {})",
                    l.number(&format!("{:.1}", rate * 100.0)),
                    f.qc_failed,
                    f.qc_results
                ),
                link: list(&format!("{}&fuera=1", lab_q(&f.lab_code))),
            }
        })
        .collect();
    // Out-of-specification rates against the highest: 6 % and 10 % must not look alike.
    let oos_full = oos.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let lead: Vec<Bar> = d
        .labs
        .iter()
        .filter(|f| f.lead_time.released > 0)
        .map(|f| Bar {
            label: f.lab_code.clone(),
            value: f.lead_time.median_days.unwrap_or(0) as f64,
            shown: format!(
                "{} · p90 {}",
                days(l, f.lead_time.median_days),
                days(l, f.lead_time.p90_days)
            ),
            link: list(&format!("{}&estado=released", lab_q(&f.lab_code))),
        })
        .collect();
    let lead_full = lead.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let body = html! {
        form.filters method="get" action="/panel" {
            div { label for="desde" { (l.t("started-from")) } input #desde type="date" name="desde" value=[from.map(|d| d.to_string())]; }
            div { label for="hasta" { (l.t("to")) } input #hasta type="date" name="hasta" value=[to.map(|d| d.to_string())]; }
            button type="submit" { (l.t("filter")) }
        }
        p.hint { (l.t("dashboard-range-hint")) }
        div.grid {
            div.card { h2 { (l.t("release-lead-time-network")) }
                p { (l.t("median")) ": " strong #mediana { (days(l, d.network_lead_time.median_days)) } " · p90: " strong { (days(l, d.network_lead_time.p90_days)) } }
                p.hint { (l.t("released-batches")) ": " a href=(list("&estado=released")) { (d.network_lead_time.released) } ". " (l.t("days-from-the-end-of-manufacture")) } }
            div.card { h2 { (l.t("capacity-used-this-month")) " (" (d.month) ")" }
                @if capacity.is_empty() { p.muted { "—" } } @else { (bars(l.t("batches-started-this-month-against-monthly"), "capacidad", &capacity, capacity_full)) } }
        }
        h2 { (l.t("batches-by-laboratory-and-status")) }
        div.scroll { table #por-estado {
            thead { tr { th { (l.t("laboratory")) } @for st in statuses { th { (status_name(l, *st)) } } } }
            tbody { @for f in &d.labs { tr { td { (f.lab_code) } @for st in statuses {
                @let n = per_lab_status.get(&(f.lab_code.clone(), st.as_str().to_owned())).copied().unwrap_or(0);
                td { @if n == 0 { span.muted { "0" } } @else { a href=(list(&format!("{}&estado={}", lab_q(&f.lab_code), st.as_str()))) { (n) } } }
            } } } }
        } }
        h2 { (l.t("batches-by-product-and-status")) }
        div.scroll { table #por-producto {
            thead { tr { th { (l.t("laboratory")) } th { (l.t("product")) } th { (l.t("status")) } th { (l.t("batches")) } } }
            tbody { @for c in &d.by_status { tr { td { (c.lab_code) } td { (c.product_code) } td { (c.status.parse::<BatchStatus>().map(|st| status_name(l, st)).unwrap_or(&c.status)) }
                td { a href=(list(&format!("{}&producto={}&estado={}", lab_q(&c.lab_code), urlencode(&c.product_code), urlencode(&c.status)))) { (c.batches) } } } } }
        } }
        div.grid {
            div.card { h2 { (l.t("out-of-specification")) }
                @if oos.is_empty() { p.muted { "—" } } @else { (bars(l.t("qc-results-out-of-specification-by"), "fuera", &oos, oos_full)) } }
            div.card { h2 { (l.t("release-lead-time-by-laboratory")) }
                @if lead.is_empty() { p.muted { "—" } } @else { (bars(l.t("median-days-from-the-end-of"), "demora", &lead, lead_full)) } }
        }
    };
    html_page(&s, l.t("network-dashboard"), "/panel", body)
}
