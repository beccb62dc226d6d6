//! The batch page's section on the electronic batch record (SPEC §8): whether the batch is
//! guided by a master record, each step of it with its current entry (who, when, verified by
//! whom), and the record's exceptions with their state; for whoever records on the batch, the
//! form of the next step (or of the step chosen, to record it out of order or correct it) and
//! the verifications waiting for a second person.

use maud::{Markup, html};
use traza_store::{BatchView, ExceptionView, StepEntryView};

use super::guided_forms::Choice;
use crate::AppState;
use crate::ui::fmt::Lang;
use crate::ui::{Session, urlencode};

/// The section, or `None` for an imported batch (its page says where it came from).
pub(super) async fn section(
    state: &AppState,
    s: &Session,
    v: &BatchView,
    choice: &Choice,
) -> Option<Markup> {
    let l = s.lang;
    if v.batch.import_id.is_some() {
        return None;
    }
    let number = v.batch.batch_number.as_str();
    let Some(mbr_id) = v.mbr_id else {
        return Some(html! {
            section #registro-guiado aria-labelledby="registro-guiado-titulo" {
                h2 #registro-guiado-titulo { (l.t("batch-record-steps")) }
                p.muted { (l.t("batch-record-unguided")) }
            }
        });
    };
    let mbr = state.store.get_master_record(&s.actor, mbr_id).await.ok()?;
    let entries = state
        .store
        .list_steps(&s.actor, number)
        .await
        .unwrap_or_default();
    let exceptions = state
        .store
        .list_exceptions(&s.actor, number)
        .await
        .unwrap_or_default();
    // The entry of each step that counts is the domain's to say (a correction replaces one).
    let domain: Vec<_> = entries.iter().map(StepEntryView::as_entry).collect();
    let current_ids = traza_domain::mbr::current_entries(&domain);
    let current = |code: &str| -> Option<&StepEntryView> {
        let id = current_ids.get(code)?.id;
        entries.iter().find(|e| e.id == id)
    };
    // The next step to record, and the steps waiting for a second person, for whoever may
    // record on this batch while it is being made.
    let may_record = v.batch.status == traza_domain::vocab::BatchStatus::InProduction
        && s.actor
            .may_in_lab(
                traza_domain::access::Action::RecordBatchData,
                &v.batch.lab_code,
            )
            .is_ok();
    // The step whose form is shown: the one chosen, else the first without an entry.
    let chosen = choice
        .step()
        .and_then(|code| mbr.steps.iter().find(|st| st.code == code));
    let shown = chosen.or_else(|| mbr.steps.iter().find(|st| current(&st.code).is_none()));
    let next_form = match shown {
        Some(step) if may_record => {
            let entry = current(&step.code);
            Some(super::guided_forms::step_form(state, s, v, step, entry, choice).await)
        }
        _ => None,
    };
    let choose = |code: &str| {
        format!(
            "/lotes/{}?paso={}#form-paso-guiado",
            urlencode(number),
            urlencode(code)
        )
    };
    let to_verify: Vec<Markup> = if may_record {
        mbr.steps
            .iter()
            .filter(|st| st.verification_required)
            .filter(|st| current(&st.code).is_some_and(|e| e.verified_by.is_none()))
            .map(|st| super::guided_forms::verify_form(s, number, &st.code, &st.title))
            .collect()
    } else {
        Vec::new()
    };
    Some(html! {
        section #registro-guiado aria-labelledby="registro-guiado-titulo" {
            h2 #registro-guiado-titulo { (l.t("batch-record-steps")) }
            p { (l.t("batch-record-guided")) " " (mbr.product_code) " · " (l.t("batch-record-version")) " " strong { (mbr.version) } }
            @if !exceptions.is_empty() { (exception_table(l, &exceptions)) }
            div.scroll { table #pasos-guiados {
                thead { tr { th { "#" } th { (l.t("step")) } th { (l.t("field-performed")) } th { (l.t("batch-record-verified-by")) } @if may_record { th { (l.t("guided-actions")) } } } }
                tbody {
                    @for (i, step) in mbr.steps.iter().enumerate() {
                        tr {
                            td { (i + 1) }
                            td { strong { (step.title) } br; span.hint { (step.code) } }
                            @match current(&step.code) {
                                Some(e) => {
                                    td { (e.performed_by) " · " (l.instant(e.performed_at)) }
                                    td { @match &e.verified_by {
                                        Some(by) => { (by) }
                                        None if step.verification_required => { span.fail { (l.t("batch-record-not-verified")) } }
                                        None => { "—" }
                                    } }
                                }
                                None => { td { span.muted { (l.t("batch-record-step-pending")) } } td {} }
                            }
                            @if may_record {
                                td { @if shown.is_some_and(|sh| sh.code == step.code) { span.hint { (l.t("guided-shown-below")) } }
                                     @else if current(&step.code).is_some() { a href=(choose(&step.code)) { (l.t("guided-correct")) } }
                                     @else { a href=(choose(&step.code)) { (l.t("guided-record")) } } }
                            }
                        }
                    }
                }
            } }
            @for f in &to_verify { (f) }
            @if let Some(f) = next_form { (f) }
        }
    })
}

fn exception_table(l: Lang, exceptions: &[ExceptionView]) -> Markup {
    html! {
        h3 { (l.t("batch-record-exceptions")) }
        div.scroll { table #excepciones {
            thead { tr { th { "#" } th { (l.t("step")) } th { (l.t("severity")) } th { (l.t("description")) } th { (l.t("status")) } } }
            tbody {
                @for e in exceptions {
                    tr {
                        td { (e.id) }
                        td { (e.step_code) }
                        td { (crate::ui::widgets::vocab_word(l, "exception-severity", e.severity.as_str())) }
                        td { (crate::ui::widgets::vocab_word(l, "exception-kind", e.kind.as_str())) ": " (e.message) }
                        td { @if e.status == "open" { span.fail { (l.t("exception-open")) } } @else { span.pass { (l.t("exception-resolved")) } " · " (e.resolved_by.clone().unwrap_or_default()) } }
                    }
                }
            }
        } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use traza_domain::vocab::{ExceptionKind, ExceptionSeverity};

    #[test]
    fn every_exception_kind_and_severity_is_said_in_both_languages() {
        for l in [Lang::Es, Lang::En] {
            let known = |key: String| crate::ui::i18n::lookup(l, &key).is_some();
            for k in ExceptionKind::ALL {
                let key = format!("exception-kind-{}", k.as_str().replace('_', "-"));
                assert!(known(key), "{k:?} in {l:?}");
            }
            for s in ExceptionSeverity::ALL {
                let key = format!("exception-severity-{}", s.as_str());
                assert!(known(key), "{s:?} in {l:?}");
            }
        }
    }
}
