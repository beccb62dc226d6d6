//! Materials and their lots (SPEC §8, issue 15): the network's catalogue (the coordination
//! unit adds and edits materials), the lots the reader may see, filtered by laboratory,
//! material and status, each with what is left of it and its expiry said in words, and the
//! receipt of a lot by the laboratory's staff or QA (a decimal comma taken). A lot's own page,
//! with QA's signed release or rejection and the recall trace, is in `lot`.
//!
//! Every write is the store call the JSON API makes (`create_material`, `update_material`,
//! `receive_lot`), so role, laboratory scope and every rule are the store's; a refusal comes
//! back in words with the form as it was typed.

mod forms;
mod lot;
pub(super) mod words;

use crate::ui::widgets::Typed;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::access::Action;
use traza_domain::codes::{LabCode, MaterialCode};
use traza_domain::materials::{LotReceipt, LotStatus, Material, MaterialKind, quantity};
use traza_domain::validation::{Fields, Problem};
use traza_store::{LotQuery, LotView, MaterialUpdate};

use crate::AppState;
use crate::error::ApiError;
use crate::ui::fmt::Lang;
use crate::ui::widgets::{decimal_input, html_page_status, vocab_word};
use crate::ui::{Session, store_error, urlencode};

pub(super) use words::Sent;
use words::{expiry_note, lot_status_badge};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/materiales", get(materials_page))
        .route("/materiales/catalogo", post(create_material))
        .route("/materiales/catalogo/{code}", post(update_material))
        .route("/materiales/lotes", post(receive_lot))
        .route("/materiales/lotes/{lot_id}", get(lot::lot_page))
        .route("/materiales/lotes/{lot_id}/{action}", post(lot::dispose))
}

/// The list's filters and what the page says was just done, from its address.
#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    lab: Option<String>,
    material: Option<String>,
    estado: Option<String>,
    hecho: Option<String>,
    material_hecho: Option<String>,
}

/// What a refused form shows above the page.
pub(super) struct Refused {
    pub(super) notice: Markup,
    pub(super) status: StatusCode,
    pub(super) typed: Typed,
}

async fn materials_page(
    State(state): State<AppState>,
    s: Session,
    Query(q): Query<ListQuery>,
) -> Response {
    render(&state, &s, &q, None).await
}

fn done_text(s: &Session, what: &str) -> Option<&'static str> {
    let l = s.lang;
    Some(match what {
        "material-creado" => l.t("lots-done-material-created"),
        "material-cambiado" => l.t("lots-done-material-changed"),
        _ => return None,
    })
}

/// The page, with a refused form's notice and typed values when there is one.
pub(super) async fn render(
    state: &AppState,
    s: &Session,
    q: &ListQuery,
    refused: Option<Refused>,
) -> Response {
    let l = s.lang;
    let materials = match state.store.list_materials(&s.actor).await {
        Ok(m) => m,
        Err(e) => return store_error(l, e),
    };
    let labs = match state.store.list_labs(&s.actor).await {
        Ok(labs) => labs,
        Err(e) => return store_error(l, e),
    };
    let scope = s.actor.scope();
    let labs: Vec<LabCode> = labs
        .into_iter()
        .map(|lab| lab.code)
        .filter(|code| scope.includes(code))
        .collect();
    // The filters as the API reads them: a value that is not a code or a status filters
    // nothing out and is said as it is.
    let mut f = Fields::default();
    let query = LotQuery {
        lab: f
            .check_opt("lab", forms::chosen(&q.lab), LabCode::parse)
            .flatten(),
        material: f
            .check_opt("material", forms::chosen(&q.material), MaterialCode::parse)
            .flatten(),
        status: f
            .check_opt("status", forms::chosen(&q.estado), str::parse::<LotStatus>)
            .flatten(),
    };
    let filter_error = f.finish().err().map(ApiError::from);
    let lots = match state.store.list_lots(&s.actor, &query).await {
        Ok(lots) => lots,
        Err(e) => return store_error(l, e),
    };
    let (notice, status, typed) = match refused {
        Some(r) => (Some(r.notice), r.status, r.typed),
        None => (None, StatusCode::OK, Typed::default()),
    };
    let done = q.hecho.as_deref().and_then(|h| done_text(s, h));
    let body = html! {
        @if let Some(n) = notice { (n) }
        @if let Some(t) = done {
            div.notice.ok role="status" { p { (t) @if let Some(code) = &q.material_hecho { " " strong { (code) } } } }
        }
        section aria-labelledby="lotes-titulo" {
            h2 #lotes-titulo { (l.t("lots-lots")) }
            (forms::filters(s, &labs, &materials, q))
            @if let Some(e) = &filter_error { (crate::ui::error_box(l, e)) }
            (lots_table(s, &lots, &materials, labs.len() != 1))
        }
        @if s.actor.may(Action::ReceiveLots).is_ok() && !s.actor.labs.is_empty() {
            section aria-labelledby="recepcion-titulo" {
                h2 #recepcion-titulo { (l.t("lots-receive-title")) }
                (forms::receipt_form(s, &materials, &typed))
            }
        }
        section aria-labelledby="catalogo" {
            h2 #catalogo { (l.t("lots-catalogue")) }
            (forms::catalogue(s, &materials, &typed))
        }
    };
    html_page_status(s, status, l.t("lots-title"), "/materiales", body)
}

/// The name of material `code` as the catalogue has it.
pub(super) fn material_name<'a>(materials: &'a [Material], code: &str) -> Option<&'a str> {
    materials
        .iter()
        .find(|m| m.code.as_str() == code)
        .map(|m| m.name.as_str())
}

fn lots_table(s: &Session, lots: &[LotView], materials: &[Material], show_lab: bool) -> Markup {
    let l = s.lang;
    let today = words::lab_today();
    if lots.is_empty() {
        return html! { p.muted #sin-lotes { (l.t("lots-none")) } };
    }
    html! {
        div.scroll { table #tabla-lotes {
            thead { tr {
                th { (l.t("lots-lot")) } th { (l.t("lots-material")) }
                @if show_lab { th { (l.t("laboratory")) } }
                th { (l.t("lots-supplier")) } th { (l.t("lots-remaining")) }
                th { (l.t("expiry")) } th { (l.t("status")) }
            } }
            tbody {
                @for v in lots {
                    @let lot = &v.lot;
                    tr id={ "lote-" (lot.lot_id.as_str()) } {
                        td { a href={ "/materiales/lotes/" (urlencode(lot.lot_id.as_str())) } { (lot.lot_id.as_str()) } }
                        td { (lot.material_code.as_str()) @if let Some(name) = material_name(materials, lot.material_code.as_str()) { br; span.muted { (name) } } }
                        @if show_lab { td { (lot.lab_code.as_str()) } }
                        td { (lot.supplier) br; span.muted { (l.t("lots-supplier-lot")) " " (lot.supplier_lot) } }
                        td { (words::quantity_of(l, v.quantity_available, &v.unit)) " " span.muted { (l.t("lots-of")) " " (words::quantity_of(l, lot.quantity_received, &v.unit)) } }
                        td { (l.date(lot.expiry_date)) @if let Some(n) = expiry_note(l, lot, today) { br; (n) } }
                        td { (lot_status_badge(l, lot.status)) }
                    }
                }
            }
        } }
    }
}

/// Receives a lot from the receipt form: to the lot's page, in quarantine.
async fn receive_lot(
    State(state): State<AppState>,
    s: Session,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let sent = Sent(pairs);
    if !s.csrf_ok(sent.get("csrf")) {
        return s.csrf_refused();
    }
    let result = match receipt(s.lang, &sent) {
        Ok(r) => state
            .store
            .receive_lot(&s.actor, r)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => Redirect::to(&format!(
            "/materiales/lotes/{}?hecho=recibido",
            urlencode(v.lot.lot_id.as_str())
        ))
        .into_response(),
        Err(e) => refused_list(&state, &s, &e, Typed::of("recepcion", &sent.0)).await,
    }
}

/// The receipt of the form, its fields parsed as the API parses them (a decimal comma taken
/// for a point); every other rule is the store's.
fn receipt(l: Lang, sent: &Sent) -> Result<LotReceipt, ApiError> {
    let mut f = Fields::default();
    let lab_code =
        required(&mut f, sent, "lab_code").and_then(|v| f.check("lab_code", LabCode::parse(v)));
    let material_code = required(&mut f, sent, "material_code")
        .and_then(|v| f.check("material_code", MaterialCode::parse(v)));
    let quantity_received = required(&mut f, sent, "quantity_received")
        .and_then(|v| f.check("quantity_received", quantity(&decimal_input(v))));
    let received_on = date(l, &mut f, sent, "received_on");
    let expiry_date = date(l, &mut f, sent, "expiry_date");
    f.finish()?;
    match (
        lab_code,
        material_code,
        quantity_received,
        received_on,
        expiry_date,
    ) {
        (
            Some(lab_code),
            Some(material_code),
            Some(quantity_received),
            Some(received_on),
            Some(expiry_date),
        ) => Ok(LotReceipt {
            lab_code,
            material_code,
            supplier: sent.get("supplier").to_owned(),
            supplier_lot: sent.get("supplier_lot").to_owned(),
            received_on,
            expiry_date,
            quantity_received,
        }),
        // Never: a value missing here was a field refused above.
        _ => Err(ApiError::validation("material_code", Problem::Empty)),
    }
}

/// A field's trimmed value, or `Empty` pushed for it.
pub(super) fn required<'a>(f: &mut Fields, sent: &'a Sent, name: &str) -> Option<&'a str> {
    let v = sent.get(name).trim();
    if v.is_empty() {
        f.push(name, Problem::Empty);
        None
    } else {
        Some(v)
    }
}

/// A date field (`YYYY-MM-DD`, as a date input sends it).
pub(super) fn date(l: Lang, f: &mut Fields, sent: &Sent, name: &str) -> Option<NaiveDate> {
    let v = required(f, sent, name)?;
    f.check(
        name,
        v.parse::<NaiveDate>().map_err(|_| l.t("is-not-a-date")),
    )
}

async fn refused_list(state: &AppState, s: &Session, e: &ApiError, typed: Typed) -> Response {
    let refused = Refused {
        notice: crate::ui::error_box(s.lang, e),
        status: e.status,
        typed,
    };
    render(state, s, &ListQuery::default(), Some(refused)).await
}

/// The material of the new-material or edit form.
fn material_of(sent: &Sent, code: &str) -> Result<Material, ApiError> {
    let mut f = Fields::default();
    let code = f.check("code", MaterialCode::parse(code.trim()));
    let kind = match sent.get("kind") {
        "" => {
            f.push("kind", Problem::Empty);
            None
        }
        word => f.check("kind", word.parse::<MaterialKind>()),
    };
    f.finish()?;
    match (code, kind) {
        (Some(code), Some(kind)) => Ok(Material {
            code,
            name: sent.get("name").to_owned(),
            kind,
            unit: sent.get("unit").to_owned(),
        }),
        _ => Err(ApiError::validation("code", Problem::Empty)),
    }
}

fn back_to_catalogue(what: &str, code: &str) -> Response {
    Redirect::to(&format!(
        "/materiales?hecho={what}&material_hecho={}#catalogo",
        urlencode(code)
    ))
    .into_response()
}

/// The coordinator adds a material to the catalogue.
async fn create_material(
    State(state): State<AppState>,
    s: Session,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let sent = Sent(pairs);
    if !s.csrf_ok(sent.get("csrf")) {
        return s.csrf_refused();
    }
    let result = match material_of(&sent, sent.get("code")) {
        Ok(m) => state
            .store
            .create_material(&s.actor, m)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(m) => back_to_catalogue("material-creado", m.code.as_str()),
        Err(e) => {
            let e = words::duplicate_as_field(s.lang, e, "code", "lots-code-taken");
            refused_list(&state, &s, &e, Typed::of("material", &sent.0)).await
        }
    }
}

/// The coordinator changes a material of the catalogue (its unit only while no lot of it was
/// received: the store's rule).
async fn update_material(
    State(state): State<AppState>,
    s: Session,
    Path(code): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let sent = Sent(pairs);
    if !s.csrf_ok(sent.get("csrf")) {
        return s.csrf_refused();
    }
    let result = match material_of(&sent, &code) {
        Ok(m) => state
            .store
            .update_material(
                &s.actor,
                &code,
                MaterialUpdate {
                    name: Some(m.name),
                    kind: Some(m.kind),
                    unit: Some(m.unit),
                },
            )
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(m) => back_to_catalogue("material-cambiado", m.code.as_str()),
        Err(e) => {
            let form = format!("material-{code}");
            refused_list(&state, &s, &e, Typed::of(&form, &sent.0)).await
        }
    }
}

/// A material's kind in words.
pub(super) fn kind_word(s: &Session, kind: MaterialKind) -> String {
    vocab_word(s.lang, "lots-kind", kind.as_str())
}
