//! The HTTP API in-process: every route's shape, cursor paging, incident changes with
//! history and audit, ingest (202 once committed, per-line rejects, gzip, 413, 400,
//! 429 with Retry-After), health, readiness, metrics.

use std::io::Write;

use reqwest::Method;
use serde_json::{json, Value};

use super::api_harness::{Api, Endpoint as _, Opts};

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detections_page_by_cursor_with_filters() {
    let api = Api::start(Opts::default()).await;
    let mut path = "/api/v1/detections?limit=5".to_string();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (s, v) = api.get_json(&path, None).await;
        assert_eq!(s, 200, "{v}");
        for d in v["detections"].as_array().unwrap_or(&Vec::new()) {
            assert!(
                d["id"].as_str().is_some_and(|i| i.starts_with("det-")),
                "{d}"
            );
            assert!(
                d["incident_id"]
                    .as_str()
                    .is_some_and(|i| i.starts_with("inc-")),
                "{d}"
            );
            assert!(d["rule_id"].is_string() && d["fields"].is_object(), "{d}");
            seen.push(d["id"].as_str().unwrap_or("").to_string());
        }
        pages += 1;
        match v["next"].as_str() {
            Some(n) => {
                assert!(n.starts_with("/api/v1/detections?limit=5&after="), "{n}");
                path = n.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut want = api.detections.clone();
    want.sort();
    seen.sort();
    assert_eq!(seen, want, "every detection once");

    // Filters: minimum level, incident, rule; the next page keeps them.
    let (s, v) = api
        .get_json("/api/v1/detections?level=critical", None)
        .await;
    assert_eq!(s, 200);
    for d in v["detections"].as_array().unwrap_or(&Vec::new()) {
        assert_eq!(d["level"], "critical", "{d}");
    }
    let inc = &api.incidents[0];
    let (_, v) = api
        .get_json(&format!("/api/v1/detections?incident={inc}&limit=2"), None)
        .await;
    let next = v["next"].as_str().unwrap_or("");
    assert!(
        next.contains(&format!("incident={inc}")) && next.contains("limit=2"),
        "{next}"
    );
    for d in v["detections"].as_array().unwrap_or(&Vec::new()) {
        assert_eq!(d["incident_id"], json!(inc));
    }
    // Bad filters: 400 in the error shape; a cursor we did not make: 404.
    for q in [
        "level=loud",
        "limit=0",
        "limit=1001",
        "from=yesterday",
        "bogus=1",
    ] {
        let (s, v) = api.get_json(&format!("/api/v1/detections?{q}"), None).await;
        assert_eq!((s, error_code(&v)), (400, "bad_request"), "{q}: {v}");
    }
    let (s, v) = api.get_json("/api/v1/detections?after=zzz", None).await;
    assert_eq!((s, error_code(&v)), (404, "not_found"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_list_detail_and_change() {
    let api = Api::start(Opts::default()).await;
    let (s, v) = api.get_json("/api/v1/incidents?limit=1", None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["incidents"].as_array().map(Vec::len), Some(1));
    let first = &v["incidents"][0];
    for k in [
        "id",
        "state",
        "assignee",
        "verdict",
        "severity",
        "risk",
        "first_seen",
        "last_seen",
        "assets",
        "compromised",
        "detection_count",
        "opened_at",
        "updated_at",
        "version",
    ] {
        assert!(first.get(k).is_some(), "summary lacks {k}: {first}");
    }
    let next = v["next"].as_str().unwrap_or("").to_string();
    let (_, v2) = api.get_json(&next, None).await;
    assert_eq!(v2["incidents"].as_array().map(Vec::len), Some(1));
    assert!(v2.get("next").is_none(), "last page has no next: {v2}");

    let id = api.incidents[1].clone(); // the one with a decision
    let (s, d) = api.get_json(&format!("/api/v1/incidents/{id}"), None).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["incident"]["techniques"], json!(["T1110"]));
    assert_eq!(d["decision"]["compromised"], json!(["dc01"]));
    assert_eq!(d["decision"]["contain"], Value::Null);
    assert_eq!(d["decision"]["decision_skipped"][0]["engine"], "contain");
    assert!(
        d["history"].as_array().is_some_and(|h| !h.is_empty()),
        "{d}"
    );

    let (s, v) = api.get_json("/api/v1/incidents/inc-nope", None).await;
    assert_eq!((s, error_code(&v)), (404, "not_found"));

    // A verdict on an open incident: 409; acknowledging: 200, in history and audit.
    let patch = |body: Value| {
        api.req(Method::PATCH, &format!("/api/v1/incidents/{id}"), None)
            .json(&body)
            .send()
    };
    let r = patch(json!({"verdict": "true_positive"}))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 409);
    let mut live = api.state.changes.subscribe();
    let r = patch(json!({"state": "acknowledged", "assignee": "ana", "comment": "looking"}))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 200);
    let d: Value = r.json().await.unwrap_or_default();
    assert_eq!(
        (d["state"].as_str(), d["assignee"].as_str()),
        (Some("acknowledged"), Some("ana"))
    );
    let h = d["history"].as_array().cloned().unwrap_or_default();
    assert!(
        h.iter()
            .any(|l| l["actor"] == "local" && l["comment"] == "looking"),
        "{h:?}"
    );
    let c = live
        .try_recv()
        .unwrap_or_else(|e| panic!("live change: {e}"));
    assert_eq!(
        (c.kind.as_str(), c.id.as_str()),
        ("incident.changed", id.as_str())
    );
    let (_, a) = api.get_json("/api/v1/audit", None).await;
    assert!(
        a["entries"].as_array().is_some_and(|e| e
            .iter()
            .any(|l| l["actor"] == "local" && l["target"] == json!(id))),
        "{a}"
    );
    // Bodies that are not a change: 400; an empty change: the incident as it is.
    for body in [
        json!({"state": "gone"}),
        json!({"colour": "red"}),
        json!([1]),
    ] {
        let r = patch(body.clone()).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status().as_u16(), 400, "{body}");
    }
    let r = patch(json!({})).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 200);
    // A state filter.
    let (_, v) = api
        .get_json("/api/v1/incidents?state=acknowledged", None)
        .await;
    assert_eq!(v["incidents"].as_array().map(Vec::len), Some(1), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_answers_once_committed_with_rejects_by_line() {
    let api = Api::start(Opts::default()).await;
    let post = |body: Vec<u8>, gzip: bool, q: &str| {
        let mut r = api
            .req(Method::POST, &format!("/api/v1/events{q}"), None)
            .header("content-type", "application/x-ndjson")
            .body(body);
        if gzip {
            r = r.header("content-encoding", "gzip");
        }
        r.send()
    };
    let body = b"{\"EventID\":1}\n[2]\n\n{bad\n{\"EventID\":3}\n".to_vec();
    let r = post(body.clone(), false, "?source=fw01")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 202);
    let v: Value = r.json().await.unwrap_or_default();
    assert_eq!(
        (v["accepted"].as_u64(), v["duplicates"].as_u64()),
        (Some(2), Some(0)),
        "{v}"
    );
    let lines: Vec<u64> = v["rejected"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .filter_map(|r| r["line"].as_u64())
        .collect();
    assert_eq!(lines, vec![2, 4], "{v}");
    // Committed when answered: the store has them, from the named source.
    let counts = api.store.counts().unwrap_or_default();
    assert_eq!(counts.events, 12 + 2);
    // The same again (gzip): duplicates. A JSON array too.
    let r = post(gz(&body), true, "")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let v: Value = r.json().await.unwrap_or_default();
    assert_eq!(
        (v["accepted"].as_u64(), v["duplicates"].as_u64()),
        (Some(0), Some(2)),
        "{v}"
    );
    let r = post(b"[{\"EventID\":7},{\"EventID\":8}, 9]".to_vec(), false, "")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let v: Value = r.json().await.unwrap_or_default();
    assert_eq!(
        v,
        json!({"accepted": 2, "duplicates": 0, "rejected": [{"line": 3, "reason": "not a JSON object (found a number)"}]})
    );
    // Bad gzip: 400; over the limit (1 MiB) plain or inflated: 413.
    let r = post(b"nope".to_vec(), true, "")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 400);
    let big = vec![b' '; (1 << 20) + 1];
    let r = post(big.clone(), false, "")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 413);
    let r = post(gz(&big), true, "")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 413);
    let v: Value = r.json().await.unwrap_or_default();
    assert_eq!(error_code(&v), "too_large");
    // Rejects are counted by source.
    let (s, _) = api.get_json("/healthz", None).await;
    assert_eq!(s, 200);
    let m = api
        .req(Method::GET, "/metrics", None)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(m.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("application/openmetrics-text"));
    let text = m.text().await.unwrap_or_default();
    assert!(
        text.contains("vigie_events_rejected_total{source=\"fw01\",reason=\"unreadable\"} 2"),
        "{text}"
    );
    assert!(text.contains("vigie_queue_depth 0"), "{text}");
    assert!(text.contains("vigie_incidents_open 2"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_answers_429_with_retry_after() {
    let api = Api::start(Opts {
        queue_events: 4,
        ..Opts::default()
    })
    .await;
    let r = api
        .req(Method::POST, "/api/v1/admin/committer", None)
        .json(&json!({"paused": true}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 200);
    // Four events fill the queue; their post waits for the commit.
    let body: String = (0..4).map(|i| format!("{{\"n\":{i}}}\n")).collect();
    let waiting = tokio::spawn(
        api.req(Method::POST, "/api/v1/events", None)
            .body(body)
            .send(),
    );
    let mut status = 0;
    for _ in 0..250 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if api.state.ingest.depth() == 4 {
            let r = api
                .req(Method::POST, "/api/v1/events", None)
                .body("{\"n\":9}")
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            status = r.status().as_u16();
            assert_eq!(
                r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
                Some("1")
            );
            let v: Value = r.json().await.unwrap_or_default();
            assert_eq!(error_code(&v), "queue_full");
            break;
        }
    }
    assert_eq!(status, 429);
    assert!(!waiting.is_finished(), "202 only once committed");
    let r = api
        .req(Method::POST, "/api/v1/admin/committer", None)
        .json(&json!({"paused": false}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 200);
    let r = waiting
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 202);
    let v: Value = r.json().await.unwrap_or_default();
    assert_eq!(v["accepted"], 4);
    // Both admin actions are in the audit log.
    let (_, a) = api.get_json("/api/v1/audit", None).await;
    let n = a["entries"].as_array().map_or(0, |e| {
        e.iter().filter(|l| l["action"] == "committer").count()
    });
    assert_eq!(n, 2, "{a}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loaded_rules_model_assets_health() {
    let api = Api::start(Opts::default()).await;
    let (s, v) = api.get_json("/api/v1/rules", None).await;
    assert_eq!(s, 200);
    let rules = v["rules"].as_array().cloned().unwrap_or_default();
    assert!(!rules.is_empty());
    let with_detections: u64 = rules.iter().filter_map(|r| r["detections"].as_u64()).sum();
    assert_eq!(
        with_detections, 12,
        "per-rule detections add up to the stored ones"
    );
    assert!(
        v["check"]["refused"].is_array() && v["digest"].is_string(),
        "{v}"
    );

    let (s, v) = api.get_json("/api/v1/model", None).await;
    assert_eq!((s, v["summary"]["id"].as_str()), (200, Some("demo")));
    let total = api.state.loaded().model.assets.len();
    let mut path = "/api/v1/model/assets?limit=7".to_string();
    let mut ids = Vec::new();
    loop {
        let (s, v) = api.get_json(&path, None).await;
        assert_eq!(s, 200, "{v}");
        ids.extend(
            v["assets"]
                .as_array()
                .unwrap_or(&Vec::new())
                .iter()
                .filter_map(|a| a["id"].as_str().map(String::from)),
        );
        match v["next"].as_str() {
            Some(n) => path = n.to_string(),
            None => break,
        }
    }
    assert_eq!(ids.len(), total);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted, once each");

    let r = api
        .req(Method::POST, "/api/v1/admin/reload", None)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 200);

    api.set_ready(false);
    let (s, v) = api.get_json("/readyz", None).await;
    assert_eq!((s, error_code(&v)), (503, "unavailable"));
    api.set_ready(true);
    let (s, _) = api.get_json("/readyz", None).await;
    assert_eq!(s, 200);
    let (s, v) = api.get_json("/api/v1/nothing", None).await;
    assert_eq!((s, error_code(&v)), (404, "not_found"));
    let r = api
        .req(Method::DELETE, "/api/v1/rules", None)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 405);
}

/// The whole service: a 202 means the detections are visible, incidents follow, a
/// webhook receives them, `/metrics` counts what was accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_on_the_real_service() {
    use super::api_harness::Service;
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let g2 = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let g = g2.clone();
            async move {
                g.lock().map(|mut g| g.push(v)).ok();
                axum::http::StatusCode::OK
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let hook = format!(
        "http://{}/hook",
        l.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    tokio::spawn(async move { axum::serve(l, app).await });
    let svc = Service::start(
        true,
        vec![vigie_serve::config::WebhookConfig {
            url: hook,
            events: vec!["incident.opened".into()],
        }],
    )
    .await;
    let out = svc.ingest_july(Some("ingest")).await;
    let accepted = out["accepted"].as_u64().unwrap_or(0);
    assert!(accepted > 1000, "{out}");
    // Visible when the 202 returns (same transaction).
    let (s, v) = svc
        .get_json("/api/v1/detections?limit=1000", Some("viewer"))
        .await;
    assert_eq!(s, 200);
    let dets = v["detections"].as_array().cloned().unwrap_or_default();
    assert!(!dets.is_empty(), "{v}");
    assert!(dets
        .iter()
        .all(|d| d["id"].is_string() && d.get("incident_id").is_some()));
    let (_, inc) = svc.get_json("/api/v1/incidents", Some("viewer")).await;
    let incidents = inc["incidents"].as_array().cloned().unwrap_or_default();
    assert!(!incidents.is_empty(), "{inc}");
    let id = incidents[0]["id"].as_str().unwrap_or("").to_string();
    let (s, d) = svc
        .get_json(&format!("/api/v1/incidents/{id}"), Some("viewer"))
        .await;
    assert_eq!(s, 200, "{d}");
    assert!(d["incident"].is_object() && d["history"].is_array(), "{d}");
    // The webhook gets each opened incident in the API's list shape.
    let mut n = 0;
    for _ in 0..300 {
        n = got.lock().map(|g| g.len()).unwrap_or(0);
        if n >= incidents.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        n >= incidents.len(),
        "{n} webhook posts for {} incidents",
        incidents.len()
    );
    let first = got.lock().map(|g| g[0].clone()).unwrap_or_default();
    assert_eq!(first["event"], "incident.opened");
    assert!(
        first["incident"]["detection_count"].is_u64() && first["incident"]["state"].is_string(),
        "{first}"
    );
    // The analyst's change is recorded under the token's name.
    let r = svc
        .req(
            Method::PATCH,
            &format!("/api/v1/incidents/{id}"),
            Some("analyst"),
        )
        .json(&json!({"state": "closed", "verdict": "false_positive", "comment": "lab"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 200);
    let d: Value = r.json().await.unwrap_or_default();
    assert_eq!(
        (d["state"].as_str(), d["verdict"].as_str()),
        (Some("closed"), Some("false_positive"))
    );
    let (_, rules) = svc.get_json("/api/v1/rules", Some("viewer")).await;
    let fp = rules["rules"].as_array().map_or(0, |r| {
        r.iter()
            .filter(|r| r["false_positive"].as_u64() > Some(0))
            .count()
    });
    assert!(fp > 0, "a false-positive verdict shows in the rule stats");
    // Metrics count what was accepted.
    let m = svc
        .req(Method::GET, "/metrics", Some("viewer"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let text = m.text().await.unwrap_or_default();
    assert!(
        text.contains(&format!(
            "vigie_events_in_total{{source=\"http\"}} {accepted}"
        )),
        "{text}"
    );
    svc.stop().await;
}
