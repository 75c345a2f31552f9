//! The API's one error shape: `{"error": {"code", "message"}}` with its status, and
//! how store and ingest errors map onto it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use vigie_store::StoreError;
use vigie_wire::v1::serve::{ErrorBody, ErrorDetail};

use crate::ingest::SubmitError;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// `Retry-After` seconds (429, 503).
    pub retry_after: Option<u64>,
    /// Adds `WWW-Authenticate` (401).
    pub challenge: bool,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            challenge: false,
        }
    }

    pub fn bad_request(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", m)
    }

    pub fn not_found(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", m)
    }

    pub fn unauthorized(m: impl Into<String>) -> ApiError {
        ApiError {
            challenge: true,
            ..ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m)
        }
    }

    pub fn forbidden(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", m)
    }

    pub fn conflict(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", m)
    }

    pub fn too_large(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", m)
    }

    pub fn queue_full(retry_after_s: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after_s.max(1)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "queue_full",
                format!("ingest queue full; retry after {} s", retry_after_s.max(1)),
            )
        }
    }

    pub fn unavailable(m: impl Into<String>) -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m)
        }
    }

    pub fn internal(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", m)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match &e {
            StoreError::IncidentNotFound(_) => ApiError::not_found(e.to_string()),
            StoreError::InvalidChange { .. } | StoreError::TokenExists(_) => {
                ApiError::conflict(e.to_string())
            }
            // A cursor this store did not make names no page: 404 (a schema cannot tell a
            // client which strings are cursors, so this is not a malformed request).
            StoreError::BadCursor(_) => ApiError::not_found(format!("{e}: no such page")),
            _ => {
                tracing::error!(error = %e, "store error answered 500");
                ApiError::internal(e.to_string())
            }
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> ApiError {
        match e {
            SubmitError::Full { retry_after_s } => ApiError::queue_full(retry_after_s),
            SubmitError::TooLarge { .. } => ApiError::too_large(e.to_string()),
            SubmitError::Closed => ApiError::unavailable(e.to_string()),
            SubmitError::Commit(_) => {
                tracing::error!(error = %e, "ingest batch not committed");
                ApiError::unavailable(e.to_string())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        };
        let mut r = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.challenge {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"vigie\", Basic realm=\"vigie\""),
            );
        }
        r
    }
}

/// Runs a store call off the async workers (the store is synchronous).
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(ApiError::internal(format!("store task failed: {e}"))),
    }
}
