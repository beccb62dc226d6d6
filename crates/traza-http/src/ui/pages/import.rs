//! The import of historical batches from a CSV file: dry run, import, or the refused rows.

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use traza_store::{ImportReport, ImportRequest};

use crate::AppState;
use crate::ui::fmt::Lang;
use crate::ui::widgets::{html_page, html_page_status};
use crate::ui::{Session, page_error, store_error};

fn import_form(s: &Session) -> Markup {
    let l = s.lang;
    html! {
        form.card method="post" action="/importar" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(s.csrf());
            label for="fichero" { (l.t("Fichero CSV de lotes históricos (Excel en español: «;» y coma decimal, Windows-1252 o UTF-8)", "CSV file of historical batches (Spanish Excel: ';' and decimal comma, Windows-1252 or UTF-8)")) }
            input #fichero type="file" name="fichero" accept=".csv,text/csv" required;
            fieldset {
                legend { (l.t("Modo", "Mode")) }
                label { input type="radio" name="modo" value="prueba" checked; " " (l.t("Comprobar sin escribir nada (prueba)", "Check without writing anything (dry run)")) }
                br;
                label { input type="radio" name="modo" value="aplicar"; " " (l.t("Importar (todo o nada)", "Import (all or nothing)")) }
                br;
                label { input type="radio" name="modo" value="errores"; " " (l.t("Comprobar y descargar las filas rechazadas (CSV para corregir en Excel)", "Check and download the refused rows (CSV to fix in Excel)")) }
            }
            button.primary type="submit" { (l.t("Enviar", "Send")) }
        }
    }
}

pub(super) async fn import_page(s: Session) -> Response {
    let body = import_form(&s);
    html_page(
        &s,
        s.lang
            .t("Importar lotes históricos", "Import historical batches"),
        "/importar",
        body,
    )
}

fn report_view(l: Lang, r: &ImportReport) -> Markup {
    html! {
        @if r.accepted() {
            div.notice.ok role="status" { p { strong { @if r.dry_run { (l.t("Prueba superada: el fichero puede importarse.", "Dry run passed: the file can be imported.")) } @else { (l.t("Importación hecha.", "Imported.")) } } } }
        } @else {
            div.notice.error role="alert" {
                p { strong { (l.t("El fichero tiene errores: no se ha escrito nada. Corríjalos y vuelva a enviarlo.", "The file has errors: nothing was written. Fix them and send it again.")) } }
                p { (l.t("Para corregirlos en Excel, envíe el fichero con «descargar las filas rechazadas»: recibirá esas filas tal como están, con la línea y el error de cada una.", "To fix them in Excel, send the file with 'download the refused rows': you get those rows as written, with each one's line and error.")) }
            }
        }
        dl.facts #resumen {
            dt { (l.t("Fichero", "File")) } dd { (r.file_name) " · " (r.encoding) " · «" (r.delimiter) "»" }
            dt { (l.t("Filas", "Rows")) } dd { (r.rows) }
            dt { (l.t("Nuevas", "Created")) } dd #creadas { (r.created) }
            dt { (l.t("Sin cambios", "Unchanged")) } dd { (r.unchanged) }
            dt { (l.t("Avisos", "Warnings")) } dd { (r.warnings_total) }
            dt { (l.t("Errores", "Errors")) } dd #errores { (r.errors_total) }
        }
        @if !r.errors.is_empty() {
            h2 { (l.t("Errores", "Errors")) }
            table #tabla-errores {
                thead { tr { th { (l.t("Línea", "Line")) } th { (l.t("Columna", "Column")) } th { (l.t("Código", "Code")) } th { (l.t("Mensaje", "Message")) } } }
                tbody { @for e in &r.errors { tr { td.linea { (e.line) } td { (e.column.clone().unwrap_or_default()) } td { code { (e.code.as_str()) } } td { (e.message) } } } }
            }
        }
        @if !r.warnings.is_empty() {
            h2 { (l.t("Avisos", "Warnings")) }
            table {
                thead { tr { th { (l.t("Línea", "Line")) } th { (l.t("Columna", "Column")) } th { (l.t("Código", "Code")) } th { (l.t("Mensaje", "Message")) } } }
                tbody { @for w in &r.warnings { tr { td { (w.line) } td { (w.column.clone().unwrap_or_default()) } td { code { (w.code.as_str()) } } td { (w.message) } } } }
            }
        }
    }
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
                    l.t(
                        "El fichero es demasiado grande para importarlo.",
                        "The file is too large to import.",
                    ),
                );
            }
            Err(_) => {
                return page_error(
                    l,
                    StatusCode::BAD_REQUEST,
                    l.t(
                        "El envío del formulario se interrumpió.",
                        "The form upload was cut off.",
                    ),
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
        return page_error(
            l,
            StatusCode::UNPROCESSABLE_ENTITY,
            l.t("Elija un fichero.", "Choose a file."),
        );
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
    drop(tmp);
    let status = if report.accepted() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = html! { (report_view(l, &report)) h2 { (l.t("Otro fichero", "Another file")) } (import_form(&s)) };
    html_page_status(
        &s,
        status,
        l.t("Importar lotes históricos", "Import historical batches"),
        "/importar",
        body,
    )
}
