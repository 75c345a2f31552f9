//! The built-in demo operator loads, validates cleanly and tells the intended story.

use vigie_model::{demo, derive_attack_edges, load_str, Format, DEMO_YAML};

#[test]
fn demo_is_valid_without_warnings() {
    let loaded = match load_str(DEMO_YAML, "demo", Format::Yaml) {
        Ok(l) => l,
        Err(d) => panic!(
            "demo invalid:\n{}",
            d.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    };
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let m = loaded.model;
    let customers: u64 = m.segments.iter().map(|s| s.customers).sum();
    assert!(
        (29_000_000..=33_000_000).contains(&customers),
        "{customers}"
    );
    assert!(m.assets.len() >= 150, "{}", m.assets.len());
}

#[test]
fn demo_function_matches_text() {
    let m = demo();
    assert_eq!(m.operator.name, "Armorique Telecom");
    let g = derive_attack_edges(&m.index());
    assert!(g.edges.len() > 500, "{}", g.edges.len());
}

#[test]
fn demo_telemetry_follows_the_machines_with_deliberate_gaps() {
    let m = vigie_model::demo();
    let tele = |id: &str| {
        m.assets
            .iter()
            .find(|a| a.id == id)
            .unwrap_or_else(|| panic!("no asset {id}"))
            .telemetry
            .clone()
    };
    let list = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        tele("dc-1"),
        list(&["sysmon", "security", "powershell", "system"])
    );
    assert_eq!(tele("ws-dev-01"), list(&["security", "system"]));
    assert_eq!(tele("crm-app-1"), list(&["linux", "auditd"]));
    assert_eq!(tele("emp-web-1"), list(&["linux"]));
    assert_eq!(tele("cp-front-1"), list(&["webserver"]));
    // The gaps: the element manager on the path to the HSS, network devices.
    assert_eq!(tele("ems-core-1"), list(&[]));
    assert_eq!(tele("hss-1"), list(&[]));
    // Not stated: every source assumed.
    assert_eq!(tele("db-crm-1"), None);
    assert_eq!(tele("svc-emp"), None);
    // The exposed EMP front's vulnerability is a distribution with its former mean.
    let emp = m.assets.iter().find(|a| a.id == "emp-web-1").unwrap();
    let t = emp.vulnerabilities[0].ttc.expect("a distribution");
    assert_eq!(
        (t.dist, t.mean_hours, t.cv, t.p_success),
        (vigie_model::TtcDist::Lognormal, 2.0, Some(1.5), Some(0.6))
    );
    assert_eq!(emp.vulnerabilities[0].ttc_hours, None);
}
