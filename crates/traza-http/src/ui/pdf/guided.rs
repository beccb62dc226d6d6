//! The electronic batch record's part of the document (SPEC §8): each entry of a guided
//! batch's steps against its master record — who performed it and when, room, equipment,
//! parameters against their limits, lots consumed, who verified it — and the exceptions with
//! their resolution. Nothing for an unguided batch (the provenance section says so).

use super::BatchRecord;
use super::layout::Doc;
use super::sections::{both_clocks, say};
use crate::ui::fmt::Lang;

pub(super) fn guided_steps(doc: &mut Doc, l: Lang, r: &BatchRecord) {
    let Some(mbr) = &r.mbr else { return };
    doc.heading(l.t("pdf-section-guided"));
    doc.paragraph(
        &say(
            l,
            "pdf-guided-by",
            &[
                ("version", mbr.version.to_string()),
                ("approver", mbr.approved_by.clone().unwrap_or_default()),
            ],
        ),
        false,
        0.0,
    );
    for step in &mbr.steps {
        let entries: Vec<_> = r
            .entries
            .iter()
            .filter(|e| e.step_code == step.code)
            .collect();
        if entries.is_empty() {
            doc.block(
                &format!("{} ({})", step.title, step.code),
                &[l.t("pdf-step-not-recorded").to_owned()],
                None,
            );
            continue;
        }
        for e in entries {
            let mut lines = vec![
                format!(
                    "{}: {}",
                    l.t("pdf-performed"),
                    both_clocks(l, e.performed_at)
                ),
                format!("{}: {}", l.t("pdf-performed-by"), r.who(&e.performed_by)),
            ];
            if let Some(room) = &e.room_id {
                lines.push(format!("{}: {room}", l.t("pdf-room")));
            }
            if !e.equipment_ids.is_empty() {
                lines.push(format!(
                    "{}: {}",
                    l.t("pdf-equipment"),
                    e.equipment_ids.join(", ")
                ));
            }
            for p in &e.parameters {
                let limits = step
                    .parameters
                    .iter()
                    .find(|sp| sp.name == p.name)
                    .map(|sp| sp.limits())
                    .unwrap_or_default();
                lines.push(format!("{} = {} ({limits})", p.name, p.value));
            }
            for lot in &e.materials {
                lines.push(format!(
                    "{}: {} · {}",
                    l.t("pdf-lot"),
                    lot.lot_id,
                    lot.quantity
                ));
            }
            if let (Some(corrected), Some(reason)) = (e.corrects, &e.reason) {
                lines.push(say(
                    l,
                    "pdf-corrects",
                    &[("id", corrected.to_string()), ("reason", reason.clone())],
                ));
            }
            lines.push(match (&e.verified_by, e.verified_at) {
                (Some(by), Some(at)) => format!(
                    "{}: {} · {}",
                    l.t("pdf-verified-by"),
                    r.who(by),
                    both_clocks(l, at)
                ),
                _ if step.verification_required => l.t("pdf-not-verified").to_owned(),
                _ => l.t("pdf-no-verification-needed").to_owned(),
            });
            doc.block(
                &format!("{} ({}) · #{}", step.title, step.code, e.id),
                &lines,
                None,
            );
        }
    }
    doc.heading(l.t("pdf-section-exceptions"));
    if r.exceptions.is_empty() {
        doc.paragraph(l.t("pdf-no-exceptions"), false, 0.0);
    }
    for x in &r.exceptions {
        let mut lines = vec![x.message.clone()];
        match (&x.resolved_by, &x.resolution) {
            (Some(by), Some(text)) => lines.push(format!(
                "{}: {} · {text}",
                l.t("pdf-resolved-by"),
                r.who(by)
            )),
            _ => lines.push(l.t("pdf-exception-open").to_owned()),
        }
        doc.block(
            &format!(
                "#{} · {} · {} · {}",
                x.id,
                x.step_code,
                crate::ui::widgets::vocab_word(l, "exception-kind", x.kind.as_str()),
                crate::ui::widgets::vocab_word(l, "exception-severity", x.severity.as_str())
            ),
            &lines,
            None,
        );
    }
}
