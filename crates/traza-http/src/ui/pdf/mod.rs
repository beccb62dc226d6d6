//! The batch record as a document (SPEC §8 "The batch record as a document"): the whole record
//! of one batch as a PDF for inspectors and the archive, in Spanish or English, with the batch
//! number and "página N de M" on every page. Served to the API
//! (`GET /api/v1/batches/{number}/record.pdf?lang=es|en`) and to the batch page's button
//! (`/lotes/{number}/registro.pdf`, with the session cookie).
//!
//! It lives beside the pages because it speaks their language: their message catalogues
//! (`locales/*/pdf.ftl` and the rest), dates, numbers and the Europe/Madrid clock. The API
//! modules may not import the pages' (they are imported by them), so the API route is declared
//! here and merged into the API's router by the crate root.
//!
//! What the record holds today is read with the same scoped store calls as the batch page:
//! a batch out of the reader's laboratories is "not found", whole. The document is one function
//! per section ([`SECTIONS`]); the electronic batch record of §8 (steps against a master
//! record, materials, equipment, rooms, exceptions) adds its sections there.

mod guided;
mod layout;
mod sections;

use std::collections::{BTreeSet, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use traza_domain::access::Actor;
use traza_domain::network::{Laboratory, Product};
use traza_store::{
    BatchView, ExceptionView, ImportRecord, MbrView, StepEntryView, Store, StoreError,
    StoredAuditEvent,
};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use self::layout::{Doc, Frame};
use super::fmt::Lang;
use super::{Session, store_error};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppPath, AppQuery, Auth};

/// A section of the document: it writes its heading and content for the record.
type Section = fn(&mut Doc, Lang, &BatchRecord);

/// The document, in order. A new part of the record is one more function here.
const SECTIONS: &[Section] = &[
    sections::product,
    sections::batch,
    sections::provenance,
    sections::steps,
    guided::guided_steps,
    sections::quality_control,
    sections::deviations,
    sections::holds,
    sections::signatures,
    sections::administrations,
    sections::audit_trail,
];

/// Everything the document shows, read before any of it is drawn.
pub(super) struct BatchRecord {
    pub view: BatchView,
    pub product: Option<Product>,
    pub lab: Option<Laboratory>,
    pub import: Option<ImportRecord>,
    pub audit: Vec<StoredAuditEvent>,
    /// The master record guiding the batch, its step entries and its exceptions (SPEC §8).
    pub mbr: Option<MbrView>,
    pub entries: Vec<StepEntryView>,
    pub exceptions: Vec<ExceptionView>,
    /// Full names of the people named in the record, by username, where the store has them.
    pub names: HashMap<String, String>,
    pub generated_at: DateTime<Utc>,
    /// Who asked for the document (full name and username).
    pub generated_by: String,
}

impl BatchRecord {
    /// A person of the record: "Full Name (username)", or the username alone when the store
    /// has no active user of that name any more.
    pub fn who(&self, username: &str) -> String {
        match self.names.get(username) {
            Some(full) => format!("{full} ({username})"),
            None => username.to_owned(),
        }
    }
}

/// Reads the record of batch `number` as `actor` sees it: not found outside their scope.
pub(super) async fn gather(
    store: &Store,
    actor: &Actor,
    number: &str,
) -> Result<BatchRecord, StoreError> {
    let view = store.get_batch(actor, number).await?;
    let number = view.batch.batch_number.as_str().to_owned();
    let product = found(
        store
            .get_product(actor, view.batch.product_code.as_str())
            .await,
    )?;
    let lab = found(store.get_lab(actor, view.batch.lab_code.as_str()).await)?;
    let import = match view.batch.import_id {
        Some(id) => found(store.get_import(actor, id).await)?,
        None => None,
    };
    let audit = store.batch_audit(actor, &number).await?;
    let names = full_names(store, &view, &audit, import.as_ref()).await?;
    let mbr = match view.mbr_id {
        Some(id) => found(store.get_master_record(actor, id).await)?,
        None => None,
    };
    let entries = store.list_steps(actor, &number).await?;
    let exceptions = store.list_exceptions(actor, &number).await?;
    Ok(BatchRecord {
        view,
        product,
        lab,
        import,
        audit,
        mbr,
        entries,
        exceptions,
        names,
        generated_at: Utc::now(),
        generated_by: format!("{} ({})", actor.full_name, actor.username.as_str()),
    })
}

/// `None` for a record that is not there (a product or import the reader cannot see); any
/// other failure stays one: a document for the archive is whole or not made.
fn found<T>(r: Result<T, StoreError>) -> Result<Option<T>, StoreError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The full name of everyone who recorded something on the batch. Signatures carry the
/// signer's printed name themselves (21 CFR 11.50); for the rest the store keeps usernames,
/// and a user who is no longer active is shown by username.
async fn full_names(
    store: &Store,
    v: &BatchView,
    audit: &[StoredAuditEvent],
    import: Option<&ImportRecord>,
) -> Result<HashMap<String, String>, StoreError> {
    let mut people: BTreeSet<&str> = BTreeSet::new();
    people.insert(&v.created_by);
    people.extend(v.events.iter().map(|e| e.recorded_by.as_str()));
    people.extend(v.qc_results.iter().map(|r| r.recorded_by.as_str()));
    for d in &v.deviations {
        people.insert(&d.opened_by);
        people.extend(d.closed_by.as_deref());
    }
    for h in &v.holds {
        people.insert(&h.placed_by);
        people.extend(h.lifted_by.as_deref());
    }
    people.extend(v.administrations.iter().map(|a| a.recorded_by.as_str()));
    people.extend(audit.iter().map(|e| e.actor.as_str()));
    people.extend(import.map(|i| i.imported_by.as_str()));
    let mut names = HashMap::with_capacity(people.len());
    for username in people {
        match store.actor(username).await {
            Ok(a) => {
                names.insert(username.to_owned(), a.full_name);
            }
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(names)
}

/// The PDF of `record` in `lang`.
pub(super) fn render(lang: Lang, record: &BatchRecord) -> Result<Vec<u8>, String> {
    let l = lang;
    let number = record.view.batch.batch_number.as_str();
    let mut doc = Doc::new();
    doc.title(&format!("{} {number}", l.t("pdf-title")));
    doc.paragraph(
        &sections::say(
            l,
            "pdf-generated",
            &[
                ("madrid", l.instant(record.generated_at)),
                ("utc", sections::utc(record.generated_at)),
                ("who", record.generated_by.clone()),
                ("version", record.view.batch.version.to_string()),
            ],
        ),
        false,
        0.0,
    );
    doc.small(l.t("pdf-not-a-copy"), 0.0);
    for section in SECTIONS {
        section(&mut doc, l, record);
    }
    let frame = Frame {
        header_left: format!("Traza · {}", l.t("pdf-title")),
        header_right: number.to_owned(),
        footer_left: format!(
            "{} · {} · {}",
            number,
            record.view.batch.product_code.as_str(),
            record.view.batch.lab_code.as_str()
        ),
        page_of: Box::new(move |page, pages| {
            sections::say(
                l,
                "pdf-page",
                &[("page", page.to_string()), ("pages", pages.to_string())],
            )
        }),
    };
    let metadata = krilla::metadata::Metadata::new()
        .title(format!("{} {number}", l.t("pdf-title")))
        .language(l.code().to_owned())
        .creator("Traza".to_owned());
    doc.finish(&frame, metadata)
}

/// The PDF of batch `number` as `actor` may read it (not found outside their scope), and the
/// batch's number as stored.
async fn build(
    store: &Store,
    actor: &Actor,
    number: &str,
    lang: Lang,
) -> Result<(String, Vec<u8>), StoreError> {
    let record = gather(store, actor, number).await?;
    let number = record.view.batch.batch_number.as_str().to_owned();
    // Laying out and subsetting the fonts is CPU work: off the request threads.
    let bytes = tokio::task::spawn_blocking(move || render(lang, &record))
        .await
        .map_err(|e| StoreError::Internal(format!("the PDF task failed: {e}")))?
        .map_err(|e| StoreError::Internal(format!("the PDF was not made: {e}")))?;
    Ok((number, bytes))
}

/// The document as an answer: never cached (`no-store`: it holds donor and patient codes),
/// offered as a file to save.
fn pdf_answer(number: &str, bytes: Vec<u8>, lang: Lang) -> Response {
    // A stored batch number is `[A-Z0-9-]`: safe inside the quoted file name.
    let file = match lang {
        Lang::Es => format!("registro-de-lote-{number}.pdf"),
        Lang::En => format!("batch-record-{number}.pdf"),
    };
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response()
}

/// The API's route of the document, for the crate root to merge into `/api/v1`.
pub(crate) fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(batch_record_pdf))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordParams {
    /// The document's language: `es` (default) or `en`.
    #[param(value_type = Option<DocumentLanguage>, inline)]
    lang: Option<String>,
}

// The values `lang` is documented to take. It is read as text, so that another value is
// refused as a field (422), not as a malformed request.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[expect(dead_code, reason = "it only describes `lang` in the OpenAPI document")]
enum DocumentLanguage {
    Es,
    En,
}

/// The API's `lang`: Spanish unless `en`; anything else is refused.
fn api_lang(lang: Option<&str>) -> Result<Lang, ApiError> {
    match lang.map(str::trim) {
        None | Some("" | "es") => Ok(Lang::Es),
        Some("en") => Ok(Lang::En),
        Some(_) => Err(ApiError::validation("lang", "must be es or en")),
    }
}

/// The whole batch record as a PDF, for inspectors and the archive.
///
/// A4: product, batch, steps (Europe/Madrid and UTC), QC results against the specification
/// (superseded ones marked), deviations, holds, signatures with the hash of the record as
/// signed, administrations and the batch's audit trail, with the batch number and "página N
/// de M" on every page. Spanish unless `lang=en`. Scoped like every batch read (another
/// laboratory's batch is not found); never cached.
#[utoipa::path(get, path = "/batches/{number}/record.pdf", tag = "batches", security(("bearer" = [])),
    params(("number" = String, Path), RecordParams),
    responses(
        (status = 200, description = "The batch record as a PDF document", content_type = "application/pdf", body = inline(PdfDocument),
            headers(("Content-Disposition" = String, description = "attachment, with a file name"))),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn batch_record_pdf(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
    AppQuery(q): AppQuery<RecordParams>,
) -> Result<Response, ApiError> {
    let lang = api_lang(q.lang.as_deref())?;
    let (number, bytes) = build(&state.store, &actor, &number, lang).await?;
    Ok(pdf_answer(&number, bytes, lang))
}

/// The answer's body: the PDF file itself, as bytes (a string of binary format whose content
/// is `application/pdf`, as OpenAPI 3.1 describes a file).
pub struct PdfDocument;

impl utoipa::PartialSchema for PdfDocument {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .content_media_type("application/pdf")
            .into()
    }
}

impl utoipa::ToSchema for PdfDocument {}

#[derive(Deserialize, Default)]
pub(super) struct PageParams {
    lang: Option<String>,
}

/// The batch page's "Registro de lote (PDF)": the same document, with the session cookie, in
/// the page's language unless `lang` says otherwise.
pub(super) async fn download(
    State(state): State<AppState>,
    s: Session,
    Path(number): Path<String>,
    Query(q): Query<PageParams>,
) -> Response {
    let lang = match q.lang.as_deref() {
        Some("es") => Lang::Es,
        Some("en") => Lang::En,
        _ => s.lang,
    };
    match build(&state.store, &s.actor, &number, lang).await {
        Ok((number, bytes)) => pdf_answer(&number, bytes, lang),
        Err(e) => store_error(s.lang, e),
    }
}
