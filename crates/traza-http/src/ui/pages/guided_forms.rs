//! Staff walk a guided batch through its master record (SPEC §8): the next step's form, with
//! its instructions, the limits beside each parameter, and the rooms, equipment and lots of the
//! laboratory — the unusable ones shown, disabled, with the reason; and a second person's
//! verification of a step at the same screen (their own username and password).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use traza_domain::materials::{LotUse, check_lot_use};
use traza_domain::mbr::{MbrStep, ParameterValue};
use traza_domain::problem::Explain;
use traza_store::{BatchView, LotQuery, StepInput};

use crate::AppState;
use crate::ui::fmt::{Lang, from_madrid, madrid, parse_local};
use crate::ui::widgets::decimal_input;
use crate::ui::{Session, error_box, problems, urlencode};

/// A refusal in the page's language: its problem when it has one, else its sentence.
fn said(l: Lang, e: &impl Explain) -> String {
    e.problem()
        .and_then(|p| problems::problem_text(l, &p))
        .unwrap_or_else(|| e.to_string())
}

/// The form of `step` for batch `v`, with what the laboratory has to do it with.
pub(super) async fn step_form(
    state: &AppState,
    s: &Session,
    v: &BatchView,
    step: &MbrStep,
) -> Markup {
    let l = s.lang;
    let lab = &v.batch.lab_code;
    let today = traza_domain::clock::lab_date(chrono::Utc::now());
    let rooms = state
        .store
        .list_rooms(&s.actor, Some(lab))
        .await
        .unwrap_or_default();
    let equipment = state
        .store
        .list_equipment(&s.actor, Some(lab))
        .await
        .unwrap_or_default();
    let lots = state
        .store
        .list_lots(
            &s.actor,
            &LotQuery {
                lab: Some(lab.clone()),
                material: None,
                status: None,
            },
        )
        .await
        .unwrap_or_default();
    let number = v.batch.batch_number.as_str();
    let now_local = madrid(chrono::Utc::now())
        .0
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    html! {
        form.card #form-paso-guiado method="post" action={ "/lotes/" (number) "/pasos/" (step.code) } {
            input type="hidden" name="csrf" value=(s.csrf());
            h3 { (l.t("guided-next-step")) ": " (step.title) }
            @if !step.instructions.is_empty() { p { (step.instructions) } }
            label for="g_performed_at" { (l.t("field-performed")) }
            input #g_performed_at type="datetime-local" name="performed_at" required value=(now_local);
            @if let Some(grade) = step.room_grade {
                label for="g_room" { (l.t("guided-room")) " (" (l.t("guided-grade")) " " (grade.as_str()) ")" }
                select #g_room name="room_id" required {
                    @for r in &rooms {
                        @match r.suitable_for(grade) {
                            Ok(()) => { option value=(r.id.as_str()) { (r.id.as_str()) " · " (r.grade.as_str()) } }
                            Err(why) => { option value=(r.id.as_str()) disabled { (r.id.as_str()) " · " (r.grade.as_str()) " — " (said(l, &why)) } }
                        }
                    }
                }
            }
            @for class in &step.equipment {
                label { (l.t("guided-equipment")) ": " (class) }
                select name="equipment_ids" required {
                    @for e in equipment.iter().filter(|e| e.class.is(class)) {
                        @match e.usable_on(today) {
                            Ok(()) => { option value=(e.id.as_str()) { (e.id.as_str()) " · " (l.t("guided-calibrated-until")) " " (l.date(e.calibration_due)) } }
                            Err(why) => { option value=(e.id.as_str()) disabled { (e.id.as_str()) " — " (why.iter().map(|w| said(l, w)).collect::<Vec<_>>().join("; ")) } }
                        }
                    }
                }
            }
            @for m in &step.materials {
                fieldset {
                    legend { (m.material_code) " · " (m.quantity) " " (m.unit) }
                    select name="lot" required {
                        @for lot in lots.iter().filter(|x| x.lot.material_code.as_str() == m.material_code) {
                            @let use_ = LotUse { lab, materials: &[m.material_code.as_str()], quantity: m.quantity, on: today };
                            @match check_lot_use(&lot.lot, &use_) {
                                Ok(()) => { option value=(lot.lot.lot_id.as_str()) { (lot.lot.lot_id.as_str()) " · " (lot.quantity_available) " " (lot.unit) " · " (l.t("expiry")) " " (l.date(lot.lot.expiry_date)) } }
                                Err(why) => { option value=(lot.lot.lot_id.as_str()) disabled { (lot.lot.lot_id.as_str()) " — " (why.iter().map(|w| said(l, w)).collect::<Vec<_>>().join("; ")) } }
                            }
                        }
                    }
                    label { (l.t("guided-quantity")) " (" (m.unit) ")" }
                    input name="qty" required inputmode="decimal" value=(m.quantity.to_string());
                }
            }
            @for p in &step.parameters {
                @let limits = p.limits();
                label { (p.name) " " span.hint { "(" (limits) ")" } @if p.critical { " " strong { (l.t("guided-critical")) } } }
                input name={ "p." (p.name) } required;
            }
            label for="g_note" { (l.t("note")) }
            input #g_note name="note";
            button.primary type="submit" { (l.t("guided-record-step")) }
        }
    }
}

/// The verification form of step `code`: the second person types their own username and
/// password at this screen.
pub(super) fn verify_form(s: &Session, number: &str, code: &str, title: &str) -> Markup {
    let l = s.lang;
    html! {
        form.card.inline-verify method="post" action={ "/lotes/" (number) "/verificar/" (code) } {
            input type="hidden" name="csrf" value=(s.csrf());
            p { strong { (l.t("guided-verify")) ": " (title) } }
            label { (l.t("username")) } input name="username" required autocomplete="off";
            label { (l.t("password-electronic-signature")) } input type="password" name="password" required autocomplete="off";
            button type="submit" { (l.t("guided-verify-sign")) }
        }
    }
}

/// Records a step from its form.
pub(super) async fn record(
    State(state): State<AppState>,
    s: Session,
    Path((number, code)): Path<(String, String)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if !s.csrf_ok(&get("csrf").unwrap_or_default()) {
        return s.csrf_refused();
    }
    let Some(performed_at) = get("performed_at")
        .as_deref()
        .and_then(parse_local)
        .map(from_madrid)
    else {
        return refused(
            &state,
            &s,
            &number,
            crate::error::ApiError::validation(
                "performed_at",
                traza_domain::validation::Problem::Empty,
            ),
        )
        .await;
    };
    let all = |k: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let mut materials = Vec::new();
    for (lot, qty) in all("lot").into_iter().zip(all("qty")) {
        match traza_domain::validation::decimal(&decimal_input(&qty)) {
            Ok(q) => materials.push((lot, q)),
            Err(p) => {
                return refused(
                    &state,
                    &s,
                    &number,
                    crate::error::ApiError::validation("quantity", p),
                )
                .await;
            }
        }
    }
    let parameters = pairs
        .iter()
        .filter_map(|(n, v)| {
            n.strip_prefix("p.").map(|name| ParameterValue {
                name: name.to_owned(),
                value: decimal_input(v),
            })
        })
        .collect();
    let input = StepInput {
        performed_at,
        room_id: get("room_id").filter(|r| !r.is_empty()),
        equipment_ids: all("equipment_ids"),
        parameters,
        materials,
        note: get("note").filter(|n| !n.trim().is_empty()),
        corrects: None,
        reason: None,
    };
    match state
        .store
        .record_step(&s.actor, &number, &code, input)
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "/lotes/{}?hecho=paso#registro-guiado",
            urlencode(&number)
        ))
        .into_response(),
        Err(e) => refused(&state, &s, &number, e.into()).await,
    }
}

/// A second person verifies a step at this screen.
pub(super) async fn verify(
    State(state): State<AppState>,
    s: Session,
    Path((number, code)): Path<(String, String)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if !s.csrf_ok(&get("csrf")) {
        return s.csrf_refused();
    }
    match state
        .store
        .verify_step(
            &s.actor,
            &number,
            &code,
            get("username").trim(),
            &get("password"),
        )
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "/lotes/{}?hecho=verificado#registro-guiado",
            urlencode(&number)
        ))
        .into_response(),
        Err(e) => refused(&state, &s, &number, e.into()).await,
    }
}

async fn refused(
    state: &AppState,
    s: &Session,
    number: &str,
    e: crate::error::ApiError,
) -> Response {
    let status = e.status;
    super::batch_record::render_with_notice(state, s, number, error_box(s.lang, &e), status).await
}
