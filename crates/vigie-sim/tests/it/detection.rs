//! The detection model (`vigie_sim::detection`): rule weights and their combination,
//! telemetry filtering, sub-techniques, EDR, baselines, the override file and its
//! positioned errors, hypothetical rules, the per-technique listing.

use vigie_model::{load_str, Format, Model, TtcDist};
use vigie_sigma::{Level, LoadOptions, RuleSet};
use vigie_sim::detection::{combine, DetectionModel, DetectionTable, Detector};

fn model(text: &str) -> Model {
    match load_str(text, "t.yaml", Format::Yaml) {
        Ok(l) => l.model,
        Err(d) => panic!("{d:#?}"),
    }
}

/// Assets: 0 `all` (telemetry not stated), 1 `sysmon` (ships sysmon), 2 `none` (ships
/// nothing), 3 `edr` (ships security, has an EDR), 4 `lin` (ships auditd).
fn estate() -> Model {
    model(
        r#"
zones:
  - id: internet
    internet: true
  - id: lan
assets:
  - { id: all, kind: host, zone: lan }
  - { id: sysmon, kind: host, zone: lan, telemetry: [sysmon] }
  - { id: none, kind: host, zone: lan, telemetry: [] }
  - { id: edr, kind: host, zone: lan, telemetry: [Security], controls: { edr: true } }
  - { id: lin, kind: host, zone: lan, telemetry: [auditd] }
attack_edges:
  - { from: internet, to: all, technique: T1190 }
  - { from: all, to: sysmon, technique: T1003 }
"#,
    )
}

fn rule(title: &str, level: &str, status: &str, logsource: &str, tags: &str) -> String {
    format!(
        "title: {title}\nstatus: {status}\nlevel: {level}\nlogsource: {logsource}\n\
         detection: {{sel: {{Image: x}}, condition: sel}}\ntags: [{tags}]\n"
    )
}

fn rules(docs: &[String]) -> RuleSet {
    let files: Vec<(String, String)> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (format!("r{i}.yml"), d.clone()))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (rs, report) = RuleSet::load_files(&refs, &LoadOptions::default());
    assert_eq!(rs.len(), docs.len(), "{report:?}");
    rs
}

/// The embedded table without baselines or EDR: only rules detect.
fn rules_only() -> DetectionTable {
    DetectionTable::embedded()
        .overlay(
            "default: {baseline_p: 0, edr_p: 0}\ntechniques:\n  T1003: {baseline_p: 0, edr_p: 0}\n  T1190: {baseline_p: 0, edr_p: 0}\n",
            "test",
        )
        .unwrap()
}

const PROC: &str = "{product: windows, category: process_creation}";
const SYSMON_ONLY: &str = "{product: windows, category: registry_set}";
const AUDITD: &str = "{product: linux, service: auditd}";

#[test]
fn weights_by_level_and_status_from_the_embedded_table() {
    let t = DetectionTable::embedded();
    assert_eq!(t.rule_q(Level::High, Some("stable")), 0.6);
    assert_eq!(t.rule_q(Level::Critical, Some("stable")), 0.8);
    assert!((t.rule_q(Level::Medium, Some("test")) - 0.35 * 0.85).abs() < 1e-12);
    assert!((t.rule_q(Level::Low, Some("experimental")) - 0.15 * 0.6).abs() < 1e-12);
    assert_eq!(t.rule_q(Level::Informational, Some("stable")), 0.05);
    // No status: `unstated`; deprecated and unsupported never detect.
    assert_eq!(t.rule_q(Level::High, None), 0.6 * 0.6);
    assert_eq!(t.rule_q(Level::Critical, Some("deprecated")), 0.0);
    assert_eq!(t.rule_q(Level::Critical, Some("unsupported")), 0.0);
    // Levels are monotone, statuses too.
    let qs: Vec<f64> = Level::ALL
        .iter()
        .map(|l| t.rule_q(*l, Some("stable")))
        .collect();
    assert!(qs.windows(2).all(|w| w[0] < w[1]), "{qs:?}");
}

#[test]
fn rules_combine_as_independent_detectors() {
    let rs = rules(&[
        rule("A", "high", "stable", PROC, "attack.t1003"),
        rule("B", "medium", "test", PROC, "attack.t1003"),
        rule("C", "critical", "deprecated", PROC, "attack.t1003"),
        rule("D", "critical", "stable", PROC, "attack.t1059"),
    ]);
    let dm = DetectionModel::build(&estate(), Some(&rs), &rules_only());
    let s = dm.step(0, "T1003");
    let (qa, qb) = (0.6, 0.35 * 0.85);
    assert_eq!(s.detectors.len(), 2, "{:?}", s.detectors);
    assert!(
        (s.p - (1.0 - (1.0 - qa) * (1.0 - qb))).abs() < 1e-12,
        "{}",
        s.p
    );
    assert!((s.p - combine(s.detectors.iter().map(|d| d.1))).abs() < 1e-15);
    let titles: Vec<String> = s
        .detectors
        .iter()
        .map(|(i, _)| match dm.detector(*i) {
            Detector::Rule { title, .. } => title.clone(),
            d => panic!("{d:?}"),
        })
        .collect();
    assert_eq!(titles, ["A", "B"]);
    // Nothing for a technique no rule tags (and no baseline in this table).
    assert_eq!(dm.step(0, "T1190").p, 0.0);
    // The delay is the technique's.
    assert_eq!(s.delay.dist, TtcDist::Lognormal);
    assert_eq!(s.delay.mean_hours, 2.0);
}

#[test]
fn a_rule_counts_only_where_its_telemetry_is_shipped() {
    let rs = rules(&[
        rule("proc", "high", "stable", PROC, "attack.t1003"),
        rule("reg", "high", "stable", SYSMON_ONLY, "attack.t1003"),
        rule("aud", "high", "stable", AUDITD, "attack.t1003"),
    ]);
    let dm = DetectionModel::build(&estate(), Some(&rs), &rules_only());
    let n = |asset: usize| dm.step(asset, "T1003").detectors.len();
    assert_eq!(n(0), 3, "telemetry not stated: everything shipped");
    assert_eq!(n(1), 2, "sysmon: process_creation and registry_set");
    assert_eq!(n(2), 0, "ships nothing");
    assert_eq!(
        n(3),
        1,
        "Security (any case): process_creation via 4688 only"
    );
    assert_eq!(n(4), 1, "auditd: the auditd rule");
    assert_eq!(dm.step(2, "T1003").p, 0.0);
}

#[test]
fn sub_techniques_count_for_their_parent_and_the_parent_for_them() {
    let rs = rules(&[
        rule("sub1", "high", "stable", PROC, "attack.t1003.001"),
        rule("sub2", "high", "stable", PROC, "attack.t1003.002"),
        rule("parent", "high", "stable", PROC, "attack.t1003"),
        rule(
            "both",
            "high",
            "stable",
            PROC,
            "attack.t1003, attack.t1003.001",
        ),
    ]);
    let dm = DetectionModel::build(&estate(), Some(&rs), &rules_only());
    // A step naming the parent: every rule of the family, each once.
    assert_eq!(dm.step(0, "T1003").detectors.len(), 4);
    // A step naming a sub-technique: its own rules and the parent's, not its siblings'.
    assert_eq!(dm.step(0, "t1003.001").detectors.len(), 3);
    assert_eq!(dm.step(0, "T1003.002").detectors.len(), 3);
    assert_eq!(dm.step(0, "T1003.008").detectors.len(), 2);
}

#[test]
fn edr_and_baseline_are_detectors_of_their_own() {
    let table = DetectionTable::embedded();
    let dm = DetectionModel::build(&estate(), None, &table);
    let e = table.entry("T1003");
    let with_edr = dm.step(3, "T1003");
    assert_eq!(with_edr.detectors.len(), 2);
    assert!(matches!(
        dm.detector(with_edr.detectors[0].0),
        Detector::Edr
    ));
    assert_eq!(with_edr.detectors[0].1, e.edr_p);
    assert!(matches!(
        dm.detector(with_edr.detectors[1].0),
        Detector::Baseline { technique } if technique == "T1003"
    ));
    let p = 1.0 - (1.0 - e.edr_p) * (1.0 - e.baseline_p);
    assert!((with_edr.p - p).abs() < 1e-12);
    // No EDR on asset 1: the baseline alone, which needs no telemetry (asset 2 too).
    assert_eq!(dm.step(1, "T1003").p, e.baseline_p);
    assert_eq!(dm.step(2, "T1003").p, e.baseline_p);
    // A sub-technique falls back to its parent's entry, an unknown one to the default.
    assert_eq!(table.entry("T1003.001"), e);
    assert_ne!(table.entry("T1499"), e);
    assert!(dm.step(0, "T1499").p > 0.0);
}

#[test]
fn a_hypothetical_rule_is_high_stable_and_seen_everywhere() {
    let dm = DetectionModel::build(&estate(), None, &rules_only());
    assert_eq!(dm.step(2, "T1190").p, 0.0);
    let more = dm.with_rule_for("t1190");
    let s = more.step(2, "T1190");
    assert_eq!(s.detectors.len(), 1);
    assert_eq!(s.p, 0.6);
    match more.detector(s.detectors[0].0) {
        Detector::Rule { key, level, .. } => {
            assert_eq!(key, "hypothetical:T1190");
            assert_eq!(*level, Level::High);
        }
        d => panic!("{d:?}"),
    }
    // Existing detectors keep their indices (rank compares variants).
    assert_eq!(more.detector_count(), dm.detector_count() + 1);
    for i in 0..dm.detector_count() as u32 {
        assert_eq!(dm.detector(i), more.detector(i));
    }
    // A sub-technique rule covers the parent step.
    assert_eq!(dm.with_rule_for("T1003.001").step(1, "T1003").p, 0.6);
}

#[test]
fn techniques_list_the_rules_counted() {
    let rs = rules(&[
        rule("proc", "high", "stable", PROC, "attack.t1003.001"),
        rule("old", "high", "deprecated", PROC, "attack.t1003"),
        rule("other", "high", "stable", PROC, "attack.t1059"),
    ]);
    let dm = DetectionModel::build(&estate(), Some(&rs), &DetectionTable::embedded());
    let ts = dm.techniques();
    let ids: Vec<&str> = ts.iter().map(|t| t.technique.as_str()).collect();
    // The edges' techniques, the table's and the rules' tags, sorted, once each.
    for want in ["T1003", "T1003.001", "T1059", "T1190", "T1210"] {
        assert!(ids.contains(&want), "{want} not in {ids:?}");
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let t1003 = ts.iter().find(|t| t.technique == "T1003").unwrap();
    assert_eq!(t1003.name.as_deref(), Some("OS Credential Dumping"));
    let listed: Vec<(&str, f64)> = t1003
        .rules
        .iter()
        .map(|r| (r.title.as_str(), r.q))
        .collect();
    assert_eq!(listed, [("proc", 0.6), ("old", 0.0)]);
    assert_eq!(t1003.rules[0].telemetry, ["security", "sysmon"]);
    assert_eq!(t1003.rules[1].status.as_deref(), Some("deprecated"));
}

#[test]
fn the_override_file_replaces_fields_and_keeps_the_rest() {
    let dir = tempfile_dir();
    let path = dir.join("detection.yml");
    std::fs::write(
        &path,
        "levels: {high: 0.9}\nstatuses: {experimental: 0.5}\ntechniques:\n  T1003:\n    edr_p: 0.1\n  t1486.001:\n    delay: {dist: fixed, mean_hours: 3}\n",
    )
    .unwrap();
    let t = DetectionTable::load(&path).unwrap();
    let base = DetectionTable::embedded();
    assert_eq!(t.rule_q(Level::High, Some("stable")), 0.9);
    assert_eq!(t.rule_q(Level::High, Some("experimental")), 0.45);
    assert_eq!(t.rule_q(Level::Medium, Some("stable")), 0.35);
    let (e, b) = (t.entry("T1003"), base.entry("T1003"));
    assert_eq!(e.edr_p, 0.1);
    assert_eq!((e.baseline_p, e.delay), (b.baseline_p, b.delay));
    let sub = t.entry("T1486.001");
    assert_eq!(sub.delay.dist, TtcDist::Fixed);
    assert_eq!(sub.delay.mean_hours, 3.0);
    assert_eq!(sub.baseline_p, base.entry("T1486").baseline_p);
    // An empty file is the embedded table.
    std::fs::write(&path, "# nothing\n").unwrap();
    assert_eq!(DetectionTable::load(&path).unwrap(), base);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn override_errors_name_the_file_line_and_column() {
    let base = DetectionTable::embedded();
    let cases: &[(&str, u32, u32, &str)] = &[
        (
            "techniques:\n  T1003:\n    edr_p: 1.5\n",
            3,
            12,
            "not a probability",
        ),
        ("techniques:\n  T1003:\n    edr: 0.5\n", 3, 5, "edr"),
        (
            "techniques:\n  X12:\n    edr_p: 0.5\n",
            2,
            3,
            "not an ATT&CK technique",
        ),
        ("levels:\n  severe: 0.5\n", 2, 3, "unknown level"),
        ("statuses: {stable: -1}\n", 1, 20, "not a probability"),
        (
            "techniques:\n  T1003: {delay: {dist: fixed, mean_hours: 2, cv: 1}}\n",
            2,
            18,
            "fixed",
        ),
        ("default:\n  baseline_p: high\n", 2, 15, "number"),
        ("techniques: [T1003]\n", 1, 13, "expected a mapping"),
        ("techniques:\n  T1003: {edr_p: 0.5\n", 3, 0, "syntax"),
    ];
    for (text, line, col, what) in cases {
        let e = base.overlay(text, "over.yml").unwrap_err();
        assert_eq!(e.origin, "over.yml");
        assert_eq!(e.pos.line, *line, "{text:?}: {e}");
        if *col > 0 {
            assert_eq!(e.pos.column, *col, "{text:?}: {e}");
        }
        assert!(e.message.contains(what), "{text:?}: {e}");
        assert!(
            e.to_string().starts_with(&format!("over.yml:{line}:")),
            "{e}"
        );
    }
    let missing = DetectionTable::load(std::path::Path::new("/nonexistent/d.yml")).unwrap_err();
    assert!(
        missing.to_string().contains("/nonexistent/d.yml"),
        "{missing}"
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "vigie-sim-detection-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}
