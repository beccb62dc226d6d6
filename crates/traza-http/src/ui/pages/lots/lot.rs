//! A material lot's page (SPEC §8): what it is and what is left of it, its disposition
//! signature, QA's release and rejection forms while it is in quarantine, and the recall trace
//! — every batch whose current step entries used it (with the step and the quantity) and every
//! patient who received one of those batches.
//!
//! The lot and its trace are the store's `trace_lot` (the call of `GET /trace/lots/{lot_id}`):
//! scoped like batches, so a lot of another laboratory is "not found" and the patients shown
//! are those of batches the reader may see, as on the traceability page. The signatures are
//! `release_lot` and `reject_lot`, the API's calls: a wrong password, a role that may not
//! sign, a lot no longer in quarantine come back from the store and are said in words.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::{Markup, html};
use rust_decimal::Decimal;
use serde::Deserialize;
use traza_domain::access::Action;
use traza_domain::materials::{DispositionRefusal, LotStatus, check_disposition};
use traza_domain::vocab::{BatchStatus, SignatureMeaning};
use traza_store::{ErrorCode, LotView, StoreError, TraceBatch};

use super::words::{Sent, expiry_note, lab_today, lot_status_badge, quantity_of, say};
use crate::AppState;
use crate::error::ApiError;
use crate::ui::vigilance::reaction_link;
use crate::ui::widgets::Typed;
use crate::ui::widgets::{html_page_status, meaning_text, status_name};
use crate::ui::{Session, store_error, urlencode};

#[derive(Deserialize, Default)]
pub(super) struct LotDone {
    hecho: Option<String>,
}

pub(super) async fn lot_page(
    State(state): State<AppState>,
    s: Session,
    Path(lot_id): Path<String>,
    Query(d): Query<LotDone>,
) -> Response {
    let l = s.lang;
    let done = match d.hecho.as_deref() {
        Some("recibido") => Some(l.t("lots-done-received")),
        Some("liberado") => Some(l.t("lots-done-released")),
        Some("rechazado") => Some(l.t("lots-done-rejected")),
        _ => None,
    };
    let notice = done.map(|t| html! { div.notice.ok role="status" { p { (t) } } });
    render(
        &state,
        &s,
        &lot_id,
        notice,
        StatusCode::OK,
        &Typed::default(),
    )
    .await
}

/// One use of the lot by a batch: the step whose current entry took it, and how much.
struct Use {
    step: String,
    quantity: Decimal,
}

/// What each batch of the trace took of the lot, by its current step entries (the domain says
/// which entry of a step counts: a correction replaces one).
async fn uses_of(
    state: &AppState,
    s: &Session,
    lot_id: &str,
    batches: &[TraceBatch],
) -> Result<Vec<Vec<Use>>, StoreError> {
    let mut out = Vec::with_capacity(batches.len());
    for b in batches {
        let entries = state.store.list_steps(&s.actor, &b.batch_number).await?;
        let domain: Vec<_> = entries.iter().map(|e| e.as_entry()).collect();
        let current: Vec<i64> = traza_domain::mbr::current_entries(&domain)
            .values()
            .map(|e| e.id)
            .collect();
        out.push(
            entries
                .iter()
                .filter(|e| current.contains(&e.id))
                .flat_map(|e| {
                    e.materials
                        .iter()
                        .filter(|m| m.lot_id == lot_id)
                        .map(|m| Use {
                            step: e.step_code.clone(),
                            quantity: m.quantity,
                        })
                })
                .collect(),
        );
    }
    Ok(out)
}

async fn render(
    state: &AppState,
    s: &Session,
    lot_id: &str,
    notice: Option<Markup>,
    status: StatusCode,
    typed: &Typed,
) -> Response {
    let l = s.lang;
    let (v, batches) = match state.store.trace_lot(&s.actor, lot_id).await {
        Ok(t) => t,
        Err(e) => return store_error(l, e),
    };
    let id = v.lot.lot_id.as_str().to_owned();
    let uses = match uses_of(state, s, &id, &batches).await {
        Ok(u) => u,
        Err(e) => return store_error(l, e),
    };
    let material = state
        .store
        .get_material(&s.actor, v.lot.material_code.as_str())
        .await
        .ok();
    let may_dispose = v.lot.status == LotStatus::Quarantine
        && s.actor
            .may_in_lab(Action::DisposeLots, &v.lot.lab_code)
            .is_ok();
    let body = html! {
        @if let Some(n) = notice { (n) }
        (facts(s, &v, material.as_ref().map(|m| m.name.as_str())))
        (signatures(s, &v))
        @if may_dispose { (disposition_forms(s, &v, typed)) }
        (trace(s, &v, &batches, &uses))
        p { a href="/materiales" { (l.t("lots-back")) } }
    };
    let title = format!("{} {id}", l.t("lots-lot-title"));
    html_page_status(s, status, &title, "/materiales", body)
}

fn facts(s: &Session, v: &LotView, material_name: Option<&str>) -> Markup {
    let l = s.lang;
    let lot = &v.lot;
    html! {
        dl.facts.card #datos-lote {
            dt { (l.t("lots-material")) } dd { (lot.material_code.as_str()) @if let Some(n) = material_name { " · " (n) } }
            dt { (l.t("laboratory")) } dd { (lot.lab_code.as_str()) }
            dt { (l.t("lots-supplier")) } dd { (lot.supplier) }
            dt { (l.t("lots-supplier-lot")) } dd { (lot.supplier_lot) }
            dt { (l.t("lots-received")) } dd { (l.date(lot.received_on)) " · " (l.t("lots-by")) " " (v.received_by) }
            dt { (l.t("lots-quantity-received")) } dd { (quantity_of(l, lot.quantity_received, &v.unit)) }
            dt { (l.t("lots-remaining")) } dd #restante { (quantity_of(l, v.quantity_available, &v.unit)) }
            dt { (l.t("expiry")) } dd { (l.date(lot.expiry_date)) @if let Some(n) = expiry_note(l, lot, lab_today()) { " " (n) } }
            dt { (l.t("status")) } dd #estado-lote { (lot_status_badge(l, lot.status)) }
        }
    }
}

fn signatures(s: &Session, v: &LotView) -> Markup {
    let l = s.lang;
    html! {
        section aria-labelledby="firmas-lote" {
            h2 #firmas-lote { (l.t("signatures")) }
            @match &v.disposition {
                Some(sig) => {
                    div.card.signature #firma-lote {
                        p { strong { (meaning_text(l, sig.meaning)) } }
                        p { (l.t("signer")) ": " strong { (sig.signer_full_name) } " (" (sig.signer) ") · " (l.instant(sig.signed_at)) }
                        @if let Some(r) = &sig.reason { p { (l.t("reason")) ": " (r) } }
                    }
                }
                None => { p.muted { (l.t("lots-no-signature")) } }
            }
        }
    }
}

/// QA's release and rejection of a lot in quarantine, each signed with the password. The
/// release is offered only when the domain would allow it today (an expired lot may only be
/// rejected), saying why not otherwise.
fn disposition_forms(s: &Session, v: &LotView, typed: &Typed) -> Markup {
    let l = s.lang;
    let id = v.lot.lot_id.as_str();
    let action = |what: &str| format!("/materiales/lotes/{}/{what}", urlencode(id));
    let release = check_disposition(&v.lot, LotStatus::Released, lab_today());
    let signer = html! {
        p { (l.t("signer")) ": " strong { (s.actor.full_name) } " (" (s.actor.username.as_str()) ") · " (l.instant(Utc::now())) }
    };
    html! {
        section aria-labelledby="disposicion" {
            h2 #disposicion { (l.t("lots-disposition")) }
            div.grid {
                @match release {
                    Ok(_) => {
                        form.card #form-liberar method="post" action=(action("liberar")) {
                            input type="hidden" name="csrf" value=(s.csrf());
                            h3 { (l.t("lots-release")) }
                            p { strong { (l.t("meaning-of-the-signature")) ": " } (meaning_text(l, SignatureMeaning::MaterialReleased)) }
                            (signer)
                            label for="liberar_password" { (l.t("re-enter-your-password-to-sign")) }
                            input #liberar_password type="password" name="password" required autocomplete="current-password";
                            button.primary type="submit" { (l.t("lots-sign-release")) }
                        }
                    }
                    Err(why) => { div.notice.warn #sin-liberacion role="note" { p { (refused_words(s, &why)) } } }
                }
                form.card #form-rechazar method="post" action=(action("rechazar")) {
                    input type="hidden" name="csrf" value=(s.csrf());
                    h3 { (l.t("lots-reject")) }
                    p { strong { (l.t("meaning-of-the-signature")) ": " } (meaning_text(l, SignatureMeaning::MaterialRejected)) }
                    (signer)
                    label for="rechazar_reason" { (l.t("reason-for-rejection")) }
                    textarea #rechazar_reason name="reason" required rows="2" { (typed.get("rechazar", "reason").unwrap_or_default()) }
                    label for="rechazar_password" { (l.t("re-enter-your-password-to-sign")) }
                    input #rechazar_password type="password" name="password" required autocomplete="current-password";
                    button.danger type="submit" { (l.t("lots-sign-reject")) }
                }
            }
        }
    }
}

/// Why a disposition cannot be signed, in words.
fn refused_words(s: &Session, why: &DispositionRefusal) -> String {
    let l = s.lang;
    match why {
        DispositionRefusal::NotInQuarantine { status } => say(
            l,
            "lots-not-in-quarantine",
            &[(
                "status",
                crate::ui::i18n::lookup(l, &format!("lot-status-{}", status.as_str()))
                    .unwrap_or(status.as_str())
                    .to_owned(),
            )],
        ),
        DispositionRefusal::Expired { expiry_date } => say(
            l,
            "lots-expired-reject-only",
            &[("date", l.date(*expiry_date))],
        ),
        DispositionRefusal::NotADisposition => {
            l.t("error-the-batch-does-not-allow-that").to_owned()
        }
    }
}

/// The recall trace: the batches that used the lot and the patients who received them.
fn trace(s: &Session, v: &LotView, batches: &[TraceBatch], uses: &[Vec<Use>]) -> Markup {
    let l = s.lang;
    let unit = v.unit.as_str();
    let patients: Vec<_> = batches
        .iter()
        .flat_map(|b| b.administrations.iter().map(move |a| (b, a)))
        .collect();
    html! {
        section aria-labelledby="traza-lote" {
            h2 #traza-lote { (l.t("lots-trace")) }
            p.hint { (l.t("lots-trace-hint")) }
            h3 { (l.t("lots-trace-batches")) }
            @if batches.is_empty() { p.muted #sin-lotes-fabricados { (l.t("lots-trace-no-batches")) } } @else {
                div.scroll { table #traza-lotes {
                    thead { tr {
                        th { (l.t("batch")) } th { (l.t("product")) } th { (l.t("step")) }
                        th { (l.t("lots-quantity-used")) } th { (l.t("status")) }
                    } }
                    tbody { @for (b, used) in batches.iter().zip(uses) { tr {
                        td { a href={ "/lotes/" (urlencode(&b.batch_number)) } { (b.batch_number) } }
                        td { (b.product_code) " · " (b.lab_code) }
                        td { @if used.is_empty() { "—" } @for (i, u) in used.iter().enumerate() { @if i > 0 { br; } (u.step) } }
                        td { @if used.is_empty() { "—" } @for (i, u) in used.iter().enumerate() { @if i > 0 { br; } (quantity_of(l, u.quantity, unit)) } }
                        td { (b.status.parse::<BatchStatus>().map(|st| status_name(l, st)).unwrap_or(&b.status)) }
                    } } }
                } }
            }
            h3 { (l.t("lots-trace-patients")) }
            @if patients.is_empty() { p.muted #sin-pacientes { (l.t("lots-trace-no-patients")) } } @else {
                div.scroll { table #traza-pacientes {
                    thead { tr {
                        th { (l.t("patient")) } th { (l.t("administered-on")) } th { (l.t("hospital")) } th { (l.t("batch")) }
                    } }
                    tbody { @for (b, a) in &patients { tr {
                        td { (a.patient_code) @for r in &a.reactions { br; (reaction_link(l, r.id, r.severity, r.status)) } }
                        td { (l.date(a.administered_on)) }
                        td { (a.hospital) }
                        td { a href={ "/lotes/" (urlencode(&b.batch_number)) } { (b.batch_number) } }
                    } } }
                } }
            }
        }
    }
}

/// QA signs a lot's release or rejection; a refusal comes back on the lot's page in words, the
/// reason as it was typed.
pub(super) async fn dispose(
    State(state): State<AppState>,
    s: Session,
    Path((lot_id, action)): Path<(String, String)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let sent = Sent(pairs);
    if !s.csrf_ok(sent.get("csrf")) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let (store, actor) = (&state.store, &s.actor);
    let password = sent.get("password");
    let (result, to) = match action.as_str() {
        "liberar" => (
            store.release_lot(actor, &lot_id, password).await,
            LotStatus::Released,
        ),
        "rechazar" => (
            store
                .reject_lot(actor, &lot_id, password, sent.get("reason"))
                .await,
            LotStatus::Rejected,
        ),
        _ => return store_error(l, StoreError::NotFound("form")),
    };
    let e = match result {
        Ok(v) => {
            let done = if to == LotStatus::Released {
                "liberado"
            } else {
                "rechazado"
            };
            return Redirect::to(&format!(
                "/materiales/lotes/{}?hecho={done}",
                urlencode(v.lot.lot_id.as_str())
            ))
            .into_response();
        }
        Err(e) => ApiError::from(e),
    };
    // A lot that may not take this disposition: why, as the domain says it of the lot now.
    let said = if e.code == ErrorCode::InvalidTransition {
        match store.get_lot(actor, &lot_id).await {
            Ok(now) => check_disposition(&now.lot, to, lab_today())
                .err()
                .map(|why| refused_words(&s, &why)),
            Err(_) => None,
        }
    } else {
        None
    };
    let notice = match said {
        Some(text) => html! {
            div.notice.error role="alert" {
                p { strong { (crate::ui::error_title(l, e.code)) } }
                p { (text) }
            }
        },
        None => crate::ui::error_box(l, &e),
    };
    render(
        &state,
        &s,
        &lot_id,
        Some(notice),
        e.status,
        &Typed::of(&action, &sent.0),
    )
    .await
}
