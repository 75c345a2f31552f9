//! `vigie intel export`: the embedded July 2025 story as STIX 2.1, judged by
//! stix2-validator 3.3.2 `--strict` (no error, no warning) in the default and the
//! `--include-internal` form; nothing internal in the default bundle; a TLP marking on
//! every object; the same bytes twice; cyber-observable ids equal to those the python
//! `stix2` library computes.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::cli::vigie;

/// The bundle of `vigie intel export ARGS` (stdout) and its stderr.
fn export(args: &[&str]) -> (String, String) {
    let mut all = vec!["intel", "export"];
    all.extend_from_slice(args);
    let o = vigie(&all);
    assert!(
        o.status.success(),
        "exit {:?}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    (
        String::from_utf8(o.stdout).expect("UTF-8"),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn objects(bundle: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(bundle).expect("one JSON document");
    assert_eq!(v["type"], "bundle");
    v["objects"].as_array().expect("objects").clone()
}

fn of_type<'a>(objs: &'a [Value], ty: &str) -> Vec<&'a Value> {
    objs.iter().filter(|o| o["type"] == ty).collect()
}

/// stix2-validator `--strict` on `bundle`: (success, output).
fn validate(venv: &Path, bundle: &str) -> (bool, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("bundle.json");
    std::fs::write(&f, bundle).expect("write bundle");
    let o = Command::new(venv.join("bin/stix2_validator"))
        .arg("--strict")
        .arg(&f)
        .output()
        .expect("run stix2_validator");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

#[test]
fn default_and_internal_exports_pass_the_strict_validator() {
    let Some(venv) = vigie_test_support::python::stix_validator_venv() else {
        return;
    };
    for args in [&[][..], &["--include-internal"][..]] {
        let (bundle, _) = export(args);
        let (ok, out) = validate(&venv, &bundle);
        assert!(ok, "{args:?}: validator failed:\n{out}");
        assert!(out.contains("STIX JSON: Valid"), "{args:?}:\n{out}");
        // `[!]` lines are warnings, `[X]` errors: neither is allowed.
        assert!(
            !out.contains("[!]") && !out.contains("[X]"),
            "{args:?}: warnings or errors:\n{out}"
        );
    }
}

#[test]
fn the_story_is_told_with_every_kind_of_object() {
    let (bundle, stderr) = export(&[]);
    let objs = objects(&bundle);
    for ty in [
        "marking-definition",
        "extension-definition",
        "identity",
        "incident",
        "attack-pattern",
        "indicator",
        "observed-data",
        "sighting",
        "relationship",
        "file",
        "ipv4-addr",
    ] {
        assert!(!of_type(&objs, ty).is_empty(), "no {ty} in the bundle");
    }
    assert!(stderr.contains("TLP:AMBER"), "{stderr}");
    // Two incidents, the critical one with its plan in the extension.
    let incidents = of_type(&objs, "incident");
    assert_eq!(incidents.len(), 2);
    let ext_id = of_type(&objs, "extension-definition")[0]["id"].clone();
    let ext_id = ext_id.as_str().expect("id");
    let critical = incidents
        .iter()
        .map(|i| &i["extensions"][ext_id])
        .find(|e| e["severity"] == "critical")
        .expect("the critical incident");
    assert_eq!(critical["extension_type"], "property-extension");
    let plan = &critical["containment"]["plan"];
    assert!(plan["customer_hours"].as_f64().is_some_and(|x| x > 0.0));
    assert!(
        critical["containment"]["isolate_everything"]["customer_hours"]
            .as_f64()
            .unwrap_or(0.0)
            > plan["customer_hours"].as_f64().unwrap_or(f64::MAX),
        "the plan is cheaper than isolating everything"
    );
    // The tunnel's far end is the one public address: an indicator with a valid
    // pattern, sighted by the operator.
    let ind: Vec<&str> = of_type(&objs, "indicator")
        .iter()
        .filter_map(|i| i["pattern"].as_str())
        .collect();
    assert!(
        ind.contains(&"[ipv4-addr:value = '203.0.113.77']"),
        "{ind:?}"
    );
    assert!(ind
        .iter()
        .any(|p| p.starts_with("[file:hashes.'SHA-256' = '")));
    let operator = of_type(&objs, "identity")
        .into_iter()
        .find(|i| i["identity_class"] == "organization")
        .expect("operator identity");
    assert_eq!(operator["name"], "Armorique Telecom");
    for s in of_type(&objs, "sighting") {
        assert_eq!(s["where_sighted_refs"][0], operator["id"]);
        assert!(s["count"].as_u64().is_some_and(|c| c >= 1));
    }
    // ATT&CK references.
    for ap in of_type(&objs, "attack-pattern") {
        let r = &ap["external_references"][0];
        assert_eq!(r["source_name"], "mitre-attack");
        assert!(r["external_id"]
            .as_str()
            .is_some_and(|t| t.starts_with('T')));
    }
    // Timestamps come from the detections (July 2025), not from the clock.
    for i in &incidents {
        assert!(i["created"]
            .as_str()
            .is_some_and(|t| t.starts_with("2025-07-")));
    }
}

#[test]
fn every_object_is_marked_and_every_reference_resolves() {
    for tlp in ["clear", "green", "amber", "amber+strict", "red"] {
        let (bundle, _) = export(&["--tlp", tlp]);
        let objs = objects(&bundle);
        let markings = of_type(&objs, "marking-definition");
        assert_eq!(markings.len(), 1);
        let m = markings[0];
        assert_eq!(
            m["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]
                ["tlp_2_0"],
            tlp
        );
        let ids: BTreeSet<&str> = objs.iter().filter_map(|o| o["id"].as_str()).collect();
        assert_eq!(ids.len(), objs.len(), "ids are unique");
        for o in &objs {
            if o["type"] == "marking-definition" {
                continue;
            }
            assert_eq!(
                o["object_marking_refs"],
                serde_json::json!([m["id"]]),
                "{o}"
            );
            for key in [
                "created_by_ref",
                "sighting_of_ref",
                "source_ref",
                "target_ref",
            ] {
                if let Some(r) = o[key].as_str() {
                    assert!(ids.contains(r), "{key} {r} of {} resolves", o["id"]);
                }
            }
            for key in ["object_refs", "observed_data_refs", "where_sighted_refs"] {
                for r in o[key].as_array().into_iter().flatten() {
                    let r = r.as_str().unwrap_or("");
                    assert!(ids.contains(r), "{key} {r} of {} resolves", o["id"]);
                }
            }
        }
    }
    let o = vigie(&["intel", "export", "--tlp", "white"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown TLP level"));
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let (a, _) = export(&["-j", "1"]);
    let (b, _) = export(&["-j", "2"]);
    assert_eq!(a, b);
}

/// Every name of the input that must not leave: each model asset's id and
/// identifiers, and every account, address and unresolved name respond reports.
fn secrets() -> Vec<String> {
    let model = vigie_model::demo::demo();
    let mut s: Vec<String> = Vec::new();
    for a in &model.assets {
        s.push(a.id.clone());
        s.extend(a.identifiers.iter().cloned());
    }
    let o = vigie(&["respond", "--format", "json"]);
    let r: Value = serde_json::from_slice(&o.stdout).expect("respond JSON");
    for i in r["incidents"].as_array().into_iter().flatten() {
        for key in ["accounts", "ips", "assets"] {
            for v in i[key].as_array().into_iter().flatten() {
                s.extend(v.as_str().map(str::to_string));
            }
        }
        for u in i["unresolved"].as_array().into_iter().flatten() {
            s.extend(u["value"].as_str().map(str::to_string));
        }
    }
    s.sort();
    s.dedup();
    s
}

/// `needle` in `hay` as a whole word (not inside a longer name), any case.
fn contains_word(hay: &str, needle: &str) -> bool {
    let hay = hay.to_lowercase();
    let needle = needle.to_lowercase();
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    hay.match_indices(&needle).any(|(i, m)| {
        !word(hay[..i].chars().next_back()) && !word(hay[i + m.len()..].chars().next())
    })
}

#[test]
fn the_default_bundle_names_nothing_internal() {
    let secrets = secrets();
    assert!(secrets.len() > 100, "the scan has something to look for");
    let (bundle, _) = export(&[]);
    // JSON escapes backslashes: compare with the decoded strings.
    let text: Vec<String> = {
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
                Value::Object(m) => m.iter().for_each(|(k, x)| {
                    out.push(k.clone());
                    walk(x, out)
                }),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(&serde_json::from_str(&bundle).expect("JSON"), &mut out);
        out
    };
    let leaks: Vec<(&String, &String)> = secrets
        .iter()
        .flat_map(|s| {
            text.iter()
                .filter(|t| contains_word(t, s))
                .map(move |t| (s, t))
        })
        .collect();
    assert!(leaks.is_empty(), "leaked: {leaks:?}");
    // Internal addresses of any kind: none in a pattern or an observable.
    for t in &text {
        if let Ok(ip) = t.parse::<std::net::IpAddr>() {
            assert!(
                !vigie_intel::export::redact::is_special(ip),
                "internal address {ip} shared"
            );
        }
    }
    // With --include-internal the same names are there (the scan can fail).
    let (internal, _) = export(&["--include-internal"]);
    assert!(contains_word(&internal, "emp-web-1"));
    assert!(contains_word(&internal, "172.16.20.10"));
}

#[test]
fn observable_ids_equal_the_stix2_librarys() {
    let Some(venv) = vigie_test_support::python::intel_venv() else {
        return;
    };
    let (bundle, _) = export(&["--include-internal"]);
    let scos: Vec<Value> = objects(&bundle)
        .into_iter()
        .filter(|o| {
            matches!(
                o["type"].as_str(),
                Some("file" | "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" | "user-account")
            )
        })
        .collect();
    assert!(scos.len() >= 10);
    // The library computes the id of each object given without one.
    let script = r#"
import json, sys, stix2
out = []
for o in json.load(sys.stdin):
    o = {k: v for k, v in o.items() if k not in ("id", "object_marking_refs")}
    out.append(stix2.parse(o, allow_custom=False, version="2.1").id)
print(json.dumps(out))
"#;
    let input: Vec<Value> = scos.clone();
    let mut child = Command::new(venv.join("bin/python"))
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run python");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(serde_json::to_string(&input).expect("JSON").as_bytes())
            .expect("write");
    }
    let o = child.wait_with_output().expect("python output");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let theirs: Vec<String> = serde_json::from_slice(&o.stdout).expect("ids");
    let ours: Vec<String> = scos
        .iter()
        .map(|s| s["id"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(ours, theirs);
}
