//! `vigie intel pull` and `vigie intel push` against medallion 3.0.0 (the TAXII 2.1
//! reference server, from the intel venv: skipped locally when missing, required under
//! CI), started on loopback with a generated memory backend; what vigie pulls is
//! compared with medallion's data file and with what taxii2-client 2.3.0 reads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};
use vigie_test_support::medallion::{
    self, id_version, sample_data, served, Medallion, EMPTY, INDICATORS, MALWARE, WRITE_ONLY,
};

/// `vigie ARGS` with `env`, whatever its exit status.
fn vigie(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigie"));
    c.args(args)
        .env_remove("VIGIE_LOG")
        .env_remove("VIGIE_TAXII_USER")
        .env_remove("VIGIE_TAXII_PASSWORD")
        .env("NO_PROXY", "127.0.0.1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run vigie")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn start(name: &str) -> Option<(Medallion, tempfile::TempDir, std::path::PathBuf)> {
    let venv = vigie_test_support::python::intel_venv()?;
    let dir = tempfile::Builder::new()
        .prefix(&format!("taxii-cli-{name}-"))
        .tempdir()
        .unwrap();
    let m = Medallion::start(&venv, &dir.path().join("medallion"), sample_data, 100);
    Some((m, dir, venv))
}

fn bundle_set(path: &Path) -> BTreeSet<(String, String)> {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let b: Value = serde_json::from_slice(&text).unwrap();
    assert_eq!(b["type"], "bundle");
    assert!(b["id"].as_str().unwrap().starts_with("bundle--"));
    let objs = b["objects"].as_array().unwrap();
    let set: BTreeSet<_> = objs.iter().map(id_version).collect();
    assert_eq!(
        set.len(),
        objs.len(),
        "a version twice in {}",
        path.display()
    );
    set
}

/// What taxii2-client reads from every readable collection (5 a page, every version).
fn taxii2_client_reads(venv: &Path, root: &str) -> BTreeMap<String, BTreeSet<(String, String)>> {
    let script = r#"
import json, sys
from taxii2client.v21 import ApiRoot, as_pages
root = ApiRoot(sys.argv[1], user=sys.argv[2], password=sys.argv[3])
out = {}
for col in root.collections:
    if not col.can_read:
        continue
    seen = []
    for env in as_pages(col.get_objects, per_request=5, version="all"):
        for o in env.get("objects", []):
            seen.append([o["id"], o.get("modified", o.get("created", "-"))])
    out[col.id] = seen
print(json.dumps(out))
"#;
    let o = Command::new(venv.join("bin/python"))
        .args(["-c", script, root, medallion::USER, medallion::PASSWORD])
        .output()
        .expect("run taxii2-client");
    assert!(o.status.success(), "taxii2-client: {}", stderr(&o));
    let v: BTreeMap<String, Vec<(String, String)>> = serde_json::from_slice(&o.stdout).unwrap();
    v.into_iter()
        .map(|(k, list)| (k, list.into_iter().collect()))
        .collect()
}

#[test]
fn pull_every_collection_gives_exactly_what_medallion_serves() {
    let Some((m, dir, venv)) = start("pull") else {
        return;
    };
    let root = m.api_root();
    let out = dir.path().join("out");
    let o = vigie(
        &[
            "intel",
            "pull",
            &root,
            "--user",
            medallion::USER,
            "-o",
            out.to_str().unwrap(),
            "--limit",
            "5",
            "--format",
            "json",
        ],
        &[("VIGIE_TAXII_PASSWORD", medallion::PASSWORD)],
    );
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["schema"], "vigie/v1");
    assert_eq!(r["api_root"], root);
    assert_eq!(r["unreadable"], json!([WRITE_ONLY]));
    let oracle = taxii2_client_reads(&venv, &root);
    assert_eq!(
        oracle.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from([INDICATORS, MALWARE, EMPTY])
    );
    let mut figures = Vec::new();
    for (col, objects, versions, pages) in [
        (INDICATORS, 27, 51, 11),
        (MALWARE, 7, 10, 2),
        (EMPTY, 0, 0, 1),
    ] {
        let got = bundle_set(&out.join(format!("{col}.json")));
        assert_eq!(got, served(&m.data, col), "{col} vs medallion's data");
        assert_eq!(got, oracle[col], "{col} vs taxii2-client");
        let entry = r["collections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == col)
            .unwrap();
        assert_eq!(
            (&entry["objects"], &entry["versions"], &entry["pages"]),
            (&json!(objects), &json!(versions), &json!(pages)),
            "{col}"
        );
        assert_eq!(entry["error"], Value::Null);
        figures.push(format!(
            "{col}: {objects} objects, {versions} versions, {pages} pages"
        ));
    }
    assert!(!out.join(format!("{WRITE_ONLY}.json")).exists());
    assert_eq!(
        r["totals"],
        json!({"collections": 3, "failed": 0, "unreadable": 1, "objects": 34, "versions": 61, "pages": 14, "skipped": 0})
    );
    eprintln!("vigie intel pull of medallion: {}", figures.join("; "));

    // the same pull again writes the same bundles (deterministic ids)
    let first = std::fs::read(out.join(format!("{INDICATORS}.json"))).unwrap();
    let o = vigie(
        &[
            "intel",
            "pull",
            &root,
            "--user",
            medallion::USER,
            "--password",
            medallion::PASSWORD,
            "-o",
            out.to_str().unwrap(),
            "--collection",
            INDICATORS,
        ],
        &[],
    );
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    assert_eq!(
        std::fs::read(out.join(format!("{INDICATORS}.json"))).unwrap(),
        first
    );
    let text = stdout(&o);
    assert!(
        text.contains(&format!(
            "{INDICATORS} (Indicators): 27 objects, 51 versions, 1 page -> "
        )),
        "{text}"
    );
    assert!(text.contains("next pull: --added-after "), "{text}");

    // asked by name, the write-only collection is a failure (exit 1), with the server's word
    let o = vigie(
        &[
            "intel",
            "pull",
            &root,
            "--user",
            medallion::USER,
            "-o",
            out.to_str().unwrap(),
            "--collection",
            WRITE_ONLY,
            "--collection",
            MALWARE,
        ],
        &[("VIGIE_TAXII_PASSWORD", medallion::PASSWORD)],
    );
    assert_eq!(code(&o), 1);
    let text = stdout(&o);
    assert!(
        text.contains(&format!(
            "{WRITE_ONLY} (Write only): not read: not readable (can_read: false)"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{MALWARE} (Malware): 7 objects, 10 versions")),
        "{text}"
    );
}

#[test]
fn push_then_pull_round_trip_and_failures() {
    let Some((m, dir, _venv)) = start("push") else {
        return;
    };
    let root = m.api_root();
    let mut objects: Vec<Value> = medallion::sdo_versions("indicator", 700, 3);
    objects.extend(medallion::sdo_versions("malware", 701, 1));
    let mut entries = objects.clone();
    entries.push(json!({"type": "indicator"})); // no id: not sent, reported
    let bundle = json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": entries});
    let file = dir.path().join("push.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    let env = [("VIGIE_TAXII_PASSWORD", medallion::PASSWORD)];
    let push = |coll: &str, f: &Path| {
        vigie(
            &[
                "intel",
                "push",
                &root,
                "--collection",
                coll,
                f.to_str().unwrap(),
                "--user",
                medallion::USER,
                "--poll",
                "0.1",
            ],
            &env,
        )
    };
    let o = push(INDICATORS, &file);
    assert_eq!(
        code(&o),
        0,
        "stdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    let text = stdout(&o);
    assert!(text.contains("4 objects sent in 1 envelope"), "{text}");
    assert!(text.contains("not sent /objects/4: no string id"), "{text}");
    assert!(
        text.contains("status complete: 4 total, 4 success, 0 failure, 0 pending"),
        "{text}"
    );

    // pulled back: medallion's data plus exactly what was pushed
    let out = dir.path().join("out");
    let o = vigie(
        &[
            "intel",
            "pull",
            &root,
            "--user",
            medallion::USER,
            "--collection",
            INDICATORS,
            "-o",
            out.to_str().unwrap(),
            "--limit",
            "10",
        ],
        &env,
    );
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    let mut want = served(&m.data, INDICATORS);
    want.extend(objects.iter().map(id_version));
    assert_eq!(bundle_set(&out.join(format!("{INDICATORS}.json"))), want);

    // the same again: every object refused by the server, exit 1, counts in JSON
    let o = vigie(
        &[
            "intel",
            "push",
            &root,
            "--collection",
            INDICATORS,
            file.to_str().unwrap(),
            "--user",
            medallion::USER,
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(code(&o), 1, "stderr: {}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (
            &r["total"],
            &r["success"],
            &r["failure"],
            &r["pending"],
            &r["status"]
        ),
        (
            &json!(4),
            &json!(0),
            &json!(4),
            &json!(0),
            &json!("complete")
        )
    );
    assert_eq!(r["failures"][0]["message"], "Unable to process object");
    assert_eq!(
        r["refused"],
        json!([{"pointer": "/objects/4", "reason": "no string id"}])
    );

    // a read-only collection: the server's 403, exit 1
    let o = push(MALWARE, &file);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("HTTP 403, ProcessingError: Forbidden to write collection"),
        "{}",
        stderr(&o)
    );

    // an array of objects works too; a file that is not JSON is exit 2 with its position
    let arr = dir.path().join("array.json");
    std::fs::write(
        &arr,
        json!(medallion::sdo_versions("indicator", 702, 1)).to_string(),
    )
    .unwrap();
    let o = push(INDICATORS, &arr);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[\n {\"type\": \"indicator\",,}\n]").unwrap();
    let o = push(INDICATORS, &bad);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains(&format!("{}:2:", bad.display())),
        "{}",
        stderr(&o)
    );
}

#[test]
fn wrong_password_and_unreachable_server_are_clear_errors() {
    let Some((m, dir, _venv)) = start("auth") else {
        return;
    };
    let root = m.api_root();
    let out = dir.path().join("out");
    let o = vigie(
        &[
            "intel",
            "pull",
            &root,
            "--user",
            medallion::USER,
            "-o",
            out.to_str().unwrap(),
        ],
        &[("VIGIE_TAXII_PASSWORD", "not-the-password")],
    );
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains(&format!("error: {root}: authentication refused (HTTP 401")),
        "{err}"
    );
    assert!(!err.contains("not-the-password"), "{err}");
    assert!(!out.exists(), "nothing written");

    // no credentials at all: the same
    let o = vigie(&["intel", "pull", &root, "-o", out.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("authentication refused"),
        "{}",
        stderr(&o)
    );

    // the discovery URL instead of an API root: said so, with the API roots
    let o = vigie(
        &[
            "intel",
            "pull",
            &format!("{}/taxii2/", m.base),
            "--user",
            medallion::USER,
        ],
        &[("VIGIE_TAXII_PASSWORD", medallion::PASSWORD)],
    );
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains(&format!("this is a discovery URL; its API roots: {root}")),
        "{}",
        stderr(&o)
    );

    // nothing listening
    let url = format!("http://127.0.0.1:{}/api1/", medallion::free_port());
    let o = vigie(&["intel", "pull", &url, "-o", out.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains(&format!("error: {url}: cannot connect")),
        "{}",
        stderr(&o)
    );
    let file = dir.path().join("b.json");
    std::fs::write(
        &file,
        json!([{"type": "indicator", "id": "indicator--1"}]).to_string(),
    )
    .unwrap();
    let o = vigie(
        &[
            "intel",
            "push",
            &url,
            "--collection",
            "c",
            file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("cannot connect"), "{}", stderr(&o));

    // bad arguments: exit 2
    let o = vigie(&["intel", "pull", &root, "--added-after", "yesterday"], &[]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("--added-after yesterday"),
        "{}",
        stderr(&o)
    );
    let o = vigie(&["intel", "pull", "ftp://x/"], &[]);
    assert_eq!(code(&o), 2);
}
