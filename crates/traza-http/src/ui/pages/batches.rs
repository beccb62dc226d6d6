//! The batch list with its filters, and the form that starts a new batch.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::codes::{LabCode, ProductCode};
use traza_domain::network::{Assignment, Product};
use traza_domain::vocab::BatchStatus;
use traza_store::{BatchFilter, StoreError};

use crate::AppState;
use crate::api::batches::CreateBatchRequest;
use crate::error::ApiError;
use crate::ui::widgets::{
    batch_status, decimal_input, empty, html_page, html_page_status, origin_name, route_name,
    status_name,
};
use crate::ui::{Session, error_box, holds, script, scripts, store_error, urlencode};

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    estado: Option<String>,
    producto: Option<String>,
    laboratorio: Option<String>,
    desde: Option<String>,
    hasta: Option<String>,
    /// A batch number, a donor code or a patient code.
    q: Option<String>,
    /// `1`: only batches with a QC result out of specification (the dashboard links here).
    fuera: Option<String>,
    cursor: Option<String>,
    /// The previous page: batches newer than this cursor.
    nuevos: Option<String>,
}

/// The list's total is counted up to this many batches, then said as "more than".
const COUNT_CAP: u64 = 10_000;

impl ListQuery {
    /// The list's filters as the store takes them (a code that does not parse matches none).
    fn filter(&self) -> BatchFilter {
        let text = |v: &Option<String>| empty(v.clone());
        BatchFilter {
            lab: text(&self.laboratorio).and_then(|c| LabCode::parse(&c).ok()),
            product: text(&self.producto).and_then(|c| ProductCode::parse(&c).ok()),
            status: text(&self.estado).and_then(|c| c.parse().ok()),
            from: text(&self.desde).and_then(|d| d.parse().ok()),
            to: text(&self.hasta).and_then(|d| d.parse().ok()),
            failed_qc: self.fuera.as_deref() == Some("1"),
            cursor: text(&self.cursor),
            newer_than: text(&self.nuevos),
            limit: 50,
            ..Default::default()
        }
    }

    /// The filters (not the page) as `&name=value` pairs, for the links that keep them.
    fn kept(&self) -> String {
        [
            ("estado", &self.estado),
            ("producto", &self.producto),
            ("laboratorio", &self.laboratorio),
            ("desde", &self.desde),
            ("hasta", &self.hasta),
            ("q", &self.q),
            ("fuera", &self.fuera),
        ]
        .into_iter()
        .filter_map(|(k, v)| empty(v.clone()).map(|v| format!("&{k}={}", urlencode(&v))))
        .collect()
    }
}

/// The filtered list as the export CSV (the same columns as the import), streamed.
pub(super) async fn export(
    State(state): State<AppState>,
    s: Session,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Err(e) = s.actor.may(traza_domain::access::Action::ReadBatches) {
        return store_error(s.lang, e.into());
    }
    let filter = BatchFilter {
        cursor: None,
        newer_than: None,
        ..q.filter()
    };
    crate::api::batches::export_response(&state, s.actor.clone(), filter)
}

pub(super) async fn batches(
    State(state): State<AppState>,
    s: Session,
    Query(q): Query<ListQuery>,
) -> Response {
    let l = s.lang;
    let estado = empty(q.estado.clone());
    let producto = empty(q.producto.clone());
    let laboratorio = empty(q.laboratorio.clone());
    let desde = empty(q.desde.clone());
    let hasta = empty(q.hasta.clone());
    let search = empty(q.q.clone());
    let mut filter = q.filter();
    // A search names a batch (its page opens), else a donor's batches, else a patient's.
    let mut searchable = true;
    if let Some(code) = &search {
        if state.store.get_batch(&s.actor, code).await.is_ok() {
            return axum::response::Redirect::to(&format!("/lotes/{}", urlencode(code)))
                .into_response();
        }
        match traza_domain::codes::DonorCode::parse(code) {
            Ok(donor) => filter.donor = Some(donor),
            Err(_) => searchable = false,
        }
    }
    let mut page_of = if searchable {
        match state.store.list_batches(&s.actor, &filter).await {
            Ok(p) => p,
            Err(e) => return store_error(l, e),
        }
    } else {
        traza_store::Page {
            items: Vec::new(),
            next_cursor: None,
        }
    };
    if let Some(code) = &search
        && page_of.items.is_empty()
        && let Ok(patient) = traza_domain::codes::PatientCode::parse(code)
    {
        filter.donor = None;
        filter.patient = Some(patient);
        page_of = match state.store.list_batches(&s.actor, &filter).await {
            Ok(p) => p,
            Err(e) => return store_error(l, e),
        };
    }
    let labs: Vec<String> = state
        .store
        .list_labs(&s.actor)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|lab| lab.code.as_str().to_owned())
        .filter(|code| s.actor.scope().includes_code(code))
        .collect();
    let products = state
        .store
        .list_products(&s.actor)
        .await
        .unwrap_or_default();
    let kept = q.kept();
    let next = page_of
        .next_cursor
        .as_ref()
        .map(|c| format!("/lotes?cursor={}{kept}", urlencode(c)));
    // A previous page when a batch newer than this page's first one matches.
    let whole = BatchFilter {
        cursor: None,
        newer_than: None,
        ..filter.clone()
    };
    let previous = match page_of.items.first() {
        Some(first) if filter.cursor.is_some() || filter.newer_than.is_some() => {
            let id = state
                .store
                .batch_cursor(&s.actor, first.batch_number.as_str())
                .await
                .ok();
            match id {
                Some(id)
                    if state
                        .store
                        .has_newer_batches(&s.actor, &whole, &id)
                        .await
                        .unwrap_or(false) =>
                {
                    Some(format!("/lotes?nuevos={}{kept}", urlencode(&id)))
                }
                _ => None,
            }
        }
        _ => None,
    };
    let total = if searchable {
        state
            .store
            .count_batches(&s.actor, &whole, COUNT_CAP)
            .await
            .ok()
    } else {
        Some(Some(0))
    };
    let export = format!("/lotes/exportar.csv?x=1{kept}");
    let body = html! {
        form.filters method="get" action="/lotes" role="search" {
            div { label for="q" { (l.t("search-batch-donor-patient")) }
                input #q name="q" value=[search.as_deref()] autocomplete="off"; }
            @if labs.len() > 1 {
                div { label for="laboratorio" { (l.t("laboratory")) }
                    select #laboratorio name="laboratorio" {
                        option value="" { (l.t("all")) }
                        @for code in &labs {
                            option value=(code) selected[laboratorio.as_deref() == Some(code.as_str())] { (code) }
                        }
                    } }
            }
            div { label for="estado" { (l.t("status")) }
                select #estado name="estado" {
                    option value="" { (l.t("all")) }
                    @for st in BatchStatus::ALL {
                        option value=(st.as_str()) selected[estado.as_deref() == Some(st.as_str())] { (status_name(l, *st)) }
                    }
                } }
            div { label for="producto" { (l.t("product")) }
                select #producto name="producto" {
                    option value="" { (l.t("all")) }
                    @for p in &products {
                        option value=(p.code.as_str()) selected[producto.as_deref() == Some(p.code.as_str())] { (p.name) }
                    }
                } }
            div { label for="desde" { (l.t("started-from")) } input #desde type="date" name="desde" value=[desde.as_deref()]; }
            div { label for="hasta" { (l.t("to")) } input #hasta type="date" name="hasta" value=[hasta.as_deref()]; }
            @if labs.len() <= 1 { @if let Some(lab) = &laboratorio { input type="hidden" name="laboratorio" value=(lab); } }
            button type="submit" { (l.t("filter")) }
        }
        p #total {
            @match total {
                Some(Some(n)) => { strong { (l.number(&n.to_string())) } " " (l.t("list-batches-total")) }
                Some(None) => { (l.t("list-more-than")) " " strong { (l.number(&COUNT_CAP.to_string())) } " " (l.t("list-batches-total")) }
                None => {}
            }
            @if q.fuera.as_deref() == Some("1") { " · " (l.t("list-with-failed-qc")) }
            " · " a href=(export) download { (l.t("export-this-list-csv")) }
        }
        @if page_of.items.is_empty() {
            p.muted { (l.t("no-batches-match")) }
        } @else {
            div.scroll { table {
                thead { tr {
                    th { (l.t("batch")) } th { (l.t("product")) } th { (l.t("laboratory")) }
                    th { (l.t("start")) } th { (l.t("status")) } th { (l.t("route")) }
                } }
                tbody {
                    @for b in &page_of.items {
                        tr {
                            td { a href={ "/lotes/" (b.batch_number.as_str()) } { (b.batch_number.as_str()) } }
                            td { (b.product_code.as_str()) }
                            td { (b.lab_code.as_str()) }
                            td { (l.date(b.manufacturing_start)) }
                            td { (batch_status(l, b)) (holds::held_badge(l, b.on_hold)) }
                            td { (route_name(l, b.access_route)) }
                        }
                    }
                }
            } }
        }
        @if previous.is_some() || next.is_some() {
            p.pager {
                @if let Some(previous) = previous { a rel="prev" href=(previous) { (l.t("previous")) } }
                @if let Some(next) = next { a rel="next" href=(next) { (l.t("next")) } }
            }
        }
    };
    html_page(&s, l.t("batches"), "/lotes", body)
}

/// The products the user's laboratories may make today (an active assignment).
async fn assignable(
    state: &AppState,
    s: &Session,
) -> Result<Vec<(Assignment, Product)>, StoreError> {
    let today = Utc::now().date_naive();
    let products = state.store.list_products(&s.actor).await?;
    let mut out = Vec::new();
    for lab in &s.actor.labs {
        for a in state
            .store
            .list_assignments(&s.actor, None, Some(lab.as_str()))
            .await?
        {
            if a.period.covers(today)
                && let Some(p) = products.iter().find(|p| p.code == a.product_code)
            {
                out.push((a, p.clone()));
            }
        }
    }
    Ok(out)
}

#[derive(Deserialize, Default, Clone)]
pub(super) struct NewBatchForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    assignment: String,
    #[serde(default)]
    donor_code: String,
    patient_code: Option<String>,
    trial_id: Option<String>,
    collection_date: Option<String>,
    manufacturing_start: Option<String>,
    doses: Option<String>,
    volume_ml: Option<String>,
    notes: Option<String>,
}

fn new_batch_form(
    s: &Session,
    options: &[(Assignment, Product)],
    f: &NewBatchForm,
    error: Option<Markup>,
) -> Markup {
    let l = s.lang;
    let today = Utc::now().date_naive().to_string();
    html! {
        @if let Some(e) = error { (e) }
        @if options.is_empty() {
            div.notice.warn { p { (l.t("your-laboratory-has-no-product-assigned")) } }
        } @else {
            form.card method="post" action="/lotes/nuevo" {
                input type="hidden" name="csrf" value=(s.csrf());
                label for="assignment" { (l.t("assigned-product-laboratory-route")) }
                select #assignment name="assignment" required {
                    @for (a, p) in options {
                        option value=(a.id) data-origin=(p.origin.as_str()) data-product=(p.code.as_str()) data-trial=[a.trial_id().map(|t| t.as_str().to_owned())] selected[f.assignment == a.id.to_string()] {
                            (p.name) " — " (a.lab_code.as_str()) " · " (route_name(l, a.access_route)) " (" (origin_name(l, p.origin)) ")"
                        }
                    }
                }
                label for="donor_code" { (l.t("donor-code-din")) }
                input #donor_code name="donor_code" required value=(f.donor_code) autocomplete="off";
                div #patient_block {
                    label for="patient_code" { (l.t("patient-code")) }
                    input #patient_code name="patient_code" value=[f.patient_code.as_deref()] autocomplete="off" aria-describedby="coi";
                    p #coi.hint aria-live="polite" { (l.t("for-an-autologous-product-the-patient")) }
                }
                label for="trial_id" { (l.t("trial-id-eu-ct-eudract-for")) }
                input #trial_id name="trial_id" value=[f.trial_id.as_deref()];
                label for="collection_date" { (l.t("collection-date")) }
                input #collection_date type="date" name="collection_date" value=[f.collection_date.as_deref()];
                label for="manufacturing_start" { (l.t("manufacturing-start")) }
                input #manufacturing_start type="date" name="manufacturing_start" required value=(f.manufacturing_start.clone().unwrap_or(today));
                label for="doses" { (l.t("doses")) }
                input #doses type="number" min="1" name="doses" value=(f.doses.clone().unwrap_or_else(|| traza_domain::batch::DEFAULT_DOSES.to_string()));
                label for="volume_ml" { (l.t("volume-ml")) }
                input #volume_ml name="volume_ml" inputmode="decimal" value=[f.volume_ml.as_deref()];
                label for="notes" { (l.t("notes")) }
                textarea #notes name="notes" rows="3" { (f.notes.clone().unwrap_or_default()) }
                button.primary type="submit" { (l.t("create-batch")) }
            }
            (script(scripts::chain_of_identity(l)))
        }
    }
}

pub(super) async fn new_batch_page(State(state): State<AppState>, s: Session) -> Response {
    let options = match assignable(&state, &s).await {
        Ok(o) => o,
        Err(e) => return store_error(s.lang, e),
    };
    let body = new_batch_form(&s, &options, &NewBatchForm::default(), None);
    html_page(&s, s.lang.t("new-batch"), "/lotes/nuevo", body)
}

pub(super) async fn create_batch(
    State(state): State<AppState>,
    s: Session,
    axum::Form(f): axum::Form<NewBatchForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let options = match assignable(&state, &s).await {
        Ok(o) => o,
        Err(e) => return store_error(l, e),
    };
    let chosen = options
        .iter()
        .find(|(a, _)| a.id.to_string() == f.assignment);
    let result = async {
        let Some((a, _)) = chosen else {
            return Err(ApiError::validation(
                "assignment",
                l.t("choose-an-assigned-product"),
            ));
        };
        let date =
            |what: &'static str, v: &Option<String>| -> Result<Option<NaiveDate>, ApiError> {
                match empty(v.clone()) {
                    None => Ok(None),
                    Some(d) => d
                        .parse()
                        .map(Some)
                        .map_err(|_| ApiError::validation(what, l.t("is-not-a-date"))),
                }
            };
        let start = date("manufacturing_start", &f.manufacturing_start)?
            .ok_or_else(|| ApiError::validation("manufacturing_start", l.t("is-required")))?;
        let doses = match empty(f.doses.clone()) {
            None => None,
            Some(d) => Some(
                d.parse::<u32>()
                    .map_err(|_| ApiError::validation("doses", l.t("is-not-a-whole-number")))?,
            ),
        };
        let request = CreateBatchRequest {
            batch_number: None,
            product_code: a.product_code.as_str().to_owned(),
            lab_code: Some(a.lab_code.as_str().to_owned()),
            access_route: a.access_route,
            // Left empty on a clinical-trial assignment: the assignment's own trial.
            trial_id: empty(f.trial_id.clone())
                .or_else(|| a.trial_id().map(|t| t.as_str().to_owned())),
            donor_code: f.donor_code.trim().to_owned(),
            patient_code: empty(f.patient_code.clone()),
            collection_date: date("collection_date", &f.collection_date)?,
            manufacturing_start: start,
            manufacturing_end: None,
            expiry_date: None,
            cell_count: None,
            viability_percent: None,
            volume_ml: empty(f.volume_ml.clone()).map(|v| decimal_input(&v)),
            doses,
            notes: empty(f.notes.clone()),
        };
        let new = request.into_new_batch(&s.actor)?;
        state
            .store
            .create_batch(&s.actor, new)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(view) => Redirect::to(&format!(
            "/lotes/{}?hecho=creado",
            view.batch.batch_number.as_str()
        ))
        .into_response(),
        Err(e) => {
            let status = e.status;
            let body = new_batch_form(&s, &options, &f, Some(error_box(l, &e)));
            html_page_status(&s, status, l.t("new-batch"), "/lotes/nuevo", body)
        }
    }
}
