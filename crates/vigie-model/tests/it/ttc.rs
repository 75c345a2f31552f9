//! Time-to-compromise distributions (`docs/model.md`, "Time to compromise"): every
//! validation rule with its position, the defaults of each derivation rule, the means left
//! as they were, and the round trip through `model show` (YAML and JSON).

use proptest::prelude::*;
use vigie_model::{
    derive_attack_edges, load_str, rule_ttc, to_yaml, validate, Asset, AssetKind, Diagnostic,
    Format, Model, Rule, Settings, Severity, Ttc, TtcDist, Vulnerability, Zone,
};

/// A valid model using every place a distribution can go, and telemetry.
const BASE: &str = "\
settings:
  exploit_ttc: { dist: gamma, mean_hours: 24, cv: 0.5 }
  credential_theft_ttc: { dist: lognormal, mean_hours: 2, cv: 2 }
zones:
  - id: dmz
assets:
  - id: web
    kind: host
    zone: dmz
    controls: { edr: true }
    credentials: [svc]
    vulnerabilities:
      - id: CVE-1
        ttc: { dist: lognormal, mean_hours: 6, cv: 1.5, p_success: 0.6 }
  - id: db
    kind: host
    zone: dmz
    telemetry: [linux, auditd]
    vulnerabilities:
      - id: CVE-2
  - id: app
    kind: application
    zone: dmz
    runs_on: db
  - id: svc
    kind: account
  - id: admins
    kind: group
    members: [svc]
attack_edges:
  - from: web
    to: db
    technique: T1021
    ttc: { dist: fixed, mean_hours: 2 }
";

fn load(text: &str, format: Format) -> Result<Model, Vec<Diagnostic>> {
    load_str(text, "m.yaml", format).map(|l| l.model)
}

fn diags(text: &str) -> Vec<Diagnostic> {
    match load_str(text, "m.yaml", Format::Yaml) {
        Ok(l) => l.warnings,
        Err(d) => d,
    }
}

/// `text` with `old` replaced by `new`, where `new` marks with `^` the place a diagnostic
/// must point at; returns the text and that (line, column).
fn mutate(old: &str, new: &str) -> (String, (u32, u32)) {
    assert!(BASE.contains(old), "{old} not in BASE");
    let marked = BASE.replacen(old, new, 1);
    let at = marked
        .find('^')
        .expect("the case marks its position with ^");
    let before = &marked[..at];
    let line = before.matches('\n').count() as u32 + 1;
    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count() as u32
        + 1;
    (marked.replacen('^', "", 1), (line, column))
}

#[test]
fn base_is_valid_without_warnings() {
    let d = diags(BASE);
    assert!(d.is_empty(), "{d:#?}");
}

/// (what is replaced, by what with `^` where the diagnostic points, severity, message).
const CASES: &[(&str, &str, Severity, &str)] = &[
    // Means.
    ("mean_hours: 24, cv: 0.5", "mean_hours: ^-1, cv: 0.5", Severity::Error, "mean_hours must be a finite number >= 0, got -1"),
    ("mean_hours: 6, cv: 1.5", "mean_hours: ^.inf, cv: 1.5", Severity::Error, "mean_hours must be a finite number >= 0, got inf"),
    ("{ dist: fixed, mean_hours: 2 }", "{ dist: fixed, mean_hours: ^.nan }", Severity::Error, "mean_hours must be a finite number >= 0, got NaN"),
    // Coefficients of variation.
    ("mean_hours: 24, cv: 0.5", "mean_hours: 24, cv: ^-0.5", Severity::Error, "cv must be a finite number >= 0, got -0.5"),
    ("mean_hours: 2, cv: 2", "mean_hours: 2, cv: ^.inf", Severity::Error, "cv must be a finite number >= 0, got inf"),
    ("{ dist: fixed, mean_hours: 2 }", "{ dist: exponential, mean_hours: 2, cv: ^2 }", Severity::Error, "an exponential's cv is 1 by definition, got 2"),
    ("{ dist: fixed, mean_hours: 2 }", "{ mean_hours: 2, cv: ^0.5 }", Severity::Error, "an exponential's cv is 1 by definition, got 0.5"),
    ("{ dist: fixed, mean_hours: 2 }", "{ dist: fixed, mean_hours: 2, cv: ^0.3 }", Severity::Error, "a fixed time has cv 0, got 0.3"),
    ("dist: gamma, mean_hours: 24, cv: 0.5", "dist: gamma, mean_hours: 24, cv: ^0", Severity::Error, "a gamma needs cv > 0"),
    ("mean_hours: 6, cv: 1.5", "mean_hours: 6, cv: ^0", Severity::Error, "a lognormal needs cv > 0"),
    // Success probabilities.
    ("p_success: 0.6", "p_success: ^0", Severity::Error, "p_success must be within (0, 1], got 0"),
    ("p_success: 0.6", "p_success: ^1.5", Severity::Error, "p_success must be within (0, 1], got 1.5"),
    ("p_success: 0.6", "p_success: ^-0.2", Severity::Error, "p_success must be within (0, 1], got -0.2"),
    // Given twice.
    ("      - id: CVE-1\n        ttc:", "      - id: CVE-1\n        ttc_hours: 6\n        ^ttc:", Severity::Error, "both `ttc_hours` and `ttc` are given"),
    ("    technique: T1021\n    ttc:", "    technique: T1021\n    ttc_hours: 2\n    ^ttc:", Severity::Error, "both `ttc_hours` and `ttc` are given"),
    ("settings:\n  exploit_ttc:", "settings:\n  exploit_ttc_hours: 24\n  ^exploit_ttc:", Severity::Error, "both `exploit_ttc_hours` and `exploit_ttc` are given"),
    ("  credential_theft_ttc: { dist: lognormal, mean_hours: 2, cv: 2 }\n", "  ^credential_theft_ttc: { dist: lognormal, mean_hours: 2, cv: 2 }\n  credential_theft_hours: 1\n", Severity::Error, "both `credential_theft_hours` and `credential_theft_ttc` are given"),
    ("settings:\n", "settings:\n  membership_hours: 0\n  ^membership_ttc: { dist: fixed, mean_hours: 0 }\n", Severity::Error, "both `membership_hours` and `membership_ttc` are given"),
    ("settings:\n", "settings:\n  ^host_to_hosted_ttc: { dist: fixed, mean_hours: 0.1 }\n  host_to_hosted_hours: 0.1\n", Severity::Error, "both `host_to_hosted_hours` and `host_to_hosted_ttc`"),
    ("settings:\n", "settings:\n  ^hosted_to_host_ttc: { mean_hours: 0.5 }\n  hosted_to_host_hours: 0.5\n", Severity::Error, "both `hosted_to_host_hours` and `hosted_to_host_ttc`"),
    ("settings:\n", "settings:\n  valid_account_hours: 0.5\n  ^valid_account_ttc: { mean_hours: 0.5 }\n", Severity::Error, "both `valid_account_hours` and `valid_account_ttc`"),
    // Settings distributions follow the same rules as the items'.
    ("mean_hours: 2, cv: 2", "mean_hours: 2, cv: ^0", Severity::Error, "a lognormal needs cv > 0"),
    // Shapes and fields are the model's words.
    ("{ dist: fixed, mean_hours: 2 }", "{ dist: ^weibull, mean_hours: 2 }", Severity::Error, "weibull"),
    ("{ dist: fixed, mean_hours: 2 }", "{ dist: fixed, ^mean: 2 }", Severity::Error, "unknown field `mean`"),
    // Telemetry.
    ("[linux, auditd]", "[linux, ^\"\"]", Severity::Error, "empty log source name in telemetry"),
    ("[linux, auditd]", "[linux, \"  \"^]", Severity::Error, "empty log source name in telemetry"),
    ("[linux, auditd]", "[linux, auditd, ^linux]", Severity::Warning, "log source `linux` is listed twice"),
];

#[test]
fn every_rule_is_reported_at_its_position() {
    for &(old, new, severity, needle) in CASES {
        let (text, (line, column)) = mutate(old, new);
        // The `"  "^` case points past a quoted scalar: its node starts at the quote.
        let (line, column) = if new.contains("\"  \"^") {
            (line, column - 4)
        } else {
            (line, column)
        };
        let d = diags(&text);
        let hit = d
            .iter()
            .find(|x| x.message.contains(needle))
            .unwrap_or_else(|| panic!("{new}: no diagnostic with {needle:?}: {d:#?}"));
        assert_eq!(hit.severity, severity, "{new}: {hit}");
        if needle == "weibull" || needle.starts_with("unknown field") {
            // Type errors carry the deserializer's position (the item's or the value's).
            assert_eq!(hit.line, line, "{new}: {hit}");
        } else {
            assert_eq!((hit.line, hit.column), (line, column), "{new}: {hit}");
        }
        let rendered = hit.to_string();
        assert!(
            rendered.starts_with(&format!("m.yaml:{}:", hit.line)),
            "{rendered}"
        );
        let errors = d.iter().filter(|x| x.is_error()).count();
        let expected = usize::from(severity == Severity::Error);
        assert_eq!(errors, expected, "{new}: {d:#?}");
    }
}

#[test]
fn boundary_values_are_accepted() {
    for (old, new) in [
        ("{ dist: fixed, mean_hours: 2 }", "{ dist: exponential, mean_hours: 2, cv: 1 }"),
        ("{ dist: fixed, mean_hours: 2 }", "{ dist: fixed, mean_hours: 2, cv: 0 }"),
        ("{ dist: fixed, mean_hours: 2 }", "{ dist: fixed, mean_hours: 0 }"),
        ("{ dist: fixed, mean_hours: 2 }", "{ dist: gamma, mean_hours: 0, cv: 0 }"),
        ("{ dist: fixed, mean_hours: 2 }", "{ mean_hours: 0 }"),
        ("p_success: 0.6", "p_success: 1"),
        ("p_success: 0.6", "p_success: 0.000001"),
        ("[linux, auditd]", "[]"),
        ("settings:\n", "settings:\n  valid_account_hours: 1\n  membership_ttc: { dist: fixed, mean_hours: 0 }\n"),
    ] {
        let text = BASE.replacen(old, new, 1);
        let d = diags(&text);
        assert!(d.is_empty(), "{new}: {d:#?}");
    }
}

#[test]
fn json_models_get_the_same_checks_with_positions() {
    let json = r#"{
  "settings": {
    "exploit_ttc_hours": 24,
    "exploit_ttc": {"dist": "gamma", "mean_hours": 24, "cv": 0.5}
  },
  "zones": [{"id": "dmz"}],
  "assets": [
    {"id": "web", "kind": "host", "zone": "dmz",
     "vulnerabilities": [{"id": "CVE-1", "ttc": {"mean_hours": 6, "p_success": 2}}]}
  ]
}"#;
    let d = load(json, Format::Json).unwrap_err();
    assert_eq!(d.len(), 2, "{d:#?}");
    assert!(d[0]
        .message
        .contains("both `exploit_ttc_hours` and `exploit_ttc`"));
    assert_eq!((d[0].line, d[0].column), (4, 5), "{}", d[0]);
    assert!(d[1]
        .message
        .contains("p_success must be within (0, 1], got 2"));
    assert_eq!(d[1].line, 9, "{}", d[1]);
    // The distribution alone is fine, and its mean becomes the rule's hours.
    let ok = json
        .replace("    \"exploit_ttc_hours\": 24,\n", "")
        .replace("\"mean_hours\": 24", "\"mean_hours\": 10")
        .replace("\"p_success\": 2", "\"p_success\": 0.5");
    let m = load(&ok, Format::Json).unwrap();
    assert_eq!(m.settings.exploit_ttc_hours, 10.0);
}

#[test]
fn a_settings_distribution_stands_for_the_hours() {
    let m = load(BASE, Format::Yaml).unwrap();
    assert_eq!(m.settings.exploit_ttc_hours, 24.0);
    assert_eq!(m.settings.credential_theft_hours, 2.0);
    // Untouched rules keep their defaults.
    let d = Settings::default();
    assert_eq!(m.settings.valid_account_hours, d.valid_account_hours);
    assert_eq!(m.settings.hosted_to_host_hours, d.hosted_to_host_hours);
}

fn graph_dists(m: &Model) -> Vec<(String, String, Rule, Ttc)> {
    let ix = m.index();
    let g = derive_attack_edges(&ix);
    assert_eq!(g.ttcs.len(), g.ttc_dists.len());
    for (h, t) in g.ttcs.iter().zip(&g.ttc_dists) {
        assert_eq!(h.to_bits(), t.mean_hours.to_bits(), "ttcs are the means");
    }
    let name = |n: u32| {
        m.assets
            .get(n as usize)
            .map_or("INTERNET".to_string(), |a| a.id.clone())
    };
    let mut out: Vec<_> = g
        .edges
        .iter()
        .map(|e| {
            assert_eq!(g.ttc_hours(e), g.ttc_dist(e).mean_hours);
            (name(e.from), name(e.to), e.rule, g.ttc_dist(e))
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    out
}

fn find(edges: &[(String, String, Rule, Ttc)], from: &str, to: &str, rule: Rule) -> Ttc {
    edges
        .iter()
        .find(|e| e.0 == from && e.1 == to && e.2 == rule)
        .unwrap_or_else(|| panic!("no {rule:?} edge {from} -> {to}: {edges:#?}"))
        .3
}

#[test]
fn derivation_uses_the_distributions() {
    let m = load(BASE, Format::Yaml).unwrap();
    let g = graph_dists(&m);
    // The vulnerability's own distribution.
    let lognormal = Ttc {
        dist: TtcDist::Lognormal,
        mean_hours: 6.0,
        cv: Some(1.5),
        p_success: Some(0.6),
    };
    assert_eq!(find(&g, "db", "web", Rule::Exploit), lognormal);
    // No ttc on CVE-2: settings.exploit_ttc.
    let gamma = Ttc {
        dist: TtcDist::Gamma,
        mean_hours: 24.0,
        cv: Some(0.5),
        p_success: None,
    };
    assert_eq!(find(&g, "web", "db", Rule::Exploit), gamma);
    // EDR scales the mean of settings.credential_theft_ttc, keeps the shape and cv.
    let theft = find(&g, "web", "svc", Rule::CredentialTheft);
    assert_eq!(theft.dist, TtcDist::Lognormal);
    assert_eq!(theft.cv, Some(2.0));
    assert_eq!(theft.mean_hours, 2.0 * m.settings.edr_factor);
    // The explicit edge's own.
    assert_eq!(
        find(&g, "web", "db", Rule::Explicit),
        Ttc::fixed(2.0),
        "{g:#?}"
    );
    // Defaults of the rules with no distribution given.
    assert_eq!(find(&g, "svc", "admins", Rule::Membership), Ttc::fixed(0.0));
    assert_eq!(find(&g, "db", "app", Rule::HostToHosted), Ttc::fixed(0.1));
    assert_eq!(
        find(&g, "app", "db", Rule::HostedToHost),
        Ttc::exponential(0.5)
    );
}

#[test]
fn rule_defaults_keep_the_settings_means() {
    let s = Settings {
        valid_account_hours: 3.0,
        membership_hours: 2.0,
        ..Settings::default()
    };
    for rule in Rule::ALL {
        let t = rule_ttc(&s, rule);
        let hours = match rule {
            Rule::Exploit | Rule::Explicit => s.exploit_ttc_hours,
            Rule::CredentialTheft => s.credential_theft_hours,
            Rule::ValidAccount => s.valid_account_hours,
            Rule::Membership => s.membership_hours,
            Rule::HostToHosted => s.host_to_hosted_hours,
            Rule::HostedToHost => s.hosted_to_host_hours,
        };
        assert_eq!(t.mean_hours, hours, "{rule:?}");
        assert_eq!(t.p_success(), 1.0, "{rule:?}");
        let fixed = matches!(rule, Rule::Membership | Rule::HostToHosted);
        assert_eq!(t.dist == TtcDist::Fixed, fixed, "{rule:?}: {t:?}");
        assert_eq!(t.cv(), if fixed { 0.0 } else { 1.0 }, "{rule:?}");
    }
}

#[test]
fn distributions_change_no_mean_of_the_graph() {
    // The same model with every distribution replaced by a bare mean: the same edges, with
    // the same hours (what assess, contain and restore use).
    let m = load(BASE, Format::Yaml).unwrap();
    let mut plain = m.clone();
    plain.settings.exploit_ttc = None;
    plain.settings.credential_theft_ttc = None;
    for a in &mut plain.assets {
        for v in &mut a.vulnerabilities {
            v.ttc_hours = v.ttc.take().map(|t| t.mean_hours);
        }
    }
    for e in &mut plain.attack_edges {
        e.ttc_hours = e.ttc.take().map(|t| t.mean_hours);
    }
    let hours = |m: &Model| -> Vec<(String, String, Rule, u64)> {
        graph_dists(m)
            .into_iter()
            .map(|(f, t, r, d)| (f, t, r, d.mean_hours.to_bits()))
            .collect()
    };
    assert_eq!(hours(&m), hours(&plain));
    // And the demo: its distributions against its means.
    let demo = vigie_model::demo();
    let mut demo_plain = demo.clone();
    for a in &mut demo_plain.assets {
        for v in &mut a.vulnerabilities {
            if let Some(t) = v.ttc.take() {
                v.ttc_hours = Some(t.mean_hours);
            }
        }
    }
    assert_eq!(hours(&demo), hours(&demo_plain));
}

#[test]
fn model_show_reads_back_to_the_same_distributions() {
    let m = load(BASE, Format::Yaml).unwrap();
    // `vigie model show` writes `to_yaml`, `--format json` serde_json.
    let yaml = to_yaml(&m).unwrap();
    assert!(yaml.contains("dist: lognormal"), "{yaml}");
    assert!(
        !yaml.contains("exploit_ttc_hours"),
        "the distribution stands for the hours: {yaml}"
    );
    let back = load(&yaml, Format::Yaml).unwrap_or_else(|d| panic!("{d:#?}\n{yaml}"));
    assert_eq!(back, m);
    assert_eq!(graph_dists(&back), graph_dists(&m));
    let json = serde_json::to_string_pretty(&m).unwrap();
    let back = load(&json, Format::Json).unwrap_or_else(|d| panic!("{d:#?}\n{json}"));
    assert_eq!(back, m);
    assert_eq!(vigie_model::digest(&back), vigie_model::digest(&m));
    // The demo too (it has distributions and telemetry).
    let demo = vigie_model::demo();
    let back = load(&to_yaml(&demo).unwrap(), Format::Yaml).unwrap();
    assert_eq!(graph_dists(&back), graph_dists(&demo));
}

#[test]
fn settings_without_distributions_serialize_as_before() {
    // The model digest is over this JSON: every hours figure, in declaration order.
    let json = serde_json::to_string(&Settings::default()).unwrap();
    assert_eq!(
        json,
        "{\"containment_hours\":48.0,\"exploit_ttc_hours\":24.0,\"credential_theft_hours\":1.0,\
         \"edr_factor\":4.0,\"valid_account_hours\":0.5,\"mfa_factor\":8.0,\
         \"membership_hours\":0.0,\"host_to_hosted_hours\":0.1,\"hosted_to_host_hours\":0.5,\
         \"soft_dependency_factor\":0.25}"
    );
}

/// A one-vulnerability model built in code, checked by `validate`.
fn code_model(t: Ttc) -> Model {
    let mut host = Asset::new("web", AssetKind::Host);
    host.zone = Some("dmz".into());
    host.vulnerabilities.push(Vulnerability {
        id: "CVE-1".into(),
        technique: None,
        ports: Vec::new(),
        ttc_hours: None,
        ttc: Some(t),
    });
    Model {
        zones: vec![Zone {
            id: "dmz".into(),
            ..Zone::default()
        }],
        assets: vec![host],
        ..Model::default()
    }
}

/// The rules of docs/model.md, written independently of the validator.
fn valid(t: &Ttc) -> bool {
    let mean_ok = t.mean_hours.is_finite() && t.mean_hours >= 0.0;
    let cv_ok = match t.cv {
        None => true,
        Some(c) if !c.is_finite() || c < 0.0 => false,
        Some(c) => match t.dist {
            TtcDist::Exponential => c == 1.0,
            TtcDist::Fixed => c == 0.0,
            TtcDist::Gamma | TtcDist::Lognormal => c > 0.0 || t.mean_hours <= 0.0,
        },
    };
    let p_ok = t.p_success.is_none_or(|p| p > 0.0 && p <= 1.0);
    mean_ok && cv_ok && p_ok
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(1.0),
        Just(-1.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        -2.0..5.0f64,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn validation_follows_the_documented_rules(
        dist in prop::sample::select(TtcDist::ALL.to_vec()),
        mean in number(),
        cv in prop::option::of(number()),
        p in prop::option::of(number()),
    ) {
        let t = Ttc { dist, mean_hours: mean, cv, p_success: p };
        let errors: Vec<_> = validate(&code_model(t))
            .into_iter()
            .filter(|d| d.is_error())
            .collect();
        prop_assert_eq!(errors.is_empty(), valid(&t), "{:?}: {:?}", t, errors);
        for e in &errors {
            prop_assert!(e.path.starts_with("assets[0].vulnerabilities[0].ttc."), "{}", e.path);
        }
    }
}
