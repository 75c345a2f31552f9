//! Indicators inside detection (`vigie_intel::detect`): hunting JSON and EVTX events
//! with indicators gives exactly the expected hits, as ordinary detections of rules of
//! kind indicator; validity and warning lists leave hits out, counted.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use vigie_hunt::{Collect, ExtraMatcher, HuntOptions};
use vigie_incident::EntityMapping;
use vigie_intel::detect::{self, IntelMatcher};
use vigie_intel::indicator::{Indicator, IndicatorBody, IndicatorMeta, IndicatorSet, IocType};
use vigie_intel::warninglist::WarningLists;
use vigie_sigma::{Level, LoadOptions, RuleKind, RuleSet};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

fn meta(name: &str) -> IndicatorMeta {
    IndicatorMeta {
        name: name.to_string(),
        source: Arc::from("test.json"),
        ..IndicatorMeta::default()
    }
}

fn ind(id: &str, m: IndicatorMeta, ty: IocType, value: &str) -> Indicator {
    let v = ty.normalize(value).expect("valid value");
    Indicator {
        id: id.into(),
        meta: Arc::new(m),
        what: IndicatorBody::Value(ty, v.into_boxed_str()),
    }
}

fn empty_rules() -> RuleSet {
    RuleSet::load_files(&[], &LoadOptions::default()).0
}

/// Hunts `files` with `matcher` registered in `rules`; (record, rule key, matched field
/// names) of every detection, sorted.
fn hunt(
    rules: &RuleSet,
    matcher: Arc<IntelMatcher>,
    files: &[PathBuf],
) -> BTreeSet<(u64, String, Vec<String>)> {
    let opts = HuntOptions {
        threads: 2,
        extra: vec![matcher as Arc<dyn ExtraMatcher>],
        ..HuntOptions::default()
    };
    let (inputs, errors) = vigie_event::discover(files);
    assert!(errors.is_empty(), "{errors:?}");
    let mut sink = Collect::default();
    let report = vigie_sigma::LoadReport::default();
    vigie_hunt::hunt(rules, &report, &inputs, Vec::new(), &opts, &mut sink).expect("hunt");
    sink.0
        .iter()
        .map(|d| {
            (
                d.record.expect("record"),
                rules.meta(d.rule).key.to_string(),
                d.fields.iter().map(|(n, _)| n.to_string()).collect(),
            )
        })
        .collect()
}

fn sysmon(id: u32, time: &str, data: Value) -> Value {
    json!({"Event": {
        "System": {
            "EventID": id,
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": "wks-07.corp.example",
            "TimeCreated": {"#attributes": {"SystemTime": time}},
        },
        "EventData": data,
    }})
}

fn write_lines(dir: &Path, name: &str, docs: &[Value]) -> PathBuf {
    let text: String = docs.iter().map(|d| format!("{d}\n")).collect();
    vigie_test_support::write_file(dir, name, text.as_bytes())
}

#[test]
fn json_events_hit_exactly_the_typed_fields_holding_an_indicator() {
    let dir = tempfile::tempdir().expect("tmp");
    let md5 = "0123456789abcdef0123456789abcdef";
    let events = [
        // 1: a connection to a listed address and a name below a listed domain.
        sysmon(
            3,
            "2025-07-24T10:00:00Z",
            json!({"Image": "C:\\Windows\\explorer.exe", "DestinationIp": "198.51.100.7",
                   "DestinationHostname": "cdn.Evil.example.", "SourceIp": "10.1.1.1"}),
        ),
        // 2: a DNS query below a listed domain (QueryName is typed by the Sysmon 22
        // entry of the mapping only).
        sysmon(
            22,
            "2025-07-24T10:00:01Z",
            json!({"Image": "C:\\Windows\\System32\\nslookup.exe", "QueryName": "x.c2.bad.example"}),
        ),
        // 3: a process whose MD5 is listed (Hashes split by type) and whose image is a
        // listed file name (case-insensitive).
        sysmon(
            1,
            "2025-07-24T10:00:02Z",
            json!({"Image": "C:\\Tools\\MIMIKATZ.EXE",
                   "Hashes": format!("SHA1={},MD5={},IMPHASH={}", "A".repeat(40), md5.to_uppercase(), "B".repeat(32))}),
        ),
        // 4: flat ECS, an address inside a listed network.
        json!({"@timestamp": "2025-07-24T10:00:03Z", "source.ip": "10.9.8.7", "message": "x"}),
        // 5: a listed URL (scheme and case of the host do not matter), whose host is also
        // below a listed domain: two rules, one field each.
        json!({"@timestamp": "2025-07-24T10:00:04Z", "url": {"full": "https://WWW.evil.example/payload?x=1"}}),
        // 6: a listed address, but the indicator expired before the event.
        json!({"@timestamp": "2025-07-24T10:00:05Z", "IpAddress": "::ffff:203.0.113.9"}),
        // 7: a listed address that a warning list says is benign.
        json!({"@timestamp": "2025-07-24T10:00:06Z", "destination.ip": "8.8.8.8"}),
        // 8: a listed address in a field that holds no address: no hit.
        json!({"@timestamp": "2025-07-24T10:00:07Z", "message": "198.51.100.7", "CommandLine": "ping 198.51.100.7"}),
        // 9: an IPv4 address in an IPv6-mapped form, both ends listed: one match per
        // rule, the address rule with both fields.
        json!({"@timestamp": "2025-07-24T10:00:08Z", "source.ip": "::ffff:198.51.100.7",
               "destination.ip": "198.51.100.7"}),
    ];
    let file = write_lines(dir.path(), "events.jsonl", &events);

    let mut high = meta("C2 address");
    high.confidence = Some(85);
    high.labels = vec!["malicious-activity".into()];
    high.techniques = vec!["T1071.001".into()];
    let mut expired = meta("old address");
    expired.valid_until = Some(t("2025-07-01T00:00:00Z"));
    let set = IndicatorSet {
        indicators: vec![
            ind("indicator--a1", high, IocType::Ipv4, "198.51.100.7"),
            ind(
                "indicator--a2",
                meta("evil domain"),
                IocType::Domain,
                "evil.example",
            ),
            ind(
                "indicator--a3",
                meta("bad domain"),
                IocType::Domain,
                "c2.bad.example",
            ),
            ind("indicator--a4", meta("tool hash"), IocType::Md5, md5),
            ind(
                "indicator--a5",
                meta("tool name"),
                IocType::FileName,
                "mimikatz.exe",
            ),
            ind(
                "indicator--a6",
                meta("bad net"),
                IocType::Ipv4,
                "10.9.0.0/16",
            ),
            ind(
                "indicator--a7",
                meta("payload"),
                IocType::Url,
                "http://www.evil.example/payload?x=1",
            ),
            ind("indicator--a8", expired, IocType::Ipv4, "203.0.113.9"),
            ind("indicator--a9", meta("resolver"), IocType::Ipv4, "8.8.8.8"),
        ],
    };
    let wl = dir.path().join("wl");
    vigie_test_support::write_file(
        &wl,
        "resolvers/list.json",
        json!({"name": "Public DNS resolvers", "description": "test", "version": 1,
               "type": "cidr", "list": ["8.8.8.8/32"], "matching_attributes": ["ip-dst", "ip-src"]})
        .to_string()
        .as_bytes(),
    );
    let warnings = WarningLists::load(&wl).expect("warning lists");
    let mut rules = empty_rules();
    let (matcher, refused) =
        IntelMatcher::new(&set, &EntityMapping::default(), Some(warnings), &mut rules);
    assert!(refused.is_empty(), "{refused:?}");
    let matcher = Arc::new(matcher);

    let got = hunt(&rules, matcher.clone(), &[file]);
    let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let want: BTreeSet<(u64, String, Vec<String>)> = [
        (1, "indicator--a1", f(&["DestinationIp"])),
        (1, "indicator--a2", f(&["DestinationHostname"])),
        (2, "indicator--a3", f(&["QueryName"])),
        (3, "indicator--a4", f(&["Hashes"])),
        (3, "indicator--a5", f(&["Image"])),
        (4, "indicator--a6", f(&["source.ip"])),
        (5, "indicator--a2", f(&["url.full"])),
        (5, "indicator--a7", f(&["url.full"])),
        (9, "indicator--a1", f(&["source.ip", "destination.ip"])),
    ]
    .into_iter()
    .map(|(r, k, v)| (r, k.to_string(), v))
    .collect();
    assert_eq!(got, want);

    let s = matcher.stats();
    assert_eq!(s.indicators, 9);
    assert_eq!(s.rules, 9);
    assert_eq!(s.hits, 9);
    assert_eq!(s.outside_validity, 1, "event 6");
    assert_eq!(
        s.suppressed.into_iter().collect::<Vec<_>>(),
        vec![("Public DNS resolvers".to_string(), 1)],
        "event 7"
    );

    // The rules: key and id the indicator's, title its name, level from confidence,
    // tags its labels then the ATT&CK techniques.
    let first = matcher.first_rule();
    let m = rules.meta(first);
    assert_eq!((&*m.key, m.title.as_str()), ("indicator--a1", "C2 address"));
    assert_eq!(m.kind, RuleKind::Indicator);
    assert_eq!(m.level, Level::High);
    assert_eq!(m.tags, vec!["malicious-activity", "attack.t1071.001"]);
    assert_eq!(
        rules.meta(vigie_sigma::RuleId(first.0 + 1)).level,
        Level::Medium
    );
}

#[test]
fn levels_follow_the_confidence_scale() {
    assert_eq!(detect::level_of(None), Level::Medium);
    assert_eq!(detect::level_of(Some(0)), Level::Informational);
    assert_eq!(detect::level_of(Some(1)), Level::Low);
    assert_eq!(detect::level_of(Some(29)), Level::Low);
    assert_eq!(detect::level_of(Some(30)), Level::Medium);
    assert_eq!(detect::level_of(Some(69)), Level::Medium);
    assert_eq!(detect::level_of(Some(70)), Level::High);
    assert_eq!(detect::level_of(Some(100)), Level::High);
}

#[test]
fn the_entries_of_one_list_are_one_rule_and_validity_bounds_are_half_open() {
    let dir = tempfile::tempdir().expect("tmp");
    let list = vigie_test_support::write_file(
        dir.path(),
        "bad-ips.txt",
        b"# type: ip\n192.0.2.1\n192.0.2.2\n2001:db8::/32\n",
    );
    let mut rules = empty_rules();
    let before = rules.len();
    let loaded =
        detect::load(&[list], None, &[], &EntityMapping::default(), &mut rules).expect("load");
    assert!(loaded.refused.is_empty(), "{:?}", loaded.refused);
    assert_eq!(rules.len(), before + 1, "one rule for the list");
    let key = detect::list_rule_key("bad-ips.txt", "bad-ips.txt");
    let stats = loaded.matcher.stats();
    assert_eq!((stats.indicators, stats.rules), (3, 1));
    let events = [
        json!({"@timestamp": "2025-07-24T10:00:00Z", "source.ip": "192.0.2.2"}),
        json!({"@timestamp": "2025-07-24T10:00:01Z", "destination.ip": "2001:db8:1::5"}),
        json!({"@timestamp": "2025-07-24T10:00:02Z", "destination.ip": "192.0.2.3"}),
    ];
    let file = write_lines(dir.path(), "e.jsonl", &events);
    let matcher = Arc::new(loaded.matcher);
    let got = hunt(&rules, matcher, &[file]);
    let keys: Vec<(u64, &str)> = got.iter().map(|(r, k, _)| (*r, k.as_str())).collect();
    assert_eq!(keys, vec![(1, key.as_str()), (2, key.as_str())]);
    if let Some(m) = rules.rule_ids().last() {
        assert_eq!(rules.meta(m).title, "bad-ips.txt");
    }

    // valid_from is inclusive, valid_until exclusive.
    let mut m = meta("window");
    m.valid_from = Some(t("2025-07-24T10:00:00Z"));
    m.valid_until = Some(t("2025-07-24T10:00:02Z"));
    let set = IndicatorSet {
        indicators: vec![ind("indicator--w", m, IocType::Ipv4, "192.0.2.9")],
    };
    let mut rules = empty_rules();
    let (matcher, _) = IntelMatcher::new(&set, &EntityMapping::default(), None, &mut rules);
    let events: Vec<Value> = ["09:59:59", "10:00:00", "10:00:01", "10:00:02"]
        .iter()
        .map(|s| json!({"@timestamp": format!("2025-07-24T{s}Z"), "source.ip": "192.0.2.9"}))
        .collect();
    let file = write_lines(dir.path(), "w.jsonl", &events);
    let matcher = Arc::new(matcher);
    let got = hunt(&rules, matcher.clone(), &[file]);
    let records: Vec<u64> = got.iter().map(|(r, _, _)| *r).collect();
    assert_eq!(records, vec![2, 3]);
    assert_eq!(matcher.stats().outside_validity, 2);
}

#[test]
fn a_missing_indicator_path_is_an_error() {
    let mut rules = empty_rules();
    let e = detect::load(
        &[PathBuf::from("/nonexistent/iocs.txt")],
        None,
        &[],
        &EntityMapping::default(),
        &mut rules,
    )
    .expect_err("missing");
    assert!(e.to_string().contains("/nonexistent/iocs.txt"), "{e}");
}

/// The EVTX oracle: values are picked from a Sysmon EVTX, the events holding them in a
/// typed field are found by a plain walk of every event, and the hunt must report
/// exactly those (record, indicator) pairs.
#[test]
fn evtx_hits_are_exactly_the_events_holding_the_values() {
    let path = vigie_test_support::shared().join("evtx/edge-cases/sysmon.evtx");
    let (inputs, errors) = vigie_event::discover(std::slice::from_ref(&path));
    assert!(errors.is_empty(), "{errors:?}");
    // Every (record, field, value) of the fields the oracle knows.
    let mut seen: Vec<(u64, String, String)> = Vec::new();
    for input in &inputs {
        let mut scratch = String::new();
        vigie_event::read_input(
            input,
            &vigie_event::ReadOptions::default(),
            &mut |ev| {
                ev.visit_fields(&mut scratch, &mut |name, v| {
                    if let (
                        "DestinationIp" | "SourceIp" | "QueryName" | "Hashes" | "Image",
                        Value::String(s),
                    ) = (name, v)
                    {
                        seen.push((ev.record, name.to_string(), s.clone()));
                    }
                });
            },
            &mut |_| {},
        )
        .expect("read");
    }
    let first = |field: &str, ok: &dyn Fn(&str) -> bool| {
        seen.iter()
            .find(|(_, f, v)| f == field && ok(v))
            .map(|(_, _, v)| v.clone())
    };
    let mut indicators = Vec::new();
    // (indicator, predicate on (field, value)) for the oracle.
    type Pred = Box<dyn Fn(&str, &str) -> bool>;
    let mut preds: Vec<(String, Pred)> = Vec::new();
    if let Some(ip) = first("DestinationIp", &|v| {
        v.parse::<std::net::Ipv4Addr>().is_ok()
    }) {
        indicators.push(ind("indicator--ip", meta("ip"), IocType::Ipv4, &ip));
        let ip2 = ip.clone();
        preds.push((
            "indicator--ip".into(),
            Box::new(move |f, v| matches!(f, "DestinationIp" | "SourceIp") && v == ip2),
        ));
    }
    if let Some(q) = first("QueryName", &|v| v.matches('.').count() >= 2) {
        // The parent domain: every name below it matches.
        let parent = q
            .split_once('.')
            .map(|(_, p)| p.to_lowercase())
            .unwrap_or_default();
        indicators.push(ind("indicator--dns", meta("dns"), IocType::Domain, &parent));
        preds.push((
            "indicator--dns".into(),
            Box::new(move |f, v| {
                let v = v.trim_end_matches('.').to_lowercase();
                f == "QueryName" && (v == parent || v.ends_with(&format!(".{parent}")))
            }),
        ));
    }
    if let Some(h) = first("Hashes", &|v| v.contains("SHA256=")) {
        let sha = h
            .split(',')
            .find_map(|p| p.strip_prefix("SHA256="))
            .unwrap_or_default()
            .to_string();
        indicators.push(ind("indicator--sha", meta("sha"), IocType::Sha256, &sha));
        preds.push((
            "indicator--sha".into(),
            Box::new(move |f, v| f == "Hashes" && v.to_lowercase().contains(&sha.to_lowercase())),
        ));
    }
    assert!(
        indicators.len() >= 2,
        "sysmon.evtx should hold addresses, DNS queries and hashes: {} values",
        seen.len()
    );
    let mut want: BTreeSet<(u64, String)> = BTreeSet::new();
    for (record, field, value) in &seen {
        for (id, p) in &preds {
            if p(field, value) {
                want.insert((*record, id.clone()));
            }
        }
    }
    let set = IndicatorSet { indicators };
    let mut rules = empty_rules();
    let (matcher, _) = IntelMatcher::new(&set, &EntityMapping::default(), None, &mut rules);
    let got: BTreeSet<(u64, String)> = hunt(&rules, Arc::new(matcher), &[path])
        .into_iter()
        .map(|(r, k, _)| (r, k))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
    println!("sysmon.evtx: {} indicator hits", got.len());
}

fn detect_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/detect")
        .join(name)
}

/// Pattern indicators of a STIX bundle (`tests/detect/patterns.json`) over a committed
/// event file (`tests/detect/events.jsonl`, one event a line, record = line): each hits
/// exactly the events whose synthetic observed-data satisfies it (the reference
/// matcher's semantics: comparisons ANDed in one observation hold on one object), the
/// expired one is counted, the one that errs on domain names counts errors, and the
/// three that cannot match one event (a regular expression the engine refuses, an
/// object type no event gives, two observations) are refused with their reason.
#[test]
fn pattern_indicators_hit_the_events_whose_objects_satisfy_them() {
    let mut rules = empty_rules();
    let loaded = detect::load(
        &[detect_data("patterns.json")],
        None,
        &[],
        &EntityMapping::default(),
        &mut rules,
    )
    .expect("load");
    let id = |n: u32| format!("indicator--00000000-0000-4000-8000-0000000000{n:02}");
    assert_eq!(loaded.refused.len(), 3, "{:?}", loaded.refused);
    let refused = |i: usize, id: &str, why: &str| {
        assert!(
            loaded.refused[i].contains(id) && loaded.refused[i].contains(why),
            "{}",
            loaded.refused[i]
        );
    };
    refused(0, &id(6), "cannot be evaluated: MATCHES");
    refused(1, &id(7), "no event field gives (network-traffic)");
    refused(2, &id(8), "needs 2 observations");
    // `vigie intel check` reports the same refusals.
    let (set, _) = vigie_intel::feed::load(
        &[vigie_intel::feed::Source::parse(
            &detect_data("patterns.json").to_string_lossy(),
        )],
        &vigie_intel::feed::LoadOptions::default(),
    );
    assert_eq!(detect::unmatchable_patterns(&set), loaded.refused);
    let matcher = Arc::new(loaded.matcher);
    let s = matcher.stats();
    assert_eq!((s.indicators, s.patterns), (7, 6));

    let got = hunt(&rules, matcher.clone(), &[detect_data("events.jsonl")]);
    let p = detect::PATTERN_FIELD;
    let want: BTreeSet<(u64, String, Vec<String>)> = [
        // The rclone build: its name and SHA-256 on one file (the process image, or
        // the loaded image), not a same-named file with another hash (2) nor the hash
        // of another file (4).
        (1, id(1), p),
        (3, id(1), p),
        // Names below evil.example, from a Sysmon 3 host name and a URL's host; not
        // evil.example itself (6) nor notevil.example (7).
        (5, id(2), p),
        (12, id(2), p),
        // The stolen service account logging on (8, 9), not alice (10).
        (8, id(3), p),
        (9, id(3), p),
        // PsExec's service as a parent process image.
        (11, id(4), p),
        // The simple indicator of the same bundle, from the index.
        (5, id(9), "DestinationIp"),
    ]
    .into_iter()
    .map(|(r, k, f)| (r, k, vec![f.to_string()]))
    .collect();
    assert_eq!(got, want);

    let s = matcher.stats();
    assert_eq!(s.hits, 8);
    assert_eq!(
        s.outside_validity, 1,
        "event 12 after the gate.php indicator expired"
    );
    // ISSUBSET on domain names: one error per event holding a domain name (every
    // Windows event's Computer: 1-11; the URL's host: 12).
    assert_eq!(s.pattern_errors, 12);
    assert!(s.patterns_evaluated > 0 && s.patterns_evaluated < 6 * 13);

    // The pattern match reports its pattern.
    let mut sink = Collect::default();
    let opts = HuntOptions {
        threads: 1,
        extra: vec![matcher.clone() as Arc<dyn ExtraMatcher>],
        ..HuntOptions::default()
    };
    let (inputs, _) = vigie_event::discover(&[detect_data("events.jsonl")]);
    let report = vigie_sigma::LoadReport::default();
    vigie_hunt::hunt(&rules, &report, &inputs, Vec::new(), &opts, &mut sink).expect("hunt");
    let d = sink
        .0
        .iter()
        .find(|d| d.record == Some(11))
        .expect("record 11");
    assert_eq!(
        d.fields[0].1,
        json!("[process:image_ref.name = 'PSEXESVC.exe']")
    );
}

/// An event with no typed field costs no pattern evaluation, and a pattern is evaluated
/// only on events holding an object type it refers to.
#[test]
fn patterns_are_evaluated_only_on_events_with_their_object_types() {
    let dir = tempfile::tempdir().expect("tmp");
    let bundle = json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000001",
        "objects": [{"type": "indicator", "spec_version": "2.1",
            "id": "indicator--00000000-0000-4000-8000-000000000001",
            "created": "2025-07-20T00:00:00Z", "modified": "2025-07-20T00:00:00Z",
            "pattern": "[user-account:account_login MATCHES '^adm_']", "pattern_type": "stix",
            "valid_from": "2025-07-01T00:00:00Z"}]});
    let b = vigie_test_support::write_file(dir.path(), "b.json", bundle.to_string().as_bytes());
    let mut rules = empty_rules();
    let loaded =
        detect::load(&[b], None, &[], &EntityMapping::default(), &mut rules).expect("load");
    assert!(loaded.refused.is_empty(), "{:?}", loaded.refused);
    let events = [
        json!({"@timestamp": "2025-07-24T10:00:00Z", "message": "adm_x logged on"}),
        json!({"@timestamp": "2025-07-24T10:00:01Z", "source.ip": "10.0.0.1", "url.full": "http://a.example/"}),
        json!({"@timestamp": "2025-07-24T10:00:02Z", "user.name": "adm_root"}),
        json!({"@timestamp": "2025-07-24T10:00:03Z", "user.name": "CORP\\alice"}),
    ];
    let file = write_lines(dir.path(), "e.jsonl", &events);
    let matcher = Arc::new(loaded.matcher);
    let got = hunt(&rules, matcher.clone(), &[file]);
    let records: Vec<u64> = got.iter().map(|(r, _, _)| *r).collect();
    assert_eq!(records, vec![3]);
    assert_eq!(matcher.stats().patterns_evaluated, 2, "events 3 and 4 only");
}
