//! QA's master batch record editor (SPEC §8, issue 15): the versions of each product's master
//! record at each laboratory (`/registros-maestros`), a new draft — empty but for its first
//! step, or a copy of an earlier version's steps, the usual way to write version N+1
//! (`/registros-maestros/nuevo`) —, one version with every step, its edit controls while it is
//! a draft and its approval by another QA person (`version`), the form of one step (`editor`,
//! what it reads in `typed`), and the comparison of two versions (`compare`).
//!
//! Every write is the store call the API makes (`create_master_record`,
//! `update_master_record` with the whole step list, `approve_master_record`): the role, the
//! laboratory, the content (`check_content`), four eyes and the signature are the store's to
//! decide, and its refusals come back in words beside the form, with what was typed.
//!
//! The store's `update_master_record` takes no expected version, so each edit form carries a
//! fingerprint of the steps it was drawn from: an edit made on steps someone else has changed
//! since is not saved over theirs, but shown again with a notice.

mod compare;
mod editor;
mod typed;
mod version;

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use traza_domain::access::Action;
use traza_domain::codes::{LabCode, ProductCode};
use traza_domain::mbr::MbrStep;
use traza_domain::validation::{FieldError, FieldErrors, Problem};
use traza_domain::vocab::MbrStatus;
use traza_store::{ErrorCode, MbrView, StoreError};

use crate::AppState;
use crate::error::ApiError;
use crate::ui::fmt::Lang;
use crate::ui::widgets::{html_page_status, vocab_word};
use crate::ui::{Session, error_box, page_error, problems, store_error, urlencode};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/registros-maestros", get(list_page))
        // Fixed segments are matched before the `{id}` beside them.
        .route("/registros-maestros/nuevo", get(new_page).post(create))
        .route("/registros-maestros/comparar", get(compare::compare_page))
        .route("/registros-maestros/{id}", get(version::version_page))
        .route("/registros-maestros/{id}/aprobar", post(version::approve))
        .route(
            "/registros-maestros/{id}/anadir-paso",
            get(editor::add_page).post(editor::add_step),
        )
        .route(
            "/registros-maestros/{id}/pasos/{code}",
            get(editor::edit_page).post(editor::save_step),
        )
        .route(
            "/registros-maestros/{id}/pasos/{code}/{action}",
            post(version::step_action),
        )
}

// --- what the pages share -------------------------------------------------------------------

/// A status in words (`borrador`, `vigente`).
fn status_word(l: Lang, status: MbrStatus) -> String {
    vocab_word(l, "mbr-status", status.as_str())
}

fn status_badge(l: Lang, status: MbrStatus) -> Markup {
    let class = match status {
        MbrStatus::Effective => "badge released",
        MbrStatus::Approved => "badge quarantine",
        MbrStatus::Draft | MbrStatus::Superseded => "badge",
    };
    html! { span class=(class) { (status_word(l, status)) } }
}

/// Today on the laboratories' clock: master records take effect by the Europe/Madrid date.
fn lab_today() -> chrono::NaiveDate {
    traza_domain::clock::lab_date(chrono::Utc::now())
}

/// A path segment: a step code may hold any character, `/` included.
fn segment(s: &str) -> String {
    urlencode(s).replace('/', "%2F")
}

fn version_path(id: i64) -> String {
    format!("/registros-maestros/{id}")
}

/// "MSC-AD-ALO · GRA-UPCIT · versión 2".
fn version_name(l: Lang, v: &MbrView) -> String {
    format!(
        "{} · {} · {} {}",
        v.product_code,
        v.lab_code,
        l.t("mbr-version"),
        v.version
    )
}

/// What the steps of a version were when a form was drawn: an edit is saved only over the
/// same steps (the store's update takes no expected version).
fn fingerprint(steps: &[MbrStep]) -> String {
    let json = serde_json::to_string(steps).unwrap_or_default();
    hex::encode(&Sha256::digest(json.as_bytes())[..12])
}

/// Whether this user may change this version now: a draft, and QA of its laboratory. The
/// store decides again on every write; this only decides which controls the page shows.
fn editable(s: &Session, v: &MbrView) -> bool {
    v.status == MbrStatus::Draft && manages(s, v)
}

/// QA of the version's laboratory.
fn manages(s: &Session, v: &MbrView) -> bool {
    LabCode::parse(&v.lab_code).is_ok_and(|lab| {
        s.actor
            .may_in_lab(Action::ManageMasterRecords, &lab)
            .is_ok()
    })
}

/// The refusal page of a writer who is not QA of the version's laboratory, before a form's
/// fingerprint is compared: the role is the access rule's (`may_in_lab`), as the store's.
fn refuse_writer(s: &Session, v: &MbrView) -> Option<Response> {
    let refusal = match LabCode::parse(&v.lab_code) {
        Ok(lab) => s
            .actor
            .may_in_lab(Action::ManageMasterRecords, &lab)
            .err()?,
        Err(_) => return Some(not_found(s.lang)),
    };
    Some(store_error(s.lang, StoreError::from(refusal)))
}

/// The version of the address, or the page that says why not.
async fn load(state: &AppState, s: &Session, id: &str) -> Result<MbrView, Response> {
    let Ok(id) = id.parse::<i64>() else {
        return Err(not_found(s.lang));
    };
    match state.store.get_master_record(&s.actor, id).await {
        Ok(v) => Ok(v),
        Err(StoreError::NotFound(_)) => Err(not_found(s.lang)),
        Err(e) => Err(store_error(s.lang, e)),
    }
}

fn not_found(l: Lang) -> Response {
    page_error(l, StatusCode::NOT_FOUND, l.t("page-not-found"))
}

/// What was just done, after a form's redirect (`?hecho=…`).
fn done_notice(l: Lang, hecho: Option<&str>) -> Option<Markup> {
    let text = match hecho? {
        "creado" => l.t("mbr-done-created"),
        "paso" => l.t("mbr-done-step-saved"),
        "quitado" => l.t("mbr-done-step-removed"),
        "movido" => l.t("mbr-done-step-moved"),
        "aprobado" => l.t("mbr-done-approved"),
        _ => return None,
    };
    Some(html! { div.notice.ok role="status" #hecho { p { (text) } } })
}

/// Where a field of the store's refusal is, in words: `steps[1].parameters[0].min` is
/// "paso «expansion» — parámetro 1, mínimo", the steps named by `steps` (the list sent).
fn field_words(l: Lang, field: &str, steps: &[MbrStep]) -> String {
    let Some(rest) = field.strip_prefix("steps[") else {
        return match field {
            "steps" => l.t("mbr-steps").to_owned(),
            "effective_from" => l.t("mbr-effective-from").to_owned(),
            "product_code" => l.t("product").to_owned(),
            "lab_code" => l.t("laboratory").to_owned(),
            "password" => l.t("password").to_owned(),
            other => other.to_owned(),
        };
    };
    let Some((index, rest)) = rest.split_once("].") else {
        return field.to_owned();
    };
    let step = index
        .parse::<usize>()
        .ok()
        .and_then(|i| steps.get(i).map(|st| (i, st)));
    let which = match step {
        Some((_, st)) if !st.code.trim().is_empty() => {
            format!("{} «{}»", l.t("mbr-step-word"), st.code)
        }
        Some((i, _)) => format!("{} {}", l.t("mbr-step-word"), i + 1),
        None => l.t("mbr-step-word").to_owned(),
    };
    format!("{which} — {}", item_words(l, rest))
}

/// A field within a step: `title`, `parameters[0].min`, `materials[1].quantity`.
fn item_words(l: Lang, rest: &str) -> String {
    let word = |f: &str| -> &'static str {
        match f {
            "code" => l.t("mbr-code"),
            "title" => l.t("mbr-title"),
            "name" => l.t("mbr-parameter-name"),
            "min" => l.t("mbr-min"),
            "max" => l.t("mbr-max"),
            "quantity" => l.t("mbr-quantity"),
            "material_code" => l.t("mbr-material"),
            "unit" => l.t("unit"),
            _ => "",
        }
    };
    for (prefix, what) in [
        ("parameters[", l.t("mbr-parameter")),
        ("materials[", l.t("mbr-material")),
    ] {
        if let Some(inner) = rest.strip_prefix(prefix)
            && let Some((j, f)) = inner.split_once("].")
            && let Ok(j) = j.parse::<usize>()
        {
            let w = word(f);
            let w = if w.is_empty() { f } else { w };
            return format!("{} {}, {}", what.to_lowercase(), j + 1, w.to_lowercase());
        }
    }
    let w = word(rest);
    if w.is_empty() {
        rest.to_owned()
    } else {
        w.to_lowercase()
    }
}

/// What is wrong with a field, in words. A minimum above the maximum is refused by the domain
/// as "between — and the maximum": said here as what it is.
fn problem_words(l: Lang, e: &FieldError) -> String {
    match &e.problem {
        Some(Problem::Between { max, .. }) if e.field.ends_with(".min") => {
            crate::ui::i18n::format(l, "mbr-problem-min-above-max", &[("max", l.number(max))])
                .unwrap_or_else(|| e.message.clone())
        }
        Some(Problem::Empty) if e.field == "steps" => l.t("mbr-problem-no-steps").to_owned(),
        Some(p) => problems::problem_text(l, p).unwrap_or_else(|| e.message.clone()),
        None => e.message.clone(),
    }
}

/// A refusal of the store as a notice, in the words of a master record (its error codes'
/// own titles speak of batches): the fields of `steps` (the list that was sent) by name.
fn refusal_notice(l: Lang, e: StoreError, steps: &[MbrStep]) -> (StatusCode, Markup) {
    match e {
        StoreError::Invalid(FieldErrors(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            html! {
                div.notice.error role="alert" #rechazo {
                    p { strong { (l.t("mbr-refused-content")) } }
                    ul { @for fe in &errors {
                        li { (field_words(l, &fe.field, steps)) ": " (problem_words(l, fe)) }
                    } }
                }
            },
        ),
        StoreError::Refused {
            code: code @ (ErrorCode::FourEyes | ErrorCode::RecordLocked),
            ..
        } => (
            StatusCode::CONFLICT,
            html! {
                div.notice.error role="alert" #rechazo {
                    p { strong { (if code == ErrorCode::FourEyes { l.t("mbr-refused-four-eyes") } else { l.t("mbr-refused-locked") }) } }
                }
            },
        ),
        other => {
            let api = ApiError::from(other);
            (api.status, error_box(l, &api))
        }
    }
}

/// The notice of an edit drawn on steps that have changed since.
fn changed_notice(l: Lang) -> Markup {
    html! {
        div.notice.warn role="alert" #cambiado {
            p { strong { (l.t("mbr-changed-meanwhile")) } }
            p { (l.t("mbr-changed-meanwhile-hint")) }
        }
    }
}

// --- the list ----------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ListQuery {
    producto: Option<String>,
    laboratorio: Option<String>,
}

fn chosen(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `/registros-maestros`: every version the user may read, by product and laboratory.
async fn list_page(
    State(state): State<AppState>,
    s: Session,
    Query(q): Query<ListQuery>,
) -> Response {
    let l = s.lang;
    let (product, lab) = (chosen(&q.producto), chosen(&q.laboratorio));
    let (all, shown) = match (
        state.store.list_master_records(&s.actor, None, None).await,
        state
            .store
            .list_master_records(&s.actor, product, lab)
            .await,
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return store_error(l, e),
    };
    let names: BTreeMap<String, String> = state
        .store
        .list_products(&s.actor)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.code.as_str().to_owned(), p.name))
        .collect();
    let products: BTreeSet<&str> = all.iter().map(|v| v.product_code.as_str()).collect();
    let labs: BTreeSet<&str> = all.iter().map(|v| v.lab_code.as_str()).collect();
    let may_write = s.actor.may(Action::ManageMasterRecords).is_ok();
    let body = html! {
        p.hint { (l.t("mbr-list-hint")) }
        @if may_write {
            p { a #nuevo-registro href="/registros-maestros/nuevo" { (l.t("mbr-new")) } }
        }
        form.filters method="get" action="/registros-maestros" {
            div {
                label for="f_producto" { (l.t("product")) }
                select #f_producto name="producto" {
                    option value="" { (l.t("all")) }
                    @for p in &products {
                        option value=(p) selected[product == Some(*p)] {
                            (p) @if let Some(n) = names.get(*p) { " — " (n) }
                        }
                    }
                }
            }
            div {
                label for="f_laboratorio" { (l.t("laboratory")) }
                select #f_laboratorio name="laboratorio" {
                    option value="" { (l.t("all")) }
                    @for c in &labs { option value=(c) selected[lab == Some(*c)] { (c) } }
                }
            }
            div { button type="submit" { (l.t("filter")) } }
        }
        @if shown.is_empty() {
            p.muted #sin-registros { (l.t("mbr-none")) }
        } @else {
            div.scroll { table #registros-maestros {
                thead { tr {
                    th { (l.t("product")) } th { (l.t("laboratory")) } th { (l.t("mbr-version")) }
                    th { (l.t("status")) } th { (l.t("mbr-steps")) } th { (l.t("mbr-author")) }
                    th { (l.t("mbr-approved-by")) } th { (l.t("mbr-effective-from")) }
                } }
                tbody { @for v in &shown {
                    tr #{ "registro-" (v.id) } {
                        td { (v.product_code) @if let Some(n) = names.get(&v.product_code) { br; span.hint { (n) } } }
                        td { (v.lab_code) }
                        td { a href=(version_path(v.id)) { (l.t("mbr-version")) " " (v.version) } }
                        td { (status_badge(l, v.status)) }
                        td { (v.steps.len()) }
                        td { (v.author) }
                        td { @if let Some(a) = &v.approved_by { (a) } @else { span.muted { "—" } } }
                        td { @if let Some(d) = v.effective_from { (l.date(d)) } @else { span.muted { "—" } } }
                    }
                } }
            } }
        }
    };
    html_page_status(
        &s,
        StatusCode::OK,
        l.t("mbr-title-list"),
        "/registros-maestros",
        body,
    )
}

// --- a new draft -------------------------------------------------------------------------

/// What the new-draft form holds: the laboratory and product (`LAB|PRODUCT`), the version to
/// copy, or the first step of an empty one.
#[derive(Deserialize, Default)]
struct NewTyped {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pair: String,
    #[serde(default)]
    base: String,
    #[serde(default)]
    step_code: String,
    #[serde(default)]
    step_title: String,
}

#[derive(Deserialize, Default)]
struct NewQuery {
    base: Option<String>,
}

/// `/registros-maestros/nuevo`, for QA; anyone else is refused the page.
async fn new_page(
    State(state): State<AppState>,
    s: Session,
    Query(q): Query<NewQuery>,
) -> Response {
    if let Err(e) = s.actor.may(Action::ManageMasterRecords) {
        return store_error(s.lang, StoreError::from(e));
    }
    let mut typed = NewTyped {
        base: q.base.unwrap_or_default(),
        ..NewTyped::default()
    };
    // Starting from a version: its laboratory and product are chosen already.
    if let Ok(id) = typed.base.parse::<i64>()
        && let Ok(v) = state.store.get_master_record(&s.actor, id).await
    {
        typed.pair = format!("{}|{}", v.lab_code, v.product_code);
    }
    render_new(&state, &s, &typed, None, StatusCode::OK).await
}

async fn render_new(
    state: &AppState,
    s: &Session,
    typed: &NewTyped,
    refusal: Option<Markup>,
    status: StatusCode,
) -> Response {
    let l = s.lang;
    let today = crate::ui::widgets::rules_today();
    // The laboratory's products: those assigned to one of the user's laboratories, not ended.
    let scope = s.actor.scope();
    let assignments = match state.store.list_assignments(&s.actor, None, None).await {
        Ok(a) => a,
        Err(e) => return store_error(l, e),
    };
    let pairs: BTreeSet<(String, String)> = assignments
        .iter()
        .filter(|a| scope.includes(&a.lab_code))
        .filter(|a| a.period.valid_until.is_none_or(|u| u >= today))
        .map(|a| {
            (
                a.lab_code.as_str().to_owned(),
                a.product_code.as_str().to_owned(),
            )
        })
        .collect();
    let names: BTreeMap<String, String> = state
        .store
        .list_products(&s.actor)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.code.as_str().to_owned(), p.name))
        .collect();
    let versions = state
        .store
        .list_master_records(&s.actor, None, None)
        .await
        .unwrap_or_default();
    let body = html! {
        p { a href="/registros-maestros" { "← " (l.t("mbr-back-to-list")) } }
        form.card #nuevo method="post" action="/registros-maestros/nuevo" aria-labelledby="nuevo-titulo" {
            h2 #nuevo-titulo { (l.t("mbr-new")) }
            @if let Some(r) = refusal { (r) }
            input type="hidden" name="csrf" value=(s.csrf());
            label for="n_pair" { (l.t("mbr-lab-and-product")) }
            select #n_pair name="pair" required aria-describedby="n_pair_hint" {
                @for (lab, product) in &pairs {
                    @let value = format!("{lab}|{product}");
                    option value=(value) selected[typed.pair == value] {
                        (lab) " · " (product) @if let Some(n) = names.get(product) { " — " (n) }
                    }
                }
            }
            p #n_pair_hint.hint { (l.t("mbr-lab-and-product-hint")) }
            label for="n_base" { (l.t("mbr-start-from")) }
            select #n_base name="base" aria-describedby="n_base_hint" {
                option value="" { (l.t("mbr-start-empty")) }
                @for v in &versions {
                    @let value = v.id.to_string();
                    option value=(value) selected[typed.base == value] {
                        (version_name(l, v)) " (" (status_word(l, v.status)) ")"
                    }
                }
            }
            p #n_base_hint.hint { (l.t("mbr-start-from-hint")) }
            fieldset {
                legend { (l.t("mbr-first-step")) }
                p.hint { (l.t("mbr-first-step-hint")) }
                label for="n_code" { (l.t("mbr-code")) }
                input #n_code name="step_code" value=(typed.step_code) maxlength="40";
                label for="n_title" { (l.t("mbr-title")) }
                input #n_title name="step_title" value=(typed.step_title);
            }
            button.primary type="submit" { (l.t("mbr-create-draft")) }
        }
    };
    html_page_status(s, status, l.t("mbr-new"), "/registros-maestros/nuevo", body)
}

/// Creates the draft: the next version of the product's record at the laboratory, its steps
/// copied from the chosen version or the first step typed.
async fn create(
    State(state): State<AppState>,
    s: Session,
    axum::Form(f): axum::Form<NewTyped>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let (lab, product) = f.pair.split_once('|').unwrap_or(("", ""));
    let mut errors = Vec::new();
    let lab = LabCode::parse(lab.trim())
        .map_err(|e| errors.push(FieldError::new("lab_code", e)))
        .ok();
    let product = ProductCode::parse(product.trim())
        .map_err(|e| errors.push(FieldError::new("product_code", e)))
        .ok();
    let (Some(lab), Some(product)) = (lab, product) else {
        let (status, notice) = refusal_notice(l, StoreError::Invalid(FieldErrors(errors)), &[]);
        return render_new(&state, &s, &f, Some(notice), status).await;
    };
    let steps = match f.base.trim() {
        "" => vec![MbrStep {
            code: f.step_code.trim().to_owned(),
            title: f.step_title.trim().to_owned(),
            instructions: String::new(),
            room_grade: None,
            verification_required: false,
            parameters: Vec::new(),
            materials: Vec::new(),
            equipment: Vec::new(),
        }],
        base => match base.parse::<i64>() {
            Ok(id) => match state.store.get_master_record(&s.actor, id).await {
                Ok(v) => v.steps,
                Err(e) => {
                    let (status, notice) = refusal_notice(l, e, &[]);
                    return render_new(&state, &s, &f, Some(notice), status).await;
                }
            },
            Err(_) => return not_found(l),
        },
    };
    let sent = steps.clone();
    match state
        .store
        .create_master_record(&s.actor, &product, &lab, steps)
        .await
    {
        Ok(v) => Redirect::to(&format!("{}?hecho=creado", version_path(v.id))).into_response(),
        Err(e @ StoreError::Forbidden) => store_error(l, e),
        Err(e) => {
            let (status, notice) = refusal_notice(l, e, &sent);
            render_new(&state, &s, &f, Some(notice), status).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_field_is_said_by_step_and_item() {
        let step = |code: &str| MbrStep {
            code: code.into(),
            title: "T".into(),
            instructions: String::new(),
            room_grade: None,
            verification_required: false,
            parameters: Vec::new(),
            materials: Vec::new(),
            equipment: Vec::new(),
        };
        let steps = [step("siembra"), step("expansion")];
        assert_eq!(
            field_words(Lang::Es, "steps[1].parameters[0].min", &steps),
            "paso «expansion» — parámetro 1, mínimo"
        );
        assert_eq!(
            field_words(Lang::En, "steps[0].materials[2].quantity", &steps),
            "step «siembra» — material 3, quantity"
        );
        assert_eq!(field_words(Lang::Es, "steps", &steps), "Pasos");
        let min_above = FieldError::new(
            "steps[0].parameters[0].min",
            Problem::Between {
                min: "—".into(),
                max: "37.5".into(),
            },
        );
        assert_eq!(
            problem_words(Lang::Es, &min_above),
            "el mínimo no puede ser mayor que el máximo (37,5)"
        );
    }

    #[test]
    fn a_fingerprint_changes_with_the_steps() {
        let mut steps = vec![MbrStep {
            code: "a".into(),
            title: "A".into(),
            instructions: String::new(),
            room_grade: None,
            verification_required: false,
            parameters: Vec::new(),
            materials: Vec::new(),
            equipment: Vec::new(),
        }];
        let before = fingerprint(&steps);
        assert_eq!(before, fingerprint(&steps.clone()));
        steps[0].title = "B".into();
        assert_ne!(before, fingerprint(&steps));
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }
}
