//! The pages, by who uses them: laboratory staff (batches, the batch record and its forms),
//! QA (release queue, certification, rejection, deviations, administrations), the
//! coordination unit (network, dashboard), and everyone's import and traceability search.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::access::Action;
use traza_domain::batch::{Batch, QcResult};
use traza_domain::codes::{DonorCode, LabCode, PatientCode, ProductCode};
use traza_domain::network::{Assignment, Laboratory, Product};
use traza_domain::spec::SpecTest;
use traza_domain::vigilance::ReactionStatus;
use traza_domain::vocab::{
    AccessRoute, BatchStatus, DeviationSeverity, DeviationStatus, Origin, QcOutcome,
    SignatureMeaning, TestKind,
};
use traza_store::{
    BatchFilter, BatchView, Dashboard, ImportReport, ImportRequest, QcInput, StoreError,
};

use super::fmt::{Lang, from_madrid, madrid, parse_local};
use super::vigilance::reaction_link;
use super::{Session, error_box, page, script, scripts, store_error, urlencode};
use crate::AppState;
use crate::api::batches::CreateBatchRequest;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/lotes", get(batches))
        .route("/lotes/nuevo", get(new_batch_page).post(create_batch))
        .route("/lotes/{number}", get(batch_page))
        .route(
            "/lotes/{number}/{action}",
            axum::routing::post(batch_action),
        )
        .route("/lotes/{number}/liberar", get(release_page).post(release))
        .route("/liberacion", get(release_queue))
        .route("/red", get(network))
        .route("/red/asignaciones", axum::routing::post(create_assignment))
        .route(
            "/red/asignaciones/{id}/fin",
            axum::routing::post(end_assignment),
        )
        .route("/panel", get(dashboard))
        .route("/importar", get(import_page))
        .route("/trazabilidad", get(trace))
}

/// The pages whose requests may take minutes (an uploaded import).
pub fn long_routes() -> Router<AppState> {
    Router::new().route(
        "/importar",
        axum::routing::post(import).layer(DefaultBodyLimit::max(IMPORT_FORM_LIMIT)),
    )
}

/// The import form as the browser sends it: a file as large as the API takes
/// (`MAX_IMPORT_BYTES`, checked again as it is spooled), plus the CSRF token, the mode and
/// the multipart boundaries. Every other form keeps the router's `BODY_LIMIT`.
const IMPORT_FORM_LIMIT: usize = crate::api::imports::MAX_IMPORT_BYTES as usize + 64 * 1024;

fn status_name(l: Lang, s: BatchStatus) -> &'static str {
    match s {
        BatchStatus::InProduction => l.t("En producción", "In production"),
        BatchStatus::Quarantine => l.t("Cuarentena", "Quarantine"),
        BatchStatus::Released => l.t("Liberado", "Released"),
        BatchStatus::Rejected => l.t("Rechazado", "Rejected"),
        BatchStatus::Administered => l.t("Administrado", "Administered"),
    }
}

pub(super) fn status_badge(l: Lang, s: BatchStatus) -> Markup {
    html! { span class={ "badge " (s.as_str()) } { (status_name(l, s)) } }
}

fn route_name(l: Lang, r: AccessRoute) -> &'static str {
    match r {
        AccessRoute::ClinicalTrial => l.t("Ensayo clínico", "Clinical trial"),
        AccessRoute::CompassionateUse => l.t("Uso compasivo", "Compassionate use"),
        AccessRoute::HospitalExemption => l.t("Exención hospitalaria", "Hospital exemption"),
    }
}

fn origin_name(l: Lang, o: Origin) -> &'static str {
    match o {
        Origin::Autologous => l.t("Autólogo", "Autologous"),
        Origin::Allogeneic => l.t("Alogénico", "Allogeneic"),
    }
}

fn severity_name(l: Lang, s: DeviationSeverity) -> &'static str {
    match s {
        DeviationSeverity::Minor => l.t("menor", "minor"),
        DeviationSeverity::Major => l.t("mayor", "major"),
        DeviationSeverity::Critical => l.t("crítica", "critical"),
    }
}

pub(super) fn outcome(l: Lang, o: QcOutcome) -> Markup {
    match o {
        QcOutcome::Pass => html! { span.pass { "✔ " (l.t("Conforme", "Pass")) } },
        QcOutcome::Fail => html! { span.fail { "✘ " (l.t("Fuera de especificación", "Fail")) } },
    }
}

pub(super) fn html_page(s: &Session, title: &str, path: &str, body: Markup) -> Response {
    Html(page(Some(s), s.lang, title, path, body).into_string()).into_response()
}

pub(super) fn html_page_status(
    s: &Session,
    status: StatusCode,
    title: &str,
    path: &str,
    body: Markup,
) -> Response {
    (
        status,
        Html(page(Some(s), s.lang, title, path, body).into_string()),
    )
        .into_response()
}

fn empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A decimal typed the Spanish way (`92,5`) as the API takes it (`92.5`).
fn decimal_input(s: &str) -> String {
    let t = s.trim();
    if t.contains(',') && !t.contains('.') {
        t.replace(',', ".")
    } else {
        t.to_owned()
    }
}

// ------------------------------------------------------------------------------------------
// Batches

#[derive(Deserialize, Default)]
struct ListQuery {
    estado: Option<String>,
    producto: Option<String>,
    laboratorio: Option<String>,
    desde: Option<String>,
    hasta: Option<String>,
    cursor: Option<String>,
}

async fn batches(
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
    let filter = BatchFilter {
        lab: laboratorio.as_deref().and_then(|c| LabCode::parse(c).ok()),
        product: producto.as_deref().and_then(|c| ProductCode::parse(c).ok()),
        status: estado.as_deref().and_then(|c| c.parse().ok()),
        from: desde.as_deref().and_then(|d| d.parse().ok()),
        to: hasta.as_deref().and_then(|d| d.parse().ok()),
        cursor: empty(q.cursor.clone()),
        limit: 50,
        ..Default::default()
    };
    let page_of = match state.store.list_batches(&s.actor, &filter).await {
        Ok(p) => p,
        Err(e) => return store_error(l, e),
    };
    let products = state
        .store
        .list_products(&s.actor)
        .await
        .unwrap_or_default();
    let keep = |k: &str, v: &Option<String>| {
        v.as_ref()
            .map(|v| format!("&{k}={}", urlencode(v)))
            .unwrap_or_default()
    };
    let next = page_of.next_cursor.as_ref().map(|c| {
        format!(
            "/lotes?cursor={}{}{}{}{}{}",
            urlencode(c),
            keep("estado", &estado),
            keep("producto", &producto),
            keep("laboratorio", &laboratorio),
            keep("desde", &desde),
            keep("hasta", &hasta)
        )
    });
    let body = html! {
        form.filters method="get" action="/lotes" role="search" {
            div { label for="estado" { (l.t("Estado", "Status")) }
                select #estado name="estado" {
                    option value="" { (l.t("Todos", "All")) }
                    @for st in BatchStatus::ALL {
                        option value=(st.as_str()) selected[estado.as_deref() == Some(st.as_str())] { (status_name(l, *st)) }
                    }
                } }
            div { label for="producto" { (l.t("Producto", "Product")) }
                select #producto name="producto" {
                    option value="" { (l.t("Todos", "All")) }
                    @for p in &products {
                        option value=(p.code.as_str()) selected[producto.as_deref() == Some(p.code.as_str())] { (p.name) }
                    }
                } }
            div { label for="desde" { (l.t("Inicio desde", "Started from")) } input #desde type="date" name="desde" value=[desde.as_deref()]; }
            div { label for="hasta" { (l.t("hasta", "to")) } input #hasta type="date" name="hasta" value=[hasta.as_deref()]; }
            @if let Some(lab) = &laboratorio { input type="hidden" name="laboratorio" value=(lab); }
            button type="submit" { (l.t("Filtrar", "Filter")) }
        }
        @if page_of.items.is_empty() {
            p.muted { (l.t("No hay lotes con estos criterios.", "No batches match.")) }
        } @else {
            table {
                thead { tr {
                    th { (l.t("Lote", "Batch")) } th { (l.t("Producto", "Product")) } th { (l.t("Laboratorio", "Laboratory")) }
                    th { (l.t("Inicio", "Start")) } th { (l.t("Estado", "Status")) } th { (l.t("Vía", "Route")) }
                } }
                tbody {
                    @for b in &page_of.items {
                        tr {
                            td { a href={ "/lotes/" (b.batch_number.as_str()) } { (b.batch_number.as_str()) } }
                            td { (b.product_code.as_str()) }
                            td { (b.lab_code.as_str()) }
                            td { (l.date(b.manufacturing_start)) }
                            td { (status_badge(l, b.status)) (super::holds::held_badge(l, b.on_hold)) }
                            td { (route_name(l, b.access_route)) }
                        }
                    }
                }
            }
        }
        @if let Some(next) = next {
            p.pager { a href=(next) { (l.t("Siguientes →", "Next →")) } }
        }
    };
    html_page(&s, l.t("Lotes", "Batches"), "/lotes", body)
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
struct NewBatchForm {
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
            div.notice.warn { p { (l.t("Su laboratorio no tiene hoy ningún producto asignado por la unidad de coordinación.", "Your laboratory has no product assigned by the coordination unit today.")) } }
        } @else {
            form.card method="post" action="/lotes/nuevo" {
                input type="hidden" name="csrf" value=(s.csrf());
                label for="assignment" { (l.t("Producto asignado (laboratorio · vía)", "Assigned product (laboratory · route)")) }
                select #assignment name="assignment" required {
                    @for (a, p) in options {
                        option value=(a.id) data-origin=(p.origin.as_str()) data-product=(p.code.as_str()) selected[f.assignment == a.id.to_string()] {
                            (p.name) " — " (a.lab_code.as_str()) " · " (route_name(l, a.access_route)) " (" (origin_name(l, p.origin)) ")"
                        }
                    }
                }
                label for="donor_code" { (l.t("Código de donante (DIN)", "Donor code (DIN)")) }
                input #donor_code name="donor_code" required value=(f.donor_code) autocomplete="off";
                div #patient_block {
                    label for="patient_code" { (l.t("Código de paciente", "Patient code")) }
                    input #patient_code name="patient_code" value=[f.patient_code.as_deref()] autocomplete="off" aria-describedby="coi";
                    p #coi.hint aria-live="polite" { (l.t("En un producto autólogo el paciente es el donante: los códigos deben coincidir.", "For an autologous product the patient is the donor: the codes must match.")) }
                }
                label for="trial_id" { (l.t("Identificador del ensayo (EU CT / EudraCT), si es ensayo clínico", "Trial id (EU CT / EudraCT), for a clinical trial")) }
                input #trial_id name="trial_id" value=[f.trial_id.as_deref()];
                label for="collection_date" { (l.t("Fecha de obtención", "Collection date")) }
                input #collection_date type="date" name="collection_date" value=[f.collection_date.as_deref()];
                label for="manufacturing_start" { (l.t("Inicio de fabricación", "Manufacturing start")) }
                input #manufacturing_start type="date" name="manufacturing_start" required value=(f.manufacturing_start.clone().unwrap_or(today));
                label for="doses" { (l.t("Dosis", "Doses")) }
                input #doses type="number" min="1" name="doses" value=(f.doses.clone().unwrap_or_else(|| "1".into()));
                label for="volume_ml" { (l.t("Volumen (ml)", "Volume (ml)")) }
                input #volume_ml name="volume_ml" inputmode="decimal" value=[f.volume_ml.as_deref()];
                label for="notes" { (l.t("Notas", "Notes")) }
                textarea #notes name="notes" rows="3" { (f.notes.clone().unwrap_or_default()) }
                button.primary type="submit" { (l.t("Crear lote", "Create batch")) }
            }
            (script(scripts::chain_of_identity(l)))
        }
    }
}

async fn new_batch_page(State(state): State<AppState>, s: Session) -> Response {
    let options = match assignable(&state, &s).await {
        Ok(o) => o,
        Err(e) => return store_error(s.lang, e),
    };
    let body = new_batch_form(&s, &options, &NewBatchForm::default(), None);
    html_page(
        &s,
        s.lang.t("Nuevo lote", "New batch"),
        "/lotes/nuevo",
        body,
    )
}

async fn create_batch(
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
                l.t("elija un producto asignado", "choose an assigned product"),
            ));
        };
        let date =
            |what: &'static str, v: &Option<String>| -> Result<Option<NaiveDate>, ApiError> {
                match empty(v.clone()) {
                    None => Ok(None),
                    Some(d) => d.parse().map(Some).map_err(|_| {
                        ApiError::validation(what, l.t("no es una fecha", "is not a date"))
                    }),
                }
            };
        let start = date("manufacturing_start", &f.manufacturing_start)?.ok_or_else(|| {
            ApiError::validation("manufacturing_start", l.t("es obligatoria", "is required"))
        })?;
        let doses = match empty(f.doses.clone()) {
            None => None,
            Some(d) => Some(d.parse::<u32>().map_err(|_| {
                ApiError::validation(
                    "doses",
                    l.t("no es un número entero", "is not a whole number"),
                )
            })?),
        };
        let request = CreateBatchRequest {
            batch_number: None,
            product_code: a.product_code.as_str().to_owned(),
            lab_code: Some(a.lab_code.as_str().to_owned()),
            access_route: a.access_route,
            trial_id: empty(f.trial_id.clone()),
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
            html_page_status(
                &s,
                status,
                l.t("Nuevo lote", "New batch"),
                "/lotes/nuevo",
                body,
            )
        }
    }
}

/// The `?hecho=…` of the page a form redirects to: what was just done.
#[derive(Deserialize, Default)]
pub(super) struct Done {
    pub(super) hecho: Option<String>,
}

fn done_text(l: Lang, what: &str) -> Option<&'static str> {
    Some(match what {
        "creado" => l.t("Lote creado.", "Batch created."),
        "paso" => l.t("Paso registrado.", "Step recorded."),
        "qc" => l.t(
            "Resultado de control de calidad registrado.",
            "QC result recorded.",
        ),
        "desviacion" => l.t("Desviación abierta.", "Deviation opened."),
        "cerrada" => l.t("Desviación cerrada.", "Deviation closed."),
        "completado" => l.t(
            "Fabricación terminada: el lote está en cuarentena.",
            "Manufacture ended: the batch is in quarantine.",
        ),
        "liberado" => l.t(
            "Lote certificado y liberado.",
            "Batch certified and released.",
        ),
        "rechazado" => l.t("Lote rechazado.", "Batch rejected."),
        "administracion" => l.t("Administración registrada.", "Administration recorded."),
        "retenido" => l.t("Lote retenido.", "Batch put on hold."),
        "levantada" => l.t("Retención levantada.", "Hold lifted."),
        "confirmado" => l.t(
            "Histórico confirmado: el lote puede administrarse.",
            "History confirmed: the batch may be administered.",
        ),
        _ => return None,
    })
}

/// The specification's tests beside the batch's current results.
fn qc_table(l: Lang, tests: &[SpecTest], results: &[QcResult]) -> Markup {
    let current = traza_domain::batch::current_results(results);
    let limits = |t: &SpecTest| -> String {
        match t.kind {
            TestKind::Categorical => t.expected.clone().unwrap_or_default(),
            TestKind::Numeric => match (&t.min, &t.max) {
                (Some(a), Some(b)) => format!(
                    "{} – {}",
                    l.number(&a.to_string()),
                    l.number(&b.to_string())
                ),
                (Some(a), None) => format!("≥ {}", l.number(&a.to_string())),
                (None, Some(b)) => format!("≤ {}", l.number(&b.to_string())),
                (None, None) => String::new(),
            },
        }
    };
    html! {
        table {
            thead { tr {
                th { (l.t("Ensayo", "Test")) } th { (l.t("Especificación", "Specification")) } th { (l.t("Unidad", "Unit")) }
                th { (l.t("Resultado", "Result")) } th { (l.t("Valoración", "Outcome")) } th { (l.t("Registrado por", "Recorded by")) }
            } }
            tbody {
                @for t in tests {
                    @let r = current.iter().find(|r| r.test == t.test);
                    tr {
                        td { (t.test) @if t.required { " *" } }
                        td { (limits(t)) }
                        td { (t.unit) }
                        td { @if let Some(r) = r { (l.number(&r.value)) " " (r.unit) @if r.supersedes.is_some() { " " span.badge { (l.t("repetición", "retest")) } } } @else { span.muted { (l.t("pendiente", "pending")) } } }
                        td { @if let Some(r) = r { (outcome(l, r.outcome)) } }
                        td { @if let Some(r) = r { (r.recorded_by) " (#" (r.id) ")" } }
                    }
                }
            }
        }
        p.hint { "* " (l.t("ensayo obligatorio para la liberación", "required for release")) }
    }
}

async fn batch_page(
    State(state): State<AppState>,
    s: Session,
    Path(number): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    render_batch(
        &state,
        &s,
        &number,
        d.hecho
            .as_deref()
            .and_then(|h| done_text(s.lang, h))
            .map(|t| html! { div.notice.ok role="status" { p { (t) } } }),
        StatusCode::OK,
    )
    .await
}

async fn render_batch(
    state: &AppState,
    s: &Session,
    number: &str,
    notice: Option<Markup>,
    status: StatusCode,
) -> Response {
    let l = s.lang;
    let v = match state.store.get_batch(&s.actor, number).await {
        Ok(v) => v,
        Err(e) => return store_error(l, e),
    };
    let product = state
        .store
        .get_product(&s.actor, v.batch.product_code.as_str())
        .await
        .ok();
    let audit = state
        .store
        .batch_audit(&s.actor, number)
        .await
        .unwrap_or_default();
    let body = batch_body(s, &v, product.as_ref(), &audit, notice);
    html_page_status(
        s,
        status,
        &format!("{} {}", l.t("Lote", "Batch"), v.batch.batch_number.as_str()),
        "/lotes",
        body,
    )
}

fn facts(l: Lang, b: &Batch, product: Option<&Product>) -> Markup {
    html! {
        dl.facts {
            dt { (l.t("Estado", "Status")) } dd { (status_badge(l, b.status)) (super::holds::held_badge(l, b.on_hold)) }
            dt { (l.t("Producto", "Product")) } dd { (product.map_or(b.product_code.as_str(), |p| p.name.as_str())) " (" (b.product_code.as_str()) ")" }
            dt { (l.t("Laboratorio", "Laboratory")) } dd { (b.lab_code.as_str()) }
            dt { (l.t("Origen", "Origin")) } dd { (origin_name(l, b.origin)) }
            dt { (l.t("Vía de acceso", "Access route")) } dd { (route_name(l, b.access_route)) @if let Some(t) = &b.trial_id { " · " (t.as_str()) } }
            dt { (l.t("Donante", "Donor")) } dd { (b.donor_code.as_str()) }
            dt { (l.t("Paciente", "Patient")) } dd { (b.patient_code.as_ref().map_or("—", |p| p.as_str())) }
            dt { (l.t("Inicio de fabricación", "Manufacturing start")) } dd { (l.date(b.manufacturing_start)) }
            dt { (l.t("Fin de fabricación", "Manufacturing end")) } dd { (l.opt_date(b.manufacturing_end)) }
            dt { (l.t("Caducidad", "Expiry")) } dd { (l.opt_date(b.expiry_date)) }
            dt { (l.t("Dosis", "Doses")) } dd { (b.doses) }
            @if let Some(v) = &b.volume_ml { dt { (l.t("Volumen", "Volume")) } dd { (l.number(&v.to_string())) " ml" } }
            @if let Some(r) = &b.released_by { dt { (l.t("Liberado por", "Released by")) } dd { (r) " · " (l.opt_date(b.release_date)) } }
            @if let Some(n) = &b.notes { dt { (l.t("Notas", "Notes")) } dd { (n) } }
        }
    }
}

fn batch_body(
    s: &Session,
    v: &BatchView,
    product: Option<&Product>,
    audit: &[traza_store::StoredAuditEvent],
    notice: Option<Markup>,
) -> Markup {
    let l = s.lang;
    let b = &v.batch;
    let n = b.batch_number.as_str();
    let csrf = s.csrf();
    let may = |a: Action| s.actor.may(a).is_ok();
    let open = b.status.accepts_records();
    let now_local = madrid(Utc::now()).0.format("%Y-%m-%dT%H:%M").to_string();
    let hidden = html! { input type="hidden" name="csrf" value=(csrf); input type="hidden" name="version" value=(b.version); };
    let open_reactions = v
        .reactions
        .iter()
        .filter(|r| r.status == ReactionStatus::Open)
        .count();
    html! {
        @if let Some(n) = notice { (n) }
        @if let Some(banner) = super::holds::hold_banner(l, v) { (banner) }
        @if super::holds::awaits_confirmation(v) { (super::holds::confirm_history_form(s, v, &hidden)) }
        @if open_reactions > 0 {
            div.notice.warn role="status" { p { strong { (l.t("Vigilancia: ", "Vigilance: ")) } (l.t("hay reacciones adversas abiertas sobre este lote", "adverse reactions on this batch are open")) " (" (open_reactions) ")." } }
        }
        div.grid {
            section.card aria-labelledby="datos" { h2 #datos { (l.t("Datos del lote", "Batch record")) } (facts(l, b, product)) }
            section.card aria-labelledby="acciones" {
                h2 #acciones { (l.t("Acciones", "Actions")) }
                @if b.status == BatchStatus::Quarantine && may(Action::Release) {
                    p { a href={ "/lotes/" (n) "/liberar" } { strong { (l.t("Revisar y certificar (liberar) →", "Review and certify (release) →")) } } }
                }
                @if b.status == BatchStatus::InProduction && may(Action::RecordBatchData) {
                    form.card method="post" action={ "/lotes/" (n) "/completar" } {
                        (hidden)
                        label for="manufacturing_end" { (l.t("Fin de fabricación", "Manufacturing end")) }
                        input #manufacturing_end type="date" name="manufacturing_end" required value=(Utc::now().date_naive().to_string());
                        button.primary type="submit" { (l.t("Terminar fabricación (a cuarentena)", "End manufacture (to quarantine)")) }
                    }
                }
                @if matches!(b.status, BatchStatus::Released) && may(Action::Administer) {
                    form.card method="post" action={ "/lotes/" (n) "/administracion" } {
                        (hidden)
                        label for="adm_patient" { (l.t("Código de paciente", "Patient code")) }
                        input #adm_patient name="patient_code" required autocomplete="off";
                        label for="adm_date" { (l.t("Fecha de administración", "Administered on")) }
                        input #adm_date type="date" name="administered_on" required value=(Utc::now().date_naive().to_string());
                        label for="adm_hospital" { (l.t("Hospital", "Hospital")) }
                        input #adm_hospital name="hospital" required;
                        button.primary type="submit" { (l.t("Registrar administración", "Record administration")) }
                    }
                }
                @if matches!(b.status, BatchStatus::Quarantine) && may(Action::Reject) {
                    form.card method="post" action={ "/lotes/" (n) "/rechazar" } {
                        (hidden)
                        label for="reject_reason" { (l.t("Motivo del rechazo", "Reason for rejection")) }
                        textarea #reject_reason name="reason" required rows="2" {}
                        label for="reject_password" { (l.t("Contraseña (firma electrónica)", "Password (electronic signature)")) }
                        input #reject_password type="password" name="password" required autocomplete="current-password";
                        button.danger type="submit" { (l.t("Rechazar el lote (firmado)", "Reject the batch (signed)")) }
                    }
                }
            }
        }
        section aria-labelledby="qc" {
            h2 #qc { (l.t("Control de calidad frente a la especificación", "QC results against the specification")) }
            @if let Some(p) = product { (qc_table(l, p.specification.tests(), &v.qc_results)) }
            (super::holds::qc_history(l, &v.qc_results))
            @if open && may(Action::RecordBatchData) {
                form.card method="post" action={ "/lotes/" (n) "/qc" } {
                    (hidden)
                    label for="qc_test" { (l.t("Ensayo", "Test")) }
                    select #qc_test name="test" required {
                        @if let Some(p) = product { @for t in p.specification.tests() { option value=(t.test) { (t.test) @if !t.unit.is_empty() { " (" (t.unit) ")" } } } }
                    }
                    label for="qc_value" { (l.t("Valor", "Value")) }
                    input #qc_value name="value" required inputmode="decimal";
                    label for="qc_supersedes" { (l.t("Repite el resultado nº (solo repeticiones)", "Retest of result no. (retests only)")) }
                    input #qc_supersedes name="supersedes" inputmode="numeric";
                    label for="qc_reason" { (l.t("Motivo de la repetición", "Reason for the retest")) }
                    input #qc_reason name="reason";
                    label for="qc_deviation" { (l.t("Desviación que investiga el resultado fuera de especificación (repeticiones de un resultado no conforme)", "Deviation investigating the out-of-specification result (retests of a failing result)")) }
                    select #qc_deviation name="deviation_id" {
                        option value="" { "—" }
                        @for d in &v.deviations { option value=(d.id) { "#" (d.id) " · " (d.description.chars().take(60).collect::<String>()) } }
                    }
                    button.primary type="submit" { (l.t("Registrar resultado", "Record result")) }
                }
            }
        }
        section aria-labelledby="desv" {
            h2 #desv { (l.t("Desviaciones", "Deviations")) }
            @if v.deviations.is_empty() { p.muted { (l.t("Ninguna.", "None.")) } }
            @for d in &v.deviations {
                div.card {
                    p { strong { "#" (d.id) " · " (severity_name(l, d.severity)) " · " (if d.status == DeviationStatus::Open { l.t("ABIERTA", "OPEN") } else { l.t("cerrada", "closed") }) } }
                    p { (d.description) }
                    p.hint { (l.t("Abierta por", "Opened by")) " " (d.opened_by) " · " (l.instant(d.opened_at)) }
                    @if let (Some(r), Some(by), Some(at)) = (&d.resolution, &d.closed_by, &d.closed_at) {
                        p { (l.t("Resolución", "Resolution")) ": " (r) } p.hint { (l.t("Cerrada por", "Closed by")) " " (by) " · " (l.instant(*at)) }
                    }
                    @if d.status == DeviationStatus::Open && may(Action::CloseDeviation) {
                        form method="post" action={ "/lotes/" (n) "/cerrar-" (d.id) } {
                            (hidden)
                            label for={ "res" (d.id) } { (l.t("Resolución", "Resolution")) }
                            textarea id={ "res" (d.id) } name="resolution" required rows="2" {}
                            button type="submit" { (l.t("Cerrar la desviación", "Close the deviation")) }
                        }
                    }
                }
            }
            @if open && may(Action::RecordBatchData) {
                form.card method="post" action={ "/lotes/" (n) "/desviacion" } {
                    (hidden)
                    label for="dev_description" { (l.t("Descripción de la desviación", "Deviation description")) }
                    textarea #dev_description name="description" required rows="2" {}
                    label for="dev_severity" { (l.t("Gravedad", "Severity")) }
                    select #dev_severity name="severity" { @for sv in DeviationSeverity::ALL { option value=(sv.as_str()) { (severity_name(l, *sv)) } } }
                    button type="submit" { (l.t("Abrir desviación", "Open deviation")) }
                }
            }
        }
        section aria-labelledby="pasos" {
            h2 #pasos { (l.t("Pasos de fabricación", "Manufacturing steps")) }
            @if v.events.is_empty() { p.muted { (l.t("Sin pasos registrados.", "No steps recorded.")) } }
            ol.timeline {
                @for e in &v.events {
                    li { strong { (e.step) } " · " (l.instant(e.performed_at)) @if let Some(note) = &e.note { br; (note) } br; span.hint { (e.recorded_by) } }
                }
            }
            @if open && may(Action::RecordBatchData) {
                form.card method="post" action={ "/lotes/" (n) "/paso" } {
                    (hidden)
                    label for="step" { (l.t("Paso", "Step")) }
                    input #step name="step" required list="pasos-habituales";
                    datalist #pasos-habituales { option value="aislamiento"; option value="siembra"; option value="expansion"; option value="cosecha"; option value="formulacion"; option value="llenado"; }
                    label for="performed_at" { (l.t("Realizado (hora de Madrid)", "Performed (Madrid time)")) }
                    input #performed_at type="datetime-local" name="performed_at" required value=(now_local);
                    label for="step_note" { (l.t("Nota", "Note")) }
                    input #step_note name="note";
                    button type="submit" { (l.t("Registrar paso", "Record step")) }
                }
            }
        }
        (super::holds::holds_section(s, v, &hidden))
        section aria-labelledby="firmas" {
            h2 #firmas { (l.t("Firmas", "Signatures")) }
            @if v.signatures.is_empty() { p.muted { (l.t("Sin firmas.", "Not signed.")) } }
            @for sig in &v.signatures {
                div.card.signature {
                    p { strong { (sig.signer_full_name) } " (" (sig.signer) ")" }
                    p { (meaning_text(l, sig.meaning)) }
                    p.hint { (l.instant(sig.signed_at)) " · " (l.t("huella del registro", "record hash")) " " code { (sig.record_hash.get(..16).unwrap_or(&sig.record_hash)) "…" } }
                    @if let Some(r) = &sig.reason { p { (l.t("Motivo", "Reason")) ": " (r) } }
                }
            }
        }
        section aria-labelledby="adm" {
            h2 #adm { (l.t("Administraciones", "Administrations")) }
            @if v.administrations.is_empty() { p.muted { (l.t("Ninguna.", "None.")) } } @else {
                table { thead { tr { th { (l.t("Paciente", "Patient")) } th { (l.t("Fecha", "Date")) } th { "Hospital" } th { (l.t("Registrada por", "Recorded by")) } th { (l.t("Reacciones adversas", "Adverse reactions")) } } }
                    tbody { @for a in &v.administrations { tr {
                        td { (a.patient_code) } td { (l.date(a.administered_on)) } td { (a.hospital) } td { (a.recorded_by) }
                        td {
                            ul { @for r in v.reactions.iter().filter(|r| r.administration_id == a.id) { li { (reaction_link(l, r.id, r.severity, r.status)) } } }
                            @if may(Action::ReportReaction) {
                                a href={ "/lotes/" (n) "/administraciones/" (a.id) "/reaccion" } { (l.t("Notificar reacción adversa", "Report an adverse reaction")) }
                            }
                        }
                    } } } }
            }
        }
        section aria-labelledby="audit" {
            h2 #audit { (l.t("Registro de auditoría del lote", "The batch's audit trail")) }
            table {
                thead { tr { th { "#" } th { (l.t("Cuándo", "When")) } th { (l.t("Quién", "Who")) } th { (l.t("Qué", "What")) } th { (l.t("Motivo", "Reason")) } } }
                tbody { @for e in audit { tr { td { (e.id) } td { (l.instant(e.at)) } td { (e.actor) } td { code { (e.action) } } td { (e.reason.clone().unwrap_or_default()) } } } }
            }
        }
    }
}

pub(super) fn meaning_text(l: Lang, m: SignatureMeaning) -> &'static str {
    match m {
        SignatureMeaning::QpCertified => l.t(
            "Certifico, como Persona Cualificada, que este lote se ha fabricado y controlado conforme a las NCF y a su especificación, y lo libero.",
            "I certify, as Qualified Person, that this batch was made and tested under GMP and its specification, and I release it.",
        ),
        SignatureMeaning::Rejected => l.t("Rechazo este lote.", "I reject this batch."),
        SignatureMeaning::HistoricalReleaseConfirmed => l.t(
            "Confirmo, como Calidad del laboratorio, que este lote histórico liberado puede administrarse: he comprobado su registro, su caducidad y su cadena de identidad.",
            "I confirm, as QA of the laboratory, that this released historical batch may be administered: I checked its record, its expiry and its chain of identity.",
        ),
    }
}

#[derive(Deserialize, Default)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    version: Option<i64>,
    step: Option<String>,
    performed_at: Option<String>,
    note: Option<String>,
    test: Option<String>,
    value: Option<String>,
    supersedes: Option<String>,
    deviation_id: Option<String>,
    reason: Option<String>,
    description: Option<String>,
    severity: Option<String>,
    resolution: Option<String>,
    manufacturing_end: Option<String>,
    patient_code: Option<String>,
    administered_on: Option<String>,
    hospital: Option<String>,
    password: Option<String>,
}

pub(super) fn required(
    l: Lang,
    field: &'static str,
    v: &Option<String>,
) -> Result<String, ApiError> {
    empty(v.clone())
        .ok_or_else(|| ApiError::validation(field, l.t("es obligatorio", "is required")))
}

pub(super) fn date_field(
    l: Lang,
    field: &'static str,
    v: &Option<String>,
) -> Result<NaiveDate, ApiError> {
    required(l, field, v)?
        .parse()
        .map_err(|_| ApiError::validation(field, l.t("no es una fecha", "is not a date")))
}

/// The forms of the batch page; each calls the store method the API calls.
async fn batch_action(
    State(state): State<AppState>,
    s: Session,
    Path((number, action)): Path<(String, String)>,
    axum::Form(f): axum::Form<ActionForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let (store, actor, n, v) = (&state.store, &s.actor, number.as_str(), f.version);
    let result: Result<&str, ApiError> = async {
        match action.as_str() {
            "paso" => {
                let at = parse_local(&required(l, "performed_at", &f.performed_at)?)
                    .map(from_madrid)
                    .ok_or_else(|| {
                        ApiError::validation(
                            "performed_at",
                            l.t("no es una fecha y hora", "is not a date and time"),
                        )
                    })?;
                let step = required(l, "step", &f.step)?;
                store
                    .record_event(actor, n, v, &step, at, empty(f.note.clone()).as_deref())
                    .await?;
                Ok("paso")
            }
            "qc" => {
                let test = required(l, "test", &f.test)?;
                // The unit is the specification's: the form asks only for the value.
                let batch = store.get_batch(actor, n).await?;
                let product = store
                    .get_product(actor, batch.batch.product_code.as_str())
                    .await?;
                let unit = product
                    .specification
                    .tests()
                    .iter()
                    .find(|t| t.test == test)
                    .map(|t| t.unit.clone())
                    .unwrap_or_default();
                let supersedes = match empty(f.supersedes.clone()) {
                    None => None,
                    Some(x) => Some(x.trim_start_matches('#').parse::<i64>().map_err(|_| {
                        ApiError::validation(
                            "supersedes",
                            l.t("no es un número de resultado", "is not a result number"),
                        )
                    })?),
                };
                let deviation_id = match empty(f.deviation_id.clone()) {
                    None => None,
                    Some(x) => Some(x.parse::<i64>().map_err(|_| {
                        ApiError::validation(
                            "deviation_id",
                            l.t("no es un número de desviación", "is not a deviation number"),
                        )
                    })?),
                };
                let input = QcInput {
                    test,
                    value: decimal_input(&required(l, "value", &f.value)?),
                    unit,
                    supersedes,
                    reason: empty(f.reason.clone()),
                    deviation_id,
                };
                store.record_qc_result(actor, n, v, input).await?;
                Ok("qc")
            }
            "desviacion" => {
                let severity: DeviationSeverity = required(l, "severity", &f.severity)?
                    .parse()
                    .map_err(|e| ApiError::validation("severity", e))?;
                store
                    .open_deviation(
                        actor,
                        n,
                        v,
                        &required(l, "description", &f.description)?,
                        severity,
                    )
                    .await?;
                Ok("desviacion")
            }
            "completar" => {
                store
                    .complete_batch(
                        actor,
                        n,
                        v,
                        date_field(l, "manufacturing_end", &f.manufacturing_end)?,
                    )
                    .await?;
                Ok("completado")
            }
            "rechazar" => {
                store
                    .reject_batch(
                        actor,
                        n,
                        v,
                        &f.password.clone().unwrap_or_default(),
                        &required(l, "reason", &f.reason)?,
                    )
                    .await?;
                Ok("rechazado")
            }
            "administracion" => {
                let patient = PatientCode::parse(&required(l, "patient_code", &f.patient_code)?)
                    .map_err(|e| ApiError::validation("patient_code", e))?;
                store
                    .administer(
                        actor,
                        n,
                        v,
                        &patient,
                        date_field(l, "administered_on", &f.administered_on)?,
                        &required(l, "hospital", &f.hospital)?,
                    )
                    .await?;
                Ok("administracion")
            }
            "retener" => {
                store
                    .place_hold(actor, n, v, &required(l, "reason", &f.reason)?)
                    .await?;
                Ok("retenido")
            }
            "confirmar-historico" => {
                store
                    .confirm_history(actor, n, v, &f.password.clone().unwrap_or_default())
                    .await?;
                Ok("confirmado")
            }
            // The forms of one record: `levantar-{hold}`, `cerrar-{deviation}`.
            other => {
                let numbered = |prefix: &str| {
                    other
                        .strip_prefix(prefix)
                        .and_then(|i| i.parse::<i64>().ok())
                };
                match (numbered("levantar-"), numbered("cerrar-")) {
                    (Some(hold), _) => {
                        store
                            .lift_hold(actor, n, v, hold, &required(l, "reason", &f.reason)?)
                            .await?;
                        Ok("levantada")
                    }
                    (_, Some(deviation)) => {
                        let resolution = required(l, "resolution", &f.resolution)?;
                        store
                            .close_deviation(actor, n, v, deviation, &resolution)
                            .await?;
                        Ok("cerrada")
                    }
                    _ => Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        "not_found",
                        "no such form",
                    )),
                }
            }
        }
    }
    .await;
    match result {
        Ok(done) => Redirect::to(&format!("/lotes/{}?hecho={done}", urlencode(n))).into_response(),
        Err(e) => {
            let status = e.status;
            render_batch(&state, &s, n, Some(error_box(l, &e)), status).await
        }
    }
}

// ------------------------------------------------------------------------------------------
// QA

async fn release_queue(State(state): State<AppState>, s: Session) -> Response {
    let l = s.lang;
    let filter = BatchFilter {
        status: Some(BatchStatus::Quarantine),
        limit: 200,
        ..Default::default()
    };
    let page_of = match state.store.list_batches(&s.actor, &filter).await {
        Ok(p) => p,
        Err(e) => return store_error(l, e),
    };
    let mut rows = Vec::new();
    for b in page_of.items {
        let blockers = state
            .store
            .release_blockers(&s.actor, b.batch_number.as_str())
            .await
            .unwrap_or_default();
        rows.push((b, blockers));
    }
    let body = html! {
        p { (l.t("Lotes en cuarentena de sus laboratorios, con lo que aún impide certificarlos.", "Batches in quarantine in your laboratories, with what still stops their certification.")) }
        @if rows.is_empty() { p.muted { (l.t("No hay lotes en cuarentena.", "No batches in quarantine.")) } } @else {
            table {
                thead { tr { th { (l.t("Lote", "Batch")) } th { (l.t("Producto", "Product")) } th { (l.t("Fin de fabricación", "Manufacturing end")) } th { (l.t("Pendiente", "Blocking")) } th {} } }
                tbody {
                    @for (b, blockers) in &rows {
                        tr {
                            td { a href={ "/lotes/" (b.batch_number.as_str()) } { (b.batch_number.as_str()) } (super::holds::held_badge(l, b.on_hold)) }
                            td { (b.product_code.as_str()) }
                            td { (l.opt_date(b.manufacturing_end)) }
                            td { @if blockers.is_empty() { span.pass { (l.t("Nada: puede certificarse", "Nothing: ready to certify")) } } @else {
                                ul { @for r in blockers { li { (super::rule_text(l, &r.rule).unwrap_or(&r.message)) } } } } }
                            td { a href={ "/lotes/" (b.batch_number.as_str()) "/liberar" } { (l.t("Revisar", "Review")) } }
                        }
                    }
                }
            }
        }
    };
    html_page(
        &s,
        l.t("Cola de liberación", "Release queue"),
        "/liberacion",
        body,
    )
}

async fn release_page(
    State(state): State<AppState>,
    s: Session,
    Path(number): Path<String>,
) -> Response {
    render_release(&state, &s, &number, None, StatusCode::OK).await
}

async fn render_release(
    state: &AppState,
    s: &Session,
    number: &str,
    notice: Option<Markup>,
    status: StatusCode,
) -> Response {
    let l = s.lang;
    let v = match state.store.get_batch(&s.actor, number).await {
        Ok(v) => v,
        Err(e) => return store_error(l, e),
    };
    let blockers = match state.store.release_blockers(&s.actor, number).await {
        Ok(b) => b,
        Err(e) => return store_error(l, e),
    };
    let product = state
        .store
        .get_product(&s.actor, v.batch.product_code.as_str())
        .await
        .ok();
    let b = &v.batch;
    let body = html! {
        @if let Some(n) = notice { (n) }
        div.grid {
            section.card { h2 { (l.t("Lote", "Batch")) } (facts(l, b, product.as_ref())) p { a href={ "/lotes/" (b.batch_number.as_str()) } { (l.t("Ver el registro completo", "See the whole record")) } } }
            section.card aria-labelledby="reglas" {
                h2 #reglas { (l.t("Reglas de liberación", "Release rules")) }
                @if blockers.is_empty() {
                    div.notice.ok { p { (l.t("Se cumplen todas las reglas: el lote puede certificarse.", "Every rule is met: the batch can be certified.")) } }
                } @else {
                    div.notice.error role="alert" {
                        p { strong { (l.t("No se puede certificar todavía:", "It cannot be certified yet:")) } }
                        ul #bloqueos { @for r in &blockers { li data-rule=(r.rule) { (super::rule_text(l, &r.rule).unwrap_or(&r.message)) @if l == Lang::Es { " — " span.hint { (r.message) } } } } }
                    }
                }
            }
        }
        @if let Some(p) = &product { h2 { (l.t("Control de calidad", "QC results")) } (qc_table(l, p.specification.tests(), &v.qc_results)) }
        @if blockers.is_empty() {
            form.card method="post" action={ "/lotes/" (b.batch_number.as_str()) "/liberar" } aria-labelledby="firma" {
                h2 #firma { (l.t("Firma electrónica de certificación", "Electronic certification signature")) }
                input type="hidden" name="csrf" value=(s.csrf());
                input type="hidden" name="version" value=(b.version);
                p { strong { (l.t("Significado de la firma", "Meaning of the signature")) ": " } (meaning_text(l, SignatureMeaning::QpCertified)) }
                p { (l.t("Firmante", "Signer")) ": " strong { (s.actor.full_name) } " (" (s.actor.username.as_str()) ") · " (l.instant(Utc::now())) }
                label for="password" { (l.t("Vuelva a escribir su contraseña para firmar", "Re-enter your password to sign")) }
                input #password type="password" name="password" required autocomplete="current-password";
                button.primary type="submit" { (l.t("Firmar y liberar", "Sign and release")) }
            }
        }
    };
    html_page_status(
        s,
        status,
        &format!(
            "{} {}",
            l.t("Certificar el lote", "Certify batch"),
            b.batch_number.as_str()
        ),
        "/liberacion",
        body,
    )
}

#[derive(Deserialize)]
struct ReleaseForm {
    #[serde(default)]
    csrf: String,
    version: Option<i64>,
    #[serde(default)]
    password: String,
}

async fn release(
    State(state): State<AppState>,
    s: Session,
    Path(number): Path<String>,
    axum::Form(f): axum::Form<ReleaseForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    match state
        .store
        .release_batch(
            &s.actor,
            &number,
            f.version,
            &f.password,
            SignatureMeaning::QpCertified,
        )
        .await
    {
        Ok(_) => {
            Redirect::to(&format!("/lotes/{}?hecho=liberado", urlencode(&number))).into_response()
        }
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status;
            render_release(&state, &s, &number, Some(error_box(s.lang, &e)), status).await
        }
    }
}

// ------------------------------------------------------------------------------------------
// Coordination

fn certificate_class(until: Option<NaiveDate>, today: NaiveDate) -> &'static str {
    match until {
        Some(d) if d < today => "expired",
        Some(d) if (d - today).num_days() <= 60 => "soon",
        _ => "",
    }
}

async fn network(State(state): State<AppState>, s: Session, Query(d): Query<Done>) -> Response {
    let notice = match d.hecho.as_deref() {
        Some("asignada") => Some(
            html! { div.notice.ok role="status" { p { (s.lang.t("Asignación creada.", "Assignment created.")) } } },
        ),
        Some("terminada") => Some(
            html! { div.notice.ok role="status" { p { (s.lang.t("Asignación terminada.", "Assignment ended.")) } } },
        ),
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
        h2 { (l.t("Laboratorios", "Laboratories")) }
        table {
            thead { tr { th { (l.t("Código", "Code")) } th { (l.t("Nombre", "Name")) } th { (l.t("Ciudad", "City")) } th { (l.t("Especialidades", "Specialisations")) } th { (l.t("Certificado NCF hasta", "GMP certificate until")) } th { (l.t("Capacidad/mes", "Capacity/month")) } } }
            tbody { @for lab in &labs { (lab_row(l, lab, today)) } }
        }
        p.hint { (l.t("Resaltados: certificados que caducan en 60 días o menos (ámbar) o ya caducados (rojo).", "Highlighted: certificates expiring within 60 days (amber) or expired (red).")) }
        h2 { (l.t("Productos y especificaciones", "Products and specifications")) }
        @for p in &products {
            details.card {
                summary { strong { (p.name) } " (" (p.code.as_str()) ") · " (origin_name(l, p.origin)) " · " (l.t("especificación v", "specification v")) (p.spec_version) }
                (qc_table(l, p.specification.tests(), &[]))
            }
        }
        h2 { (l.t("Asignaciones", "Assignments")) }
        table {
            thead { tr { th { (l.t("Producto", "Product")) } th { (l.t("Laboratorio", "Laboratory")) } th { (l.t("Vía", "Route")) } th { (l.t("Desde", "From")) } th { (l.t("Hasta", "Until")) } th { (l.t("Motivo", "Reason")) } @if manage { th { (l.t("Terminar", "End")) } } } }
            tbody { @for a in &assignments { tr class=(if a.period.covers(today) { "" } else { "muted" }) {
                td { (a.product_code.as_str()) } td { (a.lab_code.as_str()) } td { (route_name(l, a.access_route)) }
                td { (l.date(a.period.valid_from)) } td { (l.opt_date(a.period.valid_until)) } td { (a.reason) }
                @if manage { td { @if a.period.valid_until.is_none_or(|u| u >= today) {
                    form method="post" action={ "/red/asignaciones/" (a.id) "/fin" } {
                        input type="hidden" name="csrf" value=(csrf);
                        label for={ "fin" (a.id) } { (l.t("Último día", "Last day")) }
                        input id={ "fin" (a.id) } type="date" name="until" required value=(today.to_string());
                        label for={ "finmotivo" (a.id) } { (l.t("Motivo", "Reason")) }
                        input id={ "finmotivo" (a.id) } name="reason" required;
                        button type="submit" { (l.t("Terminar", "End")) }
                    } } } }
            } } }
        }
        @if manage {
            form.card method="post" action="/red/asignaciones" aria-labelledby="nueva-asignacion" {
                h2 #nueva-asignacion { (l.t("Nueva asignación de producto a laboratorio", "New assignment of a product to a laboratory")) }
                input type="hidden" name="csrf" value=(csrf);
                label for="as_product" { (l.t("Producto", "Product")) }
                select #as_product name="product_code" required { @for p in &products { option value=(p.code.as_str()) { (p.name) " (" (p.code.as_str()) ")" } } }
                label for="as_lab" { (l.t("Laboratorio", "Laboratory")) }
                select #as_lab name="lab_code" required { @for lab in &labs { option value=(lab.code.as_str()) { (lab.code.as_str()) " — " (lab.name) } } }
                label for="as_route" { (l.t("Vía de acceso", "Access route")) }
                select #as_route name="access_route" required { @for r in AccessRoute::ALL { option value=(r.as_str()) { (route_name(l, *r)) } } }
                label for="as_ref" { (l.t("Referencia de la autorización", "Authorisation reference")) }
                input #as_ref name="authorisation_ref";
                label for="as_from" { (l.t("Desde", "From")) }
                input #as_from type="date" name="valid_from" required value=(today.to_string());
                label for="as_until" { (l.t("Hasta (opcional)", "Until (optional)")) }
                input #as_until type="date" name="valid_until";
                label for="as_reason" { (l.t("Motivo", "Reason")) }
                input #as_reason name="reason" required;
                button.primary type="submit" { (l.t("Asignar", "Assign")) }
            }
        }
    };
    html_page_status(s, status, l.t("La red", "The network"), "/red", body)
}

#[derive(Deserialize, Default)]
struct AssignmentForm {
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

async fn create_assignment(
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

async fn end_assignment(
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

async fn dashboard(State(state): State<AppState>, s: Session) -> Response {
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
        v.map(|d| format!("{d} {}", l.t("días", "days")))
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
            div.card { h2 { (l.t("Tiempo hasta la liberación (red)", "Release lead time (network)")) }
                p { (l.t("Mediana", "Median")) ": " strong #mediana { (days(d.network_lead_time.median_days)) } " · p90: " strong { (days(d.network_lead_time.p90_days)) } }
                p.hint { (l.t("Lotes liberados", "Released batches")) ": " (d.network_lead_time.released) ". " (l.t("Días desde el fin de fabricación hasta la certificación.", "Days from the end of manufacture to certification.")) } }
            div.card { h2 { (l.t("Capacidad usada este mes", "Capacity used this month")) " (" (d.month) ")" }
                @if capacity.is_empty() { p.muted { "—" } } @else { (bar_chart(l.t("Lotes iniciados este mes frente a la capacidad mensual", "Batches started this month against monthly capacity"), &capacity, Some(1.0))) } }
        }
        h2 { (l.t("Lotes por laboratorio y estado", "Batches by laboratory and status")) }
        table #por-estado {
            thead { tr { th { (l.t("Laboratorio", "Laboratory")) } @for st in statuses { th { (status_name(l, *st)) } } } }
            tbody { @for f in &d.labs { tr { td { (f.lab_code) } @for st in statuses { td { (per_lab_status.get(&(f.lab_code.clone(), st.as_str().to_owned())).copied().unwrap_or(0)) } } } } }
        }
        h2 { (l.t("Lotes por producto y estado", "Batches by product and status")) }
        table {
            thead { tr { th { (l.t("Laboratorio", "Laboratory")) } th { (l.t("Producto", "Product")) } th { (l.t("Estado", "Status")) } th { (l.t("Lotes", "Batches")) } } }
            tbody { @for c in &d.by_status { tr { td { (c.lab_code) } td { (c.product_code) } td { (c.status.parse::<BatchStatus>().map(|st| status_name(l, st)).unwrap_or(&c.status)) } td { (c.batches) } } } }
        }
        div.grid {
            div.card { h2 { (l.t("Fuera de especificación", "Out of specification")) }
                @if oos.is_empty() { p.muted { "—" } } @else { (bar_chart(l.t("Resultados de control de calidad fuera de especificación, por laboratorio", "QC results out of specification, by laboratory"), &oos, Some(1.0))) } }
            div.card { h2 { (l.t("Tiempo hasta la liberación por laboratorio", "Release lead time by laboratory")) }
                @if lead.is_empty() { p.muted { "—" } } @else { (bar_chart(l.t("Mediana de días desde el fin de fabricación hasta la certificación", "Median days from the end of manufacture to certification"), &lead, None)) } }
        }
    };
    html_page(
        &s,
        l.t("Panel de la red", "Network dashboard"),
        "/panel",
        body,
    )
}

// ------------------------------------------------------------------------------------------
// Import

fn import_form(s: &Session) -> Markup {
    let l = s.lang;
    html! {
        form.card method="post" action="/importar" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(s.csrf());
            label for="fichero" { (l.t("Fichero CSV de lotes históricos (Excel en español: «;» y coma decimal, Windows-1252 o UTF-8)", "CSV file of historical batches (Spanish Excel: ';' and decimal comma, Windows-1252 or UTF-8)")) }
            input #fichero type="file" name="fichero" accept=".csv,text/csv" required;
            fieldset {
                legend { (l.t("Modo", "Mode")) }
                label { input type="radio" name="modo" value="prueba" checked; " " (l.t("Comprobar sin escribir nada (prueba)", "Check without writing anything (dry run)")) }
                br;
                label { input type="radio" name="modo" value="aplicar"; " " (l.t("Importar (todo o nada)", "Import (all or nothing)")) }
                br;
                label { input type="radio" name="modo" value="errores"; " " (l.t("Comprobar y descargar las filas rechazadas (CSV para corregir en Excel)", "Check and download the refused rows (CSV to fix in Excel)")) }
            }
            button.primary type="submit" { (l.t("Enviar", "Send")) }
        }
    }
}

async fn import_page(s: Session) -> Response {
    let body = import_form(&s);
    html_page(
        &s,
        s.lang
            .t("Importar lotes históricos", "Import historical batches"),
        "/importar",
        body,
    )
}

fn report_view(l: Lang, r: &ImportReport) -> Markup {
    html! {
        @if r.accepted() {
            div.notice.ok role="status" { p { strong { @if r.dry_run { (l.t("Prueba superada: el fichero puede importarse.", "Dry run passed: the file can be imported.")) } @else { (l.t("Importación hecha.", "Imported.")) } } } }
        } @else {
            div.notice.error role="alert" {
                p { strong { (l.t("El fichero tiene errores: no se ha escrito nada. Corríjalos y vuelva a enviarlo.", "The file has errors: nothing was written. Fix them and send it again.")) } }
                p { (l.t("Para corregirlos en Excel, envíe el fichero con «descargar las filas rechazadas»: recibirá esas filas tal como están, con la línea y el error de cada una.", "To fix them in Excel, send the file with 'download the refused rows': you get those rows as written, with each one's line and error.")) }
            }
        }
        dl.facts #resumen {
            dt { (l.t("Fichero", "File")) } dd { (r.file_name) " · " (r.encoding) " · «" (r.delimiter) "»" }
            dt { (l.t("Filas", "Rows")) } dd { (r.rows) }
            dt { (l.t("Nuevas", "Created")) } dd #creadas { (r.created) }
            dt { (l.t("Sin cambios", "Unchanged")) } dd { (r.unchanged) }
            dt { (l.t("Avisos", "Warnings")) } dd { (r.warnings_total) }
            dt { (l.t("Errores", "Errors")) } dd #errores { (r.errors_total) }
        }
        @if !r.errors.is_empty() {
            h2 { (l.t("Errores", "Errors")) }
            table #tabla-errores {
                thead { tr { th { (l.t("Línea", "Line")) } th { (l.t("Columna", "Column")) } th { (l.t("Código", "Code")) } th { (l.t("Mensaje", "Message")) } } }
                tbody { @for e in &r.errors { tr { td.linea { (e.line) } td { (e.column.clone().unwrap_or_default()) } td { code { (e.code.as_str()) } } td { (e.message) } } } }
            }
        }
        @if !r.warnings.is_empty() {
            h2 { (l.t("Avisos", "Warnings")) }
            table {
                thead { tr { th { (l.t("Línea", "Line")) } th { (l.t("Columna", "Column")) } th { (l.t("Código", "Code")) } th { (l.t("Mensaje", "Message")) } } }
                tbody { @for w in &r.warnings { tr { td { (w.line) } td { (w.column.clone().unwrap_or_default()) } td { code { (w.code.as_str()) } } td { (w.message) } } } }
            }
        }
    }
}

async fn import(State(state): State<AppState>, s: Session, mut form: Multipart) -> Response {
    let l = s.lang;
    let mut csrf = String::new();
    let mut mode = String::from("prueba");
    let mut file: Option<(String, tempfile::NamedTempFile)> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return super::page_error(
                    l,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    l.t(
                        "El fichero es demasiado grande para importarlo.",
                        "The file is too large to import.",
                    ),
                );
            }
            Err(_) => {
                return super::page_error(
                    l,
                    StatusCode::BAD_REQUEST,
                    l.t(
                        "El envío del formulario se interrumpió.",
                        "The form upload was cut off.",
                    ),
                );
            }
        };
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "modo" => mode = field.text().await.unwrap_or_default(),
            "fichero" => {
                let name = field.file_name().unwrap_or("fichero.csv").to_owned();
                match crate::api::imports::spool(field).await {
                    Ok(tmp) => file = Some((name, tmp)),
                    Err(e) => return super::page_error(l, e.status, &e.message),
                }
            }
            _ => {}
        }
    }
    if !s.csrf_ok(&csrf) {
        return s.csrf_refused();
    }
    let Some((name, tmp)) = file else {
        return super::page_error(
            l,
            StatusCode::UNPROCESSABLE_ENTITY,
            l.t("Elija un fichero.", "Choose a file."),
        );
    };
    let request = ImportRequest {
        path: tmp.path().to_path_buf(),
        file_name: name,
        dry_run: mode != "aplicar",
        encoding: None,
    };
    let report = match state.store.import_batches(&s.actor, request, None).await {
        Ok(r) => r,
        Err(e) => return store_error(l, e),
    };
    if mode == "errores" && !report.accepted() {
        let mut csv = Vec::new();
        if let Err(e) = traza_store::write_refused_rows(&mut csv, tmp.path(), &report) {
            return super::page_error(l, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
        }
        return (
            [
                (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"filas-rechazadas.csv\"",
                ),
            ],
            csv,
        )
            .into_response();
    }
    drop(tmp);
    let status = if report.accepted() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = html! { (report_view(l, &report)) h2 { (l.t("Otro fichero", "Another file")) } (import_form(&s)) };
    html_page_status(
        &s,
        status,
        l.t("Importar lotes históricos", "Import historical batches"),
        "/importar",
        body,
    )
}

// ------------------------------------------------------------------------------------------
// Traceability

#[derive(Deserialize, Default)]
struct TraceQuery {
    codigo: Option<String>,
}

async fn trace(State(state): State<AppState>, s: Session, Query(q): Query<TraceQuery>) -> Response {
    let l = s.lang;
    let code = empty(q.codigo);
    let mut error = None;
    let mut as_donor = Vec::new();
    let mut as_patient = Vec::new();
    if let Some(c) = &code {
        if let Ok(d) = DonorCode::parse(c) {
            match state.store.trace_donor(&s.actor, &d).await {
                Ok(t) => as_donor = t,
                Err(e) => error = Some(ApiError::from(e)),
            }
        }
        if let Ok(p) = PatientCode::parse(c) {
            match state.store.trace_patient(&s.actor, &p).await {
                Ok(t) => as_patient = t,
                Err(e) => error = Some(ApiError::from(e)),
            }
        }
    }
    let chain = |title: &str, rows: &[traza_store::TraceBatch]| {
        html! {
            h2 { (title) }
            @if rows.is_empty() { p.muted { (l.t("Nada.", "Nothing.")) } } @else {
                table {
                    thead { tr { th { (l.t("Donante", "Donor")) } th { (l.t("Lote", "Batch")) } th { (l.t("Producto", "Product")) } th { (l.t("Estado", "Status")) } th { (l.t("Paciente(s)", "Patient(s)")) } } }
                    tbody { @for t in rows { tr {
                        td { (t.donor_code) }
                        td { a href={ "/lotes/" (t.batch_number) } { (t.batch_number) } }
                        td { (t.product_code) " · " (t.lab_code) }
                        td { (t.status.parse::<BatchStatus>().map(|st| status_name(l, st)).unwrap_or(&t.status)) }
                        td { @if t.administrations.is_empty() { (t.patient_code.clone().unwrap_or_else(|| "—".into())) } @else {
                            ul { @for a in &t.administrations { li {
                                (a.patient_code) " · " (l.date(a.administered_on))
                                @for r in &a.reactions { br; (reaction_link(l, r.id, r.severity, r.status)) }
                            } } } } }
                    } } }
                }
            }
        }
    };
    let body = html! {
        form.filters method="get" action="/trazabilidad" role="search" {
            div { label for="codigo" { (l.t("Código de donante o de paciente", "Donor or patient code")) } input #codigo name="codigo" value=[code.as_deref()] required autocomplete="off"; }
            button.primary type="submit" { (l.t("Buscar", "Search")) }
        }
        @if let Some(e) = &error { (error_box(l, e)) }
        @if code.is_some() {
            (chain(l.t("Como donante: lotes y quién los recibió", "As donor: batches and who received them"), &as_donor))
            (chain(l.t("Como paciente: lotes recibidos y su donante", "As patient: batches received and their donor"), &as_patient))
        }
    };
    html_page(
        &s,
        l.t("Trazabilidad", "Traceability"),
        "/trazabilidad",
        body,
    )
}
