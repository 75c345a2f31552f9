//! Plain lists, CSV and STIX bundles into indicators; the typed index; property tests
//! of the parsers (never panic; every non-blank, non-comment line is loaded or refused)
//! and of the address index (equal to a brute-force scan).

use std::net::Ipv4Addr;

use proptest::prelude::*;
use vigie_intel::feed::{parse_str, Format, LoadOptions, Position};
use vigie_intel::index::IntelIndex;
use vigie_intel::indicator::{DeclaredType, IndicatorBody, IocType};

fn opts() -> LoadOptions {
    LoadOptions::default()
}

#[test]
fn plain_list_with_header_and_refusals() {
    let text = "# name: bad hosts\n# type: domain\n\nEvil.Example.\n# c\nbad..name\nok.example # trailing\nevil.example\n";
    let (set, rep) = parse_str(Format::List, text, "bad.txt", None, &opts());
    assert_eq!(set.len(), 2);
    assert_eq!(set.indicators[0].name(), "bad hosts");
    assert_eq!(rep.refused.len(), 2);
    assert_eq!(
        rep.refused[0].position,
        Position::Line { line: 6, column: 1 }
    );
    assert!(rep.refused[1].reason.contains("duplicate of line 4"));
    // The prefix wins; no type at all refuses the file.
    let (set, _) = parse_str(
        Format::List,
        "1.2.3.4\n",
        "x",
        Some(DeclaredType::Ip),
        &opts(),
    );
    assert_eq!(set.len(), 1);
    let (set, rep) = parse_str(Format::List, "1.2.3.4\n", "x", None, &opts());
    assert!(set.is_empty());
    assert_eq!(rep.refused[0].position, Position::File);
}

#[test]
fn csv_columns() {
    let text = "# comment\ntype,value,confidence,labels,techniques\nip-dst,198.51.100.1,80,apt;c2,T1071\nsha256,zz,,,\nmutex,x,,,\ndomain,a.example,101,,\n";
    let (set, rep) = parse_str(Format::Csv, text, "f.csv", None, &opts());
    assert_eq!(set.len(), 1, "{:#?}", rep.refused);
    let i = &set.indicators[0];
    assert_eq!(i.confidence(), Some(80));
    assert_eq!(i.labels(), ["apt", "c2"]);
    assert_eq!(i.techniques(), ["T1071"]);
    assert_eq!(rep.refused.len(), 3);
    assert_eq!(
        rep.refused[0].position,
        Position::Line { line: 4, column: 8 }
    );
    // A column named after its type.
    let (set, _) = parse_str(
        Format::Csv,
        "md5,comment\n0123456789abcdef0123456789ABCDEF,x\n",
        "h.csv",
        None,
        &opts(),
    );
    assert!(
        matches!(&set.indicators[0].what, IndicatorBody::Value(IocType::Md5, v) if &**v == "0123456789abcdef0123456789abcdef")
    );
    // No value column and no type.
    let (set, rep) = parse_str(Format::Csv, "a,b\n1,2\n", "n.csv", None, &opts());
    assert!(set.is_empty() && rep.refused.len() == 1);
}

#[test]
fn stix_bundle() {
    let doc = serde_json::json!({
        "type": "bundle", "id": "bundle--1",
        "objects": [
            {"type": "indicator", "spec_version": "2.1", "id": "indicator--a", "created": "2026-01-01T00:00:00Z",
             "modified": "2026-01-01T00:00:00Z", "name": "C2", "pattern_type": "stix",
             "pattern": "[ipv4-addr:value = '203.0.113.0/24'] OR [domain-name:value = 'c2.example']",
             "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z", "confidence": 70,
             "labels": ["malicious-activity"],
             "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}]},
            {"type": "indicator", "spec_version": "2.1", "id": "indicator--b", "created": "2026-01-01T00:00:00Z",
             "modified": "2026-01-01T00:00:00Z", "pattern_type": "stix",
             "pattern": "[process:name = 'x.exe'] FOLLOWEDBY [network-traffic:dst_port = 4444]",
             "valid_from": "2026-01-01T00:00:00Z"},
            {"type": "indicator", "id": "indicator--c", "pattern_type": "sigma", "pattern": "x", "valid_from": "2026-01-01T00:00:00Z"},
            {"type": "indicator", "id": "indicator--d", "pattern_type": "stix", "pattern": "[ipv4-addr:value = ", "valid_from": "2026-01-01T00:00:00Z"},
            {"type": "attack-pattern", "id": "attack-pattern--1", "name": "App layer",
             "external_references": [{"source_name": "mitre-attack", "external_id": "T1071.001"}]},
            {"type": "relationship", "id": "relationship--1", "relationship_type": "indicates",
             "source_ref": "indicator--a", "target_ref": "attack-pattern--1"}
        ]
    });
    let (set, rep) = parse_str(
        Format::StixBundle,
        &doc.to_string(),
        "b.json",
        None,
        &opts(),
    );
    assert_eq!(set.len(), 2, "{:#?}", rep.refused);
    let a = &set.indicators[0];
    assert_eq!(&*a.id, "indicator--a");
    assert_eq!(a.confidence(), Some(70));
    assert_eq!(a.techniques(), ["T1071.001"]);
    assert!(a
        .labels()
        .contains(&"attack.command_and_control".to_string()));
    assert!(a.valid_until().is_some());
    assert!(matches!(set.indicators[1].what, IndicatorBody::Pattern(_)));
    assert_eq!(rep.refused.len(), 2);
    assert_eq!(
        rep.refused[0].position,
        Position::Pointer("/objects/2/pattern_type".into())
    );
    assert!(
        rep.refused[1]
            .reason
            .starts_with("invalid STIX pattern: line 1"),
        "{}",
        rep.refused[1].reason
    );
    let ix = IntelIndex::build(&set);
    let mut out = Vec::new();
    ix.lookup(IocType::Ipv4, "203.0.113.9", &mut out);
    ix.lookup(IocType::Domain, "x.c2.example", &mut out);
    assert_eq!(out, vec![0, 0]);
}

#[test]
fn index_types() {
    let text = "# type: url\nHTTPS://Evil.Example:443/Path?x=1#frag\n";
    let (set, _) = parse_str(Format::List, text, "u.txt", None, &opts());
    let ix = IntelIndex::build(&set);
    let mut out = Vec::new();
    ix.lookup(IocType::Url, "http://evil.example/Path?x=1", &mut out);
    assert_eq!(out, vec![0]);
    out.clear();
    ix.lookup(IocType::Url, "http://evil.example/path?x=1", &mut out);
    assert!(out.is_empty(), "paths are case-sensitive");
    let (set, _) = parse_str(
        Format::List,
        "evil.example\n",
        "d.txt",
        Some(DeclaredType::One(IocType::Domain)),
        &opts(),
    );
    let ix = IntelIndex::build(&set);
    for (q, hit) in [
        ("evil.example", true),
        ("A.EVIL.example.", true),
        ("xevil.example", false),
        ("example", false),
    ] {
        out.clear();
        ix.lookup(IocType::Domain, q, &mut out);
        assert_eq!(!out.is_empty(), hit, "{q}");
    }
    let (set, _) = parse_str(
        Format::List,
        "2001:db8::/32\n::ffff:0:0/96\n",
        "v6.txt",
        Some(DeclaredType::Ip),
        &opts(),
    );
    let ix = IntelIndex::build(&set);
    out.clear();
    ix.lookup(IocType::Ipv6, "2001:db8:1::5", &mut out);
    assert_eq!(out, vec![0]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any text: no panic, and every value line is either loaded or refused.
    #[test]
    fn list_accounts_for_every_line(lines in prop::collection::vec("[ -~]{0,24}", 0..40)) {
        let text = lines.join("\n");
        let (set, rep) = parse_str(Format::List, &text, "p.txt", Some(DeclaredType::Ip), &opts());
        let value_lines = text.lines().filter(|l| { let t = l.trim(); !t.is_empty() && !t.starts_with('#') }).count();
        let header_refusals = rep.refused.iter().filter(|r| r.reason.starts_with("unknown indicator type")).count();
        prop_assert_eq!(set.len() + rep.refused.len() - header_refusals, value_lines);
    }

    #[test]
    fn csv_never_panics(text in "[a-z0-9,\"\n.:/#|;-]{0,200}") {
        let _ = parse_str(Format::Csv, &text, "p.csv", None, &opts());
        let _ = parse_str(Format::Csv, &text, "p.csv", Some(DeclaredType::One(IocType::Domain)), &opts());
    }

    #[test]
    fn misp_event_never_panics(text in "[{}\\[\\]\":,a-zA-Z0-9 .|_-]{0,200}") {
        let _ = parse_str(Format::MispEvent, &text, "e.json", None, &opts());
        let _ = parse_str(Format::StixBundle, &text, "b.json", None, &opts());
    }

    /// A MISP event with random attributes: each attribute is loaded or refused.
    #[test]
    fn misp_accounts_for_every_attribute(attrs in prop::collection::vec(
        (prop::sample::select(vec!["ip-dst", "domain", "md5", "filename|sha1", "url", "regkey", "hostname|port"]),
         "[a-f0-9.:|/]{0,40}", any::<bool>()), 0..20)) {
        let attrs: Vec<serde_json::Value> = attrs.iter().enumerate().map(|(i, (t, v, ids))| serde_json::json!({
            "uuid": format!("00000000-0000-4000-8000-{i:012}"), "type": t, "value": v, "to_ids": ids})).collect();
        let doc = serde_json::json!({"Event": {"info": "e", "Attribute": attrs}});
        let (set, rep) = parse_str(Format::MispEvent, &doc.to_string(), "e.json", None, &opts());
        prop_assert_eq!(set.len() + rep.refused.len(), attrs.len());
    }

    /// The network index answers what a scan of every network answers.
    #[test]
    fn cidr_index_equals_brute_force(nets in prop::collection::vec((any::<u32>(), 8u8..=32), 1..60),
                                     probes in prop::collection::vec(any::<u32>(), 1..60)) {
        let text: String = nets.iter().map(|(a, l)| format!("{}/{l}\n", Ipv4Addr::from(*a))).collect();
        let (set, _) = parse_str(Format::List, &text, "n.txt", Some(DeclaredType::One(IocType::Ipv4)), &opts());
        let ix = IntelIndex::build(&set);
        let parsed: Vec<ipnet::Ipv4Net> = set.indicators.iter().map(|i| match &i.what {
            IndicatorBody::Value(_, v) => v.parse::<ipnet::Ipv4Net>().unwrap_or_else(|_| ipnet::Ipv4Net::new(v.parse().unwrap(), 32).unwrap()),
            _ => unreachable!(),
        }).collect();
        // probe both random addresses and network addresses
        let all: Vec<u32> = probes.iter().copied().chain(nets.iter().map(|(a, _)| *a)).collect();
        for p in all {
            let a = Ipv4Addr::from(p);
            let mut got = Vec::new();
            ix.lookup(IocType::Ipv4, &a.to_string(), &mut got);
            let want: Vec<u32> = parsed.iter().enumerate().filter(|(_, n)| n.contains(&a)).map(|(i, _)| i as u32).collect();
            prop_assert_eq!(got, want, "address {}", a);
        }
    }
}
