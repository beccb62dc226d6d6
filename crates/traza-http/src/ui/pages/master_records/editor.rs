//! The form of one step of a draft, without JavaScript: its fields, its parameters and
//! materials as rows (those it has and a few empty ones to add more; a row emptied is
//! removed), its equipment classes as a list. Adding a step (`/registros-maestros/{id}/anadir-paso`)
//! puts it last; editing one (`/registros-maestros/{id}/pasos/{code}`) replaces it where it
//! is. Either way the whole step list goes to the store's `update_master_record`, whose
//! refusals (`check_content`: a duplicate code, a minimum above the maximum, a quantity of
//! zero) come back beside the fields, with what was typed (`typed`).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use traza_domain::validation::FieldErrors;
use traza_domain::vocab::{MbrStatus, RoomGrade};
use traza_store::{MbrView, StoreError};

use super::typed::{MaterialRow, ParameterRow, Typed, inline_errors};
use super::{
    changed_notice, fingerprint, load, refusal_notice, refuse_writer, segment, version_name,
    version_path,
};
use crate::AppState;
use crate::ui::Session;
use crate::ui::widgets::html_page_status;

/// Empty rows offered below those a step has.
const SPARE_PARAMETERS: usize = 3;
const SPARE_MATERIALS: usize = 3;
const SPARE_EQUIPMENT: usize = 2;

/// Which step a form is about.
enum Mode {
    Add,
    Edit(String),
}

// --- the pages -----------------------------------------------------------------------------

/// `/registros-maestros/{id}/pasos/{code}`: the form of one step.
pub(super) async fn edit_page(
    State(state): State<AppState>,
    s: Session,
    Path((id, code)): Path<(String, String)>,
) -> Response {
    let v = match load(&state, &s, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(r) = refuse_unless_draft(&s, &v) {
        return r;
    }
    let Some(step) = v.steps.iter().find(|st| st.code == code) else {
        return super::not_found(s.lang);
    };
    let typed = Typed::of(s.lang, step, fingerprint(&v.steps));
    render_form(
        &state,
        &s,
        &v,
        &Mode::Edit(code),
        &typed,
        None,
        &BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

/// `/registros-maestros/{id}/anadir-paso`: the form of a new last step.
pub(super) async fn add_page(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Response {
    let v = match load(&state, &s, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(r) = refuse_unless_draft(&s, &v) {
        return r;
    }
    let typed = Typed {
        huella: fingerprint(&v.steps),
        ..Typed::default()
    };
    render_form(
        &state,
        &s,
        &v,
        &Mode::Add,
        &typed,
        None,
        &BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

/// The forms are QA's, and a draft's: an approved version never changes.
fn refuse_unless_draft(s: &Session, v: &MbrView) -> Option<Response> {
    if let Some(r) = refuse_writer(s, v) {
        return Some(r);
    }
    if v.status == MbrStatus::Draft {
        return None;
    }
    let l = s.lang;
    let body = html! {
        div.notice.error role="alert" #rechazo { p { strong { (l.t("mbr-refused-locked")) } } }
        p { a href=(version_path(v.id)) { "← " (l.t("mbr-back-to-version")) } }
    };
    Some(html_page_status(
        s,
        StatusCode::CONFLICT,
        l.t("mbr-refused-locked-title"),
        &version_path(v.id),
        body,
    ))
}

pub(super) async fn save_step(
    State(state): State<AppState>,
    s: Session,
    Path((id, code)): Path<(String, String)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    save(&state, &s, &id, Mode::Edit(code), &pairs).await
}

pub(super) async fn add_step(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    save(&state, &s, &id, Mode::Add, &pairs).await
}

/// Saves the step of the form into the draft's list, and the list through the store.
async fn save(
    state: &AppState,
    s: &Session,
    id: &str,
    mode: Mode,
    pairs: &[(String, String)],
) -> Response {
    let csrf = pairs
        .iter()
        .find(|(n, _)| n == "csrf")
        .map_or("", |(_, v)| v.as_str());
    if !s.csrf_ok(csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let v = match load(state, s, id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(r) = refuse_writer(s, &v) {
        return r;
    }
    let mut typed = Typed::from_form(pairs);
    let index = match &mode {
        Mode::Add => v.steps.len(),
        Mode::Edit(code) => match v.steps.iter().position(|st| &st.code == code) {
            Some(i) => i,
            None => return super::not_found(l),
        },
    };
    let now = fingerprint(&v.steps);
    if typed.huella != now {
        // Drawn on steps that have changed since: shown again over the steps as they are.
        typed.huella = now;
        return render_form(
            state,
            s,
            &v,
            &mode,
            &typed,
            Some(changed_notice(l)),
            &BTreeMap::new(),
            StatusCode::CONFLICT,
        )
        .await;
    }
    // The list as it would be, the step named as typed, for the words of a refusal.
    let mut named = v.steps.clone();
    if index < named.len() {
        named[index] = typed.named();
    } else {
        named.push(typed.named());
    }
    let step = match typed.read(index) {
        Ok(step) => step,
        Err(errors) => {
            let inline = inline_errors(l, &errors, index, &typed.code);
            let (status, notice) =
                refusal_notice(l, StoreError::Invalid(FieldErrors(errors)), &named);
            return render_form(state, s, &v, &mode, &typed, Some(notice), &inline, status).await;
        }
    };
    let mut steps = v.steps.clone();
    if index < steps.len() {
        steps[index] = step;
    } else {
        steps.push(step);
    }
    match state
        .store
        .update_master_record(&s.actor, v.id, steps, Some(&v.steps))
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "{}?hecho=paso#paso-{}",
            version_path(v.id),
            index + 1
        ))
        .into_response(),
        Err(e @ (StoreError::Forbidden | StoreError::NotFound(_))) => crate::ui::store_error(l, e),
        Err(StoreError::Invalid(FieldErrors(errors))) => {
            let inline = inline_errors(l, &errors, index, &typed.code);
            let (status, notice) =
                refusal_notice(l, StoreError::Invalid(FieldErrors(errors)), &named);
            render_form(state, s, &v, &mode, &typed, Some(notice), &inline, status).await
        }
        Err(e) => {
            let (status, notice) = refusal_notice(l, e, &named);
            render_form(
                state,
                s,
                &v,
                &mode,
                &typed,
                Some(notice),
                &BTreeMap::new(),
                status,
            )
            .await
        }
    }
}

/// A label, its input and the refusal beside it.
fn field(errors: &BTreeMap<String, String>, name: &str, label: &str, input: Markup) -> Markup {
    html! {
        div {
            label for=(format!("f_{name}")) { (label) }
            (input)
            @if let Some(e) = errors.get(name) { br; span.fail id=(format!("err_{name}")) role="alert" { (e) } }
        }
    }
}

fn text_input(errors: &BTreeMap<String, String>, name: &str, value: &str, decimal: bool) -> Markup {
    let invalid = errors.contains_key(name);
    html! {
        input id=(format!("f_{name}")) name=(name) value=(value)
            inputmode=[decimal.then_some("decimal")]
            aria-invalid=[invalid.then_some("true")]
            aria-describedby=[invalid.then(|| format!("err_{name}"))];
    }
}

#[allow(clippy::too_many_arguments)]
async fn render_form(
    state: &AppState,
    s: &Session,
    v: &MbrView,
    mode: &Mode,
    typed: &Typed,
    notice: Option<Markup>,
    errors: &BTreeMap<String, String>,
    status: StatusCode,
) -> Response {
    let l = s.lang;
    // The laboratory's equipment classes, offered as the list of a class field.
    let classes: BTreeSet<String> = match traza_domain::codes::LabCode::parse(&v.lab_code) {
        Ok(lab) => state
            .store
            .list_equipment(&s.actor, Some(&lab))
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.class.as_str().to_owned())
            .collect(),
        Err(_) => BTreeSet::new(),
    };
    let base = version_path(v.id);
    let (title, action) = match mode {
        Mode::Add => (
            l.t("mbr-add-step").to_owned(),
            format!("{base}/anadir-paso"),
        ),
        Mode::Edit(code) => (
            format!("{} «{code}»", l.t("mbr-edit-step")),
            format!("{base}/pasos/{}", segment(code)),
        ),
    };
    let parameters: Vec<ParameterRow> = typed
        .parameters
        .iter()
        .cloned()
        .chain(std::iter::repeat_n(
            ParameterRow::default(),
            SPARE_PARAMETERS,
        ))
        .collect();
    let materials: Vec<MaterialRow> = typed
        .materials
        .iter()
        .cloned()
        .chain(std::iter::repeat_n(MaterialRow::default(), SPARE_MATERIALS))
        .collect();
    let equipment: Vec<String> = typed
        .equipment
        .iter()
        .cloned()
        .chain(std::iter::repeat_n(String::new(), SPARE_EQUIPMENT))
        .collect();
    let body = html! {
        p { a href=(base) { "← " (l.t("mbr-back-to-version")) " (" (version_name(l, v)) ")" } }
        form.card #form-paso method="post" action=(action) {
            @if let Some(n) = notice { (n) }
            input type="hidden" name="csrf" value=(s.csrf());
            input type="hidden" name="huella" value=(typed.huella);
            (field(errors, "code", l.t("mbr-code"), html! {
                input #f_code name="code" value=(typed.code) required maxlength="40"
                    aria-invalid=[errors.contains_key("code").then_some("true")]
                    aria-describedby=[errors.contains_key("code").then_some("err_code")];
            }))
            (field(errors, "title", l.t("mbr-title"), text_input(errors, "title", &typed.title, false)))
            (field(errors, "instructions", l.t("mbr-instructions"), html! {
                textarea #f_instructions name="instructions" rows="4" { (typed.instructions) }
            }))
            (field(errors, "room_grade", l.t("mbr-room-grade"), html! {
                select #f_room_grade name="room_grade" {
                    option value="" { (l.t("mbr-no-grade")) }
                    @for g in RoomGrade::ALL {
                        option value=(g.as_str()) selected[typed.room_grade == g.as_str()] { (l.t("mbr-grade")) " " (g.as_str()) }
                    }
                }
            }))
            label {
                input type="checkbox" name="verification" value="1" checked[typed.verification];
                " " (l.t("mbr-verification-required"))
            }
            fieldset #parametros {
                legend { (l.t("mbr-parameters")) }
                p.hint { (l.t("mbr-rows-hint")) }
                @for (j, r) in parameters.iter().enumerate() {
                    fieldset {
                        legend { (l.t("mbr-parameter")) " " (j + 1) }
                        div.grid {
                            (field(errors, &format!("p{j}_name"), l.t("mbr-parameter-name"), text_input(errors, &format!("p{j}_name"), &r.name, false)))
                            (field(errors, &format!("p{j}_unit"), l.t("unit"), text_input(errors, &format!("p{j}_unit"), &r.unit, false)))
                            (field(errors, &format!("p{j}_min"), l.t("mbr-min"), text_input(errors, &format!("p{j}_min"), &r.min, true)))
                            (field(errors, &format!("p{j}_max"), l.t("mbr-max"), text_input(errors, &format!("p{j}_max"), &r.max, true)))
                            (field(errors, &format!("p{j}_expected"), l.t("mbr-expected-word"), text_input(errors, &format!("p{j}_expected"), &r.expected, false)))
                            div { label {
                                input type="checkbox" name={ "p" (j) "_critical" } value="1" checked[r.critical];
                                " " (l.t("mbr-critical"))
                            } }
                        }
                    }
                }
            }
            fieldset #materiales {
                legend { (l.t("mbr-materials")) }
                p.hint { (l.t("mbr-rows-hint")) }
                @for (j, r) in materials.iter().enumerate() {
                    fieldset {
                        legend { (l.t("mbr-material")) " " (j + 1) }
                        div.grid {
                            (field(errors, &format!("m{j}_code"), l.t("mbr-material-code"), text_input(errors, &format!("m{j}_code"), &r.code, false)))
                            (field(errors, &format!("m{j}_quantity"), l.t("mbr-quantity"), text_input(errors, &format!("m{j}_quantity"), &r.quantity, true)))
                            (field(errors, &format!("m{j}_unit"), l.t("unit"), text_input(errors, &format!("m{j}_unit"), &r.unit, false)))
                        }
                    }
                }
            }
            fieldset #equipos {
                legend { (l.t("mbr-equipment")) }
                p.hint { (l.t("mbr-equipment-hint")) }
                @for (j, e) in equipment.iter().enumerate() {
                    div {
                        label for={ "f_e" (j) } { (l.t("mbr-equipment-class")) " " (j + 1) }
                        input id={ "f_e" (j) } name={ "e" (j) } value=(e) list="clases-equipo";
                    }
                }
                datalist #clases-equipo { @for c in &classes { option value=(c) {} } }
            }
            button.primary type="submit" { (l.t("mbr-save-step")) }
        }
    };
    html_page_status(s, status, &title, &base, body)
}
