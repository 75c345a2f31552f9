//! medallion 3.0.0 (the OASIS TAXII 2.1 reference server, from the intel venv) as a child
//! process for the TAXII client tests: a generated configuration with the memory
//! backend and a data file written here ([`sample_data`]: several collections, objects
//! with several versions, enough records to need several pages with a small `limit`),
//! started on a free loopback port, ready when its discovery answers, killed on drop.
//!
//! ```no_run
//! # let venv = std::path::Path::new("/x"); let dir = std::path::Path::new("/tmp/x");
//! use vigie_test_support::medallion::{Medallion, sample_data};
//! let m = Medallion::start(venv, dir, |base| sample_data(base), 100);
//! let root = m.api_root(); // http://127.0.0.1:PORT/api1/
//! ```

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The Basic auth user medallion is configured with.
pub const USER: &str = "admin";
/// Its password.
pub const PASSWORD: &str = "Password0";
/// The API root's name in [`sample_data`].
pub const API_ROOT: &str = "api1";

/// Collection ids of [`sample_data`].
pub const INDICATORS: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
pub const MALWARE: &str = "52892447-4d7e-4f70-b94d-d7f22742ff63";
pub const WRITE_ONLY: &str = "64993447-4d7e-4f70-b94d-d7f22742ff63";
pub const EMPTY: &str = "472c94ae-3113-4e3e-a4dd-a9f4ac7471d4";

/// A running medallion.
pub struct Medallion {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    log: PathBuf,
    /// The data file it was started with.
    pub data: Value,
}

/// A loopback port free at the time of asking.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind 127.0.0.1:0: {e}"));
    l.local_addr()
        .unwrap_or_else(|e| panic!("local_addr: {e}"))
        .port()
}

impl Medallion {
    /// Writes `dir/medallion.json` (config: memory backend on `dir/data.json` =
    /// `data(base)`, user [`USER`]/[`PASSWORD`], `max_page_size`) and starts
    /// `python -m medallion.scripts.run` from `venv` on a free port; returns once
    /// `GET /taxii2/` answers 200 (panics with medallion's log after 60 s).
    pub fn start(
        venv: &Path,
        dir: &Path,
        data: impl Fn(&str) -> Value,
        max_page_size: u32,
    ) -> Medallion {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let data = data(&base);
        let data_path = dir.join("data.json");
        write_json(&data_path, &data);
        let conf = json!({
            "backend": {
                "module": "medallion.backends.memory_backend",
                "module_class": "MemoryBackend",
                "filename": data_path.display().to_string(),
            },
            "users": { USER: PASSWORD },
            "taxii": { "max_page_size": max_page_size },
        });
        let conf_path = dir.join("medallion.json");
        write_json(&conf_path, &conf);
        let log = dir.join("medallion.log");
        let out = File::create(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let child = Command::new(venv.join("bin/python"))
            .args(["-m", "medallion.scripts.run", "--host", "127.0.0.1"])
            .arg("--port")
            .arg(port.to_string())
            .arg("--log-level")
            .arg("WARN")
            .arg(&conf_path)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting medallion from {}: {e}", venv.display()));
        let mut m = Medallion {
            child,
            base,
            log,
            data,
        };
        m.wait_ready();
        m
    }

    fn wait_ready(&mut self) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_else(|e| panic!("HTTP client: {e}"));
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("medallion exited ({status}):\n{}", self.log_tail());
            }
            let r = http
                .get(format!("{}/taxii2/", self.base))
                .header("Accept", "application/taxii+json;version=2.1")
                .basic_auth(USER, Some(PASSWORD))
                .send();
            if matches!(&r, Ok(resp) if resp.status().as_u16() == 200) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "medallion not ready after 60 s:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:PORT/api1/`.
    pub fn api_root(&self) -> String {
        format!("{}/{API_ROOT}/", self.base)
    }

    /// The last 4 kB of medallion's output.
    pub fn log_tail(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        let cut = s.len().saturating_sub(4096);
        let cut = (cut..s.len()).find(|i| s.is_char_boundary(*i)).unwrap_or(0);
        s[cut..].to_string()
    }
}

impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_json(path: &Path, v: &Value) {
    let text = serde_json::to_vec_pretty(v).unwrap_or_else(|e| panic!("JSON: {e}"));
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// medallion's time format (microseconds, `Z`).
fn ts(seconds: u64) -> String {
    let t = chrono::DateTime::from_timestamp(1_767_225_600 + seconds as i64, 0)
        .unwrap_or_else(|| panic!("timestamp {seconds}"));
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// STIX's time format (milliseconds, `Z`).
fn stix_ts(seconds: u64) -> String {
    let t = chrono::DateTime::from_timestamp(1_735_689_600 + seconds as i64, 0)
        .unwrap_or_else(|| panic!("timestamp {seconds}"));
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `versions` versions of one STIX 2.1 SDO (`indicator` or `malware`), `n` its number.
pub fn sdo_versions(kind: &str, n: u32, versions: u32) -> Vec<Value> {
    let id = format!(
        "{kind}--{n:08x}-1c2d-4e5f-8a9b-{:012x}",
        0xc0ffee_u64 + u64::from(n)
    );
    let created = stix_ts(u64::from(n) * 1000);
    (0..versions)
        .map(|v| {
            let modified = stix_ts(u64::from(n) * 1000 + u64::from(v) * 60);
            let mut o = json!({
                "type": kind,
                "spec_version": "2.1",
                "id": id,
                "created": created,
                "modified": modified,
                "name": format!("{kind} {n} v{v}"),
            });
            if kind == "indicator" {
                o["pattern"] = json!(format!("[ipv4-addr:value = '198.51.100.{}']", n % 250));
                o["pattern_type"] = json!("stix");
                o["valid_from"] = json!(created);
            } else {
                o["is_family"] = json!(false);
            }
            o
        })
        .collect()
}

/// A cyber-observable without `created`/`modified` (medallion keys its one version on a
/// hidden `_date_added`, which it strips when serving).
fn sco(n: u32, date_added: &str) -> Value {
    json!({
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": format!("ipv4-addr--{n:08x}-5a5a-4b4b-8c8c-{:012x}", 0xabc_u64 + u64::from(n)),
        "value": format!("203.0.113.{n}"),
        "_date_added": date_added,
    })
}

/// One collection of the data file: its objects and manifest, `date_added` counting
/// seconds from `clock` in an order that interleaves the objects' versions.
fn collection(
    id: &str,
    title: &str,
    can_read: bool,
    can_write: bool,
    objects: Vec<Vec<Value>>,
    scos: u32,
    clock: &mut u64,
) -> Value {
    let mut objs = Vec::new();
    let mut manifest = Vec::new();
    let rounds = objects.iter().map(Vec::len).max().unwrap_or(0);
    for round in 0..rounds {
        for versions in &objects {
            if let Some(o) = versions.get(round) {
                *clock += 1;
                manifest.push(json!({
                    "id": o["id"],
                    "date_added": ts(*clock),
                    "version": o["modified"],
                    "media_type": "application/stix+json;version=2.1",
                }));
                objs.push(o.clone());
            }
        }
    }
    for n in 0..scos {
        *clock += 1;
        let added = ts(*clock);
        let o = sco(n, &added);
        manifest.push(json!({
            "id": o["id"],
            "date_added": added,
            "version": added,
            "media_type": "application/stix+json;version=2.1",
        }));
        objs.push(o);
    }
    json!({
        "id": id,
        "title": title,
        "description": format!("{title} (vigie test data)"),
        "can_read": can_read,
        "can_write": can_write,
        "media_types": ["application/stix+json;version=2.1"],
        "objects": objs,
        "manifest": manifest,
    })
}

/// The data file: discovery, API root [`API_ROOT`] with four collections:
/// [`INDICATORS`] (read-write: 25 indicators of 1 to 3 versions and 2 SCOs: 27 ids, 51
/// versions), [`MALWARE`] (read-only: 7 malware, 10 versions), [`WRITE_ONLY`]
/// (`can_read: false`, 3 indicators) and [`EMPTY`] (read-write, no object).
pub fn sample_data(base: &str) -> Value {
    let mut clock = 0;
    let indicators = (0..25)
        .map(|n| sdo_versions("indicator", n, 1 + n % 3))
        .collect();
    let malware = (0..7)
        .map(|n| sdo_versions("malware", 100 + n, 1 + n % 2))
        .collect();
    let hidden = (0..3)
        .map(|n| sdo_versions("indicator", 200 + n, 1))
        .collect();
    json!({
        "/discovery": {
            "title": "vigie test TAXII server (medallion)",
            "description": "medallion 3.0.0 with a generated memory backend",
            "contact": "vigie tests",
            "default": format!("{base}/{API_ROOT}/"),
            "api_roots": [format!("{base}/{API_ROOT}/")],
        },
        API_ROOT: {
            "information": {
                "title": "vigie test API root",
                "description": "collections of several versions and pages",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 9_765_625,
            },
            "status": [],
            "collections": [
                collection(INDICATORS, "Indicators", true, true, indicators, 2, &mut clock),
                collection(MALWARE, "Malware", true, false, malware, 0, &mut clock),
                collection(WRITE_ONLY, "Write only", false, true, hidden, 0, &mut clock),
                collection(EMPTY, "Empty", true, true, Vec::new(), 0, &mut clock),
            ],
        },
    })
}

/// (id, version) of every object of a collection of a data file, version =
/// `modified`, else `created`, else `-` (an SCO) — what a full pull must give.
pub fn served(data: &Value, collection: &str) -> BTreeSet<(String, String)> {
    let cols = data[API_ROOT]["collections"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let col = cols
        .iter()
        .find(|c| c["id"] == collection)
        .unwrap_or_else(|| panic!("no collection {collection} in the data"));
    col["objects"]
        .as_array()
        .map(|objs| objs.iter().map(id_version).collect())
        .unwrap_or_default()
}

/// (id, `modified` | `created` | `-`) of a STIX object.
pub fn id_version(o: &Value) -> (String, String) {
    let id = o["id"].as_str().unwrap_or("").to_string();
    let v = o
        .get("modified")
        .or_else(|| o.get("created"))
        .and_then(Value::as_str)
        .unwrap_or("-")
        .to_string();
    (id, v)
}
