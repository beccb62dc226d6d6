//! One error body everywhere: `{"error": {"code", "message", "details"}}` (SPEC §3).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use traza_store::{ErrorCode, StoreError};
use utoipa::ToSchema;

/// The error body clients branch on.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorContent,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorContent {
    /// Stable snake_case code: `validation_failed`, `release_blocked`, …
    pub code: String,
    pub message: String,
    /// `[{field, message}]` for `validation_failed`, `[{rule, message}]` for refusals.
    #[schema(value_type = Vec<Object>)]
    pub details: Vec<Value>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub details: Vec<Value>,
    /// For 5xx only: what went wrong, logged once by the middleware, never sent.
    internal: Option<String>,
    /// Seconds for `Retry-After` (423 account locked, 429 too many attempts).
    pub retry_after: Option<i64>,
}

/// Carries a 5xx's detail from the handler to the logging middleware.
#[derive(Clone, Debug)]
pub struct InternalDetail(pub String);

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            internal: None,
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Vec<Value>) -> Self {
        self.details = details;
        self
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "a valid bearer token is required",
        )
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    pub fn validation(field: &str, message: impl traza_domain::validation::Explain) -> Self {
        traza_domain::validation::FieldErrors(vec![traza_domain::validation::FieldError::new(
            field, message,
        )])
        .into()
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error; it has been logged",
        );
        e.internal = Some(detail.into());
        e
    }
}

impl From<traza_domain::validation::FieldErrors> for ApiError {
    fn from(e: traza_domain::validation::FieldErrors) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            "some fields are invalid",
        )
        .with_details(
            e.0.iter()
                .map(|f| serde_json::to_value(f).unwrap_or_else(|_| json!({"field": f.field})))
                .collect(),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let code = e.code();
        match e {
            StoreError::NotFound(what) => {
                ApiError::new(StatusCode::NOT_FOUND, code, format!("{what} not found"))
            }
            StoreError::Forbidden => {
                ApiError::new(StatusCode::FORBIDDEN, code, "your role may not do this")
            }
            StoreError::Unauthenticated => ApiError::unauthenticated(),
            StoreError::InvalidSignature => ApiError::new(
                StatusCode::FORBIDDEN,
                code,
                "the password does not match: signature refused",
            ),
            StoreError::Invalid(errors) => errors.into(),
            StoreError::Duplicate(what) => {
                ApiError::new(StatusCode::CONFLICT, code, format!("{what} already exists"))
            }
            StoreError::Refused {
                message, details, ..
            } => ApiError::new(StatusCode::CONFLICT, code, message).with_details(
                details
                    .iter()
                    .map(|d| json!({"rule": d.rule, "message": d.message}))
                    .collect(),
            ),
            StoreError::AuthRefused(refusal) => {
                let status = match refusal {
                    traza_domain::auth::AuthRefusal::AccountLocked { .. } => StatusCode::LOCKED,
                    traza_domain::auth::AuthRefusal::TooManyAttempts { .. } => {
                        StatusCode::TOO_MANY_REQUESTS
                    }
                };
                let mut e = ApiError::new(status, code, refusal.to_string());
                e.retry_after = Some(refusal.retry_after_secs(chrono::Utc::now()));
                e
            }
            StoreError::ForeignBatchNumber(message) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            StoreError::VersionMismatch { current } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                code,
                format!("the batch changed since you read it; its current version is {current}"),
            )
            .with_details(vec![json!({"current_version": current})]),
            // The server was started without the trail's key: an operator must restore it.
            StoreError::AuditKey(message) => {
                tracing::error!(%message, "audit key unavailable: writes are refused");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    code,
                    "records cannot be written now: the audit trail's key is unavailable; tell the administrator",
                )
            }
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r.status() {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "send the body as application/json",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                "the request body is too large",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => match r {
                // serde names the field and the problem: "missing field `step`", "invalid type…"
                JsonRejection::JsonDataError(e) => {
                    let message = std::error::Error::source(&e)
                        .map_or_else(|| e.body_text(), |s| s.to_string());
                    let (field, message) = field_of(&message);
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        ErrorCode::ValidationFailed,
                        "the body does not have the expected fields",
                    )
                    .with_details(vec![json!({"field": field, "message": message})])
                }
                other => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::ValidationFailed,
                    other.body_text(),
                ),
            },
            _ => ApiError::bad_request(format!("malformed JSON: {}", r.body_text())),
        }
    }
}

/// serde names the failing field as a path before the message (`code: laboratory code has…`,
/// `specification[2].min: …`): clients want it as the detail's `field`.
fn field_of(message: &str) -> (&str, &str) {
    match message.split_once(": ") {
        Some((path, rest))
            if !path.is_empty()
                && path
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']')) =>
        {
            (path, rest)
        }
        _ => ("body", message),
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(format!("invalid query string: {}", r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request(format!("invalid path: {}", r.body_text()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorContent {
                code: self.code.as_str().to_owned(),
                message: self.message,
                details: self.details,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        if let Some(detail) = self.internal {
            response.extensions_mut().insert(InternalDetail(detail));
        }
        response
    }
}
