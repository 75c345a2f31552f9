//! `POST /api/v1/events`: a body of events in, `202` once they are durable.
//!
//! Order: auth (before reading a byte of the body), size limit while reading (413),
//! decoding off the async workers (gzip inflated through a bounded reader), a
//! non-blocking submit (429 + `Retry-After` when the queue is full), then waiting for
//! the processor's outcome: the batch's detections, incident changes and correlation
//! state are committed when the 202 leaves.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::IntoParams;
use vigie_wire::v1::serve::{IngestResult, LineReject};

use super::auth::Need;
use super::error::ApiError;
use super::query;
use crate::ingest::http::{self as body, BodyError};
use crate::ingest::Rejected;
use crate::metrics::ReasonLabel;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    /// The source name detections carry (default `http`): 1 to 128 printable characters.
    #[param(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]+$"
    )]
    pub source: Option<String>,
}

fn source_name(p: EventParams) -> Result<Arc<str>, ApiError> {
    let Some(s) = p.source else {
        return Ok(Arc::from(body::INPUT));
    };
    if s.is_empty() || s.chars().count() > 128 || s.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "source: 1 to 128 characters, no control characters",
        ));
    }
    Ok(Arc::from(s))
}

/// Reads the body, refusing it once it passes `limit` bytes.
async fn read_limited(b: Body, limit: u64) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    let mut stream = b.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("reading the body: {e}")))?;
        if (out.len() + chunk.len()) as u64 > limit {
            return Err(too_large(limit));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn too_large(limit: u64) -> ApiError {
    ApiError::too_large(format!(
        "body larger than {limit} bytes (ingest.max_body_bytes, after gzip decoding): split it"
    ))
}

/// Whether the body is gzip (`Content-Encoding: gzip`); 400 for another encoding.
fn gzip(headers: &HeaderMap) -> Result<bool, ApiError> {
    let Some(v) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(false);
    };
    let v = v.to_str().unwrap_or("").trim().to_ascii_lowercase();
    match v.as_str() {
        "" | "identity" => Ok(false),
        "gzip" | "x-gzip" => Ok(true),
        other => Err(ApiError::bad_request(format!(
            "Content-Encoding `{other}` not supported (gzip or none)"
        ))),
    }
}

/// Post events.
///
/// JSON lines, or one JSON array of objects (`Content-Encoding: gzip` accepted). Answers
/// 202 once the batch is durable; what is not a JSON object is listed in `rejected`
/// by line, the rest is processed.
#[utoipa::path(
    post, path = "/api/v1/events", operation_id = "post_events", tag = "ingest",
    params(EventParams),
    request_body(
        description = "JSON lines (one object per line) or one JSON array of objects; an empty body is an empty batch",
        content(
            (Option<String> = "application/x-ndjson"),
            (Option<serde_json::Value> = "application/json"),
        ),
    ),
    responses(
        (status = 202, description = "Durable: committed with its detections", body = IngestResult),
        (status = 400, description = "Undecodable body (bad gzip), bad parameter", body = vigie_wire::v1::serve::ErrorBody),
        (status = 401, description = "No or unknown token", body = vigie_wire::v1::serve::ErrorBody,
            headers(("WWW-Authenticate" = String))),
        (status = 403, description = "Role neither ingest nor admin", body = vigie_wire::v1::serve::ErrorBody),
        (status = 413, description = "Body over ingest.max_body_bytes (after decoding)", body = vigie_wire::v1::serve::ErrorBody),
        (status = 429, description = "Ingest queue full", body = vigie_wire::v1::serve::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Shutting down, or the commit failed (nothing kept)", body = vigie_wire::v1::serve::ErrorBody,
            headers(("Retry-After" = u64))),
    ),
    security(("bearer" = []), ("basic" = [])),
)]
pub async fn post(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    b: Body,
) -> Result<Response, ApiError> {
    state
        .auth
        .authorize(&state.store, &headers, Need::Ingest)
        .await?;
    let source = source_name(query::parse::<EventParams>(&uri)?)?;
    let gzip = gzip(&headers)?;
    let limit = state.config.ingest.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let raw = read_limited(b, limit).await?;
    let src = source.clone();
    let batch = tokio::task::spawn_blocking(move || body::decode(&raw, gzip, limit, &src))
        .await
        .map_err(|e| ApiError::internal(format!("decoding task failed: {e}")))?
        .map_err(|e| match e {
            BodyError::TooLarge { limit } => too_large(limit),
            BodyError::BadGzip(m) => ApiError::bad_request(format!("body is not valid gzip: {m}")),
        })?;
    count_rejects(&state, &source, &batch.rejected);
    let local = batch.rejected.clone();
    if batch.events.is_empty() {
        // Nothing to make durable.
        return Ok(accepted(0, 0, local));
    }
    let rx = state.ingest.try_submit(batch)?;
    let outcome = match rx.await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return Err(e.into()),
        Err(_) => {
            return Err(ApiError::unavailable(
                "the processor stopped before committing",
            ))
        }
    };
    // The processor may report the source's rejects back, and add its own.
    let mut rejected = local;
    for r in outcome.rejected {
        if !rejected.contains(&r) {
            rejected.push(r);
        }
    }
    rejected.sort_by_key(|r| r.line);
    Ok(accepted(outcome.accepted, outcome.duplicates, rejected))
}

fn count_rejects(state: &AppState, source: &str, rejected: &[Rejected]) {
    if rejected.is_empty() {
        return;
    }
    state
        .metrics
        .events_rejected
        .get_or_create(&ReasonLabel {
            source: source.to_string(),
            reason: "unreadable".to_string(),
        })
        .inc_by(rejected.len() as u64);
}

fn accepted(accepted: u64, duplicates: u64, rejected: Vec<Rejected>) -> Response {
    let body = IngestResult {
        accepted,
        duplicates,
        rejected: rejected
            .into_iter()
            .map(|r| LineReject {
                line: r.line,
                reason: r.reason,
            })
            .collect(),
    };
    (StatusCode::ACCEPTED, Json(body)).into_response()
}
