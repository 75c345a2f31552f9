//! Identifiers: every written form parses and resolves to its asset, the precedence rules
//! hold (exact address over CIDR, longest prefix, explicit short name over derived, bare
//! user only when unique), validation reports malformed identifiers, clashes and bad
//! countries at their position, and arbitrary text never makes the parser panic.

use proptest::prelude::*;
use vigie_model::identity::{
    account, clashes_visiting, host, normalize_ip, normalize_sid, parse_account, parse_identifier,
};
use vigie_model::{
    load_str, Asset, AssetKind, Format, Identifier, IdentifierError, IdentityIndex, Lookup, Model,
    Severity, Via,
};

/// A model of hosts and accounts listing the given identifiers.
fn model(assets: &[(&str, AssetKind, &[&str])]) -> Model {
    let mut m = Model::default();
    for (id, kind, idents) in assets {
        let mut a = Asset::new(*id, *kind);
        a.identifiers = idents.iter().map(|s| s.to_string()).collect();
        m.assets.push(a);
    }
    m
}

fn index(m: &Model) -> IdentityIndex {
    let (ix, clashes) = IdentityIndex::build(m);
    assert!(clashes.is_empty(), "{clashes:?}");
    ix
}

/// The asset an event-side text resolves to, through the normaliser events use for it.
fn host_of<'a>(ix: &'a IdentityIndex, text: &str) -> Option<&'a str> {
    ix.resolve(&host(text)?)
}
fn ip_of<'a>(ix: &'a IdentityIndex, text: &str) -> Option<&'a str> {
    ix.resolve(&Identifier::Ip(normalize_ip(text)?))
}
fn account_of<'a>(ix: &'a IdentityIndex, text: &str) -> Option<&'a str> {
    ix.resolve(&parse_account(text)?)
}

fn estate() -> Model {
    model(&[
        (
            "web",
            AssetKind::Host,
            &["web01.corp.example", "WEB01", "10.0.0.5", "2001:db8::5"],
        ),
        ("db", AssetKind::Host, &["db01.corp.example.", "10.0.1.7"]),
        (
            "site-net",
            AssetKind::NetworkDevice,
            &["10.0.0.0/16", "2001:db8::/32"],
        ),
        ("dc-net", AssetKind::NetworkDevice, &["10.0.1.0/24"]),
        ("dc-host", AssetKind::NetworkDevice, &["10.0.1.128/25"]),
        (
            "alice",
            AssetKind::Account,
            &["CORP\\alice", "S-1-5-21-100-200-300-1104"],
        ),
        ("bob", AssetKind::Account, &["bob@corp.example"]),
        ("carol-corp", AssetKind::Account, &["CORP\\carol"]),
        ("carol-lab", AssetKind::Account, &["LAB\\carol"]),
        ("svc", AssetKind::Account, &["user:svc-backup"]),
    ])
}

#[test]
fn hostnames_resolve_in_every_form() {
    let ix = index(&estate());
    for text in [
        "web01.corp.example",
        "WEB01.CORP.EXAMPLE",
        "web01.corp.example.",
        "WEB01",
        "web01",
        "WEB01$",
        " web01 ",
        // An FQDN no asset lists still answers to a short name listed on its own.
        "web01.elsewhere.example",
    ] {
        assert_eq!(host_of(&ix, text), Some("web"), "{text}");
    }
    // `db` lists only its FQDN: its first label answers, another domain's does not.
    assert_eq!(host_of(&ix, "DB01"), Some("db"));
    assert_eq!(host_of(&ix, "db01$"), Some("db"));
    assert_eq!(host_of(&ix, "db01.corp.example"), Some("db"));
    assert_eq!(host_of(&ix, "db01.other.example"), None);
    // A machine account written as an account is the host too.
    assert_eq!(account_of(&ix, "CORP\\WEB01$"), Some("web"));
    assert_eq!(account_of(&ix, "db01$@corp.example"), Some("db"));
    assert_eq!(host_of(&ix, "unknown"), None);
}

#[test]
fn addresses_resolve_exact_over_cidr_and_longest_prefix() {
    let ix = index(&estate());
    let cases = [
        ("10.0.0.5", Some("web")),
        ("::ffff:10.0.0.5", Some("web")),
        ("::FFFF:10.0.0.5", Some("web")),
        ("[::ffff:10.0.0.5]", Some("web")),
        ("2001:db8::5", Some("web")),
        ("2001:DB8:0:0::5", Some("web")),
        ("[2001:db8::5]", Some("web")),
        ("2001:db8::5%eth0", Some("web")),
        ("[2001:db8::5%12]", Some("web")),
        // Exact beats every CIDR holding it.
        ("10.0.1.7", Some("db")),
        // Most specific CIDR wins: /25 over /24 over /16.
        ("10.0.1.200", Some("dc-host")),
        ("10.0.1.20", Some("dc-net")),
        ("10.0.99.1", Some("site-net")),
        ("2001:db8:1::9", Some("site-net")),
        ("10.1.0.1", None),
        ("192.0.2.1", None),
        ("2001:db9::1", None),
    ];
    for (text, want) in cases {
        assert_eq!(ip_of(&ix, text), want, "{text}");
    }
    let via = ix.lookup(&Identifier::Ip(
        normalize_ip("10.0.1.200").unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
    ));
    assert_eq!(
        via,
        Lookup::Found {
            asset: 4,
            via: Via::Cidr { prefix: 25 }
        }
    );
    for bad in [
        "",
        "-",
        "10.0.0",
        "10.0.0.256",
        "::g",
        "[10.0.0.5",
        "10.0.0.5%eth0",
        "fe80::1%",
    ] {
        assert_eq!(normalize_ip(bad), None, "{bad}");
    }
}

#[test]
fn accounts_resolve_in_every_form() {
    let ix = index(&estate());
    for text in [
        "CORP\\alice",
        "corp\\ALICE",
        "corp.example\\alice",
        "alice@corp.example",
        "ALICE@CORP",
        "alice",
    ] {
        assert_eq!(account_of(&ix, text), Some("alice"), "{text}");
    }
    // `user@domain.fqdn` ≡ `DOMAIN\user`.
    assert_eq!(account_of(&ix, "CORP\\bob"), Some("bob"));
    assert_eq!(account_of(&ix, "bob"), Some("bob"));
    // Another domain's alice is another account.
    assert_eq!(account_of(&ix, "LAB\\alice"), None);
    // A bare name resolves only when unique: two carols.
    assert_eq!(account_of(&ix, "LAB\\carol"), Some("carol-lab"));
    assert_eq!(account_of(&ix, "carol"), None);
    assert_eq!(
        ix.lookup(&parse_account("carol").unwrap_or(Identifier::Sid(String::new()))),
        Lookup::Ambiguous
    );
    // A bare `user:NAME` in the model answers to that user in any domain.
    assert_eq!(account_of(&ix, "CORP\\svc-backup"), Some("svc"));
    assert_eq!(account_of(&ix, "svc-backup"), Some("svc"));
    // Separate user and domain fields (TargetUserName + TargetDomainName).
    let split = account(Some("CORP"), "Alice");
    assert_eq!(split.as_ref().and_then(|a| ix.resolve(a)), Some("alice"));
    let no_domain = account(Some("-"), "alice");
    assert_eq!(no_domain, parse_account("alice"));
    assert!(no_domain.as_ref().is_some_and(Identifier::is_weak));
}

#[test]
fn sids_resolve_case_insensitively() {
    let ix = index(&estate());
    for text in ["S-1-5-21-100-200-300-1104", "s-1-5-21-100-200-300-1104"] {
        let sid = normalize_sid(text).map(Identifier::Sid);
        assert_eq!(
            sid.as_ref().and_then(|s| ix.resolve(s)),
            Some("alice"),
            "{text}"
        );
    }
    assert_eq!(
        parse_identifier("s-1-5-21-100-200-300-1104"),
        Ok(Identifier::Sid("S-1-5-21-100-200-300-1104".into()))
    );
}

#[test]
fn short_names_shared_by_fqdns_are_ambiguous_not_clashes() {
    let m = model(&[
        ("a", AssetKind::Host, &["web01.paris.example"]),
        ("b", AssetKind::Host, &["web01.lyon.example"]),
    ]);
    let ix = index(&m);
    assert_eq!(host_of(&ix, "web01.paris.example"), Some("a"));
    assert_eq!(host_of(&ix, "web01.lyon.example"), Some("b"));
    assert_eq!(host_of(&ix, "WEB01"), None);
    assert_eq!(
        ix.lookup(&host("WEB01").unwrap_or(Identifier::Sid(String::new()))),
        Lookup::Ambiguous
    );
    // A short name listed on its own beats the derived one.
    let m = model(&[
        ("a", AssetKind::Host, &["web01.paris.example"]),
        ("c", AssetKind::Host, &["WEB01"]),
    ]);
    let ix = index(&m);
    assert_eq!(host_of(&ix, "web01"), Some("c"));
    assert_eq!(host_of(&ix, "web01.paris.example"), Some("a"));
}

#[test]
fn the_same_identifier_on_two_assets_is_a_clash_naming_both() {
    let m = model(&[
        (
            "a",
            AssetKind::Host,
            &["10.0.0.1", "web01.corp.example", "10.0.0.0/24"],
        ),
        (
            "b",
            AssetKind::Host,
            &["WEB01.corp.example.", "::ffff:10.0.0.1"],
        ),
        (
            "c",
            AssetKind::NetworkDevice,
            &["10.0.0.7/24", "10.0.0.0/16"],
        ),
        ("u", AssetKind::Account, &["CORP\\alice"]),
        (
            "v",
            AssetKind::Account,
            &["alice@corp.example", "LAB\\alice"],
        ),
    ]);
    let (ix, clashes) = IdentityIndex::build(&m);
    let got: Vec<(&str, &str, &str, usize, usize)> = clashes
        .iter()
        .map(|c| {
            (
                c.identifier.as_str(),
                c.first.as_str(),
                c.second.as_str(),
                c.first_at.identifier,
                c.second_at.identifier,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("WEB01.corp.example.", "a", "b", 1, 0),
            ("::ffff:10.0.0.1", "a", "b", 0, 1),
            ("10.0.0.7/24", "a", "c", 2, 0),
            ("alice@corp.example", "u", "v", 0, 0),
        ]
    );
    // The first keeps it.
    assert_eq!(ip_of(&ix, "10.0.0.1"), Some("a"));
    assert_eq!(account_of(&ix, "LAB\\alice"), Some("v"));
}

#[test]
fn malformed_identifiers_are_typed_errors() {
    type Expect = fn(&IdentifierError) -> bool;
    let cases: [(&str, Expect); 12] = [
        ("", |e| *e == IdentifierError::Empty),
        ("10.0.0.256", |e| {
            matches!(e, IdentifierError::BadAddress(_))
        }),
        ("10.0.0", |e| matches!(e, IdentifierError::BadAddress(_))),
        ("2001:db8:::1", |e| {
            matches!(e, IdentifierError::BadAddress(_))
        }),
        ("10.0.0.0/33", |e| {
            matches!(
                e,
                IdentifierError::BadPrefix {
                    prefix: 33,
                    max: 32,
                    ..
                }
            )
        }),
        ("2001:db8::/129", |e| {
            matches!(e, IdentifierError::BadPrefix { max: 128, .. })
        }),
        ("10.0.0.0/x", |e| {
            matches!(e, IdentifierError::BadAddress(_))
        }),
        ("S-1-5-21-abc", |e| matches!(e, IdentifierError::BadSid(_))),
        ("S-2-5-21", |e| matches!(e, IdentifierError::BadSid(_))),
        ("CORP\\", |e| matches!(e, IdentifierError::BadAccount(_))),
        ("@corp", |e| matches!(e, IdentifierError::BadAccount(_))),
        ("web 01", |e| matches!(e, IdentifierError::BadHost(_))),
    ];
    for (text, ok) in cases {
        match parse_identifier(text) {
            Err(e) => assert!(ok(&e), "{text}: {e:?}"),
            Ok(id) => panic!("{text} parsed as {id:?}"),
        }
    }
    // Multi-byte text where the lead's draft sliced bytes.
    for text in ["aé", "é", "sé-1", "S-é", "user:é", "[é]"] {
        let _ = parse_identifier(text);
    }
    assert_eq!(
        parse_identifier("::ffff:10.0.0.0/120").map(|i| i.to_string()),
        Ok("10.0.0.0/24".to_string())
    );
}

const BASE: &str = "\
zones:
  - id: lan
assets:
  - id: web
    kind: host
    zone: lan
    identifiers: [web01.corp.example, 10.0.0.5]
  - id: db
    kind: host
    zone: lan
    personal_data: true
    identifiers:
      - db01.corp.example
      - 10.0.0.6
  - id: alice
    kind: account
    identifiers: ['CORP\\alice']
services:
  - id: portal
    depends_on:
      - asset: web
segments:
  - id: consumers
    customers: 10
    countries: [FR, BE]
    uses: { portal: 1 }
";

fn diags(text: &str) -> Vec<vigie_model::Diagnostic> {
    match load_str(text, "m.yaml", Format::Yaml) {
        Ok(l) => l.warnings,
        Err(d) => d,
    }
}

#[test]
fn valid_identifiers_load() {
    let d = diags(BASE);
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn malformed_identifiers_are_reported_at_their_position() {
    let text = BASE
        .replace("10.0.0.5]", "10.0.0.300]")
        .replace("      - 10.0.0.6", "      - 10.0.0.0/40")
        .replace("['CORP\\alice']", "['CORP\\alice', 'S-1-5-x']");
    let d = diags(&text);
    let errors: Vec<(u32, u32, &str)> = d
        .iter()
        .filter(|x| x.severity == Severity::Error)
        .map(|x| (x.line, x.column, x.message.as_str()))
        .collect();
    assert_eq!(errors.len(), 3, "{d:#?}");
    assert_eq!((errors[0].0, errors[0].1), (7, 39), "{d:#?}");
    assert!(
        errors[0].2.contains("`web`") && errors[0].2.contains("10.0.0.300"),
        "{d:#?}"
    );
    assert_eq!((errors[1].0, errors[1].1), (14, 9), "{d:#?}");
    assert!(
        errors[1].2.contains("`db`") && errors[1].2.contains("/40"),
        "{d:#?}"
    );
    assert_eq!(errors[2].0, 17, "{d:#?}");
    assert!(
        errors[2].2.contains("`alice`") && errors[2].2.contains("S-1-5-x"),
        "{d:#?}"
    );
    assert_eq!(d[0].path, "assets[0].identifiers[1]");
}

#[test]
fn a_clash_names_both_assets_and_the_first_place() {
    let text = BASE.replace("      - 10.0.0.6", "      - 10.0.0.5");
    let d = diags(&text);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!((d[0].line, d[0].column), (14, 9));
    let m = &d[0].message;
    assert!(
        m.contains("`10.0.0.5`") && m.contains("`db`") && m.contains("`web`"),
        "{m}"
    );
    assert!(m.contains("first defined at line 7"), "{m}");
    // A short name shared by two FQDNs and overlapping CIDRs are fine.
    let text = BASE
        .replace("db01.corp.example", "web01.lyon.example")
        .replace(
            "      - 10.0.0.6",
            "      - 10.0.0.0/8\n      - 10.0.0.0/24",
        );
    assert!(diags(&text).is_empty(), "{:#?}", diags(&text));
}

#[test]
fn countries_are_iso_codes() {
    let d = diags(&BASE.replace("[FR, BE]", "[FR, fr, FRA, XK, FR]"));
    let got: Vec<(u32, Severity, &str)> = d
        .iter()
        .map(|x| (x.column, x.severity, x.message.as_str()))
        .collect();
    assert_eq!(got.len(), 4, "{d:#?}");
    assert!(d.iter().all(|x| x.line == 25));
    assert!(
        got[0].2.contains("`fr`") && got[0].2.contains("did you mean `FR`"),
        "{d:#?}"
    );
    assert!(got[1].2.contains("`FRA`"), "{d:#?}");
    assert!(got[2].2.contains("`XK`"), "{d:#?}");
    assert_eq!(got[3].1, Severity::Warning, "{d:#?}");
    assert!(got[3].2.contains("listed twice"), "{d:#?}");
}

#[test]
fn personal_data_is_a_bool() {
    let (line, msg) = {
        let d = diags(&BASE.replace("personal_data: true", "personal_data: maybe"));
        assert_eq!(d.len(), 1, "{d:#?}");
        (d[0].line, d[0].message.clone())
    };
    assert_eq!(line, 11);
    assert!(
        msg.contains("personal_data") || msg.contains("true or false"),
        "{msg}"
    );
}

#[test]
fn network_identifiers_on_identities_and_host_bits_are_warnings() {
    let text = BASE
        .replace("['CORP\\alice']", "['CORP\\alice', 'ws7$']")
        .replace("      - 10.0.0.6", "      - 10.0.0.6/24");
    let d = diags(&text);
    assert_eq!(d.len(), 2, "{d:#?}");
    assert!(d.iter().all(|x| x.severity == Severity::Warning));
    assert!(d[0].message.contains("bits set past its prefix"), "{d:#?}");
    assert!(d[1].message.contains("belongs on a machine"), "{d:#?}");
}

/// Identifiers in the forms a model may write, built from small parts.
fn written_identifier() -> impl Strategy<Value = String> {
    // Not `s-1-...`: that is read as a SID.
    let label = "[a-rt-z][a-z0-9-]{0,10}";
    prop_oneof![
        (label, label, proptest::bool::ANY)
            .prop_map(|(a, b, dot)| { format!("{a}.{b}.example{}", if dot { "." } else { "" }) }),
        label.prop_map(|a| a.to_uppercase()),
        label.prop_map(|a| format!("{a}$")),
        any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])),
        (any::<[u8; 4]>(), 0u8..=32)
            .prop_map(|(o, p)| format!("{}.{}.{}.{}/{p}", o[0], o[1], o[2], o[3])),
        any::<u128>().prop_map(|a| std::net::Ipv6Addr::from(a).to_string()),
        (any::<u128>(), 0u8..=128)
            .prop_map(|(a, p)| format!("{}/{p}", std::net::Ipv6Addr::from(a))),
        (label, label).prop_map(|(d, u)| format!("{}\\{u}", d.to_uppercase())),
        (label, label).prop_map(|(d, u)| format!("{u}@{d}.example")),
        label.prop_map(|u| format!("user:{u}")),
        proptest::collection::vec(any::<u32>(), 1..6).prop_map(|subs| {
            let s: Vec<String> = subs.iter().map(u32::to_string).collect();
            format!("S-1-5-{}", s.join("-"))
        }),
    ]
}

proptest! {
    #[test]
    fn parsers_never_panic_on_arbitrary_text(text in ".{0,64}", raw in proptest::collection::vec(any::<u8>(), 0..48)) {
        let lossy = String::from_utf8_lossy(&raw).into_owned();
        for t in [&text, &lossy] {
            let _ = parse_identifier(t);
            let _ = normalize_ip(t);
            let _ = host(t);
            let _ = parse_account(t);
            let _ = account(Some(t), t);
            let _ = normalize_sid(t);
            if let Ok(id) = parse_identifier(t) {
                // Display gives back a text that parses to the same identifier (hosts,
                // addresses, SIDs, domain accounts; a bare account prints without `user:`).
                if !id.is_weak() {
                    prop_assert_eq!(parse_identifier(&id.to_string()), Ok(id));
                }
            }
        }
    }

    #[test]
    fn every_written_identifier_parses_and_resolves_to_its_asset(
        idents in proptest::collection::vec(written_identifier(), 1..12),
    ) {
        let mut a = Asset::new("x", AssetKind::Host);
        a.identifiers = idents.clone();
        let m = Model { assets: vec![a], ..Default::default() };
        let (ix, clashes) = IdentityIndex::build(&m);
        prop_assert!(clashes.is_empty());
        for text in &idents {
            let id = parse_identifier(text);
            prop_assert!(id.is_ok(), "{text}: {id:?}");
            if let Ok(id) = id {
                prop_assert_eq!(ix.resolve(&id), Some("x"), "{}", text);
            }
        }
    }

    #[test]
    fn each_asset_gets_its_own_identifiers_back(
        sets in proptest::collection::vec(proptest::collection::vec(written_identifier(), 1..4), 1..8),
    ) {
        let mut m = Model::default();
        for (i, set) in sets.iter().enumerate() {
            let mut a = Asset::new(format!("a{i}"), AssetKind::Host);
            a.identifiers = set.clone();
            m.assets.push(a);
        }
        let (ix, clashes) = IdentityIndex::build(&m);
        // Validation's index-free clash search finds the same clashes.
        prop_assert_eq!(&clashes_visiting(&m, |_, _, _| {}), &clashes);
        for (i, set) in sets.iter().enumerate() {
            for text in set {
                let Ok(id) = parse_identifier(text) else { continue };
                let got = ix.resolve(&id);
                let clashed = clashes.iter().any(|c| c.second_at.asset == i && c.identifier == *text);
                let shared = sets.iter().enumerate().any(|(k, other)| k != i && other.iter().any(|o| {
                    parse_identifier(o).map(|p| p == id || matches!((&p, &id),
                        (Identifier::Host { short: a, .. }, Identifier::Host { short: b, .. }) if a == b)
                        || matches!((&p, &id),
                        (Identifier::Account { user: a, .. }, Identifier::Account { user: b, .. }) if a == b)).unwrap_or(false)
                }));
                if !clashed && !shared {
                    let want = format!("a{i}");
                    prop_assert_eq!(got, Some(want.as_str()), "{}", text);
                }
            }
        }
    }
}
