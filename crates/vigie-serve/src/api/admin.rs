//! What is loaded (rules, model), the audit log, admin actions (reload, committer),
//! health, readiness and `/metrics`.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use vigie_store::AuditEntry;
use vigie_wire::rfc3339;
use vigie_wire::v1::serve::{
    AssetPage, AuditLine, AuditPage, Committer, ErrorBody, Health, ModelInfo, ReloadResult,
    RuleEntry, RulesInfo,
};

use super::auth::{Caller, Need};
use super::error::{blocking, ApiError};
use super::query;
use crate::state::{AdminRequest, AppState};

/// The loaded rules with their detections and false-positive rate, and the refused.
#[utoipa::path(
    get, path = "/api/v1/rules", operation_id = "get_rules", tag = "loaded",
    responses(
        (status = 200, body = RulesInfo),
        (status = 401, body = ErrorBody, headers(("WWW-Authenticate" = String))),
        (status = 403, body = ErrorBody),
    ),
    security(("bearer" = []), ("basic" = [])),
)]
pub async fn rules(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<RulesInfo>, ApiError> {
    state
        .auth
        .authorize(&state.store, &headers, Need::Read)
        .await?;
    let store = state.store.clone();
    let stats = blocking(move || store.rule_stats()).await?;
    let by_rule: HashMap<&str, &vigie_store::RuleStats> =
        stats.iter().map(|s| (s.rule_id.as_str(), s)).collect();
    let loaded = state.loaded();
    let rules = loaded
        .rule_metas
        .iter()
        .map(|m| {
            let s = by_rule.get(&*m.key);
            RuleEntry {
                rule_id: m.key.to_string(),
                title: m.title.clone(),
                level: m.level.as_str().to_string(),
                kind: vigie_wire::snake_name(&m.kind),
                tags: m.tags.clone(),
                path: m.path.to_string(),
                detections: s.map_or(0, |s| s.detections),
                true_positive: s.map_or(0, |s| s.true_positive),
                false_positive: s.map_or(0, |s| s.false_positive),
                false_positive_rate: s.and_then(|s| s.false_positive_rate),
            }
        })
        .collect();
    Ok(Json(RulesInfo {
        digest: loaded.rules_digest.clone(),
        loaded_at: loaded.loaded_at.clone(),
        rules,
        check: loaded.rules.clone(),
    }))
}

/// The loaded model's summary.
#[utoipa::path(
    get, path = "/api/v1/model", operation_id = "get_model", tag = "loaded",
    responses(
        (status = 200, body = ModelInfo),
        (status = 401, body = ErrorBody, headers(("WWW-Authenticate" = String))),
        (status = 403, body = ErrorBody),
    ),
    security(("bearer" = []), ("basic" = [])),
)]
pub async fn model(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ModelInfo>, ApiError> {
    state
        .auth
        .authorize(&state.store, &headers, Need::Read)
        .await?;
    let loaded = state.loaded();
    Ok(Json(ModelInfo {
        loaded_at: loaded.loaded_at.clone(),
        summary: loaded.model_summary.clone(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page's `next`.
    pub after: Option<String>,
}

/// The model's assets, by id.
///
/// `after` is an asset id: the page holds the assets whose id sorts after it.
#[utoipa::path(
    get, path = "/api/v1/model/assets", operation_id = "list_assets", tag = "loaded",
    params(PageParams),
    responses(
        (status = 200, body = AssetPage),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, headers(("WWW-Authenticate" = String))),
        (status = 403, body = ErrorBody),
    ),
    security(("bearer" = []), ("basic" = [])),
)]
pub async fn assets(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<AssetPage>, ApiError> {
    state
        .auth
        .authorize(&state.store, &headers, Need::Read)
        .await?;
    let p: PageParams = query::parse(&uri)?;
    let limit = query::limit(p.limit)? as usize;
    let loaded = state.loaded();
    let mut all: Vec<&vigie_model::Asset> = loaded.model.assets.iter().collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let start = match &p.after {
        Some(a) => all.partition_point(|x| x.id.as_str() <= a.as_str()),
        None => 0,
    };
    let page = &all[start.min(all.len())..(start + limit).min(all.len())];
    let mut assets = Vec::with_capacity(page.len());
    for a in page {
        assets
            .push(serde_json::to_value(a).map_err(|e| ApiError::internal(format!("asset: {e}")))?);
    }
    let next = match page.last() {
        Some(last) if start + limit < all.len() => Some(query::next_path(
            "/api/v1/model/assets",
            &[("limit", p.limit.map(|l| l.to_string()))],
            &last.id,
        )),
        _ => None,
    };
    Ok(Json(AssetPage { assets, next }))
}

/// The audit log, newest first (admin).
#[utoipa::path(
    get, path = "/api/v1/audit", operation_id = "list_audit", tag = "admin",
    params(PageParams),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, description = "Bad limit", body = ErrorBody),
        (status = 404, description = "A cursor this server did not make", body = ErrorBody),
        (status = 401, body = ErrorBody, headers(("WWW-Authenticate" = String))),
        (status = 403, body = ErrorBody),
    ),
    security(("bearer" = []), ("basic" = [])),
)]
pub async fn audit(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<AuditPage>, ApiError> {
    state
        .auth
        .authorize(&state.store, &headers, Need::Admin)
        .await?;
    let p: PageParams = query::parse(&uri)?;
    let limit = query::limit(p.limit)?;
    let store = state.store.clone();
    let after = query::cursor(p.after.clone());
    let page = blocking(move || store.audit(limit, after.as_deref())).await?;
    let entries = page
        .items
        .into_iter()
        .map(|e| AuditLine {
            at: rfc3339(&e.at),
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: e.detail,
        })
        .collect();
    let next = page.next.map(|c| {
        query::next_path(
            "/api/v1/audit",
            &[("limit", p.limit.map(|l| l.to_string()))],
            &c,
        )
    });
    Ok(Json(AuditPage { entries, next }))
}

/// Records an admin action in the audit log (a failure to record is logged, the
/// action stands: it already happened).
async fn record(
    state: &AppState,
    caller: &Caller,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) {
    let e = AuditEntry {
        at: Utc::now(),
        actor: caller.name.clone(),
        action: action.to_string(),
        target: target.to_string(),
        detail,
    };
    let store = state.store.clone();
    if let Err(err) = blocking(move || store.record_audit(&e)).await {
        tracing::error!(action, error = %err.message, "audit entry not recorded");
    }
}

/// Most a reload may take before the API gives up waiting (it still completes).
const RELOAD_WAIT: Duration = Duration::from_secs(120);

/// Reload rules, model and intel (admin); correlation state is kept.
#[utoipa::path(
    post, path = "/api/v1/admin/reload", operation_id = "reload", tag = "admin",
    responses(
        (status = 200, body = ReloadResult),
        (status = 401, body = ErrorBody, headers(("WWW-Authenticate" = String))),
        (status = 403, body = ErrorBody),
        (status = 409, description = "What is on disk does not load (the old rules and model stay)", body = ErrorBody),
        (status = 503, description = "Shutting down, or the reload did not finish in time", body = ErrorBody,
            headers(("Retry-After" = u64))),
    ),
    security(("bearer" = []), ("basic" = [])),
)]
pub async fn reload(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ReloadResult>, ApiError> {
    let caller = state
        .auth
        .authorize(&state.store, &headers, Need::Admin)
        .await?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    state
        .admin
        .send(AdminRequest::Reload(tx))
        .map_err(|_| ApiError::unavailable("the processor is not running"))?;
    let result = match tokio::time::timeout(RELOAD_WAIT, rx).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => {
            return Err(ApiError::unavailable(
                "the processor stopped during the reload",
            ))
        }
        Err(_) => return Err(ApiError::unavailable("reload still running; check the log")),
    };
    match result {
        Ok(v) => {
            record(&state, &caller, "reload", "rules+model", v.clone()).await;
            Ok(Json(ReloadResult { reloaded: v }))
        }
        Err(why) => {
            record(
                &state,
                &caller,
                "reload.failed",
                "rules+model",
                json!({ "error": why }),
            )
            .await;
            Err(ApiError::conflict(format!("reload refused: {why}")))
        }
    }
}

/// Pause or resume the committer (admin; tests of backpressure).
///
/// While paused nothing is committed: posts wait, then get 429 once the queue is full.
#[utoipa::path(
    post, path = "/api/v1/admin/committer", operation_id = "set_committer", tag = "admin",
    request_body = Committer,
    responses(
        (status = 200, body = Committer),
        (status = 400, body = ErrorBody),
        (status = 413, description = "Body over 2 MiB", body = ErrorBody),
        (status = 401, body = ErrorBody, headers(("WWW-Authenticate" = String))),
        (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody, headers(("Retry-After" = u64))),
    ),
    security(("bearer" = []), ("basic" = [])),
)]
pub async fn committer(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Committer>, ApiError> {
    let caller = state
        .auth
        .authorize(&state.store, &headers, Need::Admin)
        .await?;
    let c: Committer = serde_json::from_slice(&super::body(body)?)
        .map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    state
        .admin
        .send(AdminRequest::PauseCommitter(c.paused))
        .map_err(|_| ApiError::unavailable("the processor is not running"))?;
    record(
        &state,
        &caller,
        "committer",
        "committer",
        json!({ "paused": c.paused }),
    )
    .await;
    Ok(Json(c))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "health",
    responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: 200 once state is restored from the store.
#[utoipa::path(get, path = "/readyz", operation_id = "readyz", tag = "health",
    responses(
        (status = 200, body = Health),
        (status = 503, description = "Restoring state", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    if state.ready.load(Ordering::Acquire) {
        Ok(Json(Health {
            status: "ready".into(),
        }))
    } else {
        Err(ApiError::unavailable("restoring state from the store"))
    }
}

/// The OpenMetrics content type prometheus-client writes.
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prometheus metrics (text exposition, OpenMetrics).
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "health",
    responses(
        (status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String),
        (status = 401, body = ErrorBody, headers(("WWW-Authenticate" = String))),
        (status = 403, body = ErrorBody),
    ),
    security(("bearer" = []), ("basic" = [])),
)]
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state
        .auth
        .authorize(&state.store, &headers, Need::Read)
        .await?;
    state.metrics.queue_depth.set(state.ingest.depth() as i64);
    let store = state.store.clone();
    let counts = blocking(move || store.counts()).await?;
    state
        .metrics
        .incidents_open
        .set(counts.incidents_open as i64);
    let mut r = (StatusCode::OK, state.metrics.render()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(METRICS_CONTENT_TYPE),
    );
    Ok(r)
}
