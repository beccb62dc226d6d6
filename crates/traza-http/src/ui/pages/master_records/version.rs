//! One version of a master record (`/registros-maestros/{id}`): every step with its
//! parameters, materials and equipment, the version's status, author and approval; while it
//! is a draft, for QA of its laboratory, the controls that edit it a step at a time (move up,
//! move down, remove; the step form is `editor`'s), and for QA who did not write it, the
//! approval with an electronic signature.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::mbr::{MbrParameter, MbrStep};
use traza_domain::vocab::{MbrStatus, SignatureMeaning};
use traza_store::MbrView;

use super::{
    changed_notice, done_notice, editable, fingerprint, lab_today, load, manages, refusal_notice,
    refuse_writer, segment, status_badge, version_name, version_path,
};
use crate::AppState;
use crate::ui::fmt::Lang;
use crate::ui::widgets::{date_field, html_page_status, meaning_text, value_label};
use crate::ui::{Session, error_box};

#[derive(Deserialize, Default)]
pub(super) struct DoneQuery {
    hecho: Option<String>,
}

/// `/registros-maestros/{id}`.
pub(super) async fn version_page(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let v = match load(&state, &s, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let notice = done_notice(s.lang, q.hecho.as_deref());
    render(&state, &s, &v, notice, StatusCode::OK, None).await
}

/// A parameter's limits as people read them, numbers in the page's language: `36,5–37,5 °C`,
/// `≥ 80 %`, the expected word, or `—`.
pub(super) fn limits(l: Lang, p: &MbrParameter) -> String {
    let unit = if p.unit.is_empty() {
        String::new()
    } else {
        format!(" {}", p.unit)
    };
    let n = |d: &rust_decimal::Decimal| l.number(&d.to_string());
    match (&p.min, &p.max, &p.expected) {
        (Some(min), Some(max), _) => format!("{}–{}{unit}", n(min), n(max)),
        (Some(min), None, _) => format!("≥ {}{unit}", n(min)),
        (None, Some(max), _) => format!("≤ {}{unit}", n(max)),
        (None, None, Some(e)) => value_label(l, e),
        (None, None, None) => "—".into(),
    }
}

pub(super) fn yes_no(l: Lang, b: bool) -> &'static str {
    if b { l.t("mbr-yes") } else { l.t("mbr-no") }
}

/// One step as the version shows it.
pub(super) fn step_detail(l: Lang, step: &MbrStep) -> Markup {
    html! {
        @for line in step.instructions.lines().filter(|x| !x.trim().is_empty()) { p { (line) } }
        dl.facts {
            dt { (l.t("mbr-room-grade")) }
            dd { @if let Some(g) = step.room_grade { (l.t("mbr-grade")) " " (g.as_str()) } @else { span.muted { (l.t("mbr-no-grade")) } } }
            dt { (l.t("mbr-verification")) }
            dd { (yes_no(l, step.verification_required)) }
            dt { (l.t("mbr-equipment")) }
            dd { @if step.equipment.is_empty() { span.muted { "—" } } @else { (step.equipment.join(", ")) } }
        }
        @if !step.parameters.is_empty() {
            div.scroll { table.parametros {
                caption { (l.t("mbr-parameters")) }
                thead { tr {
                    th { (l.t("mbr-parameter-name")) } th { (l.t("unit")) } th { (l.t("mbr-min")) }
                    th { (l.t("mbr-max")) } th { (l.t("mbr-expected")) } th { (l.t("mbr-critical")) }
                } }
                tbody { @for p in &step.parameters { tr {
                    td { (p.name) }
                    td { (p.unit) }
                    td { @if let Some(m) = p.min { (l.number(&m.to_string())) } }
                    td { @if let Some(m) = p.max { (l.number(&m.to_string())) } }
                    td { @if let Some(e) = &p.expected { (value_label(l, e)) } }
                    td { @if p.critical { strong { (l.t("mbr-yes")) } } @else { (l.t("mbr-no")) } }
                } } }
            } }
        }
        @if !step.materials.is_empty() {
            div.scroll { table.materiales {
                caption { (l.t("mbr-materials")) }
                thead { tr { th { (l.t("mbr-material")) } th { (l.t("mbr-quantity")) } th { (l.t("unit")) } } }
                tbody { @for m in &step.materials { tr {
                    td { (m.material_code) } td { (l.number(&m.quantity.to_string())) } td { (m.unit) }
                } } }
            } }
        }
    }
}

/// The versions of the same product and laboratory, and which comes before this one.
async fn previous_of(state: &AppState, s: &Session, v: &MbrView) -> Option<MbrView> {
    state
        .store
        .list_master_records(&s.actor, Some(&v.product_code), Some(&v.lab_code))
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|o| o.version < v.version)
        .max_by_key(|o| o.version)
}

/// The page, with a notice above it (what was done, or a refusal) and, after a refused
/// approval, the date typed.
pub(super) async fn render(
    state: &AppState,
    s: &Session,
    v: &MbrView,
    notice: Option<Markup>,
    status: StatusCode,
    typed_date: Option<&str>,
) -> Response {
    let l = s.lang;
    let edit = editable(s, v);
    let qa = manages(s, v);
    let approve = edit && s.actor.username.as_str() != v.author;
    let previous = previous_of(state, s, v).await;
    let product_name = state
        .store
        .get_product(&s.actor, &v.product_code)
        .await
        .map(|p| p.name)
        .ok();
    let print = fingerprint(&v.steps);
    let csrf = s.csrf();
    let last = v.steps.len().saturating_sub(1);
    let base = version_path(v.id);
    let body = html! {
        @if let Some(n) = notice { (n) }
        p { a href={ "/registros-maestros?producto=" (segment(&v.product_code)) "&laboratorio=" (segment(&v.lab_code)) } { "← " (l.t("mbr-back-to-list")) } }
        dl.facts #version {
            dt { (l.t("product")) } dd { (v.product_code) @if let Some(n) = &product_name { " — " (n) } }
            dt { (l.t("laboratory")) } dd { (v.lab_code) }
            dt { (l.t("mbr-version")) } dd { (v.version) }
            dt { (l.t("status")) } dd #estado { (status_badge(l, v.status)) }
            dt { (l.t("mbr-author")) } dd { (v.author) " · " (l.instant(v.created_at)) }
            dt { (l.t("mbr-approved-by")) } dd {
                @if let Some(a) = &v.approved_by {
                    (a) @if let Some(at) = v.approved_at { " · " (l.instant(at)) }
                } @else { span.muted { (l.t("mbr-not-approved")) } }
            }
            dt { (l.t("mbr-effective-from")) } dd { @if let Some(d) = v.effective_from { (l.date(d)) } @else { span.muted { "—" } } }
            @if let Some(h) = &v.approval_hash {
                dt { (l.t("mbr-approval-hash")) } dd { code { @for (k, chunk) in h.as_bytes().chunks(16).enumerate() { @if k > 0 { wbr; } (String::from_utf8_lossy(chunk)) } } }
            }
        }
        @if let Some(p) = &previous {
            p { a #comparar-anterior href={ "/registros-maestros/comparar?a=" (p.id) "&b=" (v.id) } {
                (l.t("mbr-compare-with-previous")) " (" (l.t("mbr-version")) " " (p.version) ")"
            } }
        }
        @if v.status == MbrStatus::Draft && !qa {
            p.hint { (l.t("mbr-draft-hint-reader")) }
        }
        h2 { (l.t("mbr-steps")) " (" (v.steps.len()) ")" }
        @if v.steps.is_empty() { p.muted { (l.t("mbr-no-steps")) } }
        @for (i, step) in v.steps.iter().enumerate() {
            section.card id={ "paso-" (i + 1) } aria-labelledby={ "paso-" (i + 1) "-titulo" } {
                h3 id={ "paso-" (i + 1) "-titulo" } { (i + 1) ". " (step.title) " " span.muted { "(" (step.code) ")" } }
                (step_detail(l, step))
                @if edit {
                    p {
                        a href={ (base) "/pasos/" (segment(&step.code)) } { (l.t("mbr-edit-step")) }
                        @for (action, label, shown) in [("subir", l.t("mbr-move-up"), i > 0), ("bajar", l.t("mbr-move-down"), i < last), ("quitar", l.t("mbr-remove-step"), true)] {
                            @if shown {
                                " "
                                form.inline method="post" action={ (base) "/pasos/" (segment(&step.code)) "/" (action) } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="huella" value=(print);
                                    button.danger[action == "quitar"] type="submit" { (label) " " span.muted { "(" (step.code) ")" } }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if edit {
            p { a #anadir-paso href={ (base) "/anadir-paso" } { (l.t("mbr-add-step")) } }
        }
        @if approve {
            form.card.signature #aprobar method="post" action={ (base) "/aprobar" } aria-labelledby="aprobar-titulo" {
                h2 #aprobar-titulo { (l.t("mbr-approve")) }
                p { (meaning_text(l, SignatureMeaning::MbrApproved)) }
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="huella" value=(print);
                label for="a_desde" { (l.t("mbr-effective-from")) }
                input #a_desde type="date" name="effective_from" required min=(lab_today().to_string())
                    value=(typed_date.map_or_else(|| lab_today().to_string(), str::to_owned)) aria-describedby="a_desde_hint";
                p #a_desde_hint.hint { (l.t("mbr-effective-from-hint")) }
                label for="a_clave" { (l.t("password-electronic-signature")) }
                input #a_clave type="password" name="password" required autocomplete="off";
                button.primary type="submit" { (l.t("mbr-approve-sign")) }
            }
        } @else if edit {
            p.hint #aprobacion-de-otro { (l.t("mbr-approval-by-another")) }
        }
        @if qa {
            form.card #nueva-version method="post" action="/registros-maestros/nuevo" {
                h2 { (l.t("mbr-new-version-from-this")) }
                p.hint { (l.t("mbr-new-version-from-this-hint")) }
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="pair" value={ (v.lab_code) "|" (v.product_code) };
                input type="hidden" name="base" value=(v.id);
                button type="submit" { (l.t("mbr-create-draft")) }
            }
        }
    };
    let title = format!("{} {}", l.t("mbr-master-record"), version_name(l, v));
    html_page_status(s, status, &title, &base, body)
}

#[derive(Deserialize, Default)]
pub(super) struct ApproveForm {
    #[serde(default)]
    csrf: String,
    /// The fingerprint of the steps the approver read: what they sign.
    #[serde(default)]
    huella: String,
    effective_from: Option<String>,
    #[serde(default)]
    password: String,
}

/// Approves a draft with the approver's signature; a refusal comes back to the version with
/// the date typed (never the password) and why, in words.
pub(super) async fn approve(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ApproveForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let v = match load(&state, &s, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(r) = refuse_writer(&s, &v) {
        return r;
    }
    // The steps the approver read are the ones signed: a draft changed since is shown again.
    if f.huella != fingerprint(&v.steps) {
        return render(
            &state,
            &s,
            &v,
            Some(changed_notice(l)),
            StatusCode::CONFLICT,
            f.effective_from.as_deref(),
        )
        .await;
    }
    let day = match date_field(l, "effective_from", &f.effective_from) {
        Ok(d) => d,
        Err(e) => {
            let status = e.status;
            return render(
                &state,
                &s,
                &v,
                Some(error_box(l, &e)),
                status,
                f.effective_from.as_deref(),
            )
            .await;
        }
    };
    match state
        .store
        .approve_master_record(&s.actor, v.id, &f.password, day, Some(&v.steps))
        .await
    {
        Ok(_) => Redirect::to(&format!("{}?hecho=aprobado", version_path(v.id))).into_response(),
        Err(e) => {
            let (status, notice) = refusal_notice(l, e, &v.steps);
            render(
                &state,
                &s,
                &v,
                Some(notice),
                status,
                f.effective_from.as_deref(),
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct StepActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    huella: String,
}

/// Moves a step up or down, or removes it: the whole step list through the store.
pub(super) async fn step_action(
    State(state): State<AppState>,
    s: Session,
    Path((id, code, action)): Path<(String, String, String)>,
    axum::Form(f): axum::Form<StepActionForm>,
) -> Response {
    if !s.csrf_ok(&f.csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let v = match load(&state, &s, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(r) = refuse_writer(&s, &v) {
        return r;
    }
    if f.huella != fingerprint(&v.steps) {
        return render(
            &state,
            &s,
            &v,
            Some(changed_notice(l)),
            StatusCode::CONFLICT,
            None,
        )
        .await;
    }
    let Some(i) = v.steps.iter().position(|st| st.code == code) else {
        return super::not_found(l);
    };
    let mut steps = v.steps.clone();
    let done = match action.as_str() {
        "subir" if i > 0 => {
            steps.swap(i - 1, i);
            "movido"
        }
        "bajar" if i + 1 < steps.len() => {
            steps.swap(i, i + 1);
            "movido"
        }
        "quitar" => {
            steps.remove(i);
            "quitado"
        }
        _ => return super::not_found(l),
    };
    let sent = steps.clone();
    match state
        .store
        .update_master_record(&s.actor, v.id, steps, Some(&v.steps))
        .await
    {
        Ok(_) => Redirect::to(&format!("{}?hecho={done}", version_path(v.id))).into_response(),
        Err(e @ (traza_store::StoreError::Forbidden | traza_store::StoreError::NotFound(_))) => {
            crate::ui::store_error(l, e)
        }
        Err(e) => {
            let (status, notice) = refusal_notice(l, e, &sent);
            render(&state, &s, &v, Some(notice), status, None).await
        }
    }
}
