//! The import of historical batches from a CSV file: dry run, import, or the refused rows.

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use traza_store::{ImportReport, ImportRequest};

use crate::AppState;
use crate::ui::fmt::Lang;
use crate::ui::widgets::{html_page, html_page_status};
use crate::ui::{Session, page_error, store_error, urlencode};

fn import_form(s: &Session) -> Markup {
    let l = s.lang;
    html! {
        form.card method="post" action="/importar" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(s.csrf());
            label for="fichero" { (l.t("csv-file-of-historical-batches-spanish")) }
            input #fichero type="file" name="fichero" accept=".csv,text/csv" required;
            fieldset {
                legend { (l.t("mode")) }
                label { input type="radio" name="modo" value="prueba" checked; " " (l.t("check-without-writing-anything-dry-run")) }
                br;
                label { input type="radio" name="modo" value="aplicar"; " " (l.t("import-all-or-nothing")) }
                br;
                label { input type="radio" name="modo" value="errores"; " " (l.t("check-and-download-the-refused-rows")) }
            }
            button.primary type="submit" { (l.t("send")) }
        }
    }
}

/// The columns a file may have, in both languages, and the templates to fill in.
fn column_help(l: Lang) -> Markup {
    use traza_domain::history::Column;
    html! {
        p {
            (l.t("import-template")) ": "
            a href="/importar/plantilla.csv?lang=es" download { (l.t("import-template-es")) }
            " · "
            a href="/importar/plantilla.csv?lang=en" download { (l.t("import-template-en")) }
        }
        details {
            summary { (l.t("import-columns")) }
            div.scroll { table {
                thead { tr { th { (l.t("import-column-es")) } th { (l.t("import-column-en")) } th { (l.t("required-column")) } } }
                tbody { @for c in Column::ALL { tr {
                    td { (c.spanish()) } td { code { (c.as_str()) } }
                    td { @if c.is_required() { (l.t("yes")) } }
                } } }
            } }
            p.hint { (l.t("import-columns-hint")) }
        }
    }
}

/// The header line of a file to fill in, for a signed-in user (the page's own address; the
/// API's is `GET /api/v1/imports/template.csv`).
pub(super) async fn template(
    _s: Session,
    axum::extract::Query(q): axum::extract::Query<TemplateQuery>,
) -> Response {
    crate::api::imports::template_response(q.lang.as_deref() != Some("en"))
}

#[derive(serde::Deserialize)]
pub(super) struct TemplateQuery {
    lang: Option<String>,
}

pub(super) async fn import_page(s: Session) -> Response {
    let body = html! { (column_help(s.lang)) (import_form(&s)) };
    html_page(&s, s.lang.t("import-historical-batches"), "/importar", body)
}

/// The most batches the result links to; the count says how many more there are.
const LINKED_BATCHES: usize = 50;
/// The most rows looked up one by one to tell created from unchanged, when the file had both.
const LOOKED_UP_ROWS: usize = 500;

/// The numbers of the batches an import created, in the file's order: the first
/// [`LINKED_BATCHES`]. The report counts them; their numbers are read again from the file
/// (still on disk), and when some rows were `unchanged` each row's batch is looked up: it was
/// created by this import when it points at this import and this line.
async fn created_batches(
    state: &AppState,
    s: &Session,
    path: &std::path::Path,
    r: &ImportReport,
) -> Vec<String> {
    let Some(import_id) = r.import_id.filter(|_| !r.dry_run && r.created > 0) else {
        return Vec::new();
    };
    let every_row_created = r.unchanged == 0;
    let wanted = if every_row_created {
        LINKED_BATCHES
    } else {
        LOOKED_UP_ROWS
    };
    let encoding = r
        .encoding
        .parse()
        .unwrap_or(traza_domain::history::TextEncoding::Utf8);
    let path = path.to_owned();
    let rows = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(path).ok()?;
        let mut reader =
            traza_domain::history::HistoryReader::new(std::io::BufReader::new(file), encoding)
                .ok()?;
        let mut rows = Vec::new();
        while rows.len() < wanted {
            let Some(row) = reader.next_row() else { break };
            if let Ok(h) = row.outcome {
                rows.push((row.line, h.batch_number.as_str().to_owned()));
            }
        }
        Some(rows)
    })
    .await
    .ok()
    .flatten()
    .unwrap_or_default();
    let mut created = Vec::new();
    for (line, number) in rows {
        if created.len() == LINKED_BATCHES {
            break;
        }
        let ours = every_row_created
            || state
                .store
                .get_batch(&s.actor, &number)
                .await
                .is_ok_and(|v| {
                    v.batch.import_id == Some(import_id) && v.batch.import_line == Some(line)
                });
        if ours {
            created.push(number);
        }
    }
    created
}

fn created_view(l: Lang, r: &ImportReport, created: &[String]) -> Markup {
    html! {
        @if !created.is_empty() {
            h2 #lotes-creados-titulo { (l.t("import-created-batches")) }
            ul #lotes-creados aria-labelledby="lotes-creados-titulo" {
                @for n in created { li { a href={ "/lotes/" (urlencode(n)) } { (n) } } }
            }
            @if (created.len() as u64) < r.created {
                p.hint { (l.t("import-created-shown")) " " (created.len()) " / " (r.created) }
            }
        }
    }
}

fn report_view(l: Lang, r: &ImportReport) -> Markup {
    html! {
        @if r.accepted() {
            div.notice.ok role="status" { p { strong { @if r.dry_run { (l.t("dry-run-passed-the-file-can")) } @else { (l.t("imported")) } } } }
        } @else {
            div.notice.error role="alert" {
                p { strong { (l.t("the-file-has-errors-nothing-was")) } }
                p { (l.t("to-fix-them-in-excel-send")) }
            }
        }
        dl.facts #resumen {
            dt { (l.t("file")) } dd { (r.file_name) " · " (r.encoding) " · «" (r.delimiter) "»" }
            dt { (l.t("rows")) } dd { (r.rows) }
            dt { (l.t("created")) } dd #creadas { (r.created) }
            dt { (l.t("unchanged")) } dd { (r.unchanged) }
            dt { (l.t("warnings")) } dd { (r.warnings_total) }
            dt { (l.t("errors")) } dd #errores { (r.errors_total) }
        }
        @if !r.errors.is_empty() {
            h2 { (l.t("errors")) }
            div.scroll { table #tabla-errores {
                thead { tr { th { (l.t("line")) } th { (l.t("column")) } th { (l.t("code")) } th { (l.t("message")) } } }
                tbody { @for e in &r.errors { tr { td.linea { (e.line) } td { (e.column.clone().unwrap_or_default()) } td { (issue_text(l, e.code)) " " code.muted { (e.code.as_str()) } } td lang="en" { (e.message) } } } }
            } }
        }
        @if !r.warnings.is_empty() {
            h2 { (l.t("warnings")) }
            div.scroll { table {
                thead { tr { th { (l.t("line")) } th { (l.t("column")) } th { (l.t("code")) } th { (l.t("message")) } } }
                tbody { @for w in &r.warnings { tr { td { (w.line) } td { (w.column.clone().unwrap_or_default()) } td { (issue_text(l, w.code)) " " code.muted { (w.code.as_str()) } } td lang="en" { (w.message) } } } }
            } }
        }
    }
}

/// What an import issue code means, in the page's language (`import-code-*` messages); the
/// code itself when the catalogue lacks it.
fn issue_text(l: Lang, code: traza_domain::history::IssueCode) -> String {
    let key = format!("import-code-{}", code.as_str().replace('_', "-"));
    crate::ui::i18n::lookup(l, &key).map_or_else(|| code.as_str().to_owned(), str::to_owned)
}

pub(super) async fn import(
    State(state): State<AppState>,
    s: Session,
    mut form: Multipart,
) -> Response {
    let l = s.lang;
    let mut csrf = String::new();
    let mut mode = String::from("prueba");
    let mut file: Option<(String, tempfile::NamedTempFile)> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return page_error(
                    l,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    l.t("the-file-is-too-large-to"),
                );
            }
            Err(_) => {
                return page_error(
                    l,
                    StatusCode::BAD_REQUEST,
                    l.t("the-form-upload-was-cut-off"),
                );
            }
        };
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "modo" => mode = field.text().await.unwrap_or_default(),
            "fichero" => {
                let name = field.file_name().unwrap_or("fichero.csv").to_owned();
                match crate::api::imports::spool(field).await {
                    Ok(tmp) => file = Some((name, tmp)),
                    Err(e) => return page_error(l, e.status, &e.message),
                }
            }
            _ => {}
        }
    }
    if !s.csrf_ok(&csrf) {
        return s.csrf_refused();
    }
    let Some((name, tmp)) = file else {
        return page_error(l, StatusCode::UNPROCESSABLE_ENTITY, l.t("choose-a-file"));
    };
    let request = ImportRequest {
        path: tmp.path().to_path_buf(),
        file_name: name,
        dry_run: mode != "aplicar",
        encoding: None,
    };
    let report = match state.store.import_batches(&s.actor, request, None).await {
        Ok(r) => r,
        Err(e) => return store_error(l, e),
    };
    if mode == "errores" && !report.accepted() {
        let mut csv = Vec::new();
        if let Err(e) = traza_store::write_refused_rows(&mut csv, tmp.path(), &report) {
            return page_error(l, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
        }
        return (
            [
                (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"filas-rechazadas.csv\"",
                ),
            ],
            csv,
        )
            .into_response();
    }
    let created = created_batches(&state, &s, tmp.path(), &report).await;
    drop(tmp);
    let status = if report.accepted() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = html! {
        (report_view(l, &report))
        (created_view(l, &report, &created))
        h2 { (l.t("another-file")) }
        (import_form(&s))
    };
    html_page_status(
        &s,
        status,
        l.t("import-historical-batches"),
        "/importar",
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use traza_domain::history::IssueCode;

    #[test]
    fn every_import_issue_code_is_said_in_both_languages() {
        for code in IssueCode::ALL {
            for l in [Lang::Es, Lang::En] {
                assert_ne!(issue_text(l, *code), code.as_str(), "{code:?} in {l:?}");
            }
        }
        assert_eq!(
            issue_text(Lang::Es, IssueCode::MissingValue),
            "Falta un valor obligatorio"
        );
    }
}
