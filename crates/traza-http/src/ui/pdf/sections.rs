//! The sections of the batch record document, one function each, in the words of the pages'
//! catalogues. Times are given on the laboratories' clock (Europe/Madrid) and in UTC, as an
//! inspector comparing with other systems needs both.

use chrono::{DateTime, Utc};
use traza_domain::spec::SpecTest;
use traza_domain::vigilance::{ReactionSeverity, ReactionStatus};
use traza_domain::vocab::{AtmpClass, DeviationSeverity, DeviationStatus, QcOutcome, TestKind};

use super::BatchRecord;
use super::layout::{Column, Doc};
use crate::ui::fmt::Lang;
use crate::ui::i18n;
use crate::ui::widgets::{meaning_text, origin_name, route_name, status_name, value_label};

/// The text of a message with arguments; the key itself if the catalogue cannot say it (a
/// test keeps both catalogues whole).
pub(super) fn say(l: Lang, key: &str, args: &[(&str, String)]) -> String {
    i18n::format(l, key, args).unwrap_or_else(|| key.to_owned())
}

/// An instant in UTC, the same in both languages.
pub(super) fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An instant on both clocks: "01/07/2026 10:30 CEST (2026-07-01 08:30:00 UTC)".
pub(super) fn both_clocks(l: Lang, t: DateTime<Utc>) -> String {
    format!("{} ({})", l.instant(t), utc(t))
}

fn or_dash(s: Option<String>) -> String {
    s.filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "—".to_owned())
}

fn class_name(l: Lang, c: AtmpClass) -> &'static str {
    match c {
        AtmpClass::SomaticCellTherapy => l.t("net-class-somatic-cell-therapy"),
        AtmpClass::TissueEngineered => l.t("net-class-tissue-engineered"),
        AtmpClass::GeneTherapy => l.t("net-class-gene-therapy"),
        AtmpClass::Combined => l.t("net-class-combined"),
    }
}

fn severity_name(l: Lang, s: DeviationSeverity) -> &'static str {
    match s {
        DeviationSeverity::Minor => l.t("minor"),
        DeviationSeverity::Major => l.t("major"),
        DeviationSeverity::Critical => l.t("critical"),
    }
}

fn outcome_name(l: Lang, o: QcOutcome) -> &'static str {
    match o {
        QcOutcome::Pass => l.t("pass"),
        QcOutcome::Fail => l.t("fail"),
    }
}

/// What the product, the medicinal product the batch is of, is.
pub(super) fn product(doc: &mut Doc, l: Lang, r: &BatchRecord) {
    doc.heading(l.t("pdf-section-product"));
    let b = &r.view.batch;
    match &r.product {
        Some(p) => doc.fields(&[
            (l.t("pdf-code"), p.code.as_str().to_owned()),
            (l.t("pdf-name"), p.name.clone()),
            (
                l.t("pdf-atmp-class"),
                class_name(l, p.atmp_class).to_owned(),
            ),
            (l.t("origin"), origin_name(l, p.origin).to_owned()),
            (l.t("pdf-specification-version"), p.spec_version.to_string()),
        ]),
        None => doc.fields(&[
            (l.t("pdf-code"), b.product_code.as_str().to_owned()),
            (l.t("pdf-name"), l.t("pdf-product-unknown").to_owned()),
        ]),
    }
}

/// The batch's identity and stated values, where and by whom it was made.
pub(super) fn batch(doc: &mut Doc, l: Lang, r: &BatchRecord) {
    doc.heading(l.t("pdf-section-batch"));
    let b = &r.view.batch;
    let lab = match &r.lab {
        Some(lab) => format!("{} ({}), {}", lab.name, lab.code.as_str(), lab.city),
        None => format!("{} {}", b.lab_code.as_str(), l.t("pdf-lab-unknown")),
    };
    let mut status = status_name(l, b.status).to_owned();
    if b.on_hold {
        status.push_str(&format!(" · {}", l.t("pdf-on-hold")));
    }
    let percent = |v: &rust_decimal::Decimal| format!("{} %", l.number(&v.normalize().to_string()));
    let mut rows = vec![
        (l.t("pdf-batch-number"), b.batch_number.as_str().to_owned()),
        (l.t("laboratory"), lab),
        (l.t("status"), status),
        (
            l.t("access-route"),
            route_name(l, b.access_route).to_owned(),
        ),
    ];
    if let Some(t) = &b.trial_id {
        rows.push((l.t("pdf-trial-id"), t.as_str().to_owned()));
    }
    rows.extend([
        (l.t("donor"), b.donor_code.as_str().to_owned()),
        (
            l.t("patient"),
            or_dash(b.patient_code.as_ref().map(|p| p.as_str().to_owned())),
        ),
        (
            l.t("collection-date"),
            or_dash(b.collection_date.map(|d| l.date(d))),
        ),
        (l.t("manufacturing-start"), l.date(b.manufacturing_start)),
        (
            l.t("manufacturing-end"),
            or_dash(b.manufacturing_end.map(|d| l.date(d))),
        ),
        (l.t("expiry"), or_dash(b.expiry_date.map(|d| l.date(d)))),
        (l.t("doses"), b.doses.to_string()),
        (
            l.t("pdf-volume-ml"),
            or_dash(b.volume_ml.map(|v| l.number(&v.normalize().to_string()))),
        ),
        (
            l.t("pdf-cell-count"),
            or_dash(b.cell_count.map(|v| l.number(&v.normalize().to_string()))),
        ),
        (
            l.t("pdf-viability"),
            or_dash(b.viability_percent.as_ref().map(percent)),
        ),
    ]);
    if let Some(by) = &b.released_by {
        rows.push((
            l.t("pdf-release"),
            format!("{by} · {}", or_dash(b.release_date.map(|d| l.date(d)))),
        ));
    }
    if let Some(n) = &b.notes {
        rows.push((l.t("notes"), n.clone()));
    }
    doc.fields(&rows);
}

/// Where the record comes from: made in Traza or imported from history, and whether it was
/// executed against a master batch record (its version) or not.
pub(super) fn provenance(doc: &mut Doc, l: Lang, r: &BatchRecord) {
    doc.heading(l.t("pdf-section-provenance"));
    let b = &r.view.batch;
    match (b.import_id, b.import_line) {
        (Some(id), line) => {
            doc.paragraph(
                &say(
                    l,
                    "pdf-imported",
                    &[
                        ("id", id.to_string()),
                        (
                            "line",
                            line.map_or_else(|| "—".to_owned(), |n| n.to_string()),
                        ),
                    ],
                ),
                true,
                0.0,
            );
            if let Some(i) = &r.import {
                doc.fields(&[
                    (l.t("pdf-import-file"), i.file_name.clone()),
                    (l.t("pdf-import-sha256"), i.sha256.clone()),
                    (l.t("pdf-import-by"), r.who(&i.imported_by)),
                    (l.t("pdf-import-at"), both_clocks(l, i.created_at)),
                ]);
            }
            doc.paragraph(l.t("pdf-import-history-note"), false, 0.0);
        }
        (None, _) => doc.paragraph(
            &say(
                l,
                "pdf-made-in-traza",
                &[
                    ("who", r.who(&r.view.created_by)),
                    ("when", both_clocks(l, r.view.created_at)),
                ],
            ),
            false,
            0.0,
        ),
    }
    doc.gap(4.0);
    match r.view.mbr_version {
        Some(version) => doc.paragraph(
            &say(l, "pdf-guided", &[("version", version.to_string())]),
            true,
            0.0,
        ),
        None => {
            doc.paragraph(l.t("pdf-unguided"), true, 0.0);
            doc.paragraph(l.t("pdf-unguided-hint"), false, 0.0);
        }
    }
}

/// Every manufacturing step or event, in the order recorded.
pub(super) fn steps(doc: &mut Doc, l: Lang, r: &BatchRecord) {
    doc.heading(l.t("pdf-section-steps"));
    if r.view.events.is_empty() {
        doc.paragraph(l.t("no-steps-recorded"), false, 0.0);
        return;
    }
    for (i, e) in r.view.events.iter().enumerate() {
        let mut lines = vec![
            format!(
                "{}: {}",
                l.t("pdf-performed"),
                both_clocks(l, e.performed_at)
            ),
            say(
                l,
                "pdf-recorded",
                &[
                    ("who", r.who(&e.recorded_by)),
                    ("when", l.instant(e.recorded_at)),
                ],
            ),
        ];
        if let Some(note) = &e.note {
            lines.push(format!("{}: {note}", l.t("pdf-note")));
        }
        doc.block(
            &say(
                l,
                "pdf-step-heading",
                &[("n", (i + 1).to_string()), ("step", e.step.clone())],
            ),
            &lines,
            None,
        );
    }
}

/// A test's limits or expected value, as the specification states them.
fn limits(l: Lang, t: &SpecTest) -> String {
    let unit = if t.unit.is_empty() {
        String::new()
    } else {
        format!(" {}", t.unit)
    };
    let n = |d: &rust_decimal::Decimal| l.number(&d.normalize().to_string());
    match t.kind {
        TestKind::Categorical => value_label(l, t.expected.as_deref().unwrap_or_default()),
        TestKind::Numeric => match (&t.min, &t.max) {
            (Some(a), Some(b)) => format!("{} – {}{unit}", n(a), n(b)),
            (Some(a), None) => format!("≥ {}{unit}", n(a)),
            (None, Some(b)) => format!("≤ {}{unit}", n(b)),
            (None, None) => "—".to_owned(),
        },
    }
}

/// Every QC result in the order recorded, against the specification, superseded ones kept
/// and marked; then the specification's tests still without a result.
pub(super) fn quality_control(doc: &mut Doc, l: Lang, r: &BatchRecord) {
    doc.heading(l.t("pdf-section-qc"));
    let tests: &[SpecTest] = r.product.as_ref().map_or(&[], |p| p.specification.tests());
    let spec_version = r.product.as_ref().map(|p| p.spec_version);
    if r.product.is_none() {
        doc.paragraph(l.t("pdf-qc-no-spec"), false, 0.0);
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    for q in &r.view.qc_results {
        let test = tests.iter().find(|t| t.test == q.test);
        let categorical = test.is_some_and(|t| t.kind == TestKind::Categorical);
        let value = if categorical {
            value_label(l, &q.value)
        } else {
            l.number(&q.value)
        };
        let value = if q.unit.is_empty() {
            value
        } else {
            format!("{value} {}", q.unit)
        };
        let state = match q.superseded_by {
            Some(by) => say(l, "pdf-qc-superseded-by", &[("id", by.to_string())]),
            None => l.t("pdf-qc-current").to_owned(),
        };
        let mut remarks = Vec::new();
        if let Some(old) = q.supersedes {
            let mut retest = say(l, "pdf-qc-retest-of", &[("id", old.to_string())]);
            if let Some(reason) = &q.reason {
                retest.push_str(&format!(": {reason}"));
            }
            remarks.push(retest);
        }
        if let Some(d) = q.deviation_id {
            remarks.push(say(l, "pdf-qc-deviation", &[("id", d.to_string())]));
        }
        if spec_version.is_some_and(|v| v != q.spec_version) {
            remarks.push(say(
                l,
                "pdf-qc-spec-version",
                &[("version", q.spec_version.to_string())],
            ));
        }
        remarks.push(say(l, "pdf-qc-by", &[("who", r.who(&q.recorded_by))]));
        rows.push(vec![
            q.id.to_string(),
            format!(
                "{}{}",
                q.test,
                if test.is_some_and(|t| t.required) {
                    " *"
                } else {
                    ""
                }
            ),
            test.map_or_else(|| "—".to_owned(), |t| limits(l, t)),
            value,
            outcome_name(l, q.outcome).to_owned(),
            state,
            remarks.join("; "),
        ]);
    }
    for t in tests
        .iter()
        .filter(|t| !r.view.qc_results.iter().any(|q| q.test == t.test))
    {
        rows.push(vec![
            "—".to_owned(),
            format!("{}{}", t.test, if t.required { " *" } else { "" }),
            limits(l, t),
            l.t("pdf-qc-no-result").to_owned(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    if rows.is_empty() {
        doc.paragraph(l.t("none-2"), false, 0.0);
        return;
    }
    if tests.iter().any(|t| t.required) {
        doc.small(l.t("pdf-qc-required"), 0.0);
        doc.gap(2.0);
    }
    doc.table(
        &[
            Column {
                title: l.t("pdf-col-number"),
                share: 0.45,
            },
            Column {
                title: l.t("pdf-col-test"),
                share: 1.4,
            },
            Column {
                title: l.t("pdf-col-specification"),
                share: 1.5,
            },
            Column {
                title: l.t("pdf-col-result"),
                share: 1.2,
            },
            Column {
                title: l.t("pdf-col-outcome"),
                share: 1.35,
            },
            Column {
                title: l.t("pdf-col-state"),
                share: 1.25,
            },
            Column {
                title: l.t("pdf-col-remarks"),
                share: 2.2,
            },
        ],
        &rows,
    );
}

/// Every deviation, with its severity, status and resolution.
pub(super) fn deviations(doc: &mut Doc, l: Lang, r: &BatchRecord) {
    doc.heading(l.t("pdf-section-deviations"));
    if r.view.deviations.is_empty() {
        doc.paragraph(l.t("none"), false, 0.0);
        return;
    }
    for d in &r.view.deviations {
        let status = match d.status {
            DeviationStatus::Open => l.t("pdf-deviation-open"),
            DeviationStatus::Closed => l.t("pdf-deviation-closed"),
        };
        let mut lines = vec![
            d.description.clone(),
            say(
                l,
                "pdf-opened",
                &[
                    ("who", r.who(&d.opened_by)),
                    ("when", both_clocks(l, d.opened_at)),
                ],
            ),
        ];
        if let Some(res) = &d.resolution {
            lines.push(format!("{}: {res}", l.t("pdf-resolution")));
        }
        if let (Some(by), Some(at)) = (&d.closed_by, d.closed_at) {
            lines.push(say(
                l,
                "pdf-closed",
                &[("who", r.who(by)), ("when", both_clocks(l, at))],
            ));
        }
        doc.block(
            &say(
                l,
                "pdf-deviation-heading",
                &[
                    ("id", d.id.to_string()),
                    ("severity", severity_name(l, d.severity).to_owned()),
                    ("status", status.to_owned()),
                ],
            ),
            &lines,
            None,
        );
    }
}

/// Every hold, standing or lifted.
pub(super) fn holds(doc: &mut Doc, l: Lang, r: &BatchRecord) {
    doc.heading(l.t("pdf-section-holds"));
    if r.view.holds.is_empty() {
        doc.paragraph(l.t("none"), false, 0.0);
        return;
    }
    for h in &r.view.holds {
        let status = if h.is_active() {
            l.t("pdf-hold-active")
        } else {
            l.t("pdf-hold-lifted")
        };
        let mut lines = vec![
            h.reason.clone(),
            say(
                l,
                "pdf-hold-placed",
                &[
                    ("who", r.who(&h.placed_by)),
                    ("when", both_clocks(l, h.placed_at)),
                ],
            ),
        ];
        if let Some(id) = h.reaction_id {
            lines.push(say(l, "pdf-hold-reaction", &[("id", id.to_string())]));
        }
        if let (Some(by), Some(at)) = (&h.lifted_by, h.lifted_at) {
            lines.push(say(
                l,
                "pdf-hold-lift",
                &[
                    ("who", r.who(by)),
                    ("when", both_clocks(l, at)),
                    ("reason", h.lift_reason.clone().unwrap_or_default()),
                ],
            ));
        }
        doc.block(
            &say(
                l,
                "pdf-hold-heading",
                &[("id", h.id.to_string()), ("status", status.to_owned())],
            ),
            &lines,
            None,
        );
    }
}

/// Every electronic signature (21 CFR 11.50): the signer's printed name, what the signature
/// means, when, why, and the hash of the record as it was signed.
pub(super) fn signatures(doc: &mut Doc, l: Lang, r: &BatchRecord) {
    doc.heading(l.t("pdf-section-signatures"));
    if r.view.signatures.is_empty() {
        doc.paragraph(l.t("not-signed"), false, 0.0);
        return;
    }
    for s in &r.view.signatures {
        let mut lines = vec![
            format!(
                "{}: {} ({})",
                l.t("pdf-meaning"),
                meaning_text(l, s.meaning),
                s.meaning.as_str()
            ),
            format!("{}: {}", l.t("pdf-signed-at"), both_clocks(l, s.signed_at)),
        ];
        if let Some(reason) = &s.reason {
            lines.push(format!("{}: {reason}", l.t("pdf-reason")));
        }
        lines.push(format!("{}:", l.t("pdf-record-hash")));
        // The hash on a line of its own, whole, so that it can be compared character by
        // character with the one the audit verification recomputes.
        doc.block(
            &format!("{} ({})", s.signer_full_name, s.signer),
            &lines,
            Some(&s.record_hash),
        );
    }
}

/// Every administration, with the adverse reactions reported against it.
pub(super) fn administrations(doc: &mut Doc, l: Lang, r: &BatchRecord) {
    doc.heading(l.t("pdf-section-administrations"));
    if r.view.administrations.is_empty() {
        doc.paragraph(l.t("none"), false, 0.0);
        return;
    }
    let rows: Vec<Vec<String>> = r
        .view
        .administrations
        .iter()
        .map(|a| {
            let mut remarks = Vec::new();
            if a.before_hold {
                remarks.push(l.t("pdf-given-before-hold").to_owned());
            }
            for reaction in r
                .view
                .reactions
                .iter()
                .filter(|x| x.administration_id == a.id)
            {
                let severity = match reaction.severity {
                    ReactionSeverity::Serious => l.t("serious"),
                    ReactionSeverity::NonSerious => l.t("non-serious"),
                };
                let status = match reaction.status {
                    ReactionStatus::Open => l.t("pdf-reaction-open"),
                    ReactionStatus::Closed => l.t("pdf-reaction-closed"),
                };
                remarks.push(say(
                    l,
                    "pdf-reaction",
                    &[
                        ("id", reaction.id.to_string()),
                        ("severity", severity.to_owned()),
                        ("status", status.to_owned()),
                    ],
                ));
            }
            vec![
                a.id.to_string(),
                a.patient_code.clone(),
                l.date(a.administered_on),
                a.hospital.clone(),
                format!("{} · {}", r.who(&a.recorded_by), l.instant(a.recorded_at)),
                remarks.join("; "),
            ]
        })
        .collect();
    doc.table(
        &[
            Column {
                title: l.t("pdf-col-number"),
                share: 0.5,
            },
            Column {
                title: l.t("pdf-col-patient"),
                share: 1.3,
            },
            Column {
                title: l.t("pdf-col-date"),
                share: 1.0,
            },
            Column {
                title: l.t("pdf-col-hospital"),
                share: 1.6,
            },
            Column {
                title: l.t("pdf-col-recorded-by"),
                share: 2.0,
            },
            Column {
                title: l.t("pdf-col-remarks"),
                share: 2.0,
            },
        ],
        &rows,
    );
}

/// The batch's audit events: who did what, when, and why.
pub(super) fn audit_trail(doc: &mut Doc, l: Lang, r: &BatchRecord) {
    doc.heading(l.t("pdf-section-audit"));
    if r.audit.is_empty() {
        doc.paragraph(l.t("none-2"), false, 0.0);
        return;
    }
    let rows: Vec<Vec<String>> = r
        .audit
        .iter()
        .map(|e| {
            let key = format!("action-{}", e.action.replace(['.', '_'], "-"));
            vec![
                e.id.to_string(),
                l.instant(e.at),
                r.who(&e.actor),
                i18n::lookup(l, &key).map_or_else(|| e.action.clone(), str::to_owned),
                e.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    doc.table(
        &[
            Column {
                title: l.t("pdf-col-number"),
                share: 0.45,
            },
            Column {
                title: l.t("pdf-col-when"),
                share: 1.85,
            },
            Column {
                title: l.t("pdf-col-who"),
                share: 1.9,
            },
            Column {
                title: l.t("pdf-col-what"),
                share: 2.0,
            },
            Column {
                title: l.t("pdf-col-reason"),
                share: 1.9,
            },
        ],
        &rows,
    );
}
