//! Every kind of diagnostic, with its position: file:line:column and what is wrong.

use vigie_model::{load, load_str, Diagnostic, Format, Severity};

const BASE: &str = "\
zones:
  - id: dmz
  - id: core
assets:
  - id: web
    kind: host
    zone: dmz
  - id: admin
    kind: account
services:
  - id: portal
    depends_on:
      - asset: web
segments:
  - id: consumers
    customers: 10
    uses: { portal: 1 }
";

fn diags(text: &str) -> Vec<Diagnostic> {
    match load_str(text, "m.yaml", Format::Yaml) {
        Ok(l) => l.warnings,
        Err(d) => d,
    }
}

fn errors(text: &str) -> Vec<Diagnostic> {
    diags(text)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

/// The single error of `text`, as (line, column, message).
fn one(text: &str) -> (u32, u32, String) {
    let e = errors(text);
    assert_eq!(e.len(), 1, "expected one error, got {e:#?}");
    (e[0].line, e[0].column, e[0].message.clone())
}

fn has(d: &[Diagnostic], line: u32, needle: &str) -> bool {
    d.iter()
        .any(|x| x.line == line && x.message.contains(needle))
}

#[test]
fn base_is_valid() {
    assert!(errors(BASE).is_empty(), "{:#?}", errors(BASE));
}

#[test]
fn yaml_syntax_error_has_position() {
    let (line, col, msg) = one("zones:\n  - id: a\n  - [x\nassets: []\n");
    assert!(msg.starts_with("YAML syntax"), "{msg}");
    assert!(line >= 3, "{line}");
    assert!(col > 0);
}

#[test]
fn unknown_field_points_at_key() {
    let text = BASE.replace("    zone: dmz\n", "    zone: dmz\n    zonee: core\n");
    let (line, col, msg) = one(&text);
    assert_eq!((line, col), (8, 5));
    assert!(msg.contains("unknown field `zonee`"), "{msg}");
    assert!(msg.contains("assets `web`"), "{msg}");
}

#[test]
fn wrong_type_and_negative_numbers() {
    let text = BASE.replace("customers: 10", "customers: many");
    let (line, col, msg) = one(&text);
    assert_eq!((line, col), (16, 16));
    // In the model's words, not Rust's (`u64`).
    assert!(
        msg.contains(r#"found the text "many", expected a whole number, 0 or more"#),
        "{msg}"
    );
    let text = BASE.replace("customers: 10", "customers: -5");
    let (line, _, msg) = one(&text);
    assert_eq!(line, 16);
    assert!(msg.contains("-5"), "{msg}");
}

#[test]
fn unknown_enum_word() {
    let (line, col, msg) = one(&BASE.replace("kind: host", "kind: hots"));
    assert_eq!((line, col), (6, 11));
    assert!(msg.contains("unknown variant `hots`"), "{msg}");
}

#[test]
fn unknown_zone_with_suggestion() {
    let (line, col, msg) = one(&BASE.replace("zone: dmz", "zone: dmzz"));
    assert_eq!((line, col), (7, 11));
    assert!(msg.contains("unknown zone `dmzz`"), "{msg}");
    assert!(msg.contains("did you mean `dmz`"), "{msg}");
}

#[test]
fn unknown_references_everywhere_all_at_once() {
    let text = format!(
        "{BASE}flows:\n  - {{ from: dmz, to: nowhere, services: [ghost] }}\nattack_edges:\n  - {{ from: web, to: nothing, technique: T1021 }}\n"
    )
    .replace("      - asset: web\n", "      - asset: webb\n      - service: nope\n")
    .replace("uses: { portal: 1 }", "uses: { portal: 1, portl: 0.5 }");
    let d = errors(&text);
    assert!(has(&d, 13, "unknown asset `webb`"), "{d:#?}");
    assert!(has(&d, 14, "unknown service `nope`"), "{d:#?}");
    assert!(has(&d, 18, "unknown service `portl`"), "{d:#?}");
    assert!(has(&d, 20, "unknown zone `nowhere`"), "{d:#?}");
    assert!(has(&d, 20, "unknown service `ghost`"), "{d:#?}");
    assert!(has(&d, 22, "unknown asset `nothing`"), "{d:#?}");
    assert_eq!(d.len(), 6, "{d:#?}");
}

#[test]
fn reference_of_the_wrong_kind() {
    let text = BASE.replace(
        "    zone: dmz\n",
        "    zone: dmz\n    credentials: [core]\n    admins: [web]\n",
    );
    let d = errors(&text);
    assert!(has(&d, 8, "`core` is a zone, expected account"), "{d:#?}");
    assert!(has(&d, 9, "`web` is a host, expected identity"), "{d:#?}");
}

#[test]
fn duplicate_ids_name_the_first() {
    let text = BASE.replace("  - id: admin\n", "  - id: web\n");
    let (line, _, msg) = one(&text);
    assert_eq!(line, 8);
    assert!(msg.contains("duplicate id `web`"), "{msg}");
    assert!(msg.contains("first defined at line 5"), "{msg}");
    // Across kinds too: a service named like a zone (references then resolve to the zone,
    // the first definition, and say so).
    let text = BASE
        .replace("  - id: portal\n", "  - id: core\n")
        .replace("{ portal: 1 }", "{ core: 1 }");
    let d = errors(&text);
    assert!(has(&d, 11, "duplicate id `core`"), "{d:#?}");
    assert!(has(&d, 17, "`core` is a zone, expected service"), "{d:#?}");
}

#[test]
fn duplicate_default_flow_ids() {
    let text = format!("{BASE}flows:\n  - {{ from: dmz, to: core, ports: [22] }}\n  - {{ from: dmz, to: core, ports: [443] }}\n");
    let (line, _, msg) = one(&text);
    assert_eq!(line, 20);
    assert!(msg.contains("duplicate id `dmz->core`"), "{msg}");
}

#[test]
fn dependency_cycle_is_shown() {
    let text = format!(
        "{BASE}  - id: a\n    depends_on: [{{ service: b }}]\n  - id: b\n    depends_on: [{{ service: c }}]\n  - id: c\n    depends_on: [{{ any_of: [web, a], k: 2 }}]\n"
    );
    // Services appended after segments: move them into the services section.
    let text = text.replace(
        "segments:\n  - id: consumers\n    customers: 10\n    uses: { portal: 1 }\n",
        "",
    ) + "segments:\n  - id: consumers\n    customers: 10\n    uses: { portal: 1 }\n";
    let d = errors(&text);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].message
            .contains("service dependency cycle: a -> b -> c -> a"),
        "{d:#?}"
    );
    assert_eq!(d[0].line, 19);
}

#[test]
fn any_of_k_out_of_range() {
    let text = BASE.replace("      - asset: web\n", "      - { any_of: [web], k: 2 }\n      - { any_of: [web, admin], k: 0 }\n      - { any_of: [web, web] }\n");
    let d = errors(&text);
    assert!(has(&d, 13, "k = 2 but any_of lists only 1"), "{d:#?}");
    assert!(has(&d, 14, "k = 0"), "{d:#?}");
    assert!(has(&d, 15, "listed twice"), "{d:#?}");
    assert_eq!(d.len(), 3);
}

#[test]
fn dependency_shape_errors() {
    let (line, _, msg) = one(&BASE.replace(
        "      - asset: web\n",
        "      - { asset: web, service: portal }\n",
    ));
    assert_eq!(line, 13);
    assert!(msg.contains("exactly one of"), "{msg}");
    let (_, _, msg) = one(&BASE.replace("      - asset: web\n", "      - { asset: web, k: 1 }\n"));
    assert!(msg.contains("`k` only applies to `any_of`"), "{msg}");
    let (_, _, msg) = one(&BASE.replace("      - asset: web\n", "      - { kind: soft }\n"));
    assert!(msg.contains("needs one of"), "{msg}");
}

#[test]
fn ranges_of_numbers() {
    let text = BASE
        .replace("uses: { portal: 1 }", "uses: { portal: 1.5 }\n    sla_weight: -1")
        .replace("    depends_on:\n", "    recovery_hours: -2\n    depends_on:\n")
        .replace("    zone: dmz\n", "    zone: dmz\n    controls: { recovery_hours: .nan }\n    vulnerabilities: [{ id: v, ttc_hours: -1 }]\n");
    let d = errors(&text);
    assert!(
        d.iter().any(|x| x
            .message
            .contains("weight of `portal` must be within [0, 1], got 1.5")),
        "{d:#?}"
    );
    assert!(
        d.iter().any(|x| x
            .message
            .contains("sla_weight must be a finite number >= 0")),
        "{d:#?}"
    );
    assert!(
        d.iter().any(|x| x
            .message
            .contains("recovery_hours must be a finite number >= 0, got -2")),
        "{d:#?}"
    );
    assert!(
        d.iter().any(|x| x
            .message
            .contains("recovery_hours must be a finite number >= 0, got NaN")),
        "{d:#?}"
    );
    assert!(
        d.iter().any(|x| x.message.contains("ttc_hours must be")),
        "{d:#?}"
    );
    assert_eq!(d.len(), 5, "{d:#?}");
    assert!(d.iter().all(|x| x.line > 0));
}

#[test]
fn runs_on_rules_and_cycles() {
    let text = BASE.replace(
        "  - id: admin\n",
        "  - { id: vm1, kind: host, zone: dmz, runs_on: vm2 }\n  - { id: vm2, kind: host, zone: dmz, runs_on: vm1 }\n  - { id: app, kind: application, zone: dmz, runs_on: admin }\n  - id: admin\n",
    );
    let d = errors(&text);
    assert!(
        d.iter()
            .any(|x| x.message.contains("runs_on cycle: vm1 -> vm2 -> vm1")
                || x.message.contains("runs_on cycle: vm2 -> vm1 -> vm2")),
        "{d:#?}"
    );
    assert!(
        has(&d, 10, "`admin` is an account, expected host"),
        "{d:#?}"
    );
    assert_eq!(d.len(), 2, "{d:#?}");
}

#[test]
fn fields_that_do_not_fit_the_kind() {
    let text = BASE
        .replace(
            "    kind: account\n",
            "    kind: account\n    zone: dmz\n    admins: [admin]\n    controls: { edr: true }\n",
        )
        .replace(
            "    kind: host\n    zone: dmz\n",
            "    kind: host\n    zone: dmz\n    members: [admin]\n",
        );
    let d = errors(&text);
    assert!(has(&d, 8, "`members` only applies to groups"), "{d:#?}");
    assert!(
        has(&d, 11, "`zone` does not apply to account `admin`"),
        "{d:#?}"
    );
    assert!(has(&d, 12, "`admins` does not apply"), "{d:#?}");
    assert!(has(&d, 13, "`controls` does not apply"), "{d:#?}");
    assert_eq!(d.len(), 4, "{d:#?}");
    // A machine needs a zone.
    let (line, _, msg) = one(&BASE.replace("    zone: dmz\n", ""));
    assert_eq!(line, 5);
    assert!(msg.contains("has no zone"), "{msg}");
}

#[test]
fn internet_zone_rules() {
    let text = BASE
        .replace(
            "  - id: core\n",
            "  - id: core\n  - { id: inet, internet: true }\n  - { id: inet2, internet: true }\n",
        )
        .replace("zone: dmz", "zone: inet");
    let d = errors(&text);
    assert!(has(&d, 5, "more than one Internet zone"), "{d:#?}");
    assert!(
        has(&d, 9, "is the Internet zone, which holds no assets"),
        "{d:#?}"
    );
}

#[test]
fn groups_and_memberships() {
    let text = BASE.replace(
        "  - id: admin\n    kind: account\n",
        "  - id: admin\n    kind: account\n  - { id: g, kind: group, members: [g, admin, web, ghost] }\n",
    );
    let d = errors(&text);
    assert!(has(&d, 10, "member of itself"), "{d:#?}");
    assert!(has(&d, 10, "`web` is a host, expected identity"), "{d:#?}");
    assert!(
        has(&d, 10, "unknown identity (account or group) `ghost`"),
        "{d:#?}"
    );
    assert_eq!(d.len(), 3);
}

#[test]
fn structural_problems() {
    let (line, _, msg) = one(&format!("{BASE}colours: [red]\n"));
    assert_eq!(line, 18);
    assert!(msg.contains("unknown section `colours`"), "{msg}");
    let (line, _, msg) = one(&BASE.replace("  - id: core\n", "  - id: core\n    id: core2\n"));
    assert_eq!(line, 4);
    assert!(msg.contains("duplicate key `id`"), "{msg}");
    let (_, _, msg) = one("");
    assert!(msg.contains("empty"), "{msg}");
    let (_, _, msg) = one("- just\n- a list\n");
    assert!(msg.contains("a model is a mapping"), "{msg}");
    let (_, _, msg) = one("zones: 3\n");
    assert!(msg.contains("`zones` must be a list"), "{msg}");
    let (line, _, msg) = one("zones: []\n---\nzones: []\n");
    assert_eq!(line, 2);
    assert!(msg.contains("more than one YAML document"), "{msg}");
}

#[test]
fn broken_entities_do_not_cascade() {
    // `web` fails to load; the service referring to it must not add "unknown asset".
    let text = BASE.replace("    kind: host\n", "    kind: host\n    listens: [99999]\n");
    let (line, _, msg) = one(&text);
    assert_eq!(line, 7);
    assert!(msg.contains("99999"), "{msg}");
}

#[test]
fn aliases_are_expanded_and_bounded() {
    let text = BASE
        .replace("    kind: host\n", "    kind: host\n    tags: &t [a, b]\n")
        .replace("    kind: account\n", "    kind: account\n    tags: *t\n");
    assert!(errors(&text).is_empty(), "{:#?}", errors(&text));
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
    let d = errors(bomb);
    assert!(
        d.iter()
            .any(|x| x.message.contains("aliases expand to more than")),
        "{d:#?}"
    );
}

#[test]
fn deep_nesting_is_refused() {
    let deep = format!("zones: {}{}\n", "[".repeat(200), "]".repeat(200));
    let d = errors(&deep);
    assert!(
        d.iter().any(|x| x.message.contains("nesting deeper")),
        "{d:#?}"
    );
    let deep = format!("{{\"zones\": {}{}}}", "[".repeat(200), "]".repeat(200));
    let d = match load_str(&deep, "m.json", Format::Json) {
        Ok(_) => vec![],
        Err(d) => d,
    };
    assert!(
        d.iter().any(|x| x.message.contains("nesting deeper")),
        "{d:#?}"
    );
}

#[test]
fn warnings_do_not_refuse() {
    let text = format!("{BASE}flows:\n  - {{ from: dmz, to: dmz }}\nattack_edges:\n  - {{ from: web, to: admin, technique: lateral }}\n")
        .replace("uses: { portal: 1 }", "uses: {}");
    let l = match load_str(&text, "m.yaml", Format::Yaml) {
        Ok(l) => l,
        Err(d) => panic!("{d:#?}"),
    };
    let w = l.warnings;
    assert_eq!(w.len(), 3, "{w:#?}");
    assert!(
        w.iter().any(|x| x.message.contains("same-zone traffic")),
        "{w:#?}"
    );
    assert!(
        w.iter().any(|x| x.message.contains("not an ATT&CK id")),
        "{w:#?}"
    );
    assert!(
        w.iter().any(|x| x.message.contains("uses no service")),
        "{w:#?}"
    );
}

const JSON_BASE: &str = r#"{
  "zones": [
    {"id": "dmz"},
    {"id": "core"}
  ],
  "assets": [
    {"id": "web", "kind": "host", "zone": "dmz"},
    {"id": "db", "kind": "database", "zone": "cor"}
  ],
  "segments": [
    {"id": "s", "customers": 1, "uses": {"svc": 0.5}}
  ]
}"#;

fn json_errors(text: &str) -> Vec<Diagnostic> {
    match load_str(text, "m.json", Format::Json) {
        Ok(l) => l.warnings,
        Err(d) => d,
    }
}

#[test]
fn json_semantic_errors_have_positions() {
    let d = json_errors(JSON_BASE);
    assert!(has(&d, 8, "unknown zone `cor`"), "{d:#?}");
    assert_eq!(d.iter().find(|x| x.line == 8).map(|x| x.column), Some(46));
    assert!(has(&d, 11, "unknown service `svc`"), "{d:#?}");
}

#[test]
fn json_type_errors_all_at_once() {
    let text = JSON_BASE
        .replace(r#""kind": "host""#, r#""kind": "hots""#)
        .replace(r#""customers": 1"#, r#""customers": "one""#);
    let d = json_errors(&text);
    assert!(has(&d, 7, "unknown variant `hots`"), "{d:#?}");
    assert!(has(&d, 11, "expected a whole number"), "{d:#?}");
    assert!(has(&d, 8, "unknown zone `cor`"), "{d:#?}");
}

#[test]
fn json_syntax_error_position() {
    let text = JSON_BASE.replace(r#"{"id": "core"}"#, r#"{"id": "core",}"#);
    let d = json_errors(&text);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].line, 4);
    assert!(d[0].message.contains("JSON syntax"), "{d:#?}");
}

#[test]
fn files_that_cannot_be_read() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let missing = dir.path().join("missing.yaml");
    let d = load(&missing).err().unwrap_or_default();
    assert!(d[0].message.contains("cannot read"), "{d:#?}");
    assert!(d[0].file.ends_with("missing.yaml"));
    let binary = dir.path().join("bin.yaml");
    std::fs::write(&binary, b"zones:\n  - id: \xff\xfe\n").unwrap_or_default();
    let d = load(&binary).err().unwrap_or_default();
    assert_eq!(d[0].line, 2);
    assert!(d[0].message.contains("not UTF-8"), "{d:#?}");
    // Extension decides the syntax; the file name is in every diagnostic.
    let j = dir.path().join("m.json");
    std::fs::write(&j, JSON_BASE).unwrap_or_default();
    let d = load(&j).err().unwrap_or_default();
    assert!(d.iter().all(|x| x.file.ends_with("m.json")), "{d:#?}");
    assert!(d.to_vec()[0].to_string().contains("m.json:8:"), "{d:#?}");
}

#[test]
fn byte_order_mark_and_digit_groups() {
    let text = format!(
        "\u{feff}{}",
        BASE.replace("customers: 10", "customers: 18_000_000")
    );
    let l = match load_str(&text, "m.yaml", Format::Yaml) {
        Ok(l) => l,
        Err(d) => panic!("{d:#?}"),
    };
    assert_eq!(l.model.segments[0].customers, 18_000_000);
    let json = format!("\u{feff}{}", r#"{"zones": [{"id": "a"}]}"#);
    assert!(load_str(&json, "m.json", Format::Json).is_ok());
    // A string that merely contains digits and underscores stays a string.
    let text = BASE
        .replace("  - id: dmz\n", "  - id: 1_2\n")
        .replace("zone: dmz", "zone: 1_2");
    assert!(errors(&text).is_empty(), "{:#?}", errors(&text));
}

#[test]
fn exposure_without_internet_flow_is_a_warning() {
    let text = BASE
        .replace(
            "  - id: core\n",
            "  - id: core\n  - { id: inet, internet: true }\n",
        )
        .replace("    zone: dmz\n", "    zone: dmz\n    exposed: true\n");
    let d = diags(&text);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!((d[0].severity, d[0].line), (Severity::Warning, 9));
    assert!(
        d[0].message
            .contains("no flow from the Internet zone `inet` enters its zone `dmz`"),
        "{d:#?}"
    );
    let with_flow = format!("{text}flows:\n  - {{ from: inet, to: dmz, ports: [443] }}\n");
    assert!(diags(&with_flow).is_empty(), "{:#?}", diags(&with_flow));
}
