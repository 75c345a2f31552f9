//! What the dashboard serves itself, over real HTTP: the page and its files with their
//! content types, Content-Security-Policy and ETags; nothing that points off the
//! server; the live event stream (ready, changes, end on shutdown); the token rules of
//! its two API routes; the drawings endpoint's 404.

use std::io::{BufRead as _, BufReader};
use std::time::Duration;

use serde_json::{json, Value};
use vigie_serve::dashboard::{end_streams, CSP};
use vigie_serve::state::LiveChange;

use super::dashboard_service::Service;

fn client() -> reqwest::blocking::Client {
    // reqwest is built without a default TLS provider (the service picks ring).
    vigie_serve::api::tls::install_crypto_provider();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

fn get(url: &str) -> reqwest::blocking::Response {
    client().get(url).send().expect("GET")
}

fn header(r: &reqwest::blocking::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The files the page loads: the index's `href`/`src` and each module's imports.
fn referenced(svc: &Service) -> Vec<String> {
    let index = get(&svc.url("/")).text().expect("index");
    let mut refs: Vec<String> = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for part in index.split(attr).skip(1) {
            let r = part.split('"').next().unwrap_or_default();
            if r.starts_with("/assets/") {
                refs.push(r.to_string());
            }
        }
    }
    let mut k = 0;
    while k < refs.len() {
        if refs[k].ends_with(".js") {
            let js = get(&svc.url(&refs[k])).text().expect("module");
            for part in js.split("from './").skip(1) {
                let name = part.split('\'').next().unwrap_or_default();
                let r = format!("/assets/{name}");
                if !refs.contains(&r) {
                    refs.push(r);
                }
            }
        }
        k += 1;
    }
    refs
}

#[test]
fn page_and_assets_have_types_csp_and_etags() {
    let svc = Service::routes_only(None);
    let r = get(&svc.url("/"));
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&r, "content-security-policy"), CSP);
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    let html = r.text().expect("body");
    // Nothing inline: the CSP would refuse it, so it must not be needed.
    assert!(!html.contains("<style") && !html.contains(" style="));
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script type=\"module\" src=\"/assets/")
            .count()
    );

    let refs = referenced(&svc);
    for want in [
        "/assets/app.js",
        "/assets/api.js",
        "/assets/dom.js",
        "/assets/list.js",
        "/assets/incident.js",
        "/assets/app.css",
        "/assets/report.css",
        "/assets/favicon.svg",
    ] {
        assert!(
            refs.iter().any(|r| r == want),
            "{want} not referenced: {refs:?}"
        );
    }
    for path in &refs {
        let r = get(&svc.url(path));
        assert_eq!(r.status(), 200, "{path}");
        let ct = header(&r, "content-type");
        let want = match path.rsplit('.').next() {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            _ => "?",
        };
        assert_eq!(ct, want, "{path}");
        assert_eq!(header(&r, "content-security-policy"), CSP, "{path}");
        let etag = header(&r, "etag");
        assert!(
            etag.len() == 66 && etag.starts_with('"'),
            "{path}: etag {etag}"
        );
        let again = client()
            .get(svc.url(path))
            .header("If-None-Match", &etag)
            .send()
            .expect("GET");
        assert_eq!(again.status(), 304, "{path} revalidated");
        let body = r.text().expect("body");
        // Offline: no address off this server (the SVG namespace is a name, not a fetch).
        let off = body.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !off.contains("http://") && !off.contains("https://"),
            "{path} points off the server"
        );
        assert!(
            !off.contains("@import") && !off.contains("url(http"),
            "{path}"
        );
        if path.ends_with(".js") {
            // Data reaches the page as text nodes only: no HTML parsing of strings, no
            // code from strings (the CSP refuses eval; this keeps it from being needed).
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
            ] {
                assert!(!body.contains(sink), "{path} uses {sink}");
            }
        }
    }
    let css = get(&svc.url("/assets/report.css")).text().expect("css");
    assert_eq!(css, vigie_render::html::stylesheet());
}

#[test]
fn tactics_are_attack_order_and_misses_are_404() {
    let svc = Service::routes_only(None);
    let t: Value = get(&svc.url("/assets/tactics.json")).json().expect("json");
    let got: Vec<&str> = t["tactics"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|x| x["short"].as_str())
        .collect();
    let want: Vec<&str> = vigie_incident::attack::tactics().map(|t| t.short).collect();
    assert_eq!(got.len(), 14);
    assert_eq!(got, want);
    for bad in [
        "/assets/nope.js",
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/src/lib.rs",
        "/assets/",
    ] {
        let r = get(&svc.url(bad));
        assert_eq!(r.status(), 404, "{bad}");
        let e: Value = r.json().expect("error json");
        assert_eq!(e["error"]["code"], "not_found", "{bad}");
    }
    let r = get(&svc.url("/api/v1/incidents/inc-0000000000000000/drawings"));
    assert_eq!(r.status(), 404);
    let e: Value = r.json().expect("json");
    assert_eq!(e["error"]["code"], "not_found");
    let a: Value = get(&svc.url("/assets/auth.json")).json().expect("json");
    assert_eq!(a, json!({"tokens": false}));
}

/// Reads SSE lines until an `event:` line; its name and the `data:` line after it.
fn next_event(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
) -> Option<(String, String)> {
    let mut name = None;
    for line in lines {
        let line = line.ok()?;
        if let Some(n) = line.strip_prefix("event: ") {
            name = Some(n.to_string());
        } else if let Some(d) = line.strip_prefix("data: ") {
            if let Some(n) = name.take() {
                return Some((n, d.to_string()));
            }
        }
    }
    None
}

#[test]
fn stream_sends_ready_then_changes_then_ends_on_shutdown() {
    let svc = Service::routes_only(None);
    let r = client()
        .get(svc.url("/api/v1/stream"))
        .send()
        .expect("stream");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "text/event-stream");
    let mut lines = BufReader::new(r).lines();
    assert_eq!(
        next_event(&mut lines).map(|e| e.0).as_deref(),
        Some("ready")
    );
    let change = LiveChange {
        kind: "incident.opened".into(),
        id: "inc-0123456789abcdef".into(),
        detail: json!({"state": "open", "title": "line\nbreak"}),
    };
    svc.state
        .changes
        .send(change.clone())
        .expect("a subscriber");
    let (name, data) = next_event(&mut lines).expect("the change");
    assert_eq!(name, "incident.opened");
    let v: Value = serde_json::from_str(&data).expect("data is JSON");
    assert_eq!(v, serde_json::to_value(&change).expect("json"));
    end_streams(&svc.state);
    assert_eq!(
        next_event(&mut lines).map(|e| e.0).as_deref(),
        Some("shutdown")
    );
    // Then the stream ends (no hang until the client's timeout).
    assert!(next_event(&mut lines).is_none());
}

#[test]
fn with_tokens_the_page_is_open_and_its_api_routes_are_not() {
    let svc = Service::routes_only(Some("s3cret-token"));
    for open in [
        "/",
        "/assets/app.js",
        "/assets/report.css",
        "/assets/tactics.json",
    ] {
        assert_eq!(get(&svc.url(open)).status(), 200, "{open}");
    }
    let a: Value = get(&svc.url("/assets/auth.json")).json().expect("json");
    assert_eq!(a, json!({"tokens": true}));
    for closed in [
        "/api/v1/stream",
        "/api/v1/incidents/inc-0000000000000000/drawings",
    ] {
        let r = get(&svc.url(closed));
        assert_eq!(r.status(), 401, "{closed}");
        let e: Value = r.json().expect("json");
        assert_eq!(e["error"]["code"], "unauthorized");
        let r = client()
            .get(svc.url(closed))
            .bearer_auth("wrong")
            .send()
            .expect("GET");
        assert_eq!(r.status(), 401, "{closed} with a wrong token");
    }
    let r = client()
        .get(svc.url("/api/v1/stream"))
        .bearer_auth("s3cret-token")
        .send()
        .expect("GET");
    assert_eq!(r.status(), 200);
    let r = client()
        .get(svc.url("/api/v1/incidents/inc-0000000000000000/drawings"))
        .bearer_auth("s3cret-token")
        .send()
        .expect("GET");
    assert_eq!(r.status(), 404);
}

/// An open dashboard does not hold up a graceful shutdown: the service ends its event
/// streams when it stops (an SSE stream never ends by itself).
#[test]
fn shutdown_ends_open_streams() {
    let svc = super::dashboard_service::Live::start(None);
    let r = client()
        .get(format!("{}/api/v1/stream", svc.base()))
        .send()
        .expect("stream");
    let mut lines = BufReader::new(r).lines();
    assert_eq!(
        next_event(&mut lines).map(|e| e.0).as_deref(),
        Some("ready")
    );
    let reader = std::thread::spawn(move || {
        let mut names = Vec::new();
        while let Some((n, _)) = next_event(&mut lines) {
            names.push(n);
        }
        names
    });
    let t = std::time::Instant::now();
    svc.stop();
    assert!(
        t.elapsed() < Duration::from_secs(8),
        "shutdown took {:?}",
        t.elapsed()
    );
    let names = reader.join().expect("reader");
    assert_eq!(
        names.last().map(String::as_str),
        Some("shutdown"),
        "{names:?}"
    );
}
