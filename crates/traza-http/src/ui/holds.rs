//! The batch page's integrity parts: holds (why the batch is stopped, placing and lifting),
//! the confirmation of imported released history, and every QC result with the superseded
//! ones marked (SPEC §2). The forms post to the batch page's actions in `pages/batch_record.rs`, which call
//! the same store methods as the API.

use maud::{Markup, html};
use traza_domain::access::Action;
use traza_domain::batch::QcResult;
use traza_domain::batch::awaits_history_confirmation;
use traza_domain::hold::{Hold, check_lift};
use traza_domain::vocab::BatchStatus;
use traza_store::BatchView;

use super::Session;
use super::fmt::Lang;

/// Beside a batch's status in lists and on its page: it is held.
pub(super) fn held_badge(l: Lang, on_hold: bool) -> Markup {
    html! { @if on_hold { " " span.badge.held { (l.t("on-hold")) } } }
}

/// The banner at the top of a held batch: it says why, and that nothing may leave.
pub(super) fn hold_banner(l: Lang, v: &BatchView) -> Option<Markup> {
    let active: Vec<&Hold> = v.holds.iter().filter(|h| h.is_active()).collect();
    (!active.is_empty()).then(|| {
        html! {
            div.notice.error role="alert" {
                p { strong { (l.t("batch-on-hold")) } " — " (l.t("it-may-be-neither-certified-nor")) }
                ul { @for h in &active { li { (h.reason) " (" (h.placed_by) ", " (l.instant(h.placed_at)) ")" } } }
            }
        }
    })
}

/// Every hold of the batch, with the forms to place one and to lift each active one.
pub(super) fn holds_section(s: &Session, v: &BatchView, hidden: &Markup) -> Markup {
    let l = s.lang;
    let n = v.batch.batch_number.as_str();
    let may_hold = s.actor.may(Action::HoldBatch).is_ok();
    // The store refuses the same: the form is offered only where the domain would allow it.
    let may_lift = |h: &Hold| may_hold && check_lift(h, &s.actor).is_ok();
    html! {
        section aria-labelledby="retenciones" {
            h2 #retenciones { (l.t("holds")) }
            @if v.holds.is_empty() { p.muted { (l.t("none")) } }
            @for h in &v.holds {
                div.card {
                    p { strong { "#" (h.id) " · " (if h.is_active() { l.t("active") } else { l.t("lifted") }) } }
                    p { (h.reason) }
                    p.hint { (l.t("placed-by")) " " (h.placed_by) " · " (l.instant(h.placed_at)) }
                    @if let (Some(by), Some(at), Some(why)) = (&h.lifted_by, &h.lifted_at, &h.lift_reason) {
                        p { (l.t("lifted-2")) ": " (why) } p.hint { (by) " · " (l.instant(*at)) }
                    }
                    @if may_lift(h) {
                        form method="post" action={ "/lotes/" (n) "/levantar-" (h.id) } {
                            (hidden)
                            label for={ "lift" (h.id) } { (l.t("reason-for-lifting-it")) }
                            textarea id={ "lift" (h.id) } name="reason" required rows="2" {}
                            button type="submit" { (l.t("lift-the-hold")) }
                        }
                    }
                }
            }
            @if may_hold && !matches!(v.batch.status, BatchStatus::Rejected | BatchStatus::Administered) {
                form #form-retener .card method="post" action={ "/lotes/" (n) "/retener" } {
                    (hidden)
                    label for="hold_reason" { (l.t("reason-for-the-hold")) }
                    textarea #hold_reason name="reason" required rows="2" {}
                    button.danger type="submit" { (l.t("put-the-batch-on-hold")) }
                }
            }
        }
    }
}

/// Whether an imported released batch still waits for QA's confirmation.
pub(super) fn awaits_confirmation(v: &BatchView) -> bool {
    use traza_domain::vocab::SignatureMeaning::HistoricalReleaseConfirmed;
    let confirmed = v
        .signatures
        .iter()
        .any(|s| s.meaning == HistoricalReleaseConfirmed);
    awaits_history_confirmation(&v.batch, confirmed)
}

/// For an imported released batch: the notice, and QA's signed confirmation form.
pub(super) fn confirm_history_form(s: &Session, v: &BatchView, hidden: &Markup) -> Markup {
    let l = s.lang;
    let n = v.batch.batch_number.as_str();
    html! {
        div.notice.warn role="status" {
            p { (l.t("batch-imported-as-released-before-it")) }
        }
        @if s.actor.may(Action::ConfirmHistory).is_ok() {
            form.card method="post" action={ "/lotes/" (n) "/confirmar-historico" } {
                (hidden)
                p { strong { (l.t("meaning-of-the-signature")) ": " } (super::widgets::meaning_text(l, traza_domain::vocab::SignatureMeaning::HistoricalReleaseConfirmed)) }
                label for="confirm_password" { (l.t("password-electronic-signature")) }
                input #confirm_password type="password" name="password" required autocomplete="current-password";
                button.primary type="submit" { (l.t("confirm-the-history-signed")) }
            }
        }
    }
}

/// Every QC result in the order recorded, superseded ones kept and marked: what the QP and an
/// inspector must be able to see (no result disappears behind its retest).
pub(super) fn qc_history(l: Lang, results: &[QcResult]) -> Markup {
    html! {
        @if !results.is_empty() {
            details open {
                summary { (l.t("every-result-recorded")) " (" (results.len()) ")" }
                div.scroll { table {
                    thead { tr {
                        th { "#" } th { (l.t("test")) } th { (l.t("value")) } th { (l.t("outcome")) }
                        th { (l.t("retest-of")) } th { (l.t("reason")) } th { (l.t("state")) } th { (l.t("recorded-by")) }
                    } }
                    tbody { @for r in results {
                        tr id={ "resultado-" (r.id) } class=[r.superseded_by.map(|_| "superseded")] {
                            td { (r.id) } td { (r.test) } td { (l.number(&r.value)) " " (r.unit) } td { (super::widgets::outcome(l, r.outcome)) }
                            td { @if let Some(o) = r.supersedes { "#" (o) } }
                            td { (r.reason.clone().unwrap_or_default()) @if let Some(d) = r.deviation_id { " · " (l.t("deviation")) " #" (d) } }
                            td { @match r.superseded_by {
                                Some(by) => { span.badge { (l.t("superseded")) } " " (l.t("by")) " #" (by) }
                                None => { (l.t("current")) }
                            } }
                            td { (r.recorded_by) }
                        }
                    } }
                } }
            }
        }
    }
}
