//! Normalisation and noise: every noise value of the default mapping is dropped, every
//! normalisation rule holds.

use serde_json::json;
use vigie_incident::{extract, EntityKind as K, EntityMapping, Role as R};

use crate::common::{detection, e, evtx, tuples, weak, Tuple};

/// Entities of a 4624 on `dc-01` whose EventData is `data`, without the logging host.
fn logon(data: serde_json::Value) -> Vec<Tuple> {
    let mapping = EntityMapping::default();
    let d = detection(evtx("Security", 4624, "dc-01", data), &mapping);
    let mut got = tuples(&extract(&d, &mapping));
    got.retain(|(k, r, _, _)| (*k, *r) != (K::Host, R::Host));
    got
}

#[test]
fn every_noise_value_is_no_entity() {
    let cases: Vec<(&str, serde_json::Value)> = vec![
        ("IpAddress", json!("-")),
        ("IpAddress", json!("")),
        ("IpAddress", json!("   ")),
        ("IpAddress", json!("127.0.0.1")),
        ("IpAddress", json!("127.45.6.7")),
        ("IpAddress", json!("::1")),
        ("IpAddress", json!("[::1]")),
        ("IpAddress", json!("::ffff:127.0.0.1")),
        ("IpAddress", json!("0.0.0.0")),
        ("IpAddress", json!("::")),
        ("WorkstationName", json!("-")),
        ("WorkstationName", json!("localhost")),
        ("WorkstationName", json!("LOCALHOST")),
        ("WorkstationName", json!("localhost.localdomain")),
        ("TargetUserSid", json!("S-1-5-18")),
        ("TargetUserSid", json!("s-1-5-19")),
        ("TargetUserSid", json!("S-1-5-20")),
        ("TargetUserSid", json!("S-1-0-0")),
        ("TargetUserSid", json!("S-1-5-7")),
        ("TargetUserSid", json!("S-1-5-90-0-1")),
        ("TargetUserSid", json!("S-1-5-96-0-2")),
        ("TargetUserName", json!("SYSTEM")),
        ("TargetUserName", json!("system")),
        ("TargetUserName", json!("LOCAL SERVICE")),
        ("TargetUserName", json!("NETWORK SERVICE")),
        ("TargetUserName", json!("ANONYMOUS LOGON")),
        ("AccountName", json!("LocalSystem")),
        ("TargetUserName", json!("NT AUTHORITY\\SYSTEM")),
        ("TargetUserName", json!("DWM-1")),
        ("TargetUserName", json!("UMFD-0")),
        ("TargetUserName", json!("-")),
        ("TargetUserName", json!("n/a")),
        ("TargetUserName", json!(null)),
        ("TargetUserName", json!(true)),
    ];
    let one = |field: &str, value: serde_json::Value| {
        let mut data = serde_json::Map::new();
        data.insert(field.to_string(), value);
        logon(serde_json::Value::Object(data))
    };
    // Controls: each field tested does name an entity when its value is not noise.
    for (field, value) in [
        ("IpAddress", "10.9.9.9"),
        ("WorkstationName", "wks-09"),
        ("TargetUserSid", "S-1-5-21-1-2-3-500"),
        ("TargetUserName", "bob"),
    ] {
        assert_eq!(one(field, json!(value)).len(), 1, "{field} = {value}");
    }
    for (field, value) in cases {
        let got = one(field, value.clone());
        assert!(got.is_empty(), "{field} = {value}: {got:?}");
    }
    // A noise domain makes any of its accounts noise (virtual service accounts).
    for domain in [
        "NT AUTHORITY",
        "Window Manager",
        "Font Driver Host",
        "NT SERVICE",
    ] {
        let got = logon(json!({"TargetUserName": "MSSQLSERVER", "TargetDomainName": domain}));
        assert!(got.is_empty(), "{domain}: {got:?}");
    }
}

#[test]
fn normalisation_rules() {
    let cases: Vec<(serde_json::Value, Vec<Tuple>)> = vec![
        // Case-folding and a trailing dot; an FQDN keeps its full name.
        (
            json!({"WorkstationName": "WKS-07.Corp.Example."}),
            vec![e(K::Host, R::Source, "wks-07.corp.example")],
        ),
        // A machine account is its host.
        (
            json!({"TargetUserName": "WEB01$", "TargetDomainName": "CORP"}),
            vec![e(K::Host, R::Target, "web01")],
        ),
        // IPv4-mapped prefix, brackets and zone ids stripped; IPv6 in canonical form.
        (
            json!({"IpAddress": "::FFFF:10.1.2.3"}),
            vec![e(K::Ip, R::Source, "10.1.2.3")],
        ),
        (
            json!({"IpAddress": "[FE80:0:0:0::1%12]"}),
            vec![e(K::Ip, R::Source, "fe80::1")],
        ),
        // An address written in a host field is an IP; UNC-style names are hosts.
        (
            json!({"WorkstationName": "10.1.2.3"}),
            vec![e(K::Ip, R::Source, "10.1.2.3")],
        ),
        (
            json!({"WorkstationName": "\\\\WKS-07"}),
            vec![e(K::Host, R::Source, "wks-07")],
        ),
        // Domain by its first label, account case-folded; a bare name is weak.
        (
            json!({"TargetUserName": "Alice", "TargetDomainName": "Corp.Example"}),
            vec![e(K::Account, R::Target, "corp\\alice")],
        ),
        (
            json!({"TargetUserName": "alice@CORP.EXAMPLE"}),
            vec![e(K::Account, R::Target, "corp\\alice")],
        ),
        (
            json!({"TargetUserName": "CORP\\Alice", "TargetDomainName": "OTHER"}),
            vec![e(K::Account, R::Target, "corp\\alice")],
        ),
        (
            json!({"TargetUserName": "Alice"}),
            vec![weak(K::Account, R::Target, "alice")],
        ),
        (
            json!({"TargetUserName": "Alice", "TargetDomainName": "-"}),
            vec![weak(K::Account, R::Target, "alice")],
        ),
        // A local account written `.\user` has no domain to tell it apart.
        (
            json!({"TargetUserName": ".\\Admin"}),
            vec![weak(K::Account, R::Target, "admin")],
        ),
        // SIDs upper-cased; malformed ones and malformed addresses are nothing.
        (
            json!({"TargetUserSid": "s-1-5-21-9-8-7-500"}),
            vec![e(K::Sid, R::Target, "S-1-5-21-9-8-7-500")],
        ),
        (json!({"TargetUserSid": "S-1-5-x"}), vec![]),
        (json!({"IpAddress": "10.1.2.3:445"}), vec![]),
        (json!({"WorkstationName": "not a host"}), vec![]),
    ];
    for (data, mut want) in cases {
        want.sort();
        assert_eq!(logon(data.clone()), want, "{data}");
    }
}

/// The noise lists are the mapping file's: a user-supplied file changes them.
#[test]
fn noise_is_editable() {
    let text = "noise:\n  accounts: [backup-*]\n  ips: [10.0.0.0/8]\n  values: [none]\n  \
                account_domains: [lab.example]\n\
                fields:\n  IpAddress: {kind: ip, role: source}\n  \
                TargetUserName: {kind: account, role: target}\n  \
                WorkstationName: {kind: host, role: source}\n";
    let mapping = EntityMapping::parse(text, "custom.yml").expect("valid");
    let d = detection(
        evtx(
            "Security",
            4624,
            "dc-01",
            json!({"IpAddress": "10.2.3.4", "TargetUserName": "Backup-Svc",
                   "WorkstationName": "None"}),
        ),
        &mapping,
    );
    assert_eq!(tuples(&extract(&d, &mapping)), vec![]);
    // A noise domain written as an FQDN covers the accounts of its first label.
    let d = detection(
        evtx(
            "Security",
            4624,
            "dc-01",
            json!({"TargetUserName": "LAB\\tester"}),
        ),
        &mapping,
    );
    assert_eq!(tuples(&extract(&d, &mapping)), vec![]);
    // ...and SYSTEM is no longer noise there.
    let d = detection(
        evtx(
            "Security",
            4624,
            "dc-01",
            json!({"TargetUserName": "SYSTEM"}),
        ),
        &mapping,
    );
    assert_eq!(
        tuples(&extract(&d, &mapping)),
        vec![weak(K::Account, R::Target, "system")]
    );
}

mod prop {
    use proptest::prelude::*;
    use serde_json::json;
    use vigie_incident::{extract, EntityKind as K, EntityMapping};

    use crate::common::{detection, evtx};

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[A-Za-z0-9.\\\\@$:%\\[\\] -]{0,24}",
            "(::ffff:)?[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
            "[sS]-1(-[0-9]{1,4}){0,5}",
        ]
    }

    proptest! {
        /// Whatever the values, extraction does not panic, and every entity of a kind
        /// that names assets reads back as an identifier of the model side (the two
        /// normalisations agree).
        #[test]
        fn any_value_gives_well_formed_entities(
            user in text(), domain in text(), ip in text(), ws in text(), sid in text(),
            hashes in text(), image in text(),
        ) {
            let mapping = EntityMapping::default();
            let d = detection(evtx("Security", 4624, "dc-01", json!({
                "TargetUserName": user, "TargetDomainName": domain, "IpAddress": ip,
                "WorkstationName": ws, "TargetUserSid": sid, "Hashes": hashes,
                "ProcessName": image,
            })), &mapping);
            for e in extract(&d, &mapping) {
                prop_assert!(!e.value.is_empty(), "{e:?}");
                if e.kind.resolves_to_assets() {
                    prop_assert!(e.identifier().is_some(), "{e:?}");
                }
                if e.kind == K::Account {
                    prop_assert_eq!(e.weak, !e.value.contains('\\'), "{:?}", e);
                }
            }
        }
    }
}
