//! Loading the whole SigmaHQ repository: everything loads except what the specification
//! says a tool must refuse.

use std::collections::BTreeMap;
use std::time::Instant;

use vigie_sigma::{LoadOptions, RefusalKind, RuleSet};
use vigie_test_support::shared;

fn load(folder: &str) -> (RuleSet, vigie_sigma::LoadReport) {
    let p = shared().join("sigma").join(folder);
    let t = Instant::now();
    let r = RuleSet::load(&[p], &LoadOptions::default()).expect("rules folder readable");
    eprintln!("{folder}: loaded in {:?}", t.elapsed());
    let (rs, rep) = &r;
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for f in &rep.refused {
        let key = format!(
            "{:?}: {}",
            f.kind,
            f.reason.chars().take(90).collect::<String>()
        );
        *reasons.entry(key).or_default() += 1;
    }
    eprintln!(
        "{folder}: files {} detection {} correlation {} filters {} refused {} (by kind {:?}); unindexed {}",
        rep.files,
        rep.detection_rules,
        rep.correlation_rules,
        rep.filters,
        rep.refused.len(),
        rep.refusals_by_kind(),
        rs.unindexed_rules()
    );
    for (k, n) in &reasons {
        eprintln!("   {n:5} {k}");
    }
    for f in rep.refused.iter().take(30) {
        eprintln!(
            "   {}:{:?} {:?} {:?} {}",
            f.file, f.line, f.rule, f.kind, f.reason
        );
    }
    for w in &rep.warnings {
        eprintln!("   warning: {}:{:?} {}", w.file, w.line, w.reason);
    }
    eprintln!("   unrouted: {:?}", rep.unrouted_logsources);
    eprintln!("   partial: {:?}", rep.partially_routed_logsources);
    r
}

#[test]
fn sigmahq_rules_load() {
    let (rs, rep) = load("rules");
    assert!(rep.detection_rules > 3000, "{}", rep.detection_rules);
    // The core rules use nothing a tool must refuse.
    assert!(
        rep.refused.is_empty(),
        "{:#?}",
        &rep.refused[..rep.refused.len().min(20)]
    );
    assert_eq!(rs.len(), rep.detection_rules + rep.correlation_rules);
}

#[test]
fn sigmahq_other_folders_load() {
    for folder in [
        "rules-emerging-threats",
        "rules-threat-hunting",
        "rules-compliance",
    ] {
        let (_, rep) = load(folder);
        assert!(rep.detection_rules > 0);
        // Only rules with `|expand` placeholders (no values given) may be refused.
        assert!(
            rep.refused
                .iter()
                .all(|r| r.kind == RefusalKind::Placeholder),
            "{folder}: {:#?}",
            &rep.refused[..rep.refused.len().min(20)]
        );
    }
}

#[test]
fn placeholder_rules_are_refused_without_values() {
    let (_, rep) = load("rules-placeholder");
    assert!(!rep.refused.is_empty());
    assert!(rep
        .refused
        .iter()
        .all(|r| r.kind == RefusalKind::Placeholder && r.reason.contains('%')));
}
