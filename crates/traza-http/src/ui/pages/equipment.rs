//! Equipment and rooms of the reader's laboratories (SPEC §8, issue 15): each piece of
//! equipment with its class and status in words and its calibration due date, a date within
//! 30 days or already past said in words and highlighted; the rooms with their grade. QA of a
//! laboratory adds equipment, puts it out of service and back, records a new calibration due
//! date, and adds rooms.
//!
//! Every write is the store call the JSON API makes (`create_equipment`, `update_equipment`,
//! `create_room`): role, laboratory scope and the id taken are the store's, said in words with
//! the form as it was typed. Whether a calibration is past due or due soon is the domain's
//! (`Equipment::calibration_past_due`, `calibration_due_within`).

use crate::ui::widgets::Typed;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::access::Action;
use traza_domain::codes::{EquipmentId, LabCode, RoomId};
use traza_domain::equipment::{
    CALIBRATION_NOTICE_DAYS, Equipment, EquipmentClass, EquipmentStatus, Room,
};
use traza_domain::validation::{Fields, Problem};
use traza_domain::vocab::RoomGrade;
use traza_store::EquipmentUpdate;

use super::lots::words::{Sent, duplicate_as_field, in_days, lab_today, say};
use crate::AppState;
use crate::error::ApiError;
use crate::ui::fmt::Lang;
use crate::ui::widgets::html_page_status;
use crate::ui::{Session, i18n, store_error, urlencode};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/equipos", get(equipment_page).post(create_equipment))
        .route("/equipos/salas", post(create_room))
        .route("/equipos/{lab}/{id}", post(update_equipment))
}

/// What the page says was just done (`?hecho=…&que=…` after a form's redirect).
#[derive(Deserialize, Default)]
struct Done {
    hecho: Option<String>,
    que: Option<String>,
}

async fn equipment_page(
    State(state): State<AppState>,
    s: Session,
    Query(d): Query<Done>,
) -> Response {
    let l = s.lang;
    let done = match d.hecho.as_deref() {
        Some("equipo-creado") => Some(l.t("equipment-done-created")),
        Some("equipo-cambiado") => Some(l.t("equipment-done-changed")),
        Some("sala-creada") => Some(l.t("equipment-done-room")),
        _ => None,
    };
    let notice = done.map(|t| {
        html! { div.notice.ok role="status" { p { (t) " " strong { (d.que.as_deref().unwrap_or_default()) } } } }
    });
    render(&state, &s, notice, StatusCode::OK, &Typed::default()).await
}

async fn render(
    state: &AppState,
    s: &Session,
    notice: Option<Markup>,
    status: StatusCode,
    typed: &Typed,
) -> Response {
    let l = s.lang;
    let equipment = match state.store.list_equipment(&s.actor, None).await {
        Ok(e) => e,
        Err(e) => return store_error(l, e),
    };
    let rooms = match state.store.list_rooms(&s.actor, None).await {
        Ok(r) => r,
        Err(e) => return store_error(l, e),
    };
    // A laboratory column only for someone who sees more than one laboratory.
    let show_lab = s.actor.labs.len() != 1;
    let manages = s.actor.may(Action::ManageEquipment).is_ok() && !s.actor.labs.is_empty();
    let body = html! {
        @if let Some(n) = notice { (n) }
        section aria-labelledby="equipos-titulo" {
            h2 #equipos-titulo { (l.t("equipment-equipment")) }
            (equipment_table(s, &equipment, show_lab, typed))
            @if manages { (new_equipment_form(s, &equipment, typed)) }
        }
        section aria-labelledby="salas-titulo" {
            h2 #salas-titulo { (l.t("equipment-rooms")) }
            (rooms_table(s, &rooms, show_lab))
            @if manages { (new_room_form(s, typed)) }
        }
    };
    html_page_status(s, status, l.t("equipment-title"), "/equipos", body)
}

/// An equipment class in words: the catalogue's word for a class it knows, else the class with
/// spaces for its underscores.
fn class_word(l: Lang, class: &EquipmentClass) -> String {
    let key = format!("equipment-class-word-{}", class.as_str().replace('_', "-"));
    i18n::lookup(l, &key).map_or_else(|| class.as_str().replace('_', " "), str::to_owned)
}

fn status_word(l: Lang, status: EquipmentStatus) -> &'static str {
    match status {
        EquipmentStatus::InService => l.t("equipment-status-in-service"),
        EquipmentStatus::OutOfService => l.t("equipment-status-out-of-service"),
    }
}

/// Said beside a calibration due date: past due (from the day after it), or due within
/// [`CALIBRATION_NOTICE_DAYS`].
fn calibration_note(l: Lang, e: &Equipment) -> Option<Markup> {
    let today = lab_today();
    if e.calibration_past_due(today) {
        let text = say(
            l,
            "equipment-calibration-past-due",
            &[("date", l.date(e.calibration_due))],
        );
        return Some(html! { span.badge.expired { (text) } });
    }
    e.calibration_due_within(today, CALIBRATION_NOTICE_DAYS)
        .then(|| {
            let text = in_days(l, "equipment-calibration-due", today, e.calibration_due);
            html! { span.badge.soon { (text) } }
        })
}

fn equipment_table(s: &Session, equipment: &[Equipment], show_lab: bool, typed: &Typed) -> Markup {
    let l = s.lang;
    if equipment.is_empty() {
        return html! { p.muted #sin-equipos { (l.t("equipment-none")) } };
    }
    let may_change = |e: &Equipment| {
        s.actor
            .may_in_lab(Action::ManageEquipment, &e.lab_code)
            .is_ok()
    };
    let any_change = equipment.iter().any(may_change);
    html! {
        div.scroll { table #tabla-equipos {
            thead { tr {
                @if show_lab { th { (l.t("laboratory")) } }
                th { (l.t("equipment-id")) } th { (l.t("equipment-class")) } th { (l.t("status")) }
                th { (l.t("equipment-calibration-due")) }
                @if any_change { th { (l.t("actions")) } }
            } }
            tbody {
                @for e in equipment {
                    tr id={ "equipo-" (e.lab_code.as_str()) "-" (e.id.as_str()) } {
                        @if show_lab { td { (e.lab_code.as_str()) } }
                        td { code { (e.id.as_str()) } }
                        td { (class_word(l, &e.class)) }
                        td { (status_word(l, e.status)) }
                        td { (l.date(e.calibration_due)) @if let Some(n) = calibration_note(l, e) { br; (n) } }
                        @if any_change { td { @if may_change(e) { (update_form(s, e, typed)) } } }
                    }
                }
            }
        } }
    }
}

fn status_select(l: Lang, id: &str, chosen: &str) -> Markup {
    html! {
        select id=(id) name="status" required {
            @for st in EquipmentStatus::ALL {
                option value=(st.as_str()) selected[chosen == st.as_str()] { (status_word(l, *st)) }
            }
        }
    }
}

fn update_form(s: &Session, e: &Equipment, typed: &Typed) -> Markup {
    let l = s.lang;
    let form = format!("equipo-{}/{}", e.lab_code.as_str(), e.id.as_str());
    let refused = typed.get(&form, "status").is_some();
    let t = |name: &str, stored: String| typed.get(&form, name).map_or(stored, str::to_owned);
    let id = |field: &str| format!("u_{}_{}_{field}", e.lab_code.as_str(), e.id.as_str());
    html! {
        details open[refused] {
            summary { (l.t("equipment-change")) }
            form method="post" action={ "/equipos/" (urlencode(e.lab_code.as_str())) "/" (urlencode(e.id.as_str())) } {
                input type="hidden" name="csrf" value=(s.csrf());
                label for=(id("status")) { (l.t("status")) }
                (status_select(l, &id("status"), &t("status", e.status.as_str().to_owned())))
                label for=(id("due")) { (l.t("equipment-calibration-due")) }
                input id=(id("due")) type="date" name="calibration_due" required value=(t("calibration_due", e.calibration_due.to_string()));
                button type="submit" { (l.t("equipment-save")) }
            }
        }
    }
}

/// The laboratory of a new record: asked only of someone with several.
fn lab_field(s: &Session, id: &str, chosen: Option<&str>) -> Markup {
    let l = s.lang;
    let labs: Vec<&LabCode> = s.actor.labs.iter().collect();
    html! {
        @match labs.as_slice() {
            [only] => { input type="hidden" name="lab_code" value=(only.as_str()); }
            _ => {
                label for=(id) { (l.t("laboratory")) }
                select id=(id) name="lab_code" required {
                    option value="" { "—" }
                    @for code in &labs {
                        option value=(code.as_str()) selected[chosen == Some(code.as_str())] { (code.as_str()) }
                    }
                }
            }
        }
    }
}

fn new_equipment_form(s: &Session, equipment: &[Equipment], typed: &Typed) -> Markup {
    let l = s.lang;
    let t = |name: &str| typed.get("equipo", name).unwrap_or_default().to_owned();
    let mut classes: Vec<&str> = equipment.iter().map(|e| e.class.as_str()).collect();
    classes.sort_unstable();
    classes.dedup();
    html! {
        form.card #form-equipo method="post" action="/equipos" {
            h3 { (l.t("equipment-new")) }
            input type="hidden" name="csrf" value=(s.csrf());
            (lab_field(s, "e_lab", typed.get("equipo", "lab_code")))
            label for="e_id" { (l.t("equipment-id")) }
            input #e_id name="id" required autocomplete="off" spellcheck="false" aria-describedby="e_id_hint" value=(t("id"));
            p.hint #e_id_hint { (l.t("equipment-id-hint")) }
            label for="e_class" { (l.t("equipment-class")) }
            input #e_class name="class" required autocomplete="off" list="clases-equipo" aria-describedby="e_class_hint" value=(t("class"));
            datalist #clases-equipo { @for c in &classes { option value=(c) {} } }
            p.hint #e_class_hint { (l.t("equipment-class-hint")) }
            label for="e_status" { (l.t("status")) }
            (status_select(l, "e_status", &t("status")))
            label for="e_due" { (l.t("equipment-calibration-due")) }
            input #e_due type="date" name="calibration_due" required aria-describedby="e_due_hint" value=(t("calibration_due"));
            p.hint #e_due_hint { (l.t("equipment-calibration-due-hint")) }
            button.primary type="submit" { (l.t("equipment-add")) }
        }
    }
}

fn rooms_table(s: &Session, rooms: &[Room], show_lab: bool) -> Markup {
    let l = s.lang;
    if rooms.is_empty() {
        return html! { p.muted #sin-salas { (l.t("equipment-no-rooms")) } };
    }
    html! {
        div.scroll { table #tabla-salas {
            thead { tr {
                @if show_lab { th { (l.t("laboratory")) } }
                th { (l.t("equipment-room")) } th { (l.t("equipment-grade")) }
            } }
            tbody {
                @for r in rooms {
                    tr id={ "sala-" (r.lab_code.as_str()) "-" (r.id.as_str()) } {
                        @if show_lab { td { (r.lab_code.as_str()) } }
                        td { code { (r.id.as_str()) } }
                        td { (grade_words(l, r.grade)) }
                    }
                }
            }
        } }
        p.hint { (l.t("equipment-grade-hint")) }
    }
}

fn grade_words(l: Lang, grade: RoomGrade) -> String {
    say(
        l,
        "equipment-grade-of",
        &[("grade", grade.as_str().to_owned())],
    )
}

fn new_room_form(s: &Session, typed: &Typed) -> Markup {
    let l = s.lang;
    let t = |name: &str| typed.get("sala", name).unwrap_or_default().to_owned();
    html! {
        form.card #form-sala method="post" action="/equipos/salas" {
            h3 { (l.t("equipment-new-room")) }
            input type="hidden" name="csrf" value=(s.csrf());
            (lab_field(s, "s_lab", typed.get("sala", "lab_code")))
            label for="s_id" { (l.t("equipment-room")) }
            input #s_id name="id" required autocomplete="off" spellcheck="false" value=(t("id"));
            label for="s_grade" { (l.t("equipment-grade")) }
            select #s_grade name="grade" required {
                option value="" { "—" }
                @for g in RoomGrade::ALL {
                    option value=(g.as_str()) selected[t("grade") == g.as_str()] { (grade_words(l, *g)) }
                }
            }
            button.primary type="submit" { (l.t("equipment-add-room")) }
        }
    }
}

/// A date field (`YYYY-MM-DD`, as a date input sends it).
fn date_of(l: Lang, f: &mut Fields, sent: &Sent, name: &str) -> Option<chrono::NaiveDate> {
    match sent.get(name).trim() {
        "" => {
            f.push(name, Problem::Empty);
            None
        }
        v => f.check(name, v.parse().map_err(|_| l.t("is-not-a-date"))),
    }
}

/// A vocabulary word chosen in a select (`status`, `grade`), as the API parses it.
fn word_of<T: std::str::FromStr>(f: &mut Fields, sent: &Sent, name: &str) -> Option<T>
where
    T::Err: traza_domain::validation::Explain,
{
    match sent.get(name) {
        "" => {
            f.push(name, Problem::Empty);
            None
        }
        word => f.check(name, word.parse::<T>()),
    }
}

/// The equipment of the new-equipment form, parsed as the API parses it.
fn new_equipment(l: Lang, sent: &Sent) -> Result<Equipment, ApiError> {
    let mut f = Fields::default();
    let lab_code = f.check("lab_code", LabCode::parse(sent.get("lab_code").trim()));
    let id = f.check("id", EquipmentId::parse(sent.get("id").trim()));
    let class = f.check("class", EquipmentClass::parse(sent.get("class")));
    let status = word_of::<EquipmentStatus>(&mut f, sent, "status");
    let calibration_due = date_of(l, &mut f, sent, "calibration_due");
    f.finish()?;
    match (lab_code, id, class, status, calibration_due) {
        (Some(lab_code), Some(id), Some(class), Some(status), Some(calibration_due)) => {
            Ok(Equipment {
                lab_code,
                id,
                class,
                status,
                calibration_due,
            })
        }
        // Never: a value missing here was a field refused above.
        _ => Err(ApiError::validation("id", Problem::Empty)),
    }
}

fn back(what: &str, which: &str) -> Response {
    Redirect::to(&format!("/equipos?hecho={what}&que={}", urlencode(which))).into_response()
}

async fn refused(state: &AppState, s: &Session, e: &ApiError, typed: Typed) -> Response {
    render(
        state,
        s,
        Some(crate::ui::error_box(s.lang, e)),
        e.status,
        &typed,
    )
    .await
}

/// QA adds a piece of equipment to a laboratory.
async fn create_equipment(
    State(state): State<AppState>,
    s: Session,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let sent = Sent(pairs);
    if !s.csrf_ok(sent.get("csrf")) {
        return s.csrf_refused();
    }
    let result = match new_equipment(s.lang, &sent) {
        Ok(e) => state
            .store
            .create_equipment(&s.actor, e)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(e) => back("equipo-creado", e.id.as_str()),
        Err(e) => {
            let e = duplicate_as_field(s.lang, e, "id", "equipment-id-taken");
            refused(&state, &s, &e, Typed::of("equipo", &sent.0)).await
        }
    }
}

/// QA changes a piece of equipment: its status and its calibration due date.
async fn update_equipment(
    State(state): State<AppState>,
    s: Session,
    Path((lab, id)): Path<(String, String)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let sent = Sent(pairs);
    if !s.csrf_ok(sent.get("csrf")) {
        return s.csrf_refused();
    }
    let mut f = Fields::default();
    let status = word_of::<EquipmentStatus>(&mut f, &sent, "status");
    let calibration_due = date_of(s.lang, &mut f, &sent, "calibration_due");
    let result = match f.finish() {
        Ok(()) => state
            .store
            .update_equipment(
                &s.actor,
                &lab,
                &id,
                EquipmentUpdate {
                    class: None,
                    status,
                    calibration_due,
                },
            )
            .await
            .map_err(ApiError::from),
        Err(e) => Err(ApiError::from(e)),
    };
    match result {
        Ok(e) => back("equipo-cambiado", e.id.as_str()),
        Err(e) => {
            let form = format!("equipo-{lab}/{id}");
            refused(&state, &s, &e, Typed::of(&form, &sent.0)).await
        }
    }
}

/// QA adds a room to a laboratory.
async fn create_room(
    State(state): State<AppState>,
    s: Session,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let sent = Sent(pairs);
    if !s.csrf_ok(sent.get("csrf")) {
        return s.csrf_refused();
    }
    let mut f = Fields::default();
    let lab_code = f.check("lab_code", LabCode::parse(sent.get("lab_code").trim()));
    let id = f.check("id", RoomId::parse(sent.get("id").trim()));
    let grade = word_of::<RoomGrade>(&mut f, &sent, "grade");
    let result = match (f.finish(), lab_code, id, grade) {
        (Ok(()), Some(lab_code), Some(id), Some(grade)) => state
            .store
            .create_room(
                &s.actor,
                Room {
                    lab_code,
                    id,
                    grade,
                },
            )
            .await
            .map_err(ApiError::from),
        (Err(e), ..) => Err(ApiError::from(e)),
        // Never: a value missing here was a field refused above.
        _ => Err(ApiError::validation("id", Problem::Empty)),
    };
    match result {
        Ok(r) => back("sala-creada", r.id.as_str()),
        Err(e) => {
            let e = duplicate_as_field(s.lang, e, "id", "equipment-room-taken");
            refused(&state, &s, &e, Typed::of("sala", &sent.0)).await
        }
    }
}
