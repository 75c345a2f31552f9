//! `vigie exercise rank`: the JSON document's shape and consistency, byte-identical
//! output whatever the thread count, `--kinds` and `--top` honoured, bad options refused
//! with exit 2, the text report. Sample and candidate counts stay small: this runs in a
//! debug build.

use serde_json::Value;

const N: &str = "200";

use super::cli::{ok, vigie};

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn rank_json(extra: &[&str]) -> (Vec<u8>, Value) {
    let mut args = vec!["exercise", "rank", "--samples", N, "--format", "json"];
    args.extend_from_slice(extra);
    let o = ok(vigie(&args));
    let v = serde_json::from_slice(&o.stdout).expect("one JSON document");
    (o.stdout, v)
}

#[test]
fn json_is_consistent_and_the_same_whatever_the_threads() {
    let extra = ["--max-candidates", "6", "--top", "4"];
    let (one, v) = rank_json(&[&extra[..], &["--threads", "1"]].concat());
    let (two, _) = rank_json(&[&extra[..], &["--threads", "2"]].concat());
    assert_eq!(one, two, "byte-identical whatever --threads");
    assert_eq!(v["schema"], "vigie/v1");
    assert_eq!(v["samples"], 200);
    let base = num(&v["baseline"]["customer_hours"]);
    let c = &v["candidates"];
    let evaluated = c["evaluated"].as_u64().unwrap();
    assert!(evaluated <= 6 && evaluated > 0, "{c}");
    assert_eq!(
        c["enumerated"].as_u64().unwrap(),
        c["screened_out"].as_u64().unwrap()
            + c["no_ops"].as_u64().unwrap()
            + c["capped"].as_u64().unwrap()
            + evaluated,
        "every candidate accounted for: {c}"
    );
    let ranked = v["ranked"].as_array().unwrap();
    let no_effect = c["no_effect"].as_u64().unwrap();
    assert_eq!(ranked.len() as u64, (evaluated - no_effect).min(4));
    let mut last = f64::INFINITY;
    for (i, r) in ranked.iter().enumerate() {
        assert_eq!(r["rank"].as_u64().unwrap(), i as u64 + 1);
        let red = num(&r["reduction_customer_hours"]);
        assert!(red <= last, "sorted by reduction");
        last = red;
        let (lo, hi) = (num(&r["reduction_ci95"][0]), num(&r["reduction_ci95"][1]));
        assert!(lo <= red && red <= hi, "{r}");
        // The reduction is the difference of the two means.
        let after = num(&r["customer_hours"]);
        assert!(
            (base - after - red).abs() <= 1e-6 * base.abs().max(1.0),
            "{r}"
        );
        assert!(r["description"].as_str().is_some_and(|d| !d.is_empty()));
        for j in r["crown_jewels"].as_array().unwrap() {
            assert_ne!(j["baseline"], j["p_reached_before_detection"]);
        }
    }
}

#[test]
fn kinds_limit_the_candidates() {
    let (_, v) = rank_json(&["--kinds", "patch", "--max-candidates", "3"]);
    assert_eq!(v["kinds"], serde_json::json!(["patch"]));
    for r in v["ranked"].as_array().unwrap() {
        assert_eq!(r["change"]["kind"], "patch");
        assert!(r["change"]["vulnerability"].is_string());
    }
}

#[test]
fn text_lists_the_changes() {
    let o = ok(vigie(&[
        "exercise",
        "rank",
        "--samples",
        N,
        "--max-candidates",
        "3",
        "--kinds",
        "edr,mfa",
    ]));
    let t = String::from_utf8(o.stdout).unwrap();
    assert!(t.starts_with("Exercise rank: 200 samples (seed 0)"), "{t}");
    assert!(
        t.contains("Baseline: ") && t.contains("customer-hours expected"),
        "{t}"
    );
    assert!(t.lines().any(|l| l.starts_with("  1  ")), "{t}");
}

#[test]
fn bad_options_exit_2() {
    for args in [
        &["exercise", "rank", "--kinds", "firewall"][..],
        &["exercise", "rank", "--top", "0"],
        &["exercise", "rank", "--samples", "0"],
    ] {
        let o = vigie(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!e.is_empty(), "{args:?}: says why");
    }
    let e = vigie(&["exercise", "rank", "--kinds", "firewall"]);
    assert!(String::from_utf8_lossy(&e.stderr).contains("firewall"));
}
