//! The batch record page and the forms on it: steps, QC results, deviations, end of
//! manufacture, rejection, administration, holds.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::access::Action;
use traza_domain::batch::Batch;
use traza_domain::codes::PatientCode;
use traza_domain::network::Product;
use traza_domain::vigilance::ReactionStatus;
use traza_domain::vocab::{BatchStatus, DeviationSeverity, DeviationStatus, TestKind};
use traza_store::ErrorCode;
use traza_store::{BatchView, QcInput, RuleDetail};

use super::guided_forms::Choice;
use crate::AppState;
use crate::error::ApiError;
use crate::ui::fmt::{Lang, from_madrid, madrid, parse_local};
use crate::ui::vigilance::reaction_link;
use crate::ui::widgets::{
    Done, Typed, batch_status, date_field, decimal_input, empty, html_page_status, meaning_text,
    origin_name, qc_table, required, route_name, rules_today, value_from_label, value_label,
};
use crate::ui::{Session, audit_what, error_box, holds, rule_line, store_error, urlencode};

fn done_text(l: Lang, what: &str) -> Option<&'static str> {
    Some(match what {
        "creado" => l.t("batch-created"),
        "paso" => l.t("step-recorded"),
        "qc" => l.t("qc-result-recorded"),
        "desviacion" => l.t("deviation-opened"),
        "cerrada" => l.t("deviation-closed"),
        "completado" => l.t("manufacture-ended-the-batch-is-in"),
        "liberado" => l.t("batch-certified-and-released"),
        "rechazado" => l.t("batch-rejected"),
        "administracion" => l.t("administration-recorded"),
        "retenido" => l.t("batch-put-on-hold"),
        "levantada" => l.t("hold-lifted"),
        "confirmado" => l.t("history-confirmed-the-batch-may-be"),
        _ => return None,
    })
}

pub(super) async fn batch_page(
    State(state): State<AppState>,
    s: Session,
    Path(number): Path<String>,
    Query(d): Query<Done>,
    Query(g): Query<GuidedStep>,
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
        &Typed::default(),
        &Choice::asked(g.paso),
    )
    .await
}

/// The step of a guided batch whose form the page shows (`?paso=`), when not the next one.
#[derive(Deserialize)]
pub(super) struct GuidedStep {
    paso: Option<String>,
}

/// What would still stand between an in-production batch and its release once it is in
/// quarantine: the release rules about its record (tests, results, deviations, holds).
async fn still_missing(state: &AppState, s: &Session, number: &str) -> Vec<RuleDetail> {
    state
        .store
        .release_blockers(&s.actor, number)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| traza_domain::batch::ReleaseBlocker::is_record_rule(&r.rule))
        .collect()
}

/// The batch page after a refused step of its guided record: the step's form as it was sent.
pub(super) async fn render_guided(
    state: &AppState,
    s: &Session,
    number: &str,
    notice: Markup,
    status: StatusCode,
    choice: &Choice,
) -> Response {
    let typed = Typed::default();
    render_batch(state, s, number, Some(notice), status, &typed, choice).await
}

async fn render_batch(
    state: &AppState,
    s: &Session,
    number: &str,
    notice: Option<Markup>,
    status: StatusCode,
    typed: &Typed,
    choice: &Choice,
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
    let pending = if v.batch.status == BatchStatus::InProduction {
        still_missing(state, s, number).await
    } else {
        Vec::new()
    };
    // An imported batch says first where it came from (SPEC §4).
    let notice = match super::imported::imported_section(state, s, &v, &audit).await {
        Some(section) => Some(html! { @if let Some(n) = notice { (n) } (section) }),
        None => notice,
    };
    // The electronic batch record: guided or not, its steps and exceptions (SPEC §8).
    let notice = match super::guided::section(state, s, &v, choice).await {
        Some(section) => Some(html! { @if let Some(n) = notice { (n) } (section) }),
        None => notice,
    };
    // Four eyes: who else could certify, when the reader took part.
    let notice = match super::release::other_signers(state, s, &v).await {
        Some(signers) => Some(html! { @if let Some(n) = notice { (n) } (signers) }),
        None => notice,
    };
    let body = batch_body(s, &v, product.as_ref(), &audit, notice, typed, &pending);
    html_page_status(
        s,
        status,
        &format!("{} {}", l.t("batch"), v.batch.batch_number.as_str()),
        "/lotes",
        body,
    )
}

pub(super) fn facts(l: Lang, b: &Batch, product: Option<&Product>) -> Markup {
    html! {
        dl.facts {
            dt { (l.t("status")) } dd { (batch_status(l, b)) (holds::held_badge(l, b.on_hold)) }
            dt { (l.t("product")) } dd { (product.map_or(b.product_code.as_str(), |p| p.name.as_str())) " (" (b.product_code.as_str()) ")" }
            dt { (l.t("laboratory")) } dd { (b.lab_code.as_str()) }
            dt { (l.t("origin")) } dd { (origin_name(l, b.origin)) }
            dt { (l.t("access-route")) } dd { (route_name(l, b.access_route)) @if let Some(t) = &b.trial_id { " · " (t.as_str()) } }
            dt { (l.t("donor")) } dd { (b.donor_code.as_str()) }
            dt { (l.t("patient")) } dd { (b.patient_code.as_ref().map_or("—", |p| p.as_str())) }
            dt { (l.t("manufacturing-start")) } dd { (l.date(b.manufacturing_start)) }
            dt { (l.t("manufacturing-end")) } dd { (l.opt_date(b.manufacturing_end)) }
            dt { (l.t("expiry")) } dd { (l.opt_date(b.expiry_date)) }
            dt { (l.t("doses")) } dd { (b.doses) }
            @if let Some(v) = &b.volume_ml { dt { (l.t("volume")) } dd { (l.number(&v.to_string())) " ml" } }
            @if let Some(r) = &b.released_by { dt { (l.t("released-by")) } dd { (r) " · " (l.opt_date(b.release_date)) } }
            @if let Some(n) = &b.notes { dt { (l.t("notes")) } dd { (n) } }
        }
    }
}

fn batch_body(
    s: &Session,
    v: &BatchView,
    product: Option<&Product>,
    audit: &[traza_store::StoredAuditEvent],
    notice: Option<Markup>,
    typed: &Typed,
    pending: &[RuleDetail],
) -> Markup {
    let l = s.lang;
    let b = &v.batch;
    let n = b.batch_number.as_str();
    let csrf = s.csrf();
    let may = |a: Action| s.actor.may(a).is_ok();
    let open = b.status.accepts_records();
    let now_local = madrid(Utc::now()).0.format("%Y-%m-%dT%H:%M").to_string();
    let hidden = html! { input type="hidden" name="csrf" value=(csrf); input type="hidden" name="version" value=(b.version); };
    // The test the result form offers first: the one typed before a refusal, else the first
    // test of the specification without a current result.
    let current = traza_domain::batch::current_results(&v.qc_results);
    let next_test = typed.get("qc", "test").map(str::to_owned).or_else(|| {
        product.and_then(|p| {
            p.specification
                .tests()
                .iter()
                .find(|t| !current.iter().any(|r| r.test == t.test))
                .map(|t| t.test.clone())
        })
    });
    // Four eyes: QA who records anything on this batch may no longer certify it.
    let took_part = traza_domain::signing::participants(
        &v.created_by,
        v.events.iter().map(|e| e.recorded_by.as_str()),
        v.qc_results.iter().map(|r| r.recorded_by.as_str()),
    )
    .contains(s.actor.username.as_str());
    let four_eyes = (may(Action::Release)
        && matches!(
            b.status,
            BatchStatus::InProduction | BatchStatus::Quarantine
        ))
    .then_some(l.t("four-eyes-warning"))
    // Once the reader took part, `release::other_signers` says who else could sign.
    .filter(|_| !took_part);
    let open_reactions = v
        .reactions
        .iter()
        .filter(|r| r.status == ReactionStatus::Open)
        .count();
    html! {
        @if let Some(n) = notice { (n) }
        @if let Some(banner) = holds::hold_banner(l, v) { (banner) }
        @if holds::awaits_confirmation(v) { (holds::confirm_history_form(s, v, &hidden)) }
        @if let Some(text) = four_eyes { div.notice.warn role="note" { p { (text) } } }
        @if open_reactions > 0 {
            div.notice.warn role="status" { p { strong { (l.t("vigilance-heading")) } (l.t("adverse-reactions-on-this-batch-are")) " (" (open_reactions) ")." } }
        }
        div.grid {
            section.card aria-labelledby="datos" { h2 #datos { (l.t("batch-record")) } (facts(l, b, product)) }
            section.card aria-labelledby="acciones" {
                h2 #acciones { (l.t("actions")) }
                // The whole record as a document, for inspectors and the archive (SPEC §8).
                p { a #registro-pdf href={ "/lotes/" (n) "/registro.pdf" } download { (l.t("pdf-download")) } }
                @if b.status == BatchStatus::Quarantine && may(Action::Release) {
                    p { a href={ "/lotes/" (n) "/liberar" } { strong { (l.t("review-and-certify-release")) } } }
                }
                @if b.status == BatchStatus::InProduction && may(Action::RecordBatchData) {
                    form #form-completar .card method="post" action={ "/lotes/" (n) "/completar" } {
                        (hidden)
                        label for="manufacturing_end" { (l.t("manufacturing-end")) }
                        input #manufacturing_end type="date" name="manufacturing_end" required value=(typed.get("completar", "manufacturing_end").map_or_else(|| rules_today().to_string(), str::to_owned));
                        @if !pending.is_empty() {
                            div.notice.warn role="note" {
                                p { strong { (l.t("complete-still-missing")) } }
                                ul { @for r in pending { li { (rule_line(l, r)) } } }
                                label { input type="checkbox" name="confirmar" value="si" required; " " (l.t("complete-anyway")) }
                            }
                        }
                        button.primary type="submit" { (l.t("end-manufacture-to-quarantine")) }
                    }
                }
                @if b.status == BatchStatus::Released && b.expired_on(rules_today()) {
                    div.notice.warn role="status" { p { strong { (l.t("expired-badge")) } " · " (l.t("expired-no-administration")) " " (l.opt_date(b.expiry_date)) "." } }
                } @else if b.status == BatchStatus::Released && may(Action::Administer) {
                    form #form-administracion .card method="post" action={ "/lotes/" (n) "/administracion" } {
                        (hidden)
                        label for="adm_patient" { (l.t("patient-code")) }
                        input #adm_patient name="patient_code" required autocomplete="off" value=[typed.get("administracion", "patient_code")];
                        label for="adm_date" { (l.t("administered-on")) }
                        input #adm_date type="date" name="administered_on" required value=(typed.get("administracion", "administered_on").map_or_else(|| rules_today().to_string(), str::to_owned));
                        label for="adm_hospital" { (l.t("hospital")) }
                        input #adm_hospital name="hospital" required value=[typed.get("administracion", "hospital")];
                        button.primary type="submit" { (l.t("record-administration")) }
                    }
                }
                @if matches!(b.status, BatchStatus::Quarantine) && may(Action::Reject) {
                    form #form-rechazar .card method="post" action={ "/lotes/" (n) "/rechazar" } {
                        (hidden)
                        label for="reject_reason" { (l.t("reason-for-rejection")) }
                        textarea #reject_reason name="reason" required rows="2" { (typed.get("rechazar", "reason").unwrap_or_default()) }
                        label for="reject_password" { (l.t("password-electronic-signature")) }
                        input #reject_password type="password" name="password" required autocomplete="current-password";
                        button.danger type="submit" { (l.t("reject-the-batch-signed")) }
                    }
                }
            }
        }
        section aria-labelledby="qc" {
            h2 #qc { (l.t("qc-results-against-the-specification")) }
            @if let Some(p) = product {
                @if super::imported::is_imported(v) { (super::imported::imported_qc(l, v, p.specification.tests())) }
                @else { (qc_table(l, p.specification.tests(), &v.qc_results)) }
            }
            (holds::qc_history(l, &v.qc_results))
            @if open && may(Action::RecordBatchData) {
                form #form-qc .card method="post" action={ "/lotes/" (n) "/qc" } {
                    (hidden)
                    label for="qc_test" { (l.t("test")) }
                    select #qc_test name="test" required {
                        @if let Some(p) = product { @for t in p.specification.tests() { option value=(t.test) selected[next_test.as_deref() == Some(t.test.as_str())] { (t.test) @if !t.unit.is_empty() { " (" (t.unit) ")" } } } }
                    }
                    label for="qc_value" { (l.t("value")) }
                    input #qc_value name="value" required list="qc_values" autocomplete="off" value=[typed.get("qc", "value")];
                    // The categorical tests' values, in the page's language.
                    datalist #qc_values {
                        @if let Some(p) = product {
                            @for t in p.specification.tests() { @for v in &t.values {
                                option value=(value_label(l, v)) { (t.test) }
                            } }
                        }
                    }
                    label for="qc_supersedes" { (l.t("retest-of-result-no-retests-only")) }
                    input #qc_supersedes name="supersedes" inputmode="numeric" value=[typed.get("qc", "supersedes")];
                    label for="qc_reason" { (l.t("reason-for-the-retest")) }
                    input #qc_reason name="reason" value=[typed.get("qc", "reason")];
                    label for="qc_deviation" { (l.t("deviation-investigating-the-out-of-specification")) }
                    select #qc_deviation name="deviation_id" {
                        option value="" { "—" }
                        @for d in &v.deviations { option value=(d.id) selected[typed.get("qc", "deviation_id") == Some(d.id.to_string().as_str())] { "#" (d.id) " · " (d.description.chars().take(60).collect::<String>()) } }
                    }
                    button.primary type="submit" { (l.t("record-result")) }
                }
            }
        }
        section aria-labelledby="desv" {
            h2 #desv { (l.t("deviations")) }
            @if v.deviations.is_empty() { p.muted { (l.t("none")) } }
            @for d in &v.deviations {
                div.card {
                    p { strong { "#" (d.id) " · " (severity_name(l, d.severity)) " · " (if d.status == DeviationStatus::Open { l.t("open") } else { l.t("closed") }) } }
                    p { (d.description) }
                    p.hint { (l.t("opened-by")) " " (d.opened_by) " · " (l.instant(d.opened_at)) }
                    @if let (Some(r), Some(by), Some(at)) = (&d.resolution, &d.closed_by, &d.closed_at) {
                        p { (l.t("resolution")) ": " (r) } p.hint { (l.t("closed-by")) " " (by) " · " (l.instant(*at)) }
                    }
                    @if d.status == DeviationStatus::Open && may(Action::CloseDeviation) {
                        form method="post" action={ "/lotes/" (n) "/cerrar-" (d.id) } {
                            (hidden)
                            label for={ "res" (d.id) } { (l.t("resolution")) }
                            textarea id={ "res" (d.id) } name="resolution" required rows="2" {}
                            button type="submit" { (l.t("close-the-deviation")) }
                        }
                    }
                }
            }
            @if open && may(Action::RecordBatchData) {
                form #form-desviacion .card method="post" action={ "/lotes/" (n) "/desviacion" } {
                    (hidden)
                    label for="dev_description" { (l.t("deviation-description")) }
                    textarea #dev_description name="description" required rows="2" { (typed.get("desviacion", "description").unwrap_or_default()) }
                    label for="dev_severity" { (l.t("severity")) }
                    select #dev_severity name="severity" { @for sv in DeviationSeverity::ALL { option value=(sv.as_str()) selected[typed.get("desviacion", "severity") == Some(sv.as_str())] { (severity_name(l, *sv)) } } }
                    button type="submit" { (l.t("open-deviation")) }
                }
            }
        }
        section aria-labelledby="pasos" {
            h2 #pasos { (l.t("manufacturing-steps")) }
            @if v.events.is_empty() { p.muted { (l.t("no-steps-recorded")) } }
            ol.timeline {
                @for e in &v.events {
                    li { strong { (e.step) } " · " (l.instant(e.performed_at)) @if let Some(note) = &e.note { br; (note) } br; span.hint { (e.recorded_by) } }
                }
            }
            @if open && may(Action::RecordBatchData) {
                form #form-paso .card method="post" action={ "/lotes/" (n) "/paso" } {
                    (hidden)
                    label for="step" { (l.t("step")) }
                    input #step name="step" required list="pasos-habituales" value=[typed.get("paso", "step")];
                    datalist #pasos-habituales { option value="aislamiento"; option value="siembra"; option value="expansion"; option value="cosecha"; option value="formulacion"; option value="llenado"; }
                    label for="performed_at" { (l.t("performed-madrid-time")) }
                    input #performed_at type="datetime-local" name="performed_at" required value=(typed.get("paso", "performed_at").unwrap_or(&now_local));
                    label for="step_note" { (l.t("note")) }
                    input #step_note name="note" value=[typed.get("paso", "note")];
                    button type="submit" { (l.t("record-step")) }
                }
            }
        }
        (holds::holds_section(s, v, &hidden))
        section aria-labelledby="firmas" {
            h2 #firmas { (l.t("signatures")) }
            @if v.signatures.is_empty() { p.muted { (l.t("not-signed")) } }
            @for sig in &v.signatures {
                div.card.signature {
                    p { strong { (sig.signer_full_name) } " (" (sig.signer) ")" }
                    p { (meaning_text(l, sig.meaning)) }
                    p.hint { (l.instant(sig.signed_at)) " · " (l.t("record-hash")) " " code { (sig.record_hash.get(..16).unwrap_or(&sig.record_hash)) "…" } }
                    @if let Some(r) = &sig.reason { p { (l.t("reason")) ": " (r) } }
                }
            }
        }
        section aria-labelledby="adm" {
            h2 #adm { (l.t("administrations")) }
            @if v.administrations.is_empty() { p.muted { (l.t("none")) } } @else {
                div.scroll { table { thead { tr { th { (l.t("patient")) } th { (l.t("date")) } th { "Hospital" } th { (l.t("recorded-by-2")) } th { (l.t("adverse-reactions")) } } }
                    tbody { @for a in &v.administrations { tr {
                        td { (a.patient_code) } td { (l.date(a.administered_on)) } td { (a.hospital) } td { (a.recorded_by) }
                        td {
                            ul { @for r in v.reactions.iter().filter(|r| r.administration_id == a.id) { li { (reaction_link(l, r.id, r.severity, r.status)) } } }
                            @if may(Action::ReportReaction) {
                                a href={ "/lotes/" (n) "/administraciones/" (a.id) "/reaccion" } { (l.t("report-an-adverse-reaction")) }
                            }
                        }
                    } } } } }
            }
        }
        section aria-labelledby="audit" {
            h2 #audit { (l.t("the-batch-s-audit-trail")) }
            div.scroll { table {
                thead { tr { th { "#" } th { (l.t("when")) } th { (l.t("who")) } th { (l.t("what")) } th { (l.t("reason")) } } }
                tbody { @for e in audit { tr { td { (e.id) } td { (l.instant(e.at)) } td { (e.actor) } td { (audit_what(l, e)) } td { (e.reason.clone().unwrap_or_default()) } } } }
            } }
        }
    }
}

fn severity_name(l: Lang, s: DeviationSeverity) -> &'static str {
    match s {
        DeviationSeverity::Minor => l.t("minor"),
        DeviationSeverity::Major => l.t("major"),
        DeviationSeverity::Critical => l.t("critical"),
    }
}

/// The forms of the batch page, by the last segment of their address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BatchAction {
    Step,
    QcResult,
    OpenDeviation,
    Complete,
    Reject,
    Administer,
    Hold,
    ConfirmHistory,
    LiftHold(i64),
    CloseDeviation(i64),
}

impl BatchAction {
    /// `paso`, `qc`, …, and the forms of one record: `levantar-{hold}`, `cerrar-{deviation}`.
    fn parse(segment: &str) -> Option<BatchAction> {
        let numbered = |prefix: &str| {
            segment
                .strip_prefix(prefix)
                .and_then(|i| i.parse::<i64>().ok())
        };
        Some(match segment {
            "paso" => Self::Step,
            "qc" => Self::QcResult,
            "desviacion" => Self::OpenDeviation,
            "completar" => Self::Complete,
            "rechazar" => Self::Reject,
            "administracion" => Self::Administer,
            "retener" => Self::Hold,
            "confirmar-historico" => Self::ConfirmHistory,
            _ => match (numbered("levantar-"), numbered("cerrar-")) {
                (Some(hold), _) => Self::LiftHold(hold),
                (_, Some(deviation)) => Self::CloseDeviation(deviation),
                _ => return None,
            },
        })
    }
}

/// What every form of the page carries: its CSRF token and, for corrections, the version read.
#[derive(Deserialize)]
struct Common {
    #[serde(default)]
    csrf: String,
    version: Option<i64>,
}

#[derive(Deserialize)]
struct StepForm {
    step: Option<String>,
    performed_at: Option<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
struct QcForm {
    test: Option<String>,
    value: Option<String>,
    supersedes: Option<String>,
    reason: Option<String>,
    deviation_id: Option<String>,
}

#[derive(Deserialize)]
struct DeviationForm {
    description: Option<String>,
    severity: Option<String>,
}

#[derive(Deserialize)]
struct CompleteForm {
    manufacturing_end: Option<String>,
    /// `si` when the user ended manufacture knowing what is still missing.
    confirmar: Option<String>,
}

/// A rejection or a history confirmation: the signature's password, and a reason.
#[derive(Deserialize)]
struct SignForm {
    password: Option<String>,
    reason: Option<String>,
}

#[derive(Deserialize)]
struct AdministerForm {
    patient_code: Option<String>,
    administered_on: Option<String>,
    hospital: Option<String>,
}

/// A hold placed or lifted: its reason.
#[derive(Deserialize)]
struct ReasonForm {
    reason: Option<String>,
}

#[derive(Deserialize)]
struct CloseForm {
    resolution: Option<String>,
}

/// The fields of one form from the body the browser sent.
fn fields<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_urlencoded::from_bytes(body).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// The forms of the batch page; each calls the store method the API calls. An addition to
/// the record (a step, a result, a deviation opened or closed, a hold placed or lifted) does
/// not conflict with a colleague's addition made meanwhile; a change of the batch itself (the
/// end of manufacture, a rejection, an administration, a confirmation) is refused when the
/// batch changed since the page was read, so that nobody signs what they did not see.
pub(super) async fn batch_action(
    State(state): State<AppState>,
    s: Session,
    Path((number, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let common: Common = fields(&body).unwrap_or(Common {
        csrf: String::new(),
        version: None,
    });
    if !s.csrf_ok(&common.csrf) {
        return s.csrf_refused();
    }
    let l = s.lang;
    let (store, actor, n, v) = (&state.store, &s.actor, number.as_str(), common.version);
    let result: Result<&str, ApiError> = async {
        let Some(action) = BatchAction::parse(&action) else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                "no such form",
            ));
        };
        match action {
            BatchAction::Step => {
                let f: StepForm = fields(&body)?;
                let at = parse_local(&required(l, "performed_at", &f.performed_at)?)
                    .map(from_madrid)
                    .ok_or_else(|| {
                        ApiError::validation("performed_at", l.t("is-not-a-date-and-time"))
                    })?;
                let step = required(l, "step", &f.step)?;
                store
                    .record_event(actor, n, None, &step, at, empty(f.note).as_deref())
                    .await?;
                Ok("paso")
            }
            BatchAction::QcResult => {
                let f: QcForm = fields(&body)?;
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
                let supersedes = match empty(f.supersedes) {
                    None => None,
                    Some(x) => Some(x.trim_start_matches('#').parse::<i64>().map_err(|_| {
                        ApiError::validation("supersedes", l.t("is-not-a-result-number"))
                    })?),
                };
                let deviation_id = match empty(f.deviation_id) {
                    None => None,
                    Some(x) => Some(x.parse::<i64>().map_err(|_| {
                        ApiError::validation("deviation_id", l.t("is-not-a-deviation-number"))
                    })?),
                };
                let typed = required(l, "value", &f.value)?;
                let value = match product.specification.test(&test) {
                    Some(t) if t.kind == TestKind::Categorical => value_from_label(l, t, &typed),
                    _ => decimal_input(&typed),
                };
                let input = QcInput {
                    test,
                    value,
                    unit,
                    supersedes,
                    reason: empty(f.reason),
                    deviation_id,
                };
                store.record_qc_result(actor, n, None, input).await?;
                Ok("qc")
            }
            BatchAction::OpenDeviation => {
                let f: DeviationForm = fields(&body)?;
                let severity: DeviationSeverity = required(l, "severity", &f.severity)?
                    .parse()
                    .map_err(|e| ApiError::validation("severity", e))?;
                store
                    .open_deviation(
                        actor,
                        n,
                        None,
                        &required(l, "description", &f.description)?,
                        severity,
                    )
                    .await?;
                Ok("desviacion")
            }
            BatchAction::Complete => {
                let f: CompleteForm = fields(&body)?;
                let end = date_field(l, "manufacturing_end", &f.manufacturing_end)?;
                if f.confirmar.as_deref() != Some("si")
                    && !still_missing(&state, &s, n).await.is_empty()
                {
                    return Err(ApiError::validation(
                        "confirmar",
                        l.t("complete-confirm-required"),
                    ));
                }
                store.complete_batch(actor, n, v, end).await?;
                Ok("completado")
            }
            BatchAction::Reject => {
                let f: SignForm = fields(&body)?;
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
            BatchAction::Administer => {
                let f: AdministerForm = fields(&body)?;
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
            BatchAction::Hold => {
                let f: ReasonForm = fields(&body)?;
                store
                    .place_hold(actor, n, None, &required(l, "reason", &f.reason)?)
                    .await?;
                Ok("retenido")
            }
            BatchAction::ConfirmHistory => {
                let f: SignForm = fields(&body)?;
                store
                    .confirm_history(actor, n, v, &f.password.unwrap_or_default())
                    .await?;
                Ok("confirmado")
            }
            BatchAction::LiftHold(hold) => {
                let f: ReasonForm = fields(&body)?;
                store
                    .lift_hold(actor, n, None, hold, &required(l, "reason", &f.reason)?)
                    .await?;
                Ok("levantada")
            }
            BatchAction::CloseDeviation(deviation) => {
                let f: CloseForm = fields(&body)?;
                let resolution = required(l, "resolution", &f.resolution)?;
                store
                    .close_deviation(actor, n, None, deviation, &resolution)
                    .await?;
                Ok("cerrada")
            }
        }
    }
    .await;
    match result {
        // Back at the form just used (the page opens there, its selector advanced).
        Ok(done) => Redirect::to(&format!(
            "/lotes/{}?hecho={done}#form-{}",
            urlencode(n),
            action.split('-').next().unwrap_or_default()
        ))
        .into_response(),
        Err(e) => {
            let status = e.status;
            let sent: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&body).unwrap_or_default();
            let typed = Typed::of(&action, &sent);
            render_batch(
                &state,
                &s,
                n,
                Some(error_box(l, &e)),
                status,
                &typed,
                &Choice::default(),
            )
            .await
        }
    }
}
