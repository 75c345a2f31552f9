//! Matching semantics, one test per modifier and condition form, with the edge cases of
//! the specification.

use serde_json::{json, Value};
use vigie_event::Event;
use vigie_sigma::{LoadOptions, Placeholders, RuleSet};

fn rule(detection: &str) -> String {
    format!(
        "title: t\nid: r1\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n{detection}\nlevel: high\n"
    )
}

fn set_with(yaml: &str, opts: &LoadOptions) -> RuleSet {
    let (rs, rep) = RuleSet::load_str("test.yml", yaml, opts);
    assert!(rep.refused.is_empty(), "refused: {:#?}", rep.refused);
    rs
}

fn matches_in(rs: &RuleSet, ev: Value) -> Vec<u32> {
    let ev = Event::new("e".into(), 1, ev);
    let mut out = Vec::new();
    rs.matcher().scan(&ev, &mut out);
    out.iter().map(|m| m.rule.0).collect()
}

fn hit(detection: &str, ev: Value) -> bool {
    let rs = set_with(&rule(detection), &LoadOptions::default());
    !matches_in(&rs, ev).is_empty()
}

fn refused(detection: &str) -> String {
    let (_, rep) = RuleSet::load_str("t.yml", &rule(detection), &LoadOptions::default());
    assert_eq!(rep.refused.len(), 1, "expected a refusal for {detection}");
    format!("{:?}: {}", rep.refused[0].kind, rep.refused[0].reason)
}

#[test]
fn plain_values_are_case_insensitive_and_exact() {
    let d = "    sel:\n        Image: 'C:\\Windows\\System32\\whoami.exe'\n    condition: sel";
    assert!(hit(
        d,
        json!({"Image": "c:\\windows\\system32\\WHOAMI.EXE"})
    ));
    assert!(!hit(
        d,
        json!({"Image": "c:\\windows\\system32\\whoami.exe2"})
    ));
    assert!(!hit(d, json!({"Other": "x"})));
}

#[test]
fn numbers_match_numbers_and_strings() {
    let d = "    sel:\n        LogonType: 4624\n    condition: sel";
    assert!(hit(d, json!({"LogonType": 4624})));
    assert!(hit(d, json!({"LogonType": "4624"})));
    assert!(!hit(d, json!({"LogonType": 46240})));
    let d = "    sel:\n        LogonType: '4624'\n    condition: sel";
    assert!(hit(d, json!({"LogonType": 4624})));
}

#[test]
fn contains_startswith_endswith() {
    let d = "    sel:\n        CommandLine|contains: ' -enc '\n    condition: sel";
    assert!(hit(d, json!({"CommandLine": "powershell -ENC abc"})));
    assert!(!hit(d, json!({"CommandLine": "powershell -encx"})));
    let d = "    sel:\n        Image|endswith: '\\cmd.exe'\n    condition: sel";
    assert!(hit(d, json!({"Image": "C:\\x\\CMD.exe"})));
    assert!(!hit(d, json!({"Image": "C:\\x\\cmd.exe.bak"})));
    let d = "    sel:\n        Image|startswith: 'C:\\Users\\'\n    condition: sel";
    assert!(hit(d, json!({"Image": "c:\\users\\bob\\a.exe"})));
    assert!(!hit(d, json!({"Image": "d:\\c:\\users\\"})));
}

#[test]
fn lists_or_and_all() {
    let d = "    sel:\n        CommandLine|contains:\n            - 'a1'\n            - 'b2'\n    condition: sel";
    assert!(hit(d, json!({"CommandLine": "xx b2"})));
    assert!(!hit(d, json!({"CommandLine": "xx"})));
    let d = "    sel:\n        CommandLine|contains|all:\n            - 'a1'\n            - 'b2'\n    condition: sel";
    assert!(hit(d, json!({"CommandLine": "b2 a1"})));
    assert!(!hit(d, json!({"CommandLine": "xx b2"})));
    assert!(
        refused("    sel:\n        CommandLine|contains|all: 'x'\n    condition: sel")
            .starts_with("Modifier")
    );
}

#[test]
fn maps_and_list_of_maps() {
    let d = "    sel:\n        A: x\n        B: y\n    condition: sel";
    assert!(hit(d, json!({"A": "x", "B": "y"})));
    assert!(!hit(d, json!({"A": "x", "B": "z"})));
    let d = "    sel:\n        - A: x\n        - B: y\n    condition: sel";
    assert!(hit(d, json!({"A": "q", "B": "y"})));
    assert!(!hit(d, json!({"A": "q", "B": "q"})));
}

#[test]
fn wildcards_and_escapes() {
    let d = "    sel:\n        Image: 'prog?.exe'\n    condition: sel";
    assert!(hit(d, json!({"Image": "progA.exe"})));
    assert!(!hit(d, json!({"Image": "prog.exe"})));
    let d = "    sel:\n        Image: 'a*b'\n    condition: sel";
    assert!(hit(d, json!({"Image": "aXXXb"})));
    let d = "    sel:\n        Image: 'a\\*b'\n    condition: sel";
    assert!(hit(d, json!({"Image": "a*b"})));
    assert!(!hit(d, json!({"Image": "aXb"})));
    let d = "    sel:\n        Image: 'a\\?'\n    condition: sel";
    assert!(hit(d, json!({"Image": "a?"})));
    assert!(!hit(d, json!({"Image": "ab"})));
    // `\\*`: a backslash, then a wildcard.
    let d = "    sel:\n        Image: 'C:\\\\*'\n    condition: sel";
    assert!(hit(d, json!({"Image": "C:\\anything"})));
    assert!(!hit(d, json!({"Image": "C:anything"})));
}

#[test]
fn null_empty_and_exists() {
    let d = "    sel:\n        A: x\n    f:\n        B: null\n    condition: sel and not f";
    assert!(hit(d, json!({"A": "x", "B": "set"})));
    assert!(!hit(d, json!({"A": "x"})));
    assert!(!hit(d, json!({"A": "x", "B": null})));
    let d = "    sel:\n        B: ''\n    condition: sel";
    assert!(hit(d, json!({"B": ""})));
    assert!(!hit(d, json!({"B": "x"})));
    assert!(!hit(d, json!({})));
    let d = "    sel:\n        B|exists: true\n    condition: sel";
    assert!(hit(d, json!({"B": ""})));
    assert!(hit(d, json!({"B": null})));
    assert!(!hit(d, json!({"A": 1})));
    let d = "    sel:\n        B|exists: false\n    condition: sel";
    assert!(hit(d, json!({"A": 1})));
    assert!(!hit(d, json!({"B": 1})));
}

#[test]
fn cased() {
    let d = "    sel:\n        A|cased: 'AbC'\n    condition: sel";
    assert!(hit(d, json!({"A": "AbC"})));
    assert!(!hit(d, json!({"A": "abc"})));
    let d = "    sel:\n        A|contains|cased: 'B'\n    condition: sel";
    assert!(hit(d, json!({"A": "aBc"})));
    assert!(!hit(d, json!({"A": "abc"})));
}

#[test]
fn windash() {
    let d = "    sel:\n        CommandLine|contains|windash: ' -exec '\n    condition: sel";
    for v in [
        "a -exec b",
        "a /exec b",
        "a \u{2013}exec b",
        "a \u{2014}exec b",
        "a \u{2015}exec b",
    ] {
        assert!(hit(d, json!({ "CommandLine": v })), "{v}");
    }
    assert!(!hit(d, json!({"CommandLine": "a +exec b"})));
}

#[test]
fn regex_and_flags() {
    let d = "    sel:\n        A|re: '^ab+c$'\n    condition: sel";
    assert!(hit(d, json!({"A": "abbbc"})));
    // Case-sensitive by default.
    assert!(!hit(d, json!({"A": "ABBC"})));
    let d = "    sel:\n        A|re|i: '^ab+c$'\n    condition: sel";
    assert!(hit(d, json!({"A": "ABBC"})));
    let d = "    sel:\n        A|re|m: '^x$'\n    condition: sel";
    assert!(hit(d, json!({"A": "a\nx\nb"})));
    let d = "    sel:\n        A|re: '^x$'\n    condition: sel";
    assert!(!hit(d, json!({"A": "a\nx\nb"})));
    let d = "    sel:\n        A|re|s: 'a.b'\n    condition: sel";
    assert!(hit(d, json!({"A": "a\nb"})));
    let d = "    sel:\n        A|re: 'a.b'\n    condition: sel";
    assert!(!hit(d, json!({"A": "a\nb"})));
    // Unanchored search.
    let d = "    sel:\n        A|re: 'b+'\n    condition: sel";
    assert!(hit(d, json!({"A": "abbc"})));
    assert!(refused("    sel:\n        A|re: '(a'\n    condition: sel").starts_with("Value"));
    assert!(
        refused("    sel:\n        A|re|contains: 'a'\n    condition: sel").starts_with("Modifier")
    );
    assert!(refused("    sel:\n        A|i: 'a'\n    condition: sel").starts_with("Modifier"));
}

#[test]
fn base64_and_offsets() {
    // "Hello" -> SGVsbG8=
    let d = "    sel:\n        A|base64: 'Hello'\n    condition: sel";
    assert!(hit(d, json!({"A": "SGVsbG8="})));
    let d = "    sel:\n        A|base64offset|contains: 'http://'\n    condition: sel";
    use base64::Engine;
    for pre in ["", "x", "xy"] {
        let enc = base64::engine::general_purpose::STANDARD.encode(format!("{pre}http://evil"));
        assert!(
            hit(d, json!({ "A": format!("powershell -e {enc}") })),
            "{pre}"
        );
    }
    assert!(!hit(d, json!({"A": "nothing"})));
    // wide|base64offset: UTF-16LE text inside base64 (PowerShell -EncodedCommand).
    let d = "    sel:\n        A|wide|base64offset|contains: 'IEX'\n    condition: sel";
    let utf16: Vec<u8> = "xIEX (New"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let enc = base64::engine::general_purpose::STANDARD.encode(utf16);
    assert!(hit(d, json!({ "A": enc })));
    assert!(
        refused("    sel:\n        A|base64: 'a*'\n    condition: sel").starts_with("Modifier")
    );
}

#[test]
fn utf16_variants() {
    let d = "    sel:\n        A|utf16le|base64: 'cmd'\n    condition: sel";
    assert!(hit(d, json!({"A": "YwBtAGQA"})));
    let d = "    sel:\n        A|utf16be|base64: 'cmd'\n    condition: sel";
    assert!(hit(d, json!({"A": "AGMAbQBk"})));
    let d = "    sel:\n        A|utf16|base64: 'cmd'\n    condition: sel";
    assert!(hit(d, json!({"A": "//5jAG0AZAA="})));
    let d = "    sel:\n        A|wide|base64: 'cmd'\n    condition: sel";
    assert!(hit(d, json!({"A": "YwBtAGQA"})));
}

#[test]
fn cidr_v4_v6() {
    let d = "    sel:\n        Ip|cidr:\n            - '10.0.0.0/8'\n            - 'fe80::/10'\n    condition: sel";
    assert!(hit(d, json!({"Ip": "10.1.2.3"})));
    assert!(hit(d, json!({"Ip": "fe80::1"})));
    assert!(!hit(d, json!({"Ip": "11.0.0.1"})));
    assert!(!hit(d, json!({"Ip": "not an ip"})));
    assert!(
        refused("    sel:\n        Ip|cidr: '10.0.0.0/33'\n    condition: sel")
            .starts_with("Value")
    );
}

#[test]
fn numeric_comparisons() {
    for (m, v, want) in [
        ("lt", 5, true),
        ("lt", 10, false),
        ("lte", 10, true),
        ("gt", 10, false),
        ("gt", 11, true),
        ("gte", 10, true),
    ] {
        let d = format!("    sel:\n        N|{m}: 10\n    condition: sel");
        assert_eq!(hit(&d, json!({ "N": v })), want, "{m} {v}");
        assert_eq!(hit(&d, json!({ "N": v.to_string() })), want, "{m} '{v}'");
    }
    assert!(!hit(
        "    sel:\n        N|gt: 1\n    condition: sel",
        json!({"N": "abc"})
    ));
    assert!(refused("    sel:\n        N|gt: abc\n    condition: sel").starts_with("Value"));
}

#[test]
fn neq() {
    let d = "    sel:\n        A: x\n        B|neq: y\n    condition: sel";
    assert!(hit(d, json!({"A": "x", "B": "z"})));
    assert!(!hit(d, json!({"A": "x", "B": "Y"})));
    let d = "    sel:\n        N|neq:\n            - 1\n            - 2\n    condition: sel";
    assert!(hit(d, json!({"N": 3})));
    assert!(!hit(d, json!({"N": 2})));
}

#[test]
fn fieldref() {
    let d = "    sel:\n        A|fieldref: B\n    condition: sel";
    assert!(hit(d, json!({"A": "Same", "B": "same"})));
    assert!(!hit(d, json!({"A": "x", "B": "y"})));
    assert!(!hit(d, json!({"A": "x"})));
    let d = "    sel:\n        A|fieldref|endswith: B\n    condition: sel";
    assert!(hit(d, json!({"A": "C:\\x\\a.exe", "B": "a.exe"})));
    let d = "    sel:\n        A|fieldref|neq: B\n    condition: sel";
    assert!(hit(d, json!({"A": "x", "B": "y"})));
    assert!(!hit(d, json!({"A": "x", "B": "x"})));
}

#[test]
fn time_parts() {
    let d = "    sel:\n        T|hour: 3\n    condition: sel";
    assert!(hit(d, json!({"T": "2024-05-06T03:04:05Z"})));
    assert!(!hit(d, json!({"T": "2024-05-06T04:04:05Z"})));
    let d = "    sel:\n        T|hour|gte: 22\n    condition: sel";
    assert!(hit(d, json!({"T": "2024-05-06 23:00:00.000"})));
    for (m, v) in [
        ("minute", 4),
        ("day", 6),
        ("month", 5),
        ("year", 2024),
        ("week", 19),
    ] {
        let d = format!("    sel:\n        T|{m}: {v}\n    condition: sel");
        assert!(hit(&d, json!({"T": "2024-05-06T03:04:05Z"})), "{m}");
    }
}

#[test]
fn expand_placeholders() {
    let d = "    sel:\n        User|expand: '%Admins%'\n    condition: sel";
    assert!(refused(d).starts_with("Placeholder"));
    let mut ph = Placeholders::default();
    ph.insert("Admins", vec!["adm_*".into(), "root".into()]);
    let opts = LoadOptions {
        placeholders: Some(ph),
        ..LoadOptions::default()
    };
    let rs = set_with(&rule(d), &opts);
    assert_eq!(matches_in(&rs, json!({"User": "ADM_bob"})), vec![0]);
    assert_eq!(matches_in(&rs, json!({"User": "root"})), vec![0]);
    assert!(matches_in(&rs, json!({"User": "bob"})).is_empty());
    // `\%` is a plain percent sign; without `expand`, `%x%` is literal.
    let d2 = "    sel:\n        A|expand: '\\%plain%Admins%'\n    condition: sel";
    let rs = set_with(&rule(d2), &opts);
    assert_eq!(matches_in(&rs, json!({"A": "%plainroot"})), vec![0]);
    assert!(hit(
        "    sel:\n        A: '%x%'\n    condition: sel",
        json!({"A": "%X%"})
    ));
}

#[test]
fn keywords_list_and_all_map() {
    let d =
        "    keywords:\n        - 'event::clear'\n        - 'event::drop'\n    condition: keywords";
    assert!(hit(d, json!({"Msg": "mimikatz EVENT::clear now", "X": 1})));
    assert!(hit(d, json!({"a": {"b": "event::drop"}})));
    assert!(!hit(d, json!({"Msg": "nothing"})));
    let d = "    keywords:\n        '|all':\n            - 'OabVirtualDirectory'\n            - ' -ExternalUrl '\n    condition: keywords";
    assert!(hit(
        d,
        json!({"P": "Set-OabVirtualDirectory -ExternalUrl x"})
    ));
    assert!(hit(
        d,
        json!({"P": "Set-OabVirtualDirectory", "Q": " -ExternalUrl "})
    ));
    assert!(!hit(d, json!({"P": "Set-OabVirtualDirectory"})));
}

#[test]
fn conditions() {
    let sels = "    a:\n        A: 1\n    b:\n        B: 1\n    c_1:\n        C: 1\n    c_2:\n        D: 1\n    _u:\n        U: 1\n";
    let ev = |a: u8, b: u8, c: u8, d: u8| json!({"A": a, "B": b, "C": c, "D": d, "U": 1});
    let t = |cond: &str, e: Value| hit(&format!("{sels}    condition: {cond}"), e);
    assert!(t("a or b and c_1", ev(1, 0, 0, 0)));
    assert!(!t("(a or b) and c_1", ev(1, 0, 0, 0)));
    assert!(t("not a and b", ev(0, 1, 0, 0)));
    assert!(t("1 of c_*", ev(0, 0, 0, 1)));
    assert!(!t("all of c_*", ev(0, 0, 0, 1)));
    assert!(t("all of c_*", ev(0, 0, 1, 1)));
    assert!(t("a and not 1 of c_*", ev(1, 0, 0, 0)));
    assert!(!t("all of them", ev(1, 1, 1, 0)));
    assert!(t("all of them", ev(1, 1, 1, 1)));
    assert!(t("1 of them", ev(0, 0, 0, 1)));
    assert!(t("any of them", ev(0, 1, 0, 0)));
    // A condition list is an OR.
    assert!(hit(
        &format!("{sels}    condition:\n        - a\n        - b"),
        ev(0, 1, 0, 0)
    ));
    assert!(refused(&format!("{sels}    condition: a and x")).starts_with("Condition"));
    assert!(refused(&format!("{sels}    condition: a | count() > 5")).starts_with("Condition"));
}

#[test]
fn arrays_match_any_element() {
    let d = "    sel:\n        Tags|contains: 'evil'\n    condition: sel";
    assert!(hit(d, json!({"Tags": ["good", "EVIL one"]})));
    assert!(!hit(d, json!({"Tags": ["good"]})));
}

#[test]
fn unknown_modifier_is_refused_with_line() {
    let (_, rep) = RuleSet::load_str(
        "t.yml",
        &rule("    sel:\n        A|nosuch: 1\n    condition: sel"),
        &LoadOptions::default(),
    );
    let r = &rep.refused[0];
    assert_eq!(r.line, Some(8));
    assert!(r.reason.contains("nosuch"));
    assert_eq!(r.rule.as_deref(), Some("r1"));
}

#[test]
fn logsource_routing_strict_with_channel_lenient_without() {
    let rs = set_with(
        &rule("    sel:\n        Image|endswith: '\\x.exe'\n    condition: sel"),
        &LoadOptions::default(),
    );
    // Flat event without routing fields: detection only.
    assert_eq!(matches_in(&rs, json!({"Image": "c:\\x.exe"})), vec![0]);
    // Sysmon process creation.
    let sysmon = json!({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Image": "c:\\x.exe"});
    assert_eq!(matches_in(&rs, sysmon), vec![0]);
    // Wrong EventID in the right channel, or another channel: not routed.
    let wrong = json!({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 11, "Image": "c:\\x.exe"});
    assert!(matches_in(&rs, wrong).is_empty());
    let other = json!({"Channel": "System", "Image": "c:\\x.exe"});
    assert!(matches_in(&rs, other).is_empty());
    // Security 4688 with the aliased field name.
    let sec = json!({"Channel": "Security", "EventID": 4688, "NewProcessName": "C:\\X.exe"});
    assert_eq!(matches_in(&rs, sec), vec![0]);
}

#[test]
fn evtx_shaped_events() {
    let rs = set_with(
        &rule("    sel:\n        CommandLine|contains: 'whoami'\n    condition: sel"),
        &LoadOptions::default(),
    );
    let ev = json!({"Event": {"System": {
        "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}}},
        "EventData": {"CommandLine": "cmd /c WHOAMI /all"}}});
    let e = Event::new("e".into(), 1, ev);
    let mut out = Vec::new();
    rs.matcher().scan(&e, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(&*out[0].fields[0].0, "CommandLine");
    assert_eq!(out[0].fields[0].1, json!("cmd /c WHOAMI /all"));
}

#[test]
fn filters_apply_to_named_rules() {
    let yaml = format!(
        "{}---\ntitle: f\nlogsource:\n    product: windows\n    category: process_creation\nfilter:\n    rules:\n        - r1\n    selection:\n        User|startswith: 'adm_'\n    condition: selection\n",
        rule("    sel:\n        Image|endswith: '\\rar.exe'\n    condition: sel")
    );
    let (rs, rep) = RuleSet::load_str("t.yml", &yaml, &LoadOptions::default());
    assert!(rep.refused.is_empty(), "{:?}", rep.refused);
    assert_eq!(rep.filters, 1);
    assert_eq!(
        matches_in(&rs, json!({"Image": "c:\\rar.exe", "User": "bob"})),
        vec![0]
    );
    assert!(matches_in(&rs, json!({"Image": "c:\\rar.exe", "User": "adm_bob"})).is_empty());
    // A filter naming no loaded rule is refused.
    let lone = "title: f\nlogsource:\n    product: windows\nfilter:\n    rules: [nope]\n    selection:\n        A: 1\n    condition: selection\n";
    let (_, rep) = RuleSet::load_str("t.yml", lone, &LoadOptions::default());
    assert_eq!(rep.refused.len(), 1);
    assert!(rep.refused[0].reason.contains("nope"));
}

#[test]
fn matches_come_in_rule_order() {
    let mut yaml = String::new();
    for i in 0..5 {
        yaml.push_str(&format!(
            "title: t{i}\nlogsource:\n    product: windows\ndetection:\n    sel:\n        A|contains: 'x{i}'\n    condition: sel\n---\n"
        ));
    }
    let (rs, _) = RuleSet::load_str("t.yml", &yaml, &LoadOptions::default());
    assert_eq!(rs.len(), 5);
    assert_eq!(matches_in(&rs, json!({"A": "x4 x0 x2"})), vec![0, 2, 4]);
}

#[test]
fn matched_fields_are_those_of_the_alternatives_that_held() {
    let rs = set_with(
        &rule("    sel:\n        - Image|endswith: '\\a.exe'\n        - OriginalFileName: 'a.exe'\n    cl:\n        CommandLine|contains: 'x'\n    f:\n        User: 'bob'\n    condition: sel and cl and not f"),
        &LoadOptions::default(),
    );
    let ev = Event::new(
        "e".into(),
        1,
        json!({"Image": "c:\\a.exe", "OriginalFileName": "other.exe", "CommandLine": "x y", "User": "alice"}),
    );
    let mut out = Vec::new();
    rs.matcher().scan(&ev, &mut out);
    assert_eq!(out.len(), 1);
    let names: Vec<&str> = out[0].fields.iter().map(|(n, _)| &**n).collect();
    assert_eq!(names, vec!["Image", "CommandLine"]);
}

#[test]
fn duplicate_ids_are_warned_about() {
    let one = rule("    sel:\n        A: 1\n    condition: sel");
    let (rs, rep) = RuleSet::load_str(
        "t.yml",
        &format!("{one}---\n{one}"),
        &LoadOptions::default(),
    );
    assert_eq!(rs.len(), 2);
    assert_eq!(rep.warnings.len(), 1);
    assert!(rep.warnings[0].reason.contains("already used"));
}

#[test]
fn unreadable_paths() {
    let missing = std::path::PathBuf::from("/nonexistent/vigie/rules");
    let err = RuleSet::load(&[missing], &LoadOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/vigie/rules"),
        "{err}"
    );
    // A bad YAML file among good ones is a refusal with its line, the rest loads.
    let dir = std::env::temp_dir().join(format!("vigie-sigma-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.yml"),
        rule("    sel:\n        A: 1\n    condition: sel"),
    )
    .unwrap();
    std::fs::write(dir.join("b.yaml"), "title: x\ndetection: [\n").unwrap();
    std::fs::write(dir.join("c.txt"), "not a rule").unwrap();
    let (rs, rep) = RuleSet::load(std::slice::from_ref(&dir), &LoadOptions::default()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(rs.len(), 1);
    assert_eq!(rep.files, 2);
    assert_eq!(rep.refused.len(), 1);
    assert!(rep.refused[0].file.ends_with("b.yaml"));
    assert_eq!(rep.refused[0].kind, vigie_sigma::RefusalKind::Syntax);
    assert!(rep.refused[0].line.is_some());
}

#[test]
fn many_contains_values_match_like_one_at_a_time() {
    // Four or more `contains` values are searched with one automaton; the result must
    // be that of any one of them, case-insensitive, with the other values of the item
    // (a wildcard, an exact one) still tested, and under `not`.
    let d = "    sel:\n        CommandLine|contains:\n            - '^^'\n            - ',;,'\n            - 'Sekurlsa::'\n            - '%COMSPEC:~'\n            - 'a*b'\n    condition: sel";
    assert!(hit(d, json!({"CommandLine": "cmd /c ec^^ho"})));
    assert!(hit(
        d,
        json!({"CommandLine": "MIMI SEKURLSA::logonpasswords"})
    ));
    assert!(hit(d, json!({"CommandLine": "x %comspec:~0,1% y"})));
    assert!(hit(d, json!({"CommandLine": "xaQQby"})));
    assert!(!hit(d, json!({"CommandLine": "cmd /c echo ^"})));
    assert!(!hit(d, json!({"Image": "^^"})));
    let not = "    sel:\n        CommandLine|contains:\n            - 'one'\n            - 'two'\n            - 'three'\n            - 'four'\n    condition: not sel";
    assert!(hit(not, json!({"CommandLine": "zero"})));
    assert!(!hit(not, json!({"CommandLine": "TWO"})));
    let all = "    sel:\n        CommandLine|contains|all:\n            - 'one'\n            - 'two'\n            - 'three'\n            - 'four'\n    condition: sel";
    assert!(hit(all, json!({"CommandLine": "four three two one"})));
    assert!(!hit(all, json!({"CommandLine": "four three two"})));
}
