//! TAXII 2.1 in `vigie serve` (issue 10, point 4) driven by the OASIS reference client,
//! taxii2-client 2.3.0 (`crates/vigie-serve/tests/taxii/drive_taxii2_client.py`), against
//! a `vigie serve --listen 127.0.0.1:0` child, on SQLite and on PostgreSQL:
//!
//! 1. open (no token, loopback): the demo intrusion is ingested, its incident appears in
//!    the `incidents` collection, whose objects (`vigie intel export`'s, TLP:AMBER, nothing
//!    internal) pass stix2-validator 3.3.2 `--strict` with no error and no warning; every
//!    endpoint is driven (discovery, API root,
//!    collections, objects GET/POST with every filter, paging whose pages' union is one
//!    full read, the date-added headers, one object, versions, manifest, DELETE, status,
//!    406/415/400/404 as TAXII errors);
//! 2. after SIGTERM and a restart on the same store: the same objects (republishing the
//!    unchanged incident adds no version), the status, and dates added that keep
//!    increasing;
//! 3. with tokens (`vigie serve token add`) picked up by the running server: 401 without
//!    or with a wrong token, 403 for an ingest token, viewer reads but may not write,
//!    analyst writes `shared` but not `incidents`, Basic and Bearer both carry the token.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use vigie_test_support::serve::{ServeCommand, Server};

const BIN: &str = env!("CARGO_BIN_EXE_vigie");

fn script() -> std::path::PathBuf {
    vigie_test_support::repo_root().join("crates/vigie-serve/tests/taxii/drive_taxii2_client.py")
}

/// Runs the driver; panics with its output (and the server's log) when it fails.
fn drive(python: &Path, server: &Server, args: &[&str]) {
    let out = Command::new(python)
        .arg(script())
        .args(args)
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    if !out.status.success() {
        panic!(
            "taxii2-client driver {args:?} failed ({}):\n{stdout}\n{stderr}\n--- server log ---\n{}",
            out.status,
            server.log_tail(40)
        );
    }
    assert!(stdout.contains(&format!("done: {}", args[0])), "{stdout}");
}

fn token(data: &Path, store: &str, name: &str, role: &str) -> String {
    let out = Command::new(BIN)
        .args(["serve", "token", "add", name, "--role", role, "--data"])
        .arg(data)
        .args(["--store", store])
        .output()
        .unwrap_or_else(|e| panic!("vigie serve token add: {e}"));
    assert!(
        out.status.success(),
        "token add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Waits until the `incidents` collection holds an incident object (the feed follows
/// the live incidents).
fn wait_for_incident(server: &Server) {
    let http = server.http();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = http
            .get("/taxii2/vigie/collections/incidents/objects/?match[type]=incident")
            .unwrap_or_else(|e| panic!("GET incidents objects: {e}"));
        assert_eq!(r.status, 200, "{}", r.text());
        if r.json()["objects"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            return;
        }
        if Instant::now() > deadline {
            server.fail("no incident object in the TAXII incidents collection within 30 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every object of the `incidents` collection (`match[version]` as given), through the
/// pages.
fn incident_versions(server: &Server, version: &str) -> Vec<Value> {
    listed(server, "incidents", "objects", version)
}

/// Every entry of a collection's `objects` or `manifest` (`match[version]` as given),
/// through the pages (200 a page).
fn listed(server: &Server, collection: &str, endpoint: &str, version: &str) -> Vec<Value> {
    let http = server.http();
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut path = format!(
            "/taxii2/vigie/collections/{collection}/{endpoint}/?match[version]={version}&limit=200"
        );
        if let Some(n) = &next {
            path.push_str(&format!("&next={n}"));
        }
        let r = http
            .get(&path)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert_eq!(r.status, 200, "{}", r.text());
        let page = r.json();
        // Both envelopes list under `objects`.
        out.extend(page["objects"].as_array().cloned().unwrap_or_default());
        match (page["more"].as_bool(), page["next"].as_str()) {
            (Some(true), Some(n)) => next = Some(n.to_string()),
            _ => return out,
        }
    }
}

/// Waits until the collection's version count holds still for 2 s (the decision of the
/// incident arrives after its detections); returns that count.
fn settled_versions(server: &Server) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = incident_versions(server, "all").len();
    let mut since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let n = incident_versions(server, "all").len();
        if n != last {
            (last, since) = (n, Instant::now());
        } else if since.elapsed() >= Duration::from_secs(2) {
            return n;
        }
        if Instant::now() > deadline {
            server.fail("the TAXII incidents collection kept changing for 60 s");
        }
    }
}

/// stix2-validator `--strict` on the collection's current objects as one bundle: no
/// error, no warning.
fn validate_incidents(server: &Server, dir: &Path) {
    let Some(venv) = vigie_test_support::python::stix_validator_venv() else {
        return;
    };
    let objects = incident_versions(server, "last");
    assert!(
        objects.iter().any(|o| o["type"] == "incident")
            && objects.iter().any(|o| o["type"] == "sighting")
            && objects.iter().any(|o| o["type"] == "marking-definition"),
        "the collection holds export's objects: {objects:?}"
    );
    let bundle = serde_json::json!({
        "type": "bundle",
        "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": objects,
    });
    let f = dir.join("incidents-bundle.json");
    std::fs::write(&f, bundle.to_string()).unwrap_or_else(|e| panic!("write bundle: {e}"));
    let o = Command::new(venv.join("bin/stix2_validator"))
        .arg("--strict")
        .arg(&f)
        .output()
        .unwrap_or_else(|e| panic!("run stix2_validator: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "validator failed:\n{text}");
    assert!(text.contains("STIX JSON: Valid"), "{text}");
    // `[!]` lines are warnings, `[X]` errors: neither is allowed.
    assert!(
        !text.contains("[!]") && !text.contains("[X]"),
        "warnings or errors:\n{text}"
    );
}

fn run(python: &Path, dir: &Path, store: &str) {
    let started = Instant::now();
    let cmd = ServeCommand::new(BIN, &dir.join("data")).store(store);
    let mut server = cmd.spawn();
    let intrusion = std::fs::read(vigie_test_support::repo_root().join("samples/intrusion.jsonl"))
        .unwrap_or_else(|e| panic!("samples/intrusion.jsonl: {e}"));
    let r = server.http().post_events(intrusion).unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    wait_for_incident(&server);
    let versions = settled_versions(&server);
    validate_incidents(&server, dir);
    let state = dir.join("taxii-state.json");
    let state = state.to_str().unwrap_or_default();
    drive(python, &server, &["full", &server.base_url(), state]);

    server.terminate(Duration::from_secs(60));
    let server = cmd.spawn();
    // The feed republishes at start: the same incident, no new version.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        incident_versions(&server, "all").len(),
        versions,
        "a restart added versions to the incidents collection"
    );
    drive(python, &server, &["again", &server.base_url(), state]);

    let viewer = token(&dir.join("data"), store, "soc", "viewer");
    let analyst = token(&dir.join("data"), store, "analyst", "analyst");
    let ingest = token(&dir.join("data"), store, "collector", "ingest");
    // The running server reads new tokens within a second.
    std::thread::sleep(Duration::from_millis(1500));
    drive(
        python,
        &server,
        &["perms", &server.base_url(), &viewer, &analyst, &ingest],
    );
    eprintln!("serve_taxii {store}: {:?}", started.elapsed());
}

#[test]
fn serve_taxii_with_taxii2_client_sqlite_and_postgres() {
    let Some(venv) = vigie_test_support::python::intel_venv() else {
        return;
    };
    let python = venv.join("bin/python");
    std::thread::scope(|s| {
        s.spawn(|| {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite:{}", dir.path().join("data/vigie.db").display());
            run(&python, dir.path(), &url);
        });
        s.spawn(|| {
            let Some(pg) = vigie_test_support::postgres::TempPostgres::start() else {
                return;
            };
            let dir = tempfile::tempdir().unwrap();
            run(&python, dir.path(), &pg.url());
        });
    });
}

/// `vigie intel pull` and `vigie intel push` against `vigie serve` itself (SQLite, open on
/// loopback): a bundle pushed to `shared` is stored whole; pulling every collection gives
/// exactly the documents serve lists (`objects`, every version) and the ids and versions
/// of its manifests.
#[test]
fn vigie_intel_pull_and_push_against_vigie_serve() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("data/vigie.db").display());
    let server = ServeCommand::new(BIN, &dir.path().join("data"))
        .store(&url)
        .spawn();
    let intrusion = std::fs::read(vigie_test_support::repo_root().join("samples/intrusion.jsonl"))
        .unwrap_or_else(|e| panic!("samples/intrusion.jsonl: {e}"));
    let r = server.http().post_events(intrusion).unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    wait_for_incident(&server);
    settled_versions(&server);
    let root = format!("{}/taxii2/vigie/", server.base_url());
    let vigie = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env_remove("VIGIE_LOG")
            .env_remove("VIGIE_TAXII_USER")
            .env_remove("VIGIE_TAXII_PASSWORD")
            .env("NO_PROXY", "127.0.0.1")
            .output()
            .unwrap_or_else(|e| panic!("run vigie: {e}"))
    };

    // Push: 3 versions of an indicator and a malware, by the collection's alias.
    let mut pushed = vigie_test_support::medallion::sdo_versions("indicator", 900, 3);
    pushed.extend(vigie_test_support::medallion::sdo_versions(
        "malware", 901, 1,
    ));
    let file = dir.path().join("push.json");
    let bundle = serde_json::json!({"type": "bundle",
        "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": pushed});
    std::fs::write(&file, bundle.to_string()).unwrap();
    let o = vigie(&[
        "intel",
        "push",
        &root,
        "--collection",
        "shared",
        file.to_str().unwrap(),
        "--poll",
        "0.1",
        "--format",
        "json",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "push: {text}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let p: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(p["sent"], 4, "{p}");
    assert_eq!(p["status"], "complete", "{p}");
    let want: std::collections::BTreeSet<(String, String)> = pushed
        .iter()
        .map(vigie_test_support::medallion::id_version)
        .collect();

    // Pull every collection, 7 a page.
    let out = dir.path().join("pulled");
    let o = vigie(&[
        "intel",
        "pull",
        &root,
        "-o",
        out.to_str().unwrap(),
        "--limit",
        "7",
        "--format",
        "json",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "pull: {text}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let cols = r["collections"].as_array().cloned().unwrap_or_default();
    assert_eq!(cols.len(), 2, "{r}");
    assert_eq!(r["unreadable"], serde_json::json!([]));
    let mut figures = Vec::new();
    for (alias, id) in [
        ("incidents", "a9d90135-8013-509c-b9a1-b11f9ab17a4f"),
        ("shared", "ea8cab59-6eee-5bff-9d12-2190b49f9ef9"),
    ] {
        let entry = cols
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{alias} not pulled: {r}"));
        assert_eq!(entry["error"], Value::Null, "{entry}");
        let path = entry["file"].as_str().unwrap_or_else(|| panic!("{entry}"));
        let b: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let got: Vec<Value> = b["objects"].as_array().cloned().unwrap_or_default();
        // The same documents as serve lists, every version.
        let key = |o: &Value| o.to_string();
        let mut got_docs: Vec<String> = got.iter().map(key).collect();
        let mut served: Vec<String> = listed(&server, alias, "objects", "all")
            .iter()
            .map(key)
            .collect();
        got_docs.sort();
        served.sort();
        assert_eq!(got_docs, served, "{alias}: pulled vs served documents");
        // The ids and versions of the manifest (an object with no `modified` or
        // `created`, a cyber-observable, is versioned by its date added there).
        let manifest = listed(&server, alias, "manifest", "all");
        let mut from_manifest: Vec<(String, String)> = manifest
            .iter()
            .map(|m| {
                let id = m["id"].as_str().unwrap_or("").to_string();
                let sdo = got.iter().any(|o| {
                    o["id"] == m["id"]
                        && (o.get("modified").is_some() || o.get("created").is_some())
                });
                let v = if sdo {
                    m["version"].as_str().unwrap_or("")
                } else {
                    "-"
                };
                (id, v.to_string())
            })
            .collect();
        let mut pulled: Vec<(String, String)> = got
            .iter()
            .map(vigie_test_support::medallion::id_version)
            .collect();
        from_manifest.sort();
        pulled.sort();
        assert_eq!(pulled, from_manifest, "{alias}: pulled vs manifest");
        assert_eq!(entry["versions"], serde_json::json!(got.len()), "{entry}");
        if alias == "shared" {
            assert_eq!(
                pulled
                    .iter()
                    .cloned()
                    .collect::<std::collections::BTreeSet<_>>(),
                want,
                "shared holds exactly what was pushed"
            );
        } else {
            assert!(got.iter().any(|o| o["type"] == "incident"), "no incident");
        }
        figures.push(format!(
            "{alias}: {} objects, {} versions, {} pages",
            entry["objects"], entry["versions"], entry["pages"]
        ));
    }
    eprintln!("vigie intel pull of vigie serve: {}", figures.join("; "));
}
