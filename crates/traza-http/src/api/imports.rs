//! Historical CSV import over HTTP (SPEC §4): the request body is the file itself, in any
//! encoding, or a `multipart/form-data` form with the file in its part `file` (what generated
//! clients send); it is spooled to a temporary file (never held in memory) and imported all or
//! nothing.

use axum::Json;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use traza_domain::access::Action;
use traza_domain::history::TextEncoding;
use traza_store::ErrorCode;
use traza_store::{ImportRecord, ImportReport, ImportRequest, StoreError};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppPath, AppQuery, Auth};

/// Largest CSV upload: about four million rows of the import format.
pub const MAX_IMPORT_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Writes an upload to a temporary file as it arrives (never whole in memory), refusing
/// one larger than [`MAX_IMPORT_BYTES`]. The file is removed when the handle is dropped.
pub(crate) async fn spool<S, B, E>(mut stream: S) -> Result<tempfile::NamedTempFile, ApiError>
where
    S: futures_util::Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let spool = tempfile::NamedTempFile::new()
        .map_err(|e| ApiError::internal(format!("cannot create a temporary file: {e}")))?;
    let mut file = tokio::fs::File::create(spool.path())
        .await
        .map_err(|e| ApiError::internal(format!("cannot write the temporary file: {e}")))?;
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("the upload broke off: {e}")))?;
        let chunk = chunk.as_ref();
        size += chunk.len() as u64;
        if size > MAX_IMPORT_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!("an import may be at most {MAX_IMPORT_BYTES} bytes"),
            ));
        }
        file.write_all(chunk)
            .await
            .map_err(|e| ApiError::internal(format!("cannot write the temporary file: {e}")))?;
    }
    file.flush()
        .await
        .map_err(|e| ApiError::internal(format!("cannot write the temporary file: {e}")))?;
    Ok(spool)
}

/// Routes that may take minutes (a million-row file); served outside the short timeout. A
/// multipart upload may be as large as a raw one (the router's form limit does not apply).
pub fn long_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_batches))
        .layer(DefaultBodyLimit::max(
            MAX_IMPORT_BYTES as usize + MULTIPART_OVERHEAD,
        ))
}

/// Room for a multipart form's boundaries and part headers around the file.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

/// The import as a form (`multipart/form-data`), as generated clients upload a file: the CSV
/// in the part named `file` (its file name is recorded unless `filename` is given).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImportUpload {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The content types a CSV arrives as when sent as the body itself.
const CSV_TYPES: [&str; 5] = [
    "text/csv",
    "text/plain",
    "application/csv",
    "application/vnd.ms-excel",
    "application/octet-stream",
];

/// Spools the part named `file` of a multipart import; its file name too.
async fn spool_form(
    request: Request,
    state: &AppState,
) -> Result<(Option<String>, tempfile::NamedTempFile), ApiError> {
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::bad_request(e.body_text()))?;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(e.body_text()))?
    {
        if field.name() == Some("file") {
            let name = field.file_name().map(str::to_owned);
            return Ok((name, spool(field).await?));
        }
    }
    Err(ApiError::validation(
        "file",
        "the form has no part named file",
    ))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_import))
        .routes(routes!(import_template))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateParams {
    /// `es` (Spanish names, `;`, with a byte-order mark for spreadsheets) or `en` (default).
    lang: Option<String>,
}

/// The header line of a file to fill in and import (SPEC §4).
#[utoipa::path(get, path = "/imports/template.csv", tag = "imports", security(("bearer" = [])), params(TemplateParams),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_template(
    Auth(_actor): Auth,
    AppQuery(q): AppQuery<TemplateParams>,
) -> Result<Response, ApiError> {
    let spanish = match q.lang.as_deref().map(str::trim) {
        None | Some("" | "en") => false,
        Some("es") => true,
        Some(_) => return Err(ApiError::validation("lang", "must be es or en")),
    };
    Ok(template_response(spanish))
}

/// The template file: Spanish names with `;` and a byte-order mark (so a spreadsheet reads
/// the accents), or English names with `,`. Also served by the import page.
pub(crate) fn template_response(spanish: bool) -> Response {
    let (name, bom) = if spanish {
        ("plantilla-lotes.csv", "\u{feff}")
    } else {
        ("batch-template.csv", "")
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        format!(
            "{bom}{}\r\n",
            traza_domain::history::template_header(spanish)
        ),
    )
        .into_response()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Check and report without writing anything.
    #[serde(default)]
    dry_run: bool,
    /// The file's name, recorded in the audit trail.
    filename: Option<String>,
    /// `utf-8` or `windows-1252`; detected when absent.
    encoding: Option<String>,
}

/// Import historical batch records. 200 with the report when the file is accepted (or for a
/// dry run without errors); 422 `import_rejected` with every row error in `details` otherwise,
/// and then nothing is written.
#[utoipa::path(post, path = "/imports/batches", tag = "imports", security(("bearer" = [])), params(ImportParams),
    request_body(content((String = "text/csv"), (ImportUpload = "multipart/form-data"))),
    responses((status = 200, body = ImportReport), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_batches(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<ImportParams>,
    request: Request,
) -> Result<Response, ApiError> {
    // The role first: nobody spools a large file only to be told they may not import.
    actor.may(Action::ImportHistory).map_err(StoreError::from)?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let multipart = essence == "multipart/form-data";
    if !multipart && !CSV_TYPES.contains(&essence) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "send the file as text/csv, or as the part named file of a multipart/form-data form",
        ));
    }
    let encoding = q
        .encoding
        .as_deref()
        .map(str::parse::<TextEncoding>)
        .transpose()
        .map_err(|e| ApiError::validation("encoding", e))?;
    let (part_name, spool) = if multipart {
        spool_form(request, &state).await?
    } else {
        (None, spool(request.into_body().into_data_stream()).await?)
    };
    let file_name = [q.filename.as_deref(), part_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map_or_else(
            || "upload.csv".to_owned(),
            |s| s.chars().take(255).collect(),
        );
    let path = spool.path().to_owned();

    let report = state
        .store
        .import_batches(
            &actor,
            ImportRequest {
                path,
                file_name,
                dry_run: q.dry_run,
                encoding,
            },
            None,
        )
        .await?;
    drop(spool);
    if report.accepted() {
        return Ok((StatusCode::OK, Json(report)).into_response());
    }
    let listed = report.errors.len() as u64;
    let more = report.errors_total - listed;
    let message = format!(
        "{} row error(s) in {} row(s); nothing was imported{}",
        report.errors_total,
        report.rows,
        if more > 0 {
            format!(" (the first {listed} are listed)")
        } else {
            String::new()
        }
    );
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ImportRejected,
        message,
    )
    .with_details(report.errors.iter().map(|e| json!(e)).collect()))
}

/// A stored import: file name, SHA-256, counts, who imported it.
#[utoipa::path(get, path = "/imports/{id}", tag = "imports", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ImportRecord), (status = 404, body = ErrorBody)))]
async fn get_import(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<ImportRecord>, ApiError> {
    Ok(Json(state.store.get_import(&actor, id).await?))
}
