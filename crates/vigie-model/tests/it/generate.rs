//! The generator makes valid models of the requested size, deterministically.

use vigie_model::generate::host_names;
use vigie_model::identity::{host, normalize_ip, parse_identifier};
use vigie_model::{
    generate, generate_model, load_str, min_assets, validate, AssetKind, Format, GenOptions,
    Identifier, IdentityIndex,
};

fn errors(m: &vigie_model::Model) -> Vec<String> {
    validate(m).into_iter().map(|d| d.to_string()).collect()
}

#[test]
fn exact_size_and_valid() {
    for n in [min_assets(), min_assets() + 1, 500, 1000, 2500] {
        let m = generate_model(GenOptions::new(n, 7));
        assert_eq!(m.assets.len(), n, "size {n}");
        assert!(errors(&m).is_empty(), "{:?}", errors(&m));
    }
}

#[test]
fn small_request_gives_one_site() {
    let m = generate_model(GenOptions::new(3, 1));
    assert_eq!(m.assets.len(), min_assets());
}

#[test]
fn written_text_loads_back_identically() {
    let opts = GenOptions::new(700, 42);
    let expected = generate_model(opts.clone());
    for format in [Format::Json, Format::Yaml] {
        let mut buf = Vec::new();
        let sum = generate(opts.clone(), format, &mut buf).unwrap_or_default();
        assert_eq!(sum.assets, 700);
        let text = String::from_utf8(buf).unwrap_or_default();
        let loaded = match load_str(&text, "gen", format) {
            Ok(l) => l,
            Err(d) => panic!("{format:?}: {:?}", &d[..d.len().min(5)]),
        };
        assert_eq!(loaded.model, expected, "{format:?}");
    }
}

#[test]
fn deterministic_per_seed() {
    let a = generate_model(GenOptions::new(400, 3));
    let b = generate_model(GenOptions::new(400, 3));
    let c = generate_model(GenOptions::new(400, 4));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn every_asset_has_identifiers_that_resolve_back_to_it() {
    let m = generate_model(GenOptions::new(2500, 5));
    let (ix, clashes) = IdentityIndex::build(&m);
    assert!(clashes.is_empty(), "{:?}", &clashes[..clashes.len().min(5)]);
    for a in &m.assets {
        assert!(!a.identifiers.is_empty(), "{} has no identifier", a.id);
        for text in &a.identifiers {
            let id = parse_identifier(text);
            let Ok(id) = id else {
                panic!("{}: {text}: {id:?}", a.id)
            };
            assert_eq!(ix.resolve(&id), Some(a.id.as_str()), "{text}");
        }
        let kinds: Vec<&str> = a
            .identifiers
            .iter()
            .filter_map(|t| parse_identifier(t).ok())
            .map(|i| i.kind().as_str())
            .collect();
        match a.kind {
            AssetKind::Host | AssetKind::NetworkDevice => {
                assert!(
                    kinds.contains(&"host") && kinds.contains(&"ip"),
                    "{}: {kinds:?}",
                    a.id
                )
            }
            AssetKind::Account => assert_eq!(kinds, ["account", "sid"], "{}", a.id),
            AssetKind::Group => assert_eq!(kinds, ["sid"], "{}", a.id),
            AssetKind::Application | AssetKind::Database => {
                assert!(kinds.contains(&"host"), "{}", a.id)
            }
        }
    }
    // Host FQDNs are under a per-site domain and the short name answers too.
    assert_eq!(
        ix.resolve(&host("S1-WEB-2").unwrap_or(Identifier::Sid(String::new()))),
        Some("s1-web-2")
    );
    assert_eq!(
        ix.resolve(&host("s1-web-2.site1.corp.example").unwrap_or(Identifier::Sid(String::new()))),
        Some("s1-web-2")
    );
    // An unknown address of a site's subnet resolves to its edge router.
    let web = m.assets.iter().find(|a| a.id == "s1-web-2");
    let ip = web
        .and_then(|w| w.identifiers.iter().find_map(|t| normalize_ip(t)))
        .map(|ip| match ip {
            std::net::IpAddr::V4(v4) => std::net::IpAddr::V4((u32::from(v4) + 1500).into()),
            v6 => v6,
        });
    let router = ip.and_then(|ip| ix.resolve(&Identifier::Ip(ip)));
    assert_eq!(router, Some("s1-pe-1"));
    // Customer data is marked, and some segments are cross-border.
    let personal: Vec<&str> = m
        .assets
        .iter()
        .filter(|a| a.personal_data && a.id.starts_with("s0-"))
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(
        personal,
        [
            "s0-crm-1",
            "s0-crm-2",
            "s0-crm-3",
            "s0-bill-1",
            "s0-bill-2",
            "s0-db-crm-1",
            "s0-db-crm-2",
            "s0-db-bill-1",
            "s0-db-bill-2",
            "s0-db-emp"
        ]
    );
    assert!(m
        .segments
        .iter()
        .all(|s| s.countries.first().map(String::as_str) == Some("FR")));
    assert!(m.segments.iter().any(|s| s.countries.len() > 1));
}

#[test]
fn a_host_list_names_hosts_in_order_and_adds_hosts_when_short() {
    let list = host_names(
        "# corpus hosts\n\
         MSEDGEWIN10\n\
         WIN-DC01.offsec.lan.   # the DC\n\
         win-dc01\n\
         \n\
         10.0.0.1\n\
         msedgewin10\n\
         web01.a.example\n\
         web01.b.example\n\
         WEB01\n\
         bad name\n",
    );
    assert_eq!(
        list.groups,
        vec![
            vec!["MSEDGEWIN10".to_string()],
            vec!["WIN-DC01.offsec.lan.".to_string(), "win-dc01".to_string()],
            vec!["web01.a.example".to_string()],
            vec!["web01.b.example".to_string()],
        ]
    );
    let skipped: Vec<(usize, &str)> = list
        .skipped
        .iter()
        .map(|s| (s.line, s.reason.as_str()))
        .collect();
    assert_eq!(skipped.len(), 4, "{skipped:?}");
    assert_eq!(skipped[0], (6, "not a hostname but an IP address"));
    assert_eq!(skipped[1], (7, "the same host as line 2"));
    assert!(skipped[2].1.starts_with("ambiguous"), "{skipped:?}");
    assert_eq!(skipped[3].0, 11);

    // More names than the generated hosts: extra workstations carry the rest.
    let small = generate_model(GenOptions::new(10, 1));
    let hosts = small
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::Host)
        .count();
    let names: Vec<Vec<String>> = (0..hosts + 5)
        .map(|i| vec![format!("corpus-{i}")])
        .collect();
    let opts = GenOptions {
        hosts: names,
        ..GenOptions::new(10, 1)
    };
    let m = generate_model(opts.clone());
    assert!(
        validate(&m).iter().all(|d| !d.is_error()),
        "{:?}",
        validate(&m)
    );
    assert_eq!(m.assets.len(), small.assets.len() + 5);
    let named: Vec<&vigie_model::Asset> = m
        .assets
        .iter()
        .filter(|a| {
            a.identifiers
                .first()
                .is_some_and(|t| t.starts_with("corpus-"))
        })
        .collect();
    assert_eq!(named.len(), hosts + 5);
    assert!(named.iter().all(|a| a.kind == AssetKind::Host));
    assert_eq!(named[0].id, "dc-1");
    assert_eq!(named[0].identifiers[0], "corpus-0");
    assert_eq!(named[hosts].id, "s0-xh-0");
    let (ix, clashes) = IdentityIndex::build(&m);
    assert!(clashes.is_empty(), "{clashes:?}");
    assert_eq!(
        ix.resolve(&host("CORPUS-3").unwrap_or(Identifier::Sid(String::new()))),
        Some(named[3].id.as_str())
    );
    // Written and read back, the same model.
    let mut buf = Vec::new();
    let sum = generate(opts, Format::Json, &mut buf).unwrap_or_default();
    assert_eq!((sum.named_hosts, sum.extra_hosts), (hosts + 5, 5));
    let back = load_str(
        &String::from_utf8(buf).unwrap_or_default(),
        "gen",
        Format::Json,
    );
    assert_eq!(back.map(|l| l.model).ok(), Some(m));
}
