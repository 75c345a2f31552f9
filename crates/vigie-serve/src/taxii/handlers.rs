//! The TAXII 2.1 endpoints (routes: [`routes`]). Each authorizes first (serve's tokens,
//! see the module docs of [`super`]), checks `Accept` (and a POST's `Content-Type`),
//! parses its parameters ([`super::filter`]), then reads or writes the store on the
//! blocking pool.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::Value;
use vigie_intel::taxii::{
    ApiRoot, Collection, Collections, Discovery, Envelope, Manifest, ManifestRecord, Status,
    StatusDetails, Versions, MEDIA_TYPE_STIX, MEDIA_TYPE_TAXII,
};
use vigie_store::{rfc3339, TaxiiAdded, TaxiiNewObject, TaxiiObjectRow, TaxiiStatusRow};

use super::filter::{self, Endpoint, Select};
use super::http::{self, Error, Media, DATE_ADDED_FIRST, DATE_ADDED_LAST};
use super::{CollectionKind, API_ROOT};
use crate::api::auth::{Caller, Need};
use crate::state::AppState;

/// The largest POST body (also the API root's `max_content_length`).
pub const MAX_CONTENT_LENGTH: usize = 10 * 1024 * 1024;

type Answer = Result<Response, Error>;

/// Both spellings of a route: with the trailing slash TAXII uses, and without.
fn both(r: Router<AppState>, path: &str, m: MethodRouter<AppState>) -> Router<AppState> {
    let m = m.fallback(method_not_allowed);
    r.route(&format!("{path}/"), m.clone()).route(path, m)
}

/// The `/taxii2/...` routes (merged into the service's router by `crate::api::router`).
pub fn routes() -> Router<AppState> {
    let root = format!("/taxii2/{API_ROOT}");
    let mut r = Router::new();
    r = both(r, "/taxii2", get(discovery));
    r = both(r, &root, get(api_root));
    r = both(r, &format!("{root}/collections"), get(collections));
    r = both(r, &format!("{root}/collections/{{cid}}"), get(collection));
    r = both(
        r,
        &format!("{root}/collections/{{cid}}/objects"),
        get(get_objects).post(post_objects),
    );
    r = both(
        r,
        &format!("{root}/collections/{{cid}}/objects/{{oid}}"),
        get(get_object).delete(delete_object),
    );
    r = both(
        r,
        &format!("{root}/collections/{{cid}}/objects/{{oid}}/versions"),
        get(versions),
    );
    r = both(
        r,
        &format!("{root}/collections/{{cid}}/manifest"),
        get(manifest),
    );
    r = both(r, &format!("{root}/status/{{sid}}"), get(status));
    r.route("/taxii2/{*rest}", axum::routing::any(not_found))
        .layer(DefaultBodyLimit::max(MAX_CONTENT_LENGTH))
}

async fn not_found(uri: Uri) -> Error {
    Error::not_found(format!("no TAXII resource at {}", uri.path()))
}

async fn method_not_allowed(uri: Uri) -> Error {
    Error::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        format!("{} does not take this method", uri.path()),
    )
}

async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, Error> {
    state
        .auth
        .authorize(&state.store, headers, Need::Read)
        .await
        .map_err(Error::from)
}

/// The collection of a path, readable (or writable with `write`) by the caller: 404 for
/// an unknown one, 403 when the caller's role does not allow it.
async fn collection_for(
    state: &AppState,
    headers: &HeaderMap,
    cid: &str,
    write: bool,
) -> Result<CollectionKind, Error> {
    let c = CollectionKind::find(cid)
        .ok_or_else(|| Error::not_found(format!("no collection `{cid}` in this API root")))?;
    let need = if write { Need::Change } else { Need::Read };
    let who = match state.auth.authorize(&state.store, headers, need).await {
        Ok(who) => who,
        Err(e) if e.status == StatusCode::FORBIDDEN => {
            return Err(Error::forbidden(format!(
                "collection `{}`: {}",
                c.alias(),
                e.message
            )))
        }
        Err(e) => return Err(e.into()),
    };
    if write && !c.can_write(who.role) {
        return Err(Error::forbidden(format!(
            "collection `{}` is read-only",
            c.alias()
        )));
    }
    if !write && !c.can_read(who.role) {
        return Err(Error::forbidden(format!(
            "token `{}` may not read collection `{}`",
            who.name,
            c.alias()
        )));
    }
    Ok(c)
}

fn params(uri: &Uri, endpoint: Endpoint) -> Result<Select, Error> {
    let pairs: Vec<(String, String)> = match Query::<Vec<(String, String)>>::try_from_uri(uri) {
        Ok(Query(p)) => p,
        Err(e) => return Err(Error::bad_request(format!("query string: {e}"))),
    };
    Ok(filter::parse(&pairs, endpoint)?)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, vigie_store::StoreError> + Send + 'static,
) -> Result<T, Error> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(Error::from),
        Err(e) => Err(Error::internal(format!("store task failed: {e}"))),
    }
}

/// Every version of `c` the store holds with these ids / types.
async fn rows(
    state: &AppState,
    c: CollectionKind,
    ids: Vec<String>,
    types: Vec<String>,
) -> Result<Vec<TaxiiObjectRow>, Error> {
    let store = state.store.clone();
    blocking(move || store.taxii_objects(c.alias(), &ids, &types)).await
}

/// One page of `c` as `sel` selects it, selected and paged by the store (only the page
/// is read).
async fn sql_page(
    state: &AppState,
    c: CollectionKind,
    sel: &Select,
) -> Result<filter::Paged, Error> {
    let store = state.store.clone();
    let q = filter::store_query(sel);
    let (items, more) = blocking(move || store.taxii_page(c.alias(), &q)).await?;
    Ok(filter::paged(items, more))
}

fn with_date_headers(mut r: Response, items: &[TaxiiObjectRow]) -> Response {
    if let (Some(first), Some(last)) = (items.first(), items.last()) {
        for (name, t) in [
            (DATE_ADDED_FIRST, first.date_added),
            (DATE_ADDED_LAST, last.date_added),
        ] {
            if let Ok(v) = HeaderValue::from_str(&rfc3339(t)) {
                r.headers_mut().insert(name, v);
            }
        }
    }
    r
}

fn collection_resource(c: CollectionKind, who: &Caller) -> Collection {
    Collection {
        id: c.id().to_string(),
        title: c.title().to_string(),
        description: Some(c.description().to_string()),
        alias: Some(c.alias().to_string()),
        can_read: c.can_read(who.role),
        can_write: c.can_write(who.role),
        media_types: vec![MEDIA_TYPE_STIX.to_string()],
    }
}

/// `GET /taxii2/`.
pub async fn discovery(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    caller(&state, &headers).await?;
    let media = http::negotiate(&headers, false)?;
    let body = Discovery {
        title: "vigie TAXII 2.1 server".into(),
        description: Some(
            "vigie's incidents as STIX 2.1 (read-only) and a shared intelligence collection".into(),
        ),
        contact: None,
        default: Some(format!("/taxii2/{API_ROOT}/")),
        api_roots: vec![format!("/taxii2/{API_ROOT}/")],
    };
    Ok(http::json(StatusCode::OK, media, &body))
}

/// `GET /taxii2/vigie/`.
pub async fn api_root(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    caller(&state, &headers).await?;
    let media = http::negotiate(&headers, false)?;
    let body = ApiRoot {
        title: "vigie".into(),
        description: Some("This vigie's incidents and shared intelligence".into()),
        versions: vec![MEDIA_TYPE_TAXII.to_string()],
        max_content_length: MAX_CONTENT_LENGTH as u64,
    };
    Ok(http::json(StatusCode::OK, media, &body))
}

/// `GET /taxii2/vigie/collections/`: those the caller may read or write.
pub async fn collections(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    let who = caller(&state, &headers).await?;
    let media = http::negotiate(&headers, false)?;
    let body = Collections {
        collections: CollectionKind::ALL
            .into_iter()
            .filter(|c| c.can_read(who.role) || c.can_write(who.role))
            .map(|c| collection_resource(c, &who))
            .collect(),
    };
    Ok(http::json(StatusCode::OK, media, &body))
}

/// `GET /taxii2/vigie/collections/{id}/`.
pub async fn collection(
    State(state): State<AppState>,
    Path(cid): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let who = caller(&state, &headers).await?;
    let media = http::negotiate(&headers, false)?;
    let c = CollectionKind::find(&cid)
        .ok_or_else(|| Error::not_found(format!("no collection `{cid}` in this API root")))?;
    if !c.can_read(who.role) && !c.can_write(who.role) {
        return Err(Error::forbidden(format!(
            "token `{}` may not see collection `{}`",
            who.name,
            c.alias()
        )));
    }
    Ok(http::json(
        StatusCode::OK,
        media,
        &collection_resource(c, &who),
    ))
}

/// `GET .../objects/`: an envelope of the selected versions, paged.
pub async fn get_objects(
    State(state): State<AppState>,
    Path(cid): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Answer {
    let c = collection_for(&state, &headers, &cid, false).await?;
    let media = http::negotiate(&headers, true)?;
    let sel = params(&uri, Endpoint::Objects)?;
    let p = sql_page(&state, c, &sel).await?;
    Ok(envelope(p, media))
}

fn envelope(p: filter::Paged, media: Media) -> Response {
    let body = Envelope {
        more: Some(p.more),
        next: p.next.clone(),
        objects: p.items.iter().map(|r| r.document.clone()).collect(),
    };
    with_date_headers(http::json(StatusCode::OK, media, &body), &p.items)
}

/// `GET .../objects/{id}/`: the selected versions of one object (404 when none).
pub async fn get_object(
    State(state): State<AppState>,
    Path((cid, oid)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Answer {
    let c = collection_for(&state, &headers, &cid, false).await?;
    let media = http::negotiate(&headers, true)?;
    let sel = params(&uri, Endpoint::Object)?;
    let p = one_object_page(&state, c, &oid, &sel).await?;
    Ok(envelope(p, media))
}

/// The selected page of one object's versions; 404 when the object has none at all.
async fn one_object_page(
    state: &AppState,
    c: CollectionKind,
    oid: &str,
    sel: &Select,
) -> Result<filter::Paged, Error> {
    let all = rows(state, c, vec![oid.to_owned()], vec![]).await?;
    if all.is_empty() {
        return Err(no_object(c, oid));
    }
    Ok(filter::page(filter::select(all, sel), sel))
}

fn no_object(c: CollectionKind, oid: &str) -> Error {
    Error::not_found(format!("no object `{oid}` in collection `{}`", c.alias()))
}

/// `DELETE .../objects/{id}/`: the selected versions (default: all); 404 when none.
pub async fn delete_object(
    State(state): State<AppState>,
    Path((cid, oid)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Answer {
    let c = collection_for(&state, &headers, &cid, true).await?;
    let sel = params(&uri, Endpoint::Delete)?;
    let all = rows(&state, c, vec![oid.clone()], vec![]).await?;
    let seqs: Vec<i64> = filter::select(all, &sel).iter().map(|r| r.seq).collect();
    if seqs.is_empty() {
        return Err(no_object(c, &oid));
    }
    let store = state.store.clone();
    let n = blocking(move || store.taxii_delete(c.alias(), &seqs)).await?;
    if n > 0 && c == CollectionKind::Shared {
        state.taxii.bump_shared();
    }
    tracing::info!(collection = c.alias(), object = %oid, versions = n, "TAXII: deleted");
    Ok(StatusCode::OK.into_response())
}

/// `GET .../objects/{id}/versions/`.
pub async fn versions(
    State(state): State<AppState>,
    Path((cid, oid)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Answer {
    let c = collection_for(&state, &headers, &cid, false).await?;
    let media = http::negotiate(&headers, false)?;
    let sel = params(&uri, Endpoint::Versions)?;
    let p = one_object_page(&state, c, &oid, &sel).await?;
    let body = Versions {
        more: Some(p.more),
        next: p.next.clone(),
        versions: p.items.iter().map(|r| r.version_text.clone()).collect(),
    };
    Ok(with_date_headers(
        http::json(StatusCode::OK, media, &body),
        &p.items,
    ))
}

/// `GET .../manifest/`.
pub async fn manifest(
    State(state): State<AppState>,
    Path(cid): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Answer {
    let c = collection_for(&state, &headers, &cid, false).await?;
    let media = http::negotiate(&headers, false)?;
    let sel = params(&uri, Endpoint::Objects)?;
    let p = sql_page(&state, c, &sel).await?;
    let body = Manifest {
        more: Some(p.more),
        next: p.next.clone(),
        objects: p
            .items
            .iter()
            .map(|r| ManifestRecord {
                id: r.id.clone(),
                date_added: rfc3339(r.date_added),
                version: r.version_text.clone(),
                media_type: Some(MEDIA_TYPE_STIX.to_string()),
            })
            .collect(),
    };
    Ok(with_date_headers(
        http::json(StatusCode::OK, media, &body),
        &p.items,
    ))
}

/// `GET /taxii2/vigie/status/{id}/` (readable by whoever may read its collection).
pub async fn status(
    State(state): State<AppState>,
    Path(sid): Path<String>,
    headers: HeaderMap,
) -> Answer {
    caller(&state, &headers).await?;
    let media = http::negotiate(&headers, false)?;
    let store = state.store.clone();
    let id = sid.clone();
    let row = blocking(move || store.taxii_status(&id))
        .await?
        .ok_or_else(|| Error::not_found(format!("no status `{sid}`")))?;
    if let Some(c) = CollectionKind::find(&row.collection) {
        collection_for(&state, &headers, c.alias(), false).await?;
    }
    Ok(http::json(StatusCode::OK, media, &row.document))
}

/// One object of a POST, checked: what the store needs, or why it is refused.
pub fn check_object(v: &Value) -> Result<TaxiiNewObject, (String, String, String)> {
    let id = v
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let refuse = |why: String, version: &str| (id.clone(), version.to_string(), why);
    let Some(obj) = v.as_object() else {
        return Err(refuse("not a JSON object".into(), ""));
    };
    let Some(ty) = obj.get("type").and_then(Value::as_str) else {
        return Err(refuse("no `type` string".into(), ""));
    };
    let valid_type = !ty.is_empty()
        && ty.len() <= 250
        && ty
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid_type {
        return Err(refuse(format!("`type` `{ty}` is not a STIX type name"), ""));
    }
    if ty == "bundle" {
        return Err(refuse(
            "a bundle is not an object: post its objects in an envelope".into(),
            "",
        ));
    }
    let Some(uuid) = id.strip_prefix(ty).and_then(|r| r.strip_prefix("--")) else {
        return Err(refuse(format!("`id` `{id}` is not `{ty}--<UUID>`"), ""));
    };
    if !is_uuid(uuid) {
        return Err(refuse(format!("`id` `{id}`: `{uuid}` is not a UUID"), ""));
    }
    let spec_version = match obj.get("spec_version") {
        None => "2.0".to_string(),
        Some(Value::String(s)) if s == "2.0" || s == "2.1" => s.clone(),
        Some(other) => {
            return Err(refuse(
                format!("`spec_version` {other}: expected \"2.1\" (or \"2.0\")"),
                "",
            ))
        }
    };
    let mut version: Option<(DateTime<Utc>, String)> = None;
    for key in ["modified", "created"] {
        match obj.get(key) {
            None => continue,
            Some(Value::String(s)) => match DateTime::parse_from_rfc3339(s) {
                Ok(t) => {
                    version = Some((t.with_timezone(&Utc), s.clone()));
                    break;
                }
                Err(e) => return Err(refuse(format!("`{key}` `{s}`: {e}"), s)),
            },
            Some(other) => return Err(refuse(format!("`{key}` {other} is not a timestamp"), "")),
        }
    }
    Ok(TaxiiNewObject {
        id: id.clone(),
        object_type: ty.to_string(),
        version: version.as_ref().map(|v| v.0),
        version_text: version.map(|v| v.1),
        spec_version,
        document: v.clone(),
    })
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `POST .../objects/`: an envelope (or a bundle) of objects; answers 202 with a
/// complete status (every object is stored, or refused with why, before it answers).
pub async fn post_objects(
    State(state): State<AppState>,
    Path(cid): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let c = collection_for(&state, &headers, &cid, true).await?;
    let media = http::negotiate(&headers, false)?;
    http::check_content_type(&headers)?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request entity too large",
                format!("the body exceeds max_content_length ({MAX_CONTENT_LENGTH} bytes)"),
            )
        } else {
            Error::bad_request(format!("body: {}", e.body_text()))
        }
    })?;
    let doc: Value = serde_json::from_slice(&body).map_err(|e| {
        Error::bad_request(format!(
            "body: not JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let Some(objects) = doc.get("objects").and_then(Value::as_array) else {
        return Err(Error::bad_request(
            "body: expected an envelope, a JSON object with an `objects` array",
        ));
    };
    let now = Utc::now();
    let mut accepted = Vec::new();
    let mut failures = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        match check_object(o) {
            Ok(n) => accepted.push(n),
            Err((id, version, why)) => failures.push(StatusDetails {
                id,
                version,
                message: Some(format!("/objects/{i}: {why}")),
            }),
        }
    }
    let status_id = uuid::Uuid::new_v4().to_string();
    let successes: Vec<StatusDetails> = accepted
        .iter()
        .map(|o| StatusDetails {
            id: o.id.clone(),
            version: o.version_text.clone().unwrap_or_default(),
            message: None,
        })
        .collect();
    let mut status = Status {
        id: status_id.clone(),
        status: "complete".into(),
        request_timestamp: Some(rfc3339(now)),
        total_count: objects.len() as u64,
        success_count: successes.len() as u64,
        successes,
        failure_count: failures.len() as u64,
        failures,
        pending_count: 0,
        pendings: vec![],
    };
    let store = state.store.clone();
    let objs = accepted.clone();
    let row = TaxiiStatusRow {
        id: status_id.clone(),
        collection: c.alias().to_string(),
        request_timestamp: now,
        document: serde_json::to_value(&status).unwrap_or(Value::Null),
    };
    let outcome = blocking(move || store.taxii_add(c.alias(), &objs, Some(&row))).await?;
    // Objects without a version take their date added as version: say it.
    let mut fixed = false;
    for ((s, o), out) in status.successes.iter_mut().zip(&accepted).zip(&outcome) {
        if let (None, TaxiiAdded::Added(at)) = (&o.version, out) {
            s.version = rfc3339(*at);
            fixed = true;
        }
    }
    if fixed {
        let store = state.store.clone();
        let row = TaxiiStatusRow {
            id: status_id,
            collection: c.alias().to_string(),
            request_timestamp: now,
            document: serde_json::to_value(&status).unwrap_or(Value::Null),
        };
        blocking(move || store.taxii_save_status(&row)).await?;
    }
    let added = outcome
        .iter()
        .filter(|o| matches!(o, TaxiiAdded::Added(_)))
        .count();
    if added > 0 && c == CollectionKind::Shared {
        state.taxii.bump_shared();
    }
    tracing::info!(
        collection = c.alias(),
        added,
        duplicates = outcome.len() - added,
        refused = status.failure_count,
        "TAXII: objects posted"
    );
    Ok(http::json(StatusCode::ACCEPTED, media, &status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_are_checked() {
        let ok = json!({"type": "indicator", "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-02T00:00:00.000Z"});
        let o = check_object(&ok).ok();
        assert_eq!(
            o.as_ref().and_then(|o| o.version_text.clone()).as_deref(),
            Some("2026-01-02T00:00:00.000Z")
        );
        assert_eq!(o.map(|o| o.spec_version).as_deref(), Some("2.1"));
        for (bad, why) in [
            (json!(3), "not a JSON object"),
            (json!({"id": "x--1"}), "no `type`"),
            (json!({"type": "Indicator", "id": "x"}), "not a STIX type"),
            (
                json!({"type": "indicator", "id": "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}),
                "is not `indicator--",
            ),
            (
                json!({"type": "indicator", "id": "indicator--xyz"}),
                "not a UUID",
            ),
            (
                json!({"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "modified": "soon"}),
                "`modified`",
            ),
            (
                json!({"type": "indicator", "spec_version": 2.1, "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}),
                "spec_version",
            ),
        ] {
            match check_object(&bad) {
                Ok(_) => panic!("accepted {bad}"),
                Err((_, _, w)) => assert!(w.contains(why), "{bad}: {w}"),
            }
        }
    }
}
