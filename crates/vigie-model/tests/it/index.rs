//! Dense indexes over the small example model.

use vigie_model::{load_str, DepMember, Entity, Format, NONE};

#[test]
fn lookups_match_positions() {
    let text = vigie_test_support::EXAMPLE_SMALL_MODEL;
    let m = match load_str(text, "e", Format::Yaml) {
        Ok(l) => l.model,
        Err(d) => panic!("{d:#?}"),
    };
    let ix = m.index();
    assert_eq!(ix.asset("crm-db"), Some(2));
    assert_eq!(ix.zone("corp"), Some(2));
    assert_eq!(ix.service("mobile"), Some(1));
    assert_eq!(ix.segment("enterprise"), Some(1));
    assert_eq!(ix.flow("corp-admin-core"), Some(2));
    assert_eq!(ix.flow("internet->dmz"), Some(0));
    assert_eq!(ix.entity("dmz->corp"), Some(Entity::Flow(1)));
    assert_eq!(ix.entity("portal"), Some(Entity::Service(0)));
    assert_eq!(ix.entity("nope"), None);
    // Kinds do not leak into each other's lookups.
    assert_eq!(ix.asset("corp"), None);
    assert_eq!(ix.zone("crm-db"), None);
    assert_eq!(ix.internet_zone, Some(0));
    assert_eq!(ix.asset_zone[2], 2);
    assert_eq!(ix.asset_zone[5], NONE, "identities have no zone");
    assert_eq!(ix.runs_on[1], 0, "portal-app runs on web-1");
    assert_eq!(ix.runs_on[0], NONE);
    assert_eq!(ix.flow_zones[2], (2, 3));
    let deps = ix.service_deps(1);
    assert_eq!(deps.len(), 2);
    assert_eq!(
        deps[0],
        (true, 1, vec![DepMember::Asset(3), DepMember::Asset(4)])
    );
    assert_eq!(deps[1], (false, 1, vec![DepMember::Service(0)]));
}
