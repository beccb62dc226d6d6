//! What the page of an imported batch says about where it came from (SPEC §4): the import
//! (file, line, who, when, the file's SHA-256) and every value the row brought, and, in place
//! of "pending" QC results, that its quality control is the historical record's.
//!
//! What the store keeps of an imported row: the batch's own columns (the row's values as
//! decoded and checked), `import_id` and `import_line` on the batch, and the `imports` record
//! (file name, SHA-256, encoding, delimiter, counts, who, when, through what). The file itself,
//! the row's text as typed and its warnings are not kept (the import's audit event holds a
//! digest of each row, and only the number of warnings).

use maud::{Markup, html};
use serde_json::Value;
use traza_domain::history::Column;
use traza_domain::spec::SpecTest;
use traza_domain::vocab::{AccessRoute, BatchStatus, Origin, Source, TestKind};
use traza_store::{BatchView, ImportRecord, StoredAuditEvent};

use crate::AppState;
use crate::ui::Session;
use crate::ui::fmt::Lang;
use crate::ui::widgets::{origin_name, outcome, route_name, status_name, value_label};

/// Whether the batch came from a historical import.
pub(super) fn is_imported(v: &BatchView) -> bool {
    v.batch.source == Source::Import
}

/// The "Imported" section of an imported batch's page; `None` for a batch made in Traza.
pub(super) async fn imported_section(
    state: &AppState,
    s: &Session,
    v: &BatchView,
    audit: &[StoredAuditEvent],
) -> Option<Markup> {
    if !is_imported(v) {
        return None;
    }
    let import = match v.batch.import_id {
        Some(id) => state.store.get_import(&s.actor, id).await.ok(),
        None => None,
    };
    Some(section(s.lang, v, import.as_ref(), audit))
}

/// The batch's stated values as the import wrote them: the state before the first change
/// made in Traza (a completion, a release, a correction: each event keeps the whole batch as
/// it was), or the batch as it is when nothing changed it since.
fn as_imported(v: &BatchView, audit: &[StoredAuditEvent]) -> Value {
    audit
        .iter()
        .filter_map(|e| e.before.as_ref())
        .find(|b| b.get("import_line").is_some() && b.get("status").is_some())
        .cloned()
        .unwrap_or_else(|| serde_json::to_value(&v.batch).unwrap_or(Value::Null))
}

/// A stored value of `column` in words of the page.
fn shown(l: Lang, column: Column, value: &Value) -> String {
    let text = match value {
        Value::Null => return "—".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let date = |t: &str| {
        t.parse::<chrono::NaiveDate>()
            .map_or_else(|_| t.to_owned(), |d| l.date(d))
    };
    match column {
        Column::CollectionDate
        | Column::ManufacturingStart
        | Column::ManufacturingEnd
        | Column::ExpiryDate
        | Column::ReleaseDate => date(&text),
        Column::CellCount => l.number(&text),
        Column::ViabilityPercent => format!("{} %", l.number(&text)),
        Column::VolumeMl => format!("{} ml", l.number(&text)),
        Column::Origin => text
            .parse::<Origin>()
            .map_or(text.clone(), |o| origin_name(l, o).to_owned()),
        Column::AccessRoute => text
            .parse::<AccessRoute>()
            .map_or(text.clone(), |r| route_name(l, r).to_owned()),
        Column::Status => text
            .parse::<BatchStatus>()
            .map_or(text.clone(), |st| status_name(l, st).to_owned()),
        _ => text,
    }
}

/// A hash in groups of eight, so that a narrow screen can break it between groups.
fn grouped(hash: &str) -> String {
    hash.as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The column's name as a file of the page's language heads it.
fn column_name(l: Lang, c: Column) -> &'static str {
    match l {
        Lang::Es => c.spanish(),
        Lang::En => c.as_str(),
    }
}

fn section(
    l: Lang,
    v: &BatchView,
    import: Option<&ImportRecord>,
    audit: &[StoredAuditEvent],
) -> Markup {
    let imported = as_imported(v, audit);
    let now = serde_json::to_value(&v.batch).unwrap_or(Value::Null);
    let changed = |c: Column| imported.get(c.as_str()) != now.get(c.as_str());
    let any_changed = Column::ALL.iter().any(|c| changed(*c));
    let source = |s: &str| match s {
        "cli" => l.t("imported-source-cli"),
        _ => l.t("imported-source-api"),
    };
    html! {
        section.card #importado aria-labelledby="importado-titulo" {
            h2 #importado-titulo { (l.t("imported-heading")) }
            p { (l.t("imported-intro")) }
            // A table that scrolls by itself: a file name or a hash has no place to break.
            div.scroll {
                table #origen-importacion {
                    tbody {
                        tr { th scope="row" { (l.t("file")) } td.fichero { (import.map_or("—", |i| i.file_name.as_str())) } }
                        tr { th scope="row" { (l.t("line")) } td.linea { (v.batch.import_line.map_or_else(|| "—".to_owned(), |n| n.to_string())) } }
                        tr {
                            th scope="row" { (l.t("imported-import")) }
                            td.importacion {
                                @if let Some(i) = import {
                                    "#" (i.id) " · " (l.instant(i.created_at)) " · " (i.imported_by) " · " (source(&i.source))
                                } @else if let Some(id) = v.batch.import_id {
                                    "#" (id) " · " span.muted { (l.t("imported-record-unavailable")) }
                                }
                            }
                        }
                        @if let Some(i) = import {
                            tr { th scope="row" { (l.t("imported-sha256")) } td { code.hash { (grouped(&i.sha256)) } } }
                            tr { th scope="row" { (l.t("imported-encoding")) } td { (i.encoding) " · «" (i.delimiter) "»" } }
                            tr { th scope="row" { (l.t("imported-counts")) } td { (i.rows) " / " (i.created) " / " (i.unchanged) " / " (i.warnings) } }
                        }
                    }
                }
            }
            h3 #valores-importados-titulo { (l.t("imported-values")) }
            div.scroll {
                table #valores-importados aria-labelledby="valores-importados-titulo" {
                    thead { tr { th { (l.t("column")) } th { (l.t("value")) } } }
                    tbody {
                        @for c in Column::ALL {
                            @let value = imported.get(c.as_str()).unwrap_or(&Value::Null);
                            tr data-columna=(c.as_str()) {
                                th scope="row" { (column_name(l, *c)) }
                                td {
                                    (shown(l, *c, value))
                                    @if changed(*c) {
                                        " " span.muted { "(" (l.t("imported-now")) ": " (shown(l, *c, now.get(c.as_str()).unwrap_or(&Value::Null))) ")" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if any_changed { p.hint { (l.t("imported-changed-since")) } }
            p.hint { (l.t("imported-not-kept")) }
        }
    }
}

/// The QC section of an imported batch: its results come from the laboratory's historical
/// record, so a test without a result recorded in Traza says so instead of "pending".
pub(super) fn imported_qc(l: Lang, v: &BatchView, tests: &[SpecTest]) -> Markup {
    let b = &v.batch;
    let current = traza_domain::batch::current_results(&v.qc_results);
    let limits = |t: &SpecTest| -> String {
        match t.kind {
            TestKind::Categorical => value_label(l, t.expected.as_deref().unwrap_or_default()),
            TestKind::Numeric => match (&t.min, &t.max) {
                (Some(a), Some(b)) => format!(
                    "{} – {}",
                    l.number(&a.to_string()),
                    l.number(&b.to_string())
                ),
                (Some(a), None) => format!("≥ {}", l.number(&a.to_string())),
                (None, Some(b)) => format!("≤ {}", l.number(&b.to_string())),
                (None, None) => String::new(),
            },
        }
    };
    let figure = |c: Column, d: &Option<rust_decimal::Decimal>| {
        d.map_or_else(
            || "—".to_owned(),
            |d| shown(l, c, &Value::String(d.to_string())),
        )
    };
    html! {
        div.notice #qc-historico role="note" {
            p { (l.t("imported-qc-from-history")) }
            dl.facts {
                dt { (l.t("field-cell-count")) } dd #qc-recuento { (figure(Column::CellCount, &b.cell_count)) }
                dt { (l.t("field-viability")) } dd #qc-viabilidad { (figure(Column::ViabilityPercent, &b.viability_percent)) }
            }
            @if b.status.accepts_records() { p.hint { (l.t("imported-qc-open-hint")) } }
        }
        div.scroll { table {
            thead { tr {
                th { (l.t("test")) } th { (l.t("specification")) } th { (l.t("unit")) }
                th { (l.t("result")) } th { (l.t("outcome")) } th { (l.t("recorded-by")) }
            } }
            tbody {
                @for t in tests {
                    @let r = current.iter().find(|r| r.test == t.test);
                    tr {
                        td { (t.test) @if t.required { " *" } }
                        td { (limits(t)) }
                        td { (t.unit) }
                        td {
                            @if let Some(r) = r {
                                @if t.kind == TestKind::Categorical { (value_label(l, &r.value)) } @else { (l.number(&r.value)) } " " (r.unit)
                                @if r.supersedes.is_some() { " " span.badge { (l.t("retest")) } }
                            } @else {
                                a.muted href="#importado" { (l.t("imported-qc-historical")) }
                            }
                        }
                        td { @if let Some(r) = r { (outcome(l, r.outcome)) } }
                        td { @if let Some(r) = r { (r.recorded_by) " (#" (r.id) ")" } }
                    }
                }
            }
        } }
        p.hint { "* " (l.t("required-for-release")) }
    }
}
