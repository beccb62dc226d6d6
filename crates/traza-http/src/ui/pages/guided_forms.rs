//! Staff walk a guided batch through its master record (SPEC §8): the next step's form, with
//! its instructions, the limits beside each parameter, and the rooms, equipment and lots of the
//! laboratory — the unusable ones shown, disabled, with the reason; and a second person's
//! verification of a step at the same screen (their own username and password). Any step may
//! be chosen (`?paso=`): a pending one is recorded (out of order, the domain raises its
//! exception), a recorded one is corrected with a reason, the form filled with what it says.
//! A refused form comes back with what was typed.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use traza_domain::materials::{LotUse, check_lot_use};
use traza_domain::mbr::{MbrStep, ParameterValue};
use traza_domain::problem::Explain;
use traza_store::{BatchView, LotQuery, StepEntryView, StepInput};

use crate::AppState;
use crate::ui::fmt::{Lang, from_madrid, madrid, parse_local};
use crate::ui::widgets::{Typed, decimal_input};
use crate::ui::{Session, error_box, problems, urlencode};

/// A refusal in the page's language: its problem when it has one, else its sentence.
fn said(l: Lang, e: &impl Explain) -> String {
    e.problem()
        .and_then(|p| problems::problem_text(l, &p))
        .unwrap_or_else(|| e.to_string())
}

/// An equipment class in words (`biosafety_cabinet`: «cabina de seguridad biológica»), or as
/// it is written when the catalogue has no word for it.
fn class_word(l: Lang, class: &str) -> String {
    let key = format!("equipment-class-word-{}", class.replace('_', "-"));
    crate::ui::i18n::lookup(l, &key).map_or_else(|| class.replace('_', " "), str::to_owned)
}

/// Which step's form the batch page shows, and what was typed into it when the store refused.
/// The form of a step is named by its code.
#[derive(Default)]
pub(in crate::ui::pages) struct Choice {
    step: Option<String>,
    typed: Typed,
}

impl Choice {
    /// The step asked for in the page's address (`?paso=`).
    pub(in crate::ui::pages) fn asked(step: Option<String>) -> Choice {
        Choice {
            step,
            typed: Typed::default(),
        }
    }

    /// The form of `step` as it was sent.
    fn refused(step: &str, pairs: &[(String, String)]) -> Choice {
        Choice {
            step: Some(step.to_owned()),
            typed: Typed::of(step, pairs),
        }
    }

    pub(super) fn step(&self) -> Option<&str> {
        self.step.as_deref()
    }

    fn was_typed(&self) -> bool {
        self.step.as_deref().is_some_and(|st| self.typed.is(st))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.typed.get(self.step.as_deref()?, name)
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.step
            .as_deref()
            .map_or_else(Vec::new, |st| self.typed.all(st, name))
    }
}

/// What the form's fields start with: what was typed, else the entry being corrected, else
/// the master record's defaults.
struct Prefill {
    performed_at: String,
    room: Option<String>,
    equipment: Vec<String>,
    lots: Vec<String>,
    quantities: Vec<String>,
    parameters: Vec<(String, String)>,
    note: String,
    reason: String,
}

impl Prefill {
    fn new(l: Lang, step: &MbrStep, choice: &Choice, current: Option<&StepEntryView>) -> Prefill {
        let local = |t| madrid(t).0.format("%Y-%m-%dT%H:%M").to_string();
        if choice.was_typed() {
            let owned = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect();
            return Prefill {
                performed_at: choice.get("performed_at").unwrap_or_default().to_owned(),
                room: choice.get("room_id").map(str::to_owned),
                equipment: owned(choice.all("equipment_ids")),
                lots: owned(choice.all("lot")),
                quantities: owned(choice.all("qty")),
                parameters: step
                    .parameters
                    .iter()
                    .filter_map(|p| {
                        let typed = choice.get(&format!("p.{}", p.name))?;
                        Some((p.name.clone(), typed.to_owned()))
                    })
                    .collect(),
                note: choice.get("note").unwrap_or_default().to_owned(),
                reason: choice.get("reason").unwrap_or_default().to_owned(),
            };
        }
        match current {
            Some(e) => Prefill {
                performed_at: local(e.performed_at),
                room: e.room_id.clone(),
                equipment: e.equipment_ids.clone(),
                lots: e.materials.iter().map(|m| m.lot_id.clone()).collect(),
                quantities: e
                    .materials
                    .iter()
                    .map(|m| l.number(&m.quantity.to_string()))
                    .collect(),
                parameters: e
                    .parameters
                    .iter()
                    .map(|p| (p.name.clone(), l.number(&p.value)))
                    .collect(),
                note: e.note.clone().unwrap_or_default(),
                reason: String::new(),
            },
            None => Prefill {
                performed_at: local(chrono::Utc::now()),
                room: None,
                equipment: Vec::new(),
                lots: Vec::new(),
                quantities: Vec::new(),
                parameters: Vec::new(),
                note: String::new(),
                reason: String::new(),
            },
        }
    }

    fn parameter(&self, name: &str) -> &str {
        self.parameters
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// The form of `step` for batch `v`, with what the laboratory has to do it with: a new entry,
/// or a correction of `current` (the step's entry that counts now).
pub(super) async fn step_form(
    state: &AppState,
    s: &Session,
    v: &BatchView,
    step: &MbrStep,
    current: Option<&StepEntryView>,
    choice: &Choice,
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
    let fill = Prefill::new(l, step, choice, current);
    html! {
        form.card #form-paso-guiado method="post" action={ "/lotes/" (number) "/pasos/" (step.code) } {
            input type="hidden" name="csrf" value=(s.csrf());
            @match current {
                Some(e) => {
                    h3 { (l.t("guided-correct-step")) ": " (step.title) }
                    p.hint { (l.t("guided-correct-hint")) " " (e.performed_by) " · " (l.instant(e.performed_at)) }
                    input type="hidden" name="corrects" value=(e.id);
                }
                None => { h3 { (l.t("guided-next-step")) ": " (step.title) } }
            }
            @if !step.instructions.is_empty() { p { (step.instructions) } }
            label for="g_performed_at" { (l.t("field-performed")) }
            input #g_performed_at type="datetime-local" name="performed_at" required value=(fill.performed_at);
            @if let Some(grade) = step.room_grade {
                label for="g_room" { (l.t("guided-room")) " (" (l.t("guided-grade")) " " (grade.as_str()) ")" }
                select #g_room name="room_id" required {
                    @for r in &rooms {
                        @let chosen = fill.room.as_deref() == Some(r.id.as_str());
                        @match r.suitable_for(grade) {
                            Ok(()) => { option value=(r.id.as_str()) selected[chosen] { (r.id.as_str()) " · " (r.grade.as_str()) } }
                            Err(why) => { option value=(r.id.as_str()) disabled { (r.id.as_str()) " · " (r.grade.as_str()) " — " (said(l, &why)) } }
                        }
                    }
                }
            }
            @for class in &step.equipment {
                label { (l.t("guided-equipment")) ": " (class_word(l, class)) }
                select name="equipment_ids" required {
                    @for e in equipment.iter().filter(|e| e.class.is(class)) {
                        @let chosen = fill.equipment.iter().any(|id| id == e.id.as_str());
                        @match e.usable_on(today) {
                            Ok(()) => { option value=(e.id.as_str()) selected[chosen] { (e.id.as_str()) " · " (l.t("guided-calibrated-until")) " " (l.date(e.calibration_due)) } }
                            Err(why) => { option value=(e.id.as_str()) disabled { (e.id.as_str()) " — " (why.iter().map(|w| said(l, w)).collect::<Vec<_>>().join("; ")) } }
                        }
                    }
                }
            }
            @for (i, m) in step.materials.iter().enumerate() {
                fieldset {
                    legend { (m.material_code) " · " (l.number(&m.quantity.to_string())) " " (m.unit) }
                    select name="lot" required {
                        @for lot in lots.iter().filter(|x| x.lot.material_code.as_str() == m.material_code) {
                            @let use_ = LotUse { lab, materials: &[m.material_code.as_str()], quantity: m.quantity, on: today };
                            @let chosen = fill.lots.get(i).is_some_and(|id| id == lot.lot.lot_id.as_str());
                            @match check_lot_use(&lot.lot, &use_) {
                                Ok(()) => { option value=(lot.lot.lot_id.as_str()) selected[chosen] { (lot.lot.lot_id.as_str()) " · " (l.number(&lot.quantity_available.to_string())) " " (lot.unit) " · " (l.t("expiry")) " " (l.date(lot.lot.expiry_date)) } }
                                Err(why) => { option value=(lot.lot.lot_id.as_str()) disabled { (lot.lot.lot_id.as_str()) " — " (why.iter().map(|w| said(l, w)).collect::<Vec<_>>().join("; ")) } }
                            }
                        }
                    }
                    label { (l.t("guided-quantity")) " (" (m.unit) ")" }
                    input name="qty" required inputmode="decimal" value=(fill.quantities.get(i).cloned().unwrap_or_else(|| l.number(&m.quantity.to_string())));
                }
            }
            @for p in &step.parameters {
                @let limits = p.limits();
                label { (p.name) " " span.hint { "(" (limits) ")" } @if p.critical { " " strong { (l.t("guided-critical")) } } }
                input name={ "p." (p.name) } required value=(fill.parameter(&p.name));
            }
            label for="g_note" { (l.t("note")) }
            input #g_note name="note" value=(fill.note);
            @if current.is_some() {
                label for="g_reason" { (l.t("guided-correct-reason")) }
                input #g_reason name="reason" required value=(fill.reason);
                button.primary type="submit" { (l.t("guided-correct-record")) }
            } @else {
                button.primary type="submit" { (l.t("guided-record-step")) }
            }
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
    let choice = Choice::refused(&code, &pairs);
    let Some(performed_at) = get("performed_at")
        .as_deref()
        .and_then(parse_local)
        .map(from_madrid)
    else {
        return refused(
            &state,
            &s,
            &number,
            &choice,
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
                    &choice,
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
        corrects: get("corrects").and_then(|c| c.trim().parse().ok()),
        reason: get("reason").filter(|r| !r.trim().is_empty()),
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
        Err(e) => refused(&state, &s, &number, &choice, e.into()).await,
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
        Err(e) => refused(&state, &s, &number, &Choice::default(), e.into()).await,
    }
}

async fn refused(
    state: &AppState,
    s: &Session,
    number: &str,
    choice: &Choice,
    e: crate::error::ApiError,
) -> Response {
    let status = e.status;
    let notice = error_box(s.lang, &e);
    super::batch_record::render_guided(state, s, number, notice, status, choice).await
}
