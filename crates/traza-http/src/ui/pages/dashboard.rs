//! The network dashboard: lead times, capacity, batches by status, out-of-specification rates.

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use traza_domain::vocab::BatchStatus;
use traza_store::Dashboard;

use crate::AppState;
use crate::ui::widgets::{html_page, status_name};
use crate::ui::{Session, store_error};

/// A horizontal bar chart as SVG: one bar per row, the value written beside it. Bars are
/// drawn against `full` (1.0 for a share, so that 3 % looks like 3 %), or the largest value.
fn bar_chart(title: &str, rows: &[(String, f64, String)], full: Option<f64>) -> Markup {
    let max = full
        .unwrap_or_else(|| rows.iter().map(|r| r.1).fold(0.0_f64, f64::max))
        .max(1e-9);
    let height = 30 * rows.len() + 10;
    html! {
        figure {
            svg.chart role="img" aria-label=(title) viewBox={ "0 0 560 " (height) } {
                @for (i, (label, value, shown)) in rows.iter().enumerate() {
                    @let y = 30 * i + 5;
                    @let w = (value.min(max) / max * 250.0).max(1.0);
                    text x="0" y=(y + 17) font-size="15" { (label) }
                    rect x="130" y=(y) width="250" height="22" fill="#e8edf3" {}
                    rect x="130" y=(y) width=(format!("{w:.1}")) height="22" fill="#0b5cab" {}
                    text x="390" y=(y + 17) font-size="15" { (shown) }
                }
            }
            figcaption.hint { (title) }
        }
    }
}

pub(super) async fn dashboard(State(state): State<AppState>, s: Session) -> Response {
    let l = s.lang;
    let d: Dashboard = match state.store.dashboard(&s.actor).await {
        Ok(d) => d,
        Err(e) => return store_error(l, e),
    };
    let mut per_lab_status: std::collections::BTreeMap<(String, String), i64> = Default::default();
    for c in &d.by_status {
        *per_lab_status
            .entry((c.lab_code.clone(), c.status.clone()))
            .or_insert(0) += c.batches;
    }
    let statuses = BatchStatus::ALL;
    let days = |v: Option<i64>| {
        v.map(|d| format!("{d} {}", l.t("days")))
            .unwrap_or_else(|| "—".into())
    };
    let capacity: Vec<(String, f64, String)> = d
        .labs
        .iter()
        .filter_map(|f| {
            f.capacity_per_month.map(|c| {
                let share = if c == 0 {
                    0.0
                } else {
                    f.started_this_month as f64 / f64::from(c)
                };
                (
                    f.lab_code.clone(),
                    share,
                    format!(
                        "{} / {} ({} %)",
                        f.started_this_month,
                        c,
                        l.number(&format!("{:.0}", share * 100.0))
                    ),
                )
            })
        })
        .collect();
    let oos: Vec<(String, f64, String)> = d
        .labs
        .iter()
        .filter(|f| f.qc_results > 0)
        .map(|f| {
            let rate = f.qc_failed as f64 / f.qc_results as f64;
            (
                f.lab_code.clone(),
                rate,
                format!(
                    "{} % ({} / {})",
                    l.number(&format!("{:.1}", rate * 100.0)),
                    f.qc_failed,
                    f.qc_results
                ),
            )
        })
        .collect();
    let lead: Vec<(String, f64, String)> = d
        .labs
        .iter()
        .filter(|f| f.lead_time.released > 0)
        .map(|f| {
            (
                f.lab_code.clone(),
                f.lead_time.median_days.unwrap_or(0) as f64,
                format!(
                    "{} · p90 {}",
                    days(f.lead_time.median_days),
                    days(f.lead_time.p90_days)
                ),
            )
        })
        .collect();
    let body = html! {
        div.grid {
            div.card { h2 { (l.t("release-lead-time-network")) }
                p { (l.t("median")) ": " strong #mediana { (days(d.network_lead_time.median_days)) } " · p90: " strong { (days(d.network_lead_time.p90_days)) } }
                p.hint { (l.t("released-batches")) ": " (d.network_lead_time.released) ". " (l.t("days-from-the-end-of-manufacture")) } }
            div.card { h2 { (l.t("capacity-used-this-month")) " (" (d.month) ")" }
                @if capacity.is_empty() { p.muted { "—" } } @else { (bar_chart(l.t("batches-started-this-month-against-monthly"), &capacity, Some(1.0))) } }
        }
        h2 { (l.t("batches-by-laboratory-and-status")) }
        table #por-estado {
            thead { tr { th { (l.t("laboratory")) } @for st in statuses { th { (status_name(l, *st)) } } } }
            tbody { @for f in &d.labs { tr { td { (f.lab_code) } @for st in statuses { td { (per_lab_status.get(&(f.lab_code.clone(), st.as_str().to_owned())).copied().unwrap_or(0)) } } } } }
        }
        h2 { (l.t("batches-by-product-and-status")) }
        table {
            thead { tr { th { (l.t("laboratory")) } th { (l.t("product")) } th { (l.t("status")) } th { (l.t("batches")) } } }
            tbody { @for c in &d.by_status { tr { td { (c.lab_code) } td { (c.product_code) } td { (c.status.parse::<BatchStatus>().map(|st| status_name(l, st)).unwrap_or(&c.status)) } td { (c.batches) } } } }
        }
        div.grid {
            div.card { h2 { (l.t("out-of-specification")) }
                @if oos.is_empty() { p.muted { "—" } } @else { (bar_chart(l.t("qc-results-out-of-specification-by"), &oos, Some(1.0))) } }
            div.card { h2 { (l.t("release-lead-time-by-laboratory")) }
                @if lead.is_empty() { p.muted { "—" } } @else { (bar_chart(l.t("median-days-from-the-end-of"), &lead, None)) } }
        }
    };
    html_page(&s, l.t("network-dashboard"), "/panel", body)
}
