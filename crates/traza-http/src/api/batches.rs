//! Batches and their lifecycle (scoped to the caller's laboratories).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use traza_domain::access::Actor;
use traza_domain::batch::{Batch, BatchFields, QcResult};
use traza_domain::codes::{BatchNumber, DonorCode, LabCode, PatientCode, ProductCode, TrialId};
use traza_domain::validation::{Fields, decimal};
use traza_domain::vocab::{AccessRoute, BatchStatus, DeviationSeverity, SignatureMeaning};
use traza_store::ErrorCode;
use traza_store::{
    AdministrationView, BatchFilter, BatchView, DeviationView, EventView, NewBatch, QcInput,
    StoredAuditEvent,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{List, nullable};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery, Auth, if_match};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_batches, create_batch))
        .routes(routes!(export_batches))
        .routes(routes!(get_batch, correct_batch))
        .routes(routes!(record_event))
        .routes(routes!(record_qc_result))
        .routes(routes!(open_deviation))
        .routes(routes!(close_deviation))
        .routes(routes!(complete_batch))
        .routes(routes!(release_batch))
        .routes(routes!(reject_batch))
        .routes(routes!(administer))
        .routes(routes!(batch_audit))
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

fn with_etag<T: serde::Serialize>(status: StatusCode, version: i64, body: T) -> Response {
    (status, [(header::ETAG, etag(version))], Json(body)).into_response()
}

fn opt_decimal(f: &mut Fields, field: &str, raw: Option<&str>) -> Option<Decimal> {
    raw.and_then(|s| f.check(field, decimal(s)))
}

/// A batch to start. Decimals are strings (`"92.5"`); dates `YYYY-MM-DD`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBatchRequest {
    /// Generated as `{LAB}-{YYYY}-{NNNNN}` when absent.
    pub(crate) batch_number: Option<String>,
    pub(crate) product_code: String,
    /// The caller's laboratory; may be omitted when the caller has exactly one.
    pub(crate) lab_code: Option<String>,
    pub(crate) access_route: AccessRoute,
    pub(crate) trial_id: Option<String>,
    pub(crate) donor_code: String,
    pub(crate) patient_code: Option<String>,
    pub(crate) collection_date: Option<NaiveDate>,
    pub(crate) manufacturing_start: NaiveDate,
    pub(crate) manufacturing_end: Option<NaiveDate>,
    pub(crate) expiry_date: Option<NaiveDate>,
    pub(crate) cell_count: Option<String>,
    pub(crate) viability_percent: Option<String>,
    pub(crate) volume_ml: Option<String>,
    /// Defaults to 1.
    pub(crate) doses: Option<u32>,
    pub(crate) notes: Option<String>,
}

#[utoipa::path(post, path = "/batches", tag = "batches", security(("bearer" = [])), request_body = CreateBatchRequest,
    responses((status = 201, body = BatchView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppJson(r): AppJson<CreateBatchRequest>,
) -> Result<Response, ApiError> {
    let new = r.into_new_batch(&actor)?;
    let view = state.store.create_batch(&actor, new).await?;
    Ok(with_etag(StatusCode::CREATED, view.batch.version, view))
}

impl CreateBatchRequest {
    /// The request checked field by field (every invalid field named at once).
    pub(crate) fn into_new_batch(self, actor: &Actor) -> Result<NewBatch, ApiError> {
        let r = self;
        let mut f = Fields::default();
        let batch_number = f
            .check_opt(
                "batch_number",
                r.batch_number.as_deref(),
                BatchNumber::parse,
            )
            .flatten();
        let product_code = f.check("product_code", ProductCode::parse(&r.product_code));
        let lab_code = match r.lab_code.as_deref() {
            Some(code) => f.check("lab_code", LabCode::parse(code)),
            None if actor.labs.len() == 1 => actor.labs.iter().next().cloned(),
            None => {
                f.push(
                    "lab_code",
                    "is required (you belong to several laboratories, or to none)",
                );
                None
            }
        };
        let trial_id = f
            .check_opt("trial_id", r.trial_id.as_deref(), TrialId::parse)
            .flatten();
        let donor_code = f.check("donor_code", DonorCode::parse(&r.donor_code));
        let patient_code = f
            .check_opt(
                "patient_code",
                r.patient_code.as_deref(),
                PatientCode::parse,
            )
            .flatten();
        let notes = f
            .check(
                "notes",
                traza_domain::validation::optional_text(r.notes.as_deref(), 4000),
            )
            .flatten();
        let cell_count = opt_decimal(&mut f, "cell_count", r.cell_count.as_deref());
        let viability_percent =
            opt_decimal(&mut f, "viability_percent", r.viability_percent.as_deref());
        let volume_ml = opt_decimal(&mut f, "volume_ml", r.volume_ml.as_deref());
        f.finish()?;
        let (Some(product_code), Some(lab_code), Some(donor_code)) =
            (product_code, lab_code, donor_code)
        else {
            return Err(ApiError::validation("product_code", "invalid"));
        };
        let new = NewBatch {
            batch_number,
            product_code,
            lab_code,
            fields: BatchFields {
                access_route: r.access_route,
                trial_id,
                donor_code,
                patient_code,
                collection_date: r.collection_date,
                manufacturing_start: r.manufacturing_start,
                manufacturing_end: r.manufacturing_end,
                expiry_date: r.expiry_date,
                cell_count,
                viability_percent,
                volume_ml,
                doses: r.doses.unwrap_or(traza_domain::batch::DEFAULT_DOSES),
                notes,
            },
        };
        Ok(new)
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchQuery {
    lab: Option<String>,
    product: Option<String>,
    status: Option<String>,
    donor: Option<String>,
    patient: Option<String>,
    /// Manufacturing start on or after this day.
    from: Option<NaiveDate>,
    /// Manufacturing start on or before this day.
    to: Option<NaiveDate>,
    cursor: Option<String>,
    /// 1 to 500; 50 by default.
    limit: Option<u64>,
}

/// Batches in the caller's scope, newest first.
#[utoipa::path(get, path = "/batches", tag = "batches", security(("bearer" = [])), params(BatchQuery),
    responses((status = 200, body = List<Batch>), (status = 422, body = ErrorBody)))]
async fn list_batches(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<BatchQuery>,
) -> Result<Json<List<Batch>>, ApiError> {
    let filter = batch_filter(q)?;
    let page = state.store.list_batches(&actor, &filter).await?;
    Ok(Json(List {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// The export of `filter`'s batches as a streamed CSV answer (also the batch list page's).
pub(crate) fn export_response(
    state: &AppState,
    actor: traza_domain::access::Actor,
    filter: traza_store::BatchFilter,
) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let store = state.store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.export_batches(&actor, &filter, tx).await {
            // The status is already sent: the client sees a truncated file, the log says why.
            tracing::error!(error = %e, "export stopped");
        }
    });
    // Fused: the compression layer polls once more after the end.
    let stream =
        futures_util::StreamExt::fuse(futures_util::stream::unfold(rx, |mut rx| async move {
            let piece = rx.recv().await?;
            Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(piece)), rx))
        }));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"batches.csv\""),
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

/// The batches in the caller's scope that match the filters, as the historical import's CSV
/// (UTF-8, `,`, ISO dates, decimal point), oldest first, streamed.
#[utoipa::path(get, path = "/batches/export.csv", tag = "batches", security(("bearer" = [])), params(BatchQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 422, body = ErrorBody)))]
async fn export_batches(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<BatchQuery>,
) -> Result<Response, ApiError> {
    let filter = batch_filter(q)?;
    // Refuse a role that may not read before the 200 goes out; the rows follow as they come.
    actor
        .may(traza_domain::access::Action::ReadBatches)
        .map_err(traza_store::StoreError::from)?;
    Ok(export_response(&state, actor, filter))
}

fn batch_filter(q: BatchQuery) -> Result<BatchFilter, ApiError> {
    let mut f = Fields::default();
    let filter = BatchFilter {
        lab: f
            .check_opt("lab", q.lab.as_deref(), LabCode::parse)
            .flatten(),
        product: f
            .check_opt("product", q.product.as_deref(), ProductCode::parse)
            .flatten(),
        status: f
            .check_opt("status", q.status.as_deref(), str::parse::<BatchStatus>)
            .flatten(),
        donor: f
            .check_opt("donor", q.donor.as_deref(), DonorCode::parse)
            .flatten(),
        patient: f
            .check_opt("patient", q.patient.as_deref(), PatientCode::parse)
            .flatten(),
        from: q.from,
        to: q.to,
        cursor: q.cursor,
        failed_qc: false,
        newer_than: None,
        limit: q.limit.unwrap_or(50),
    };
    f.finish()?;
    Ok(filter)
}

/// A batch with everything recorded on it. Sends `ETag: "<version>"`.
#[utoipa::path(get, path = "/batches/{number}", tag = "batches", security(("bearer" = [])), params(("number" = String, Path)),
    responses((status = 200, body = BatchView, headers(("ETag" = String))), (status = 404, body = ErrorBody)))]
async fn get_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
) -> Result<Response, ApiError> {
    // Bytes serialised once per batch version (the store's view cache), sent as they are.
    let (version, json) = state.store.get_batch_json(&actor, &number).await?;
    Ok((
        StatusCode::OK,
        [
            (header::ETAG, etag(version)),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        json,
    )
        .into_response())
}

/// A correction: the fields to change and why. Absent fields stay; `null` clears an optional one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectBatchRequest {
    reason: String,
    access_route: Option<AccessRoute>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    trial_id: Option<Option<String>>,
    donor_code: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    patient_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    collection_date: Option<Option<NaiveDate>>,
    manufacturing_start: Option<NaiveDate>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    manufacturing_end: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    expiry_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    cell_count: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    viability_percent: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    volume_ml: Option<Option<String>>,
    doses: Option<u32>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    notes: Option<Option<String>>,
}

fn nullable_field<T, E: traza_domain::validation::Explain>(
    f: &mut Fields,
    field: &str,
    raw: Option<Option<String>>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Option<Option<T>> {
    match raw {
        None => None,
        Some(None) => Some(None),
        Some(Some(s)) => f.check(field, parse(&s)).map(Some),
    }
}

/// Correct a batch record. Needs `If-Match` (428 without it, 412 when stale) and a reason;
/// a released, rejected or administered batch is locked.
#[utoipa::path(patch, path = "/batches/{number}", tag = "batches", security(("bearer" = [])), params(("number" = String, Path), ("If-Match" = String, Header)),
    request_body = CorrectBatchRequest,
    responses((status = 200, body = Batch), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody), (status = 428, body = ErrorBody)))]
async fn correct_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
    headers: HeaderMap,
    AppJson(r): AppJson<CorrectBatchRequest>,
) -> Result<Response, ApiError> {
    let expected = if_match(&headers)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            ErrorCode::PreconditionRequired,
            "send If-Match with the batch's ETag to correct it",
        )
    })?;
    let mut f = Fields::default();
    let trial_id = nullable_field(&mut f, "trial_id", r.trial_id, TrialId::parse);
    let donor_code = r
        .donor_code
        .as_deref()
        .and_then(|d| f.check("donor_code", DonorCode::parse(d)));
    let patient_code = nullable_field(&mut f, "patient_code", r.patient_code, PatientCode::parse);
    let cell_count = nullable_field(&mut f, "cell_count", r.cell_count, decimal);
    let viability = nullable_field(&mut f, "viability_percent", r.viability_percent, decimal);
    let volume = nullable_field(&mut f, "volume_ml", r.volume_ml, decimal);
    let notes = nullable_field(&mut f, "notes", r.notes, |s| {
        traza_domain::validation::text(s, 4000)
    });
    f.finish()?;
    let batch = state
        .store
        .correct_batch(&actor, &number, expected, &r.reason, |b| {
            if let Some(v) = r.access_route {
                b.access_route = v;
            }
            if let Some(v) = trial_id {
                b.trial_id = v;
            }
            if let Some(v) = donor_code {
                b.donor_code = v;
            }
            if let Some(v) = patient_code {
                b.patient_code = v;
            }
            if let Some(v) = r.collection_date {
                b.collection_date = v;
            }
            if let Some(v) = r.manufacturing_start {
                b.manufacturing_start = v;
            }
            if let Some(v) = r.manufacturing_end {
                b.manufacturing_end = v;
            }
            if let Some(v) = r.expiry_date {
                b.expiry_date = v;
            }
            if let Some(v) = cell_count {
                b.cell_count = v;
            }
            if let Some(v) = viability {
                b.viability_percent = v;
            }
            if let Some(v) = volume {
                b.volume_ml = v;
            }
            if let Some(v) = r.doses {
                b.doses = v;
            }
            if let Some(v) = notes {
                b.notes = v;
            }
        })
        .await?;
    Ok(with_etag(StatusCode::OK, batch.version, batch))
}

#[derive(Deserialize, ToSchema)]
pub struct EventRequest {
    step: String,
    performed_at: DateTime<Utc>,
    note: Option<String>,
}

/// Record a manufacturing step.
#[utoipa::path(post, path = "/batches/{number}/events", tag = "batches", security(("bearer" = [])), params(("number" = String, Path)), request_body = EventRequest,
    responses((status = 201, body = EventView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody)))]
async fn record_event(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
    headers: HeaderMap,
    AppJson(r): AppJson<EventRequest>,
) -> Result<(StatusCode, Json<EventView>), ApiError> {
    let v = state
        .store
        .record_event(
            &actor,
            &number,
            if_match(&headers)?,
            &r.step,
            r.performed_at,
            r.note.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[derive(Deserialize, ToSchema)]
pub struct QcRequest {
    test: String,
    /// A decimal as a string (`"92.5"`, `"< 0.25"`), or a word for a categorical test.
    value: String,
    #[serde(default)]
    unit: String,
    /// The result this retest supersedes.
    supersedes: Option<i64>,
    /// Required for a retest.
    reason: Option<String>,
    /// Required for the retest of a failing (out-of-specification) result: the batch's
    /// deviation that investigates it.
    deviation_id: Option<i64>,
}

/// Record a QC result; the server judges `outcome` against the product's specification.
#[utoipa::path(post, path = "/batches/{number}/qc-results", tag = "batches", security(("bearer" = [])), params(("number" = String, Path)), request_body = QcRequest,
    responses((status = 201, body = QcResult), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_qc_result(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
    headers: HeaderMap,
    AppJson(r): AppJson<QcRequest>,
) -> Result<(StatusCode, Json<QcResult>), ApiError> {
    let input = QcInput {
        test: r.test,
        value: r.value,
        unit: r.unit,
        supersedes: r.supersedes,
        reason: r.reason,
        deviation_id: r.deviation_id,
    };
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store
                .record_qc_result(&actor, &number, if_match(&headers)?, input)
                .await?,
        ),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct DeviationRequest {
    description: String,
    severity: DeviationSeverity,
}

#[utoipa::path(post, path = "/batches/{number}/deviations", tag = "batches", security(("bearer" = [])), params(("number" = String, Path)), request_body = DeviationRequest,
    responses((status = 201, body = DeviationView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn open_deviation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
    headers: HeaderMap,
    AppJson(r): AppJson<DeviationRequest>,
) -> Result<(StatusCode, Json<DeviationView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store
                .open_deviation(
                    &actor,
                    &number,
                    if_match(&headers)?,
                    &r.description,
                    r.severity,
                )
                .await?,
        ),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct CloseDeviationRequest {
    resolution: String,
}

/// QA closes a deviation.
#[utoipa::path(post, path = "/batches/{number}/deviations/{id}/close", tag = "batches", security(("bearer" = [])), params(("number" = String, Path), ("id" = i64, Path)),
    request_body = CloseDeviationRequest,
    responses((status = 200, body = DeviationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn close_deviation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath((number, id)): AppPath<(String, i64)>,
    headers: HeaderMap,
    AppJson(r): AppJson<CloseDeviationRequest>,
) -> Result<Json<DeviationView>, ApiError> {
    Ok(Json(
        state
            .store
            .close_deviation(&actor, &number, if_match(&headers)?, id, &r.resolution)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct CompleteRequest {
    manufacturing_end: NaiveDate,
}

/// End manufacture: the batch goes to quarantine.
#[utoipa::path(post, path = "/batches/{number}/complete", tag = "batches", security(("bearer" = [])), params(("number" = String, Path)), request_body = CompleteRequest,
    responses((status = 200, body = Batch), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn complete_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
    headers: HeaderMap,
    AppJson(r): AppJson<CompleteRequest>,
) -> Result<Response, ApiError> {
    let b = state
        .store
        .complete_batch(&actor, &number, if_match(&headers)?, r.manufacturing_end)
        .await?;
    Ok(with_etag(StatusCode::OK, b.version, b))
}

#[derive(Deserialize, ToSchema)]
pub struct ReleaseRequest {
    /// The signer's password, re-entered (electronic signature).
    password: String,
    /// Must be `qp_certified`.
    meaning: SignatureMeaning,
}

/// QP certification. Refused with `release_blocked` listing every unmet rule.
#[utoipa::path(post, path = "/batches/{number}/release", tag = "batches", security(("bearer" = [])), params(("number" = String, Path)), request_body = ReleaseRequest,
    responses((status = 200, body = BatchView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn release_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
    headers: HeaderMap,
    AppJson(r): AppJson<ReleaseRequest>,
) -> Result<Response, ApiError> {
    let v = state
        .store
        .release_batch(&actor, &number, if_match(&headers)?, &r.password, r.meaning)
        .await?;
    Ok(with_etag(StatusCode::OK, v.batch.version, v))
}

#[derive(Deserialize, ToSchema)]
pub struct RejectRequest {
    password: String,
    reason: String,
}

/// QA rejects the batch, signed, with a reason.
#[utoipa::path(post, path = "/batches/{number}/reject", tag = "batches", security(("bearer" = [])), params(("number" = String, Path)), request_body = RejectRequest,
    responses((status = 200, body = BatchView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn reject_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
    headers: HeaderMap,
    AppJson(r): AppJson<RejectRequest>,
) -> Result<Response, ApiError> {
    let v = state
        .store
        .reject_batch(&actor, &number, if_match(&headers)?, &r.password, &r.reason)
        .await?;
    Ok(with_etag(StatusCode::OK, v.batch.version, v))
}

#[derive(Deserialize, ToSchema)]
pub struct AdministrationRequest {
    patient_code: String,
    administered_on: NaiveDate,
    hospital: String,
}

/// Record an administration (chain of identity, doses, expiry).
#[utoipa::path(post, path = "/batches/{number}/administrations", tag = "batches", security(("bearer" = [])), params(("number" = String, Path)), request_body = AdministrationRequest,
    responses((status = 201, body = AdministrationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn administer(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
    headers: HeaderMap,
    AppJson(r): AppJson<AdministrationRequest>,
) -> Result<(StatusCode, Json<AdministrationView>), ApiError> {
    let patient =
        PatientCode::parse(&r.patient_code).map_err(|e| ApiError::validation("patient_code", e))?;
    let v = state
        .store
        .administer(
            &actor,
            &number,
            if_match(&headers)?,
            &patient,
            r.administered_on,
            &r.hospital,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// The audit events of one batch, in chain order.
#[utoipa::path(get, path = "/batches/{number}/audit", tag = "batches", security(("bearer" = [])), params(("number" = String, Path)),
    responses((status = 200, body = List<StoredAuditEvent>), (status = 404, body = ErrorBody)))]
async fn batch_audit(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
) -> Result<Json<List<StoredAuditEvent>>, ApiError> {
    Ok(Json(List::all(
        state.store.batch_audit(&actor, &number).await?,
    )))
}
