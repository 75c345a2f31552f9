//! Detections and incidents: lists with cursor paging, an incident's detail (decision,
//! history) and a person's change to it.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vigie_store::{
    DetectionQuery, DetectionRow, HistoryEntry, IncidentChange, IncidentQuery, IncidentRow,
};
use vigie_wire::rfc3339;
use vigie_wire::v1::serve::{
    DetectionPage, ErrorBody, HistoryLine, IncidentDecision, IncidentDetail, IncidentPage,
    IncidentPatch, IncidentState, IncidentSummary, StoredDetection, Verdict,
};

use super::auth::Need;
use super::error::{blocking, ApiError};
use super::query;
use crate::state::{AppState, LiveChange};

/// A Sigma level (the `level` filter is a minimum).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DetectionParams {
    /// Event time at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Event time before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Minimum level.
    #[param(inline)]
    pub level: Option<Level>,
    /// Rule key (Sigma `id`, or `sha256:...`).
    pub rule: Option<String>,
    /// Model asset id.
    pub asset: Option<String>,
    /// Incident id.
    pub incident: Option<String>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page's `next`.
    pub after: Option<String>,
}

/// List detections.
///
/// Newest last (commit order), filtered; `next` is the path of the next page.
#[utoipa::path(
    get, path = "/api/v1/detections", operation_id = "list_detections", tag = "detections",
    params(DetectionParams),
    responses(
        (status = 200, body = DetectionPage),
        (status = 400, description = "Bad filter", body = ErrorBody),
        (status = 404, description = "A cursor this server did not make", body = ErrorBody),
        (status = 401, body = ErrorBody, headers(("WWW-Authenticate" = String))),
        (status = 403, body = ErrorBody),
    ),
    security(("bearer" = []), ("basic" = [])),
)]
pub async fn detections(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<DetectionPage>, ApiError> {
    state
        .auth
        .authorize(&state.store, &headers, Need::Read)
        .await?;
    let p: DetectionParams = query::parse(&uri)?;
    let q = DetectionQuery {
        from: p.from,
        to: p.to,
        min_level: p.level.map(|l| l.as_str().to_string()),
        rule: p.rule.clone(),
        asset: p.asset.clone(),
        incident: p.incident.clone(),
        limit: query::limit(p.limit)?,
        after: query::cursor(p.after.clone()),
    };
    let store = state.store.clone();
    let page = blocking(move || store.detections(&q)).await?;
    let detections = page
        .items
        .into_iter()
        .map(stored_detection)
        .collect::<Result<Vec<_>, _>>()?;
    let next = page.next.map(|c| {
        query::next_path(
            "/api/v1/detections",
            &[
                ("from", p.from.as_ref().map(rfc3339)),
                ("to", p.to.as_ref().map(rfc3339)),
                ("level", p.level.map(|l| l.as_str().to_string())),
                ("rule", p.rule),
                ("asset", p.asset),
                ("incident", p.incident),
                ("limit", p.limit.map(|l| l.to_string())),
            ],
            &c,
        )
    });
    Ok(Json(DetectionPage { detections, next }))
}

/// A stored detection on the wire; a document that is not a wire detection is a
/// corrupt row (500, named).
pub fn stored_detection(r: DetectionRow) -> Result<StoredDetection, ApiError> {
    match serde_json::from_value(r.document) {
        Ok(detection) => Ok(StoredDetection {
            id: r.id,
            incident_id: r.incident_id,
            detection,
        }),
        Err(e) => Err(ApiError::internal(format!(
            "detection `{}`: stored document is not a wire detection: {e}",
            r.id
        ))),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IncidentParams {
    #[param(inline)]
    pub state: Option<IncidentState>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page's `next`.
    pub after: Option<String>,
}

fn store_state(s: IncidentState) -> vigie_store::IncidentState {
    match s {
        IncidentState::Open => vigie_store::IncidentState::Open,
        IncidentState::Acknowledged => vigie_store::IncidentState::Acknowledged,
        IncidentState::Closed => vigie_store::IncidentState::Closed,
        IncidentState::Merged => vigie_store::IncidentState::Merged,
    }
}

fn wire_state(s: vigie_store::IncidentState) -> IncidentState {
    match s {
        vigie_store::IncidentState::Open => IncidentState::Open,
        vigie_store::IncidentState::Acknowledged => IncidentState::Acknowledged,
        vigie_store::IncidentState::Closed => IncidentState::Closed,
        vigie_store::IncidentState::Merged => IncidentState::Merged,
    }
}

fn wire_verdict(v: vigie_store::Verdict) -> Verdict {
    match v {
        vigie_store::Verdict::TruePositive => Verdict::TruePositive,
        vigie_store::Verdict::FalsePositive => Verdict::FalsePositive,
    }
}

fn store_verdict(v: Verdict) -> vigie_store::Verdict {
    match v {
        Verdict::TruePositive => vigie_store::Verdict::TruePositive,
        Verdict::FalsePositive => vigie_store::Verdict::FalsePositive,
    }
}

/// An incident row as a list shows it (also what live changes and webhooks carry).
pub fn summary(r: &IncidentRow) -> IncidentSummary {
    IncidentSummary {
        id: r.id.clone(),
        state: wire_state(r.state),
        assignee: r.assignee.clone(),
        verdict: r.verdict.map(wire_verdict),
        merged_into: r.merged_into.clone(),
        severity: r.severity.clone(),
        risk: r.risk,
        first_seen: r.first_seen.as_ref().map(rfc3339),
        last_seen: r.last_seen.as_ref().map(rfc3339),
        assets: r.assets.clone(),
        compromised: r.compromised.clone(),
        detection_count: r.detection_count,
        opened_at: rfc3339(&r.opened_at),
        updated_at: rfc3339(&r.updated_at),
        version: r.version,
    }
}

fn decision(r: &IncidentRow) -> Option<IncidentDecision> {
    let d = r.decision.as_ref()?;
    let part = |k: &str| d.document.get(k).filter(|v| !v.is_null()).cloned();
    Some(IncidentDecision {
        compromised: d.compromised.clone(),
        computed_at: rfc3339(&d.computed_at),
        assess: part("assess"),
        contain: part("contain"),
        restore: part("restore"),
        notification: part("notification"),
        decision_skipped: match d.document.get("decision_skipped") {
            Some(serde_json::Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        },
    })
}

fn history_line(h: HistoryEntry) -> HistoryLine {
    HistoryLine {
        at: rfc3339(&h.at),
        actor: h.actor,
        action: h.action,
        detail: h.detail,
        comment: h.comment,
    }
}

/// The detail of an incident: its row with its decision and history.
pub fn detail(r: IncidentRow, history: Vec<HistoryEntry>) -> IncidentDetail {
    IncidentDetail {
        summary: summary(&r),
        decision: decision(&r),
        incident: r.document,
        history: history.into_iter().map(history_line).collect(),
    }
}

/// List incidents.
///
/// Newest first, optionally of one state; `next` is the path of the next page.
#[utoipa::path(
    get, path = "/api/v1/incidents", operation_id = "list_incidents", tag = "incidents",
    params(IncidentParams),
    responses(
        (status = 200, body = IncidentPage),
        (status = 400, description = "Bad filter", body = ErrorBody),
        (status = 404, description = "A cursor this server did not make", body = ErrorBody),
        (status = 401, body = ErrorBody, headers(("WWW-Authenticate" = String))),
        (status = 403, body = ErrorBody),
    ),
    security(("bearer" = []), ("basic" = [])),
)]
pub async fn incidents(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<IncidentPage>, ApiError> {
    state
        .auth
        .authorize(&state.store, &headers, Need::Read)
        .await?;
    let p: IncidentParams = query::parse(&uri)?;
    let q = IncidentQuery {
        state: p.state.map(store_state),
        limit: query::limit(p.limit)?,
        after: query::cursor(p.after.clone()),
    };
    let store = state.store.clone();
    let page = blocking(move || store.incidents(&q)).await?;
    let next = page.next.map(|c| {
        query::next_path(
            "/api/v1/incidents",
            &[
                ("state", p.state.map(|s| vigie_wire::snake_name(&s))),
                ("limit", p.limit.map(|l| l.to_string())),
            ],
            &c,
        )
    });
    Ok(Json(IncidentPage {
        incidents: page.items.iter().map(summary).collect(),
        next,
    }))
}

async fn load_detail(state: &AppState, id: String) -> Result<IncidentDetail, ApiError> {
    let store = state.store.clone();
    let found = blocking(move || {
        let Some(row) = store.incident(&id)? else {
            return Ok(Err(id));
        };
        let history = store.history(&row.id)?;
        Ok(Ok((row, history)))
    })
    .await?;
    match found {
        Ok((row, history)) => Ok(detail(row, history)),
        Err(id) => Err(ApiError::not_found(format!("incident `{id}` not found"))),
    }
}

/// One incident with its decision and history.
#[utoipa::path(
    get, path = "/api/v1/incidents/{id}", operation_id = "get_incident", tag = "incidents",
    params(("id" = String, Path, description = "Incident id (`inc-` + 16 hex)")),
    responses(
        (status = 200, body = IncidentDetail),
        (status = 401, body = ErrorBody, headers(("WWW-Authenticate" = String))),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []), ("basic" = [])),
)]
pub async fn incident(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<IncidentDetail>, ApiError> {
    state
        .auth
        .authorize(&state.store, &headers, Need::Read)
        .await?;
    Ok(Json(load_detail(&state, id).await?))
}

/// Change an incident's state, assignee or verdict, with a comment.
///
/// Recorded in its history and the audit log under the token's name.
#[utoipa::path(
    patch, path = "/api/v1/incidents/{id}", operation_id = "change_incident", tag = "incidents",
    params(("id" = String, Path, description = "Incident id (`inc-` + 16 hex)")),
    request_body = IncidentPatch,
    responses(
        (status = 200, description = "The incident after the change", body = IncidentDetail),
        (status = 400, description = "Body is not an incident change", body = ErrorBody),
        (status = 401, body = ErrorBody, headers(("WWW-Authenticate" = String))),
        (status = 403, description = "Role neither analyst nor admin", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, description = "Body over 2 MiB", body = ErrorBody),
        (status = 409, description = "The incident's state forbids it (e.g. a verdict on an open incident, a merged incident)", body = ErrorBody),
    ),
    security(("bearer" = []), ("basic" = [])),
)]
pub async fn change(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let caller = state
        .auth
        .authorize(&state.store, &headers, Need::Change)
        .await?;
    let patch: IncidentPatch = serde_json::from_slice(&super::body(body)?)
        .map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    let change = IncidentChange {
        state: patch.state.map(store_state),
        assignee: patch.assignee,
        verdict: patch.verdict.map(store_verdict),
        comment: patch.comment,
    };
    if change == IncidentChange::default() {
        // Nothing to change: the incident as it is.
        return Ok(Json(load_detail(&state, id).await?));
    }
    let store = state.store.clone();
    let actor = caller.name.clone();
    let (row, history) = blocking(move || {
        let row = store.change_incident(&id, &change, &actor, Utc::now())?;
        let history = store.history(&row.id)?;
        Ok((row, history))
    })
    .await?;
    let d = detail(row, history);
    let live = LiveChange {
        kind: "incident.changed".into(),
        id: d.summary.id.clone(),
        detail: serde_json::to_value(&d.summary).unwrap_or_default(),
    };
    // No receiver (no dashboard open, no webhook) is fine.
    let _ = state.changes.send(live);
    Ok(Json(d))
}
