//! Resolution against a small model with identifiers: FQDN, short name, IP, CIDR (most
//! specific wins), every account form, SIDs; and what is left unresolved is counted.

use serde_json::json;
use vigie_incident::{
    extract, resolve, Entity, EntityKind as K, EntityMapping, ResolvedEntity, Role as R,
    UnresolvedCounts,
};
use vigie_model::{load_str, Format, IdentityIndex};

use crate::common::{detection, evtx};

pub const MODEL: &str = r#"
zones:
  - id: corp
  - id: dmz
assets:
  - id: dc-01
    kind: host
    zone: corp
    identifiers: [dc-01.corp.example, 10.1.0.10, 'S-1-5-21-1-2-3-1000']
  - id: wks-07
    kind: host
    zone: corp
    identifiers: [WKS-07, 10.1.2.0/24]
  - id: web-01
    kind: host
    zone: dmz
    identifiers: [web01.dmz.example, 10.2.0.0/16, '2001:db8::/32']
  - id: jump-01
    kind: host
    zone: dmz
    identifiers: [10.2.3.0/24]
  - id: ad
    kind: application
    zone: corp
    identifiers: ['CORP\alice', 'svc-backup@corp.example', 'user:carol', 'S-1-5-21-1-2-3-1105']
"#;

pub fn index() -> IdentityIndex {
    let loaded = load_str(MODEL, "model.yaml", Format::Yaml).expect("the test model loads");
    let (index, clashes) = IdentityIndex::build(&loaded.model);
    assert!(clashes.is_empty(), "{clashes:?}");
    index
}

fn entity(kind: K, value: &str) -> Entity {
    Entity {
        kind,
        role: R::Source,
        value: value.to_string(),
        field: "test".into(),
        weak: false,
    }
}

#[test]
fn every_identifier_form_resolves() {
    let ix = index();
    let cases: Vec<(K, &str, Option<&str>)> = vec![
        (K::Host, "dc-01.corp.example", Some("dc-01")),
        // FQDN ≡ short name, both ways.
        (K::Host, "dc-01", Some("dc-01")),
        (K::Host, "wks-07.corp.example", Some("wks-07")),
        (K::Host, "wks-07", Some("wks-07")),
        (K::Host, "web01", Some("web-01")),
        (K::Host, "nowhere.corp.example", None),
        (K::Ip, "10.1.0.10", Some("dc-01")),
        (K::Ip, "10.1.2.99", Some("wks-07")),
        // Overlapping CIDRs: the most specific wins.
        (K::Ip, "10.2.3.4", Some("jump-01")),
        (K::Ip, "10.2.9.9", Some("web-01")),
        (K::Ip, "2001:db8::5", Some("web-01")),
        (K::Ip, "192.0.2.1", None),
        (K::Account, "corp\\alice", Some("ad")),
        (K::Account, "corp\\svc-backup", Some("ad")),
        // A bare name resolves when one asset lists that user; a listed bare name
        // answers to any domain.
        (K::Account, "alice", Some("ad")),
        (K::Account, "carol", Some("ad")),
        (K::Account, "other\\carol", Some("ad")),
        (K::Account, "other\\alice", None),
        (K::Account, "mallory", None),
        (K::Sid, "S-1-5-21-1-2-3-1105", Some("ad")),
        (K::Sid, "S-1-5-21-1-2-3-1000", Some("dc-01")),
        (K::Sid, "S-1-5-21-1-2-3-9999", None),
        // Kinds that name no asset.
        (K::Process, "c:\\windows\\system32\\net.exe", None),
        (K::Hash, "SHA256=ab", None),
        (K::File, "c:\\x", None),
    ];
    for (kind, value, want) in cases {
        let got = resolve(vec![entity(kind, value)], &ix);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].asset.as_deref(), want, "{kind:?} {value}");
    }
}

/// From event to asset: a 4624 onto dc-01 by alice from wks-07's network.
#[test]
fn a_logon_resolves_end_to_end() {
    let ix = index();
    let mapping = EntityMapping::default();
    let d = detection(
        evtx(
            "Security",
            4624,
            "DC-01.corp.example",
            json!({"TargetUserName": "Alice", "TargetDomainName": "CORP",
                   "IpAddress": "::ffff:10.1.2.44", "WorkstationName": "UNKNOWN-PC",
                   "TargetUserSid": "S-1-5-21-1-2-3-1105"}),
        ),
        &mapping,
    );
    let got: Vec<(K, R, String, Option<String>)> = resolve(extract(&d, &mapping), &ix)
        .into_iter()
        .map(|r| (r.entity.kind, r.entity.role, r.entity.value, r.asset))
        .collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        got,
        vec![
            (K::Host, R::Host, "dc-01.corp.example".into(), s("dc-01")),
            (K::Host, R::Source, "unknown-pc".into(), None),
            (K::Ip, R::Source, "10.1.2.44".into(), s("wks-07")),
            (K::Account, R::Target, "corp\\alice".into(), s("ad")),
            (K::Sid, R::Target, "S-1-5-21-1-2-3-1105".into(), s("ad")),
        ]
    );
}

#[test]
fn unresolved_entities_are_counted_per_detection() {
    let ix = index();
    let mut counts = UnresolvedCounts::new();
    let one = |kind, role, value: &str| ResolvedEntity {
        entity: Entity {
            role,
            ..entity(kind, value)
        },
        asset: None,
    };
    // The same host in two roles of one detection counts once; resolved entities and
    // processes/hashes/files are not counted.
    let d1 = vec![
        one(K::Host, R::Source, "unknown-pc"),
        one(K::Host, R::Destination, "unknown-pc"),
        one(K::Ip, R::Source, "192.0.2.1"),
        one(K::Process, R::Actor, "c:\\x.exe"),
        one(K::Hash, R::Actor, "MD5=00"),
        one(K::File, R::Target, "c:\\y"),
    ];
    let mut d2 = resolve(
        vec![entity(K::Host, "dc-01"), entity(K::Host, "unknown-pc")],
        &ix,
    );
    d2.push(one(K::Account, R::Actor, "mallory"));
    counts.add(&d1);
    counts.add(&d2);
    let mut other = UnresolvedCounts::new();
    other.add(&[one(K::Sid, R::Actor, "S-1-5-21-9")]);
    counts.merge(&other);
    assert_eq!(
        counts.sorted(),
        vec![
            (K::Host, "unknown-pc".to_string(), 2),
            (K::Ip, "192.0.2.1".to_string(), 1),
            (K::Account, "mallory".to_string(), 1),
            (K::Sid, "S-1-5-21-9".to_string(), 1),
        ]
    );
    assert_eq!(counts.get(K::Host, "unknown-pc"), 2);
    assert_eq!(counts.get(K::Host, "dc-01"), 0);
    assert_eq!(counts.len(), 4);
}

/// A model without identifiers resolves nothing, and says so through the counts.
#[test]
fn logs_that_resolve_to_nothing_are_all_counted() {
    let loaded = load_str(
        "zones: [{id: corp}]\nassets: [{id: a, kind: host, zone: corp}]\n",
        "bare.yaml",
        Format::Yaml,
    )
    .expect("loads");
    let (ix, _) = IdentityIndex::build(&loaded.model);
    assert!(ix.is_empty());
    let mapping = EntityMapping::default();
    let d = detection(
        evtx(
            "Security",
            4625,
            "dc-01",
            json!({"TargetUserName": "bob", "IpAddress": "203.0.113.7"}),
        ),
        &mapping,
    );
    let resolved = resolve(extract(&d, &mapping), &ix);
    assert!(resolved.iter().all(|r| r.asset.is_none()));
    let mut counts = UnresolvedCounts::new();
    counts.add(&resolved);
    assert_eq!(counts.len(), resolved.len());
    assert_eq!(counts.len(), 3, "{:?}", counts.sorted());
}
