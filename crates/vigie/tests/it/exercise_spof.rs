//! `vigie exercise spof` through the binary: its N-1 figures are `vigie restore --down X`'s
//! own, its output is the same bytes whatever --threads, and its JSON has the documented
//! shape (`docs/exercise.md`, section spof).

use std::process::Command;

use serde_json::Value;

fn vigie(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(args)
        .output()
        .expect("run vigie");
    assert!(
        out.status.success(),
        "vigie {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&vigie(args)).expect("json")
}

fn small_model() -> String {
    format!(
        "{}/../../models/example-small.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn n1_equals_restore_down_on_the_demo() {
    let r = json(&[
        "exercise", "spof", "--pairs", "none", "--top", "0", "--format", "json",
    ]);
    let singles = r["singles"].as_array().expect("singles");
    assert_eq!(singles.len(), 235 + 29);
    // The five costliest, the costliest flow, and one that costs nothing.
    let mut picked: Vec<&Value> = singles.iter().take(5).collect();
    picked.extend(singles.iter().find(|s| s["kind"] == "flow"));
    picked.extend(singles.iter().rev().find(|s| s["kind"] == "asset"));
    for s in picked {
        let id = s["id"].as_str().expect("id");
        let d = json(&["restore", "--down", id, "--format", "json"]);
        assert_eq!(s["customer_hours"], d["customer_hours"], "{id}");
        assert_eq!(s["total_hours"], d["total_hours"], "{id}");
    }
    assert!(singles[0]["customer_hours"].as_f64().expect("number") > 0.0);
}

#[test]
fn same_bytes_whatever_the_thread_count() {
    let m = small_model();
    let run = |t: &str| {
        vigie(&[
            "exercise",
            "spof",
            "--model",
            &m,
            "--threads",
            t,
            "--format",
            "json",
        ])
    };
    assert_eq!(run("1"), run("2"));
    let text = |t: &str| vigie(&["exercise", "spof", "--model", &m, "--threads", t]);
    assert_eq!(text("1"), text("2"));
}

#[test]
fn json_shape() {
    let m = small_model();
    let r = json(&["exercise", "spof", "--model", &m, "--format", "json"]);
    assert_eq!(r["schema"], "vigie/v1");
    assert!(r["model"].as_str().expect("digest").starts_with("sha256:"));
    for k in ["assets", "flows", "singles_with_impact"] {
        assert!(r[k].is_u64(), "{k}");
    }
    assert!(r["crews"].is_null());
    let s = &r["singles"][0];
    for k in [
        "kind",
        "id",
        "name",
        "customer_hours",
        "total_hours",
        "assets_down",
    ] {
        assert!(!s[k].is_null(), "singles[].{k}");
    }
    assert!(s["services"].is_array() && s["segments"].is_array());
    let p = &r["pairs"];
    // The small model is under the exhaustive threshold.
    assert_eq!(p["mode"], "exhaustive");
    assert_eq!(p["exact_top"], true);
    assert_eq!(p["all_interactions"], true);
    assert!(p["screening"].is_null() && p["unevaluated_bound"].is_null());
    let n = r["assets"].as_u64().expect("n") + r["flows"].as_u64().expect("n");
    assert_eq!(p["total"].as_u64(), Some(n * (n - 1) / 2));
    assert_eq!(p["evaluated"], p["total"]);
    for pair in p["top"].as_array().expect("top") {
        for k in ["a", "b"] {
            assert!(pair[k]["id"].is_string() && pair[k]["customer_hours"].is_number());
        }
        assert!(pair["excess"].is_number() && pair["customer_hours"].is_number());
    }
    assert!(p["interactions"].is_array() && p["interacting"].is_u64());
    for svc in r["services"].as_array().expect("services") {
        assert!(svc["id"].is_string());
        for h in svc["spofs"].as_array().expect("spofs") {
            assert!(h["kind"].is_string() && h["down_hours"].is_number());
        }
    }
    // Screened: the screening's counts are there.
    let r = json(&[
        "exercise", "spof", "--model", &m, "--pairs", "screened", "--format", "json",
    ]);
    let sc = &r["pairs"]["screening"];
    for k in ["group_pairs", "top_pairs", "bound_pairs"] {
        assert!(sc[k].is_u64(), "{k}");
    }
    assert_eq!(r["pairs"]["mode"], "screened");
}

#[test]
fn text_names_the_three_parts_and_the_ignored_options_are_accepted() {
    let t = vigie(&[
        "exercise",
        "spof",
        "--model",
        &small_model(),
        "--samples",
        "5",
        "--seed",
        "3",
    ]);
    assert!(t.contains("N-1:"), "{t}");
    assert!(t.contains("N-2 (exhaustive"), "{t}");
    assert!(t.contains("Single points of failure:"), "{t}");
}
