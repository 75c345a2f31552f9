//! The dashboard at `/`: a single page embedded in the binary (files under
//! `crates/vigie-serve/dashboard/`, rust-embed; plain JS modules, no framework, no CDN,
//! no font to fetch: it works offline), and the two endpoints only it needs.
//!
//! Routes ([`routes`], merged into the service's router by [`crate::api::router`]):
//! - `GET /` the page, `GET /assets/{path}` its files (`report.css` is the HTML
//!   report's stylesheet from `vigie_render::html::stylesheet`, `tactics.json` the
//!   ATT&CK kill chain in order from `vigie_incident::attack::tactics`, `auth.json`
//!   whether tokens exist so the page asks for one up front). No auth: they hold no
//!   data. Every answer carries a strict Content-Security-Policy (scripts,
//!   styles and connections from this origin only, nothing inline, no frames) and
//!   `nosniff`; assets have an ETag (their SHA-256) and revalidate.
//! - `GET /api/v1/stream` (role viewer): Server-Sent Events of [`AppState::changes`]
//!   (`event: incident.opened|incident.changed|detections`, `data:` the
//!   [`LiveChange`] as JSON), a `ready` event on connect and a `resync` event when this
//!   client fell behind the broadcast buffer (it then reloads what it shows); a
//!   keep-alive comment every 15 s keeps proxies from closing an idle stream.
//! - `GET /api/v1/incidents/{id}/drawings` (role viewer): the incident's attack graph
//!   with the containment plan, the customer-hours per segment and the restore
//!   timeline as SVG, drawn by the HTML report's code (`vigie_render::html`) on the
//!   loaded model, so the dashboard and `vigie respond --format html` draw the same.
//!
//! The page reads everything else from the API (`docs/dashboard.md`).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream, StreamExt as _};
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;
use vigie_render::html::{charts, graph, layout, Options};
use vigie_response::graph::Graph;
use vigie_store::IncidentRow;
use vigie_wire::v1::respond::Incident;

use crate::state::{AppState, LiveChange};

/// The page's files, embedded at build time (also in debug builds).
#[derive(rust_embed::Embed)]
#[folder = "dashboard/"]
struct Files;

/// Scripts, styles, images and API calls from this origin only; nothing inline, no
/// plugin, no frame, no form posted elsewhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// How often an idle event stream sends a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The dashboard's routes (see the module doc); `/api/v1/*` ones need role viewer.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/favicon.ico", get(favicon))
        .route("/assets/{*path}", get(asset))
        .route("/api/v1/stream", get(stream))
        .route("/api/v1/incidents/{id}/drawings", get(drawings))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

fn secured(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

/// A file answer: 304 when the client holds this version, else the bytes.
fn file(path: &str, bytes: Vec<u8>, etag: String, req: &HeaderMap) -> Response {
    let etag = format!("\"{etag}\"");
    let fresh = req
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type(path))], bytes).into_response()
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    // Revalidate every time: a new binary serves new files under the same names.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    secured(r)
}

fn embedded(path: &str, req: &HeaderMap) -> Option<Response> {
    let f = Files::get(path)?;
    let etag = hex(&f.metadata.sha256_hash());
    Some(file(path, f.data.into_owned(), etag, req))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn generated(path: &str, body: Vec<u8>, req: &HeaderMap) -> Response {
    use sha2::Digest as _;
    let etag = hex(&sha2::Sha256::digest(&body));
    file(path, body, etag, req)
}

async fn index(req: HeaderMap) -> Response {
    embedded("index.html", &req).unwrap_or_else(|| not_found("the dashboard page"))
}

async fn favicon(req: HeaderMap) -> Response {
    embedded("assets/favicon.svg", &req).unwrap_or_else(|| not_found("favicon"))
}

async fn asset(State(s): State<AppState>, Path(path): Path<String>, req: HeaderMap) -> Response {
    match path.as_str() {
        "auth.json" => auth_json(&s).await,
        "report.css" => generated(
            &path,
            vigie_render::html::stylesheet().as_bytes().to_vec(),
            &req,
        ),
        "tactics.json" => generated(&path, tactics_json(), &req),
        // rust-embed only knows the files it embedded: `..` or absolute paths miss.
        _ => embedded(&format!("assets/{path}"), &req)
            .unwrap_or_else(|| not_found(&format!("asset {path}"))),
    }
}

/// `{"tokens": bool}`: whether API tokens exist, so the page asks for one before its
/// first call instead of after a 401 (which the browser logs as an error). `null` when
/// the store cannot say; the page then finds out from the API's answer.
async fn auth_json(s: &AppState) -> Response {
    let store = s.store.clone();
    let tokens = match tokio::task::spawn_blocking(move || store.tokens()).await {
        Ok(Ok(t)) => Value::Bool(!t.is_empty()),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "dashboard: token table unreadable");
            Value::Null
        }
        Err(_) => Value::Null,
    };
    let mut r = axum::Json(json!({ "tokens": tokens })).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    secured(r)
}

/// The Enterprise ATT&CK tactics in kill-chain order, `[{short, name, id}]`.
pub fn tactics_json() -> Vec<u8> {
    let list: Vec<Value> = vigie_incident::attack::tactics()
        .map(|t| json!({"short": t.short, "name": t.name, "id": t.id}))
        .collect();
    serde_json::to_vec(&json!({ "tactics": list })).unwrap_or_default()
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"error": {"code": code, "message": message}});
    secured((status, axum::Json(body)).into_response())
}

fn not_found(what: &str) -> Response {
    error(StatusCode::NOT_FOUND, "not_found", &format!("no {what}"))
}

/// The live changes as Server-Sent Events (see the module doc).
async fn stream(State(s): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = s.changes.subscribe();
    let ready = stream::once(async { Ok(Event::default().event("ready").data("{}")) });
    let changes = stream::unfold(rx, |mut rx| async move {
        let ev = match rx.recv().await {
            Ok(c) => change_event(&c),
            // This client missed `n` changes: it reloads rather than show a stale list.
            Err(RecvError::Lagged(n)) => Event::default()
                .event("resync")
                .data(json!({ "missed": n }).to_string()),
            // The server is going away: end the stream (the page reconnects).
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(ev), rx))
    });
    Sse::new(ready.chain(changes)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

fn change_event(c: &LiveChange) -> Event {
    // An event name holds no line break (it would end the field); ours are constants.
    let kind: String = c.kind.chars().filter(|ch| !ch.is_control()).collect();
    Event::default()
        .event(kind)
        .data(serde_json::to_string(c).unwrap_or_else(|_| "{}".to_string()))
}

/// The response graph of the loaded model, built once per model (reload swaps the
/// `Arc`, so pointer identity tells a new model; holding the old `Arc` here keeps its
/// address from being reused while cached).
type GraphCache = Mutex<Option<(Arc<vigie_model::Model>, Arc<Result<Graph, String>>)>>;
static GRAPH: GraphCache = Mutex::new(None);

fn graph_of(model: &Arc<vigie_model::Model>) -> Arc<Result<Graph, String>> {
    let mut cache = match GRAPH.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    if let Some((m, g)) = cache.as_ref() {
        if Arc::ptr_eq(m, model) {
            return g.clone();
        }
    }
    let g = Arc::new(vigie_response::from_model(model).map_err(|e| e.to_string()));
    *cache = Some((model.clone(), g.clone()));
    g
}

async fn drawings(State(s): State<AppState>, Path(id): Path<String>) -> Response {
    let store = s.store.clone();
    let model = s.loaded().model.clone();
    let job = tokio::task::spawn_blocking(move || {
        let row = store.incident(&id).map_err(|e| e.to_string())?;
        Ok::<_, String>(row.map(|row| draw(&row, &graph_of(&model))))
    });
    match job.await {
        Ok(Ok(Some(v))) => secured(axum::Json(v).into_response()),
        Ok(Ok(None)) => not_found("such incident"),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "drawings: store read failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", &e)
        }
        Err(e) => {
            tracing::error!(error = %e, "drawings: task failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "drawing failed",
            )
        }
    }
}

/// The wire incident of a stored row with its decision folded in (the store keeps
/// the decision apart, computed for a compromised set that may lag the incident's).
pub fn wire_incident(row: &IncidentRow) -> Result<Incident, serde_json::Error> {
    let mut doc = row.document.clone();
    if let Value::Object(m) = &mut doc {
        m.insert("id".into(), Value::String(row.id.clone()));
        // Stored without its detections (they are rows of their own); none is drawn.
        m.entry("detections").or_insert_with(|| json!([]));
        if let Some(d) = &row.decision {
            m.insert("compromised".into(), json!(d.compromised));
            if let Value::Object(dm) = &d.document {
                for k in [
                    "assess",
                    "contain",
                    "restore",
                    "notification",
                    "decision_skipped",
                ] {
                    if let Some(v) = dm.get(k) {
                        m.insert(k.into(), v.clone());
                    }
                }
            }
        }
    }
    serde_json::from_value(doc)
}

/// The drawings of one incident as JSON: `graph`, `segments`, `gantt` (SVG text or
/// null when there is nothing to draw), how much each left out, and `note` saying why
/// the graph is missing when it is.
pub fn draw(row: &IncidentRow, g: &Result<Graph, String>) -> Value {
    let o = Options::default();
    let inc = match wire_incident(row) {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(incident = %row.id, error = %e, "stored incident does not read as a wire incident");
            return json!({"id": row.id, "graph": null, "segments": null, "gantt": null,
                "note": format!("the stored incident could not be read: {e}")});
        }
    };
    let (graph, shown, eligible, note) = match g {
        _ if inc.compromised.is_empty() => (
            None,
            0,
            0,
            Some("no asset is judged compromised".to_string()),
        ),
        Ok(g) => {
            let v = graph::view(g, &inc, o.max_graph_nodes);
            let label = format!("Attack graph of {}", inc.id);
            (
                Some(layout::svg(&v, 0, &label)),
                v.nodes.len(),
                v.eligible,
                None,
            )
        }
        Err(e) => (
            None,
            0,
            0,
            Some(format!("the model's graph did not build: {e}")),
        ),
    };
    let segments = inc
        .contain
        .as_ref()
        .and_then(|c| charts::segments(c, o.max_segments));
    let gantt = inc
        .restore
        .as_ref()
        .and_then(|r| charts::gantt(r, &inc.compromised, o.max_gantt_rows));
    json!({
        "id": inc.id,
        "compromised": inc.compromised,
        "graph": graph,
        "graph_shown": shown,
        "graph_eligible": eligible,
        "segments": segments.as_ref().map(|s| &s.0),
        "segments_left_out": segments.as_ref().map_or(0, |s| s.1),
        "gantt": gantt.as_ref().map(|s| &s.0),
        "gantt_left_out": gantt.as_ref().map_or(0, |s| s.1),
        "note": note,
    })
}
