//! Untrusted input never panics: arbitrary rule text, conditions, values and modifier
//! chains either compile or are refused with a reason.

use proptest::prelude::*;
use serde_json::json;
use vigie_event::Event;
use vigie_sigma::{parse_rule_str, LoadOptions, RuleSet};

fn rule_with(cond: &str, key: &str, value: &str) -> String {
    format!(
        "title: t\nlogsource:\n    product: windows\ndetection:\n    sel:\n        '{}': '{}'\n    other:\n        - 'kw'\n    condition: '{}'\n",
        key.replace('\'', "''"),
        value.replace('\'', "''"),
        cond.replace('\'', "''")
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
        let _ = parse_rule_str(&s);
    }

    #[test]
    fn arbitrary_yaml_like_text_never_panics(
        s in "(title: [a-z]{0,5}\n|logsource:\n    product: [a-z]{0,5}\n|detection:\n|    [a-z_*|]{1,12}:\n|        - '[-a-z*?\\\\ %]{0,8}'\n|        [A-Za-z|]{1,20}: [-a-z0-9*?\\\\/ %]{0,10}\n|    condition: [a-z0-9_ ()*]{0,30}\n|correlation:\n|filter:\n|---\n){0,14}"
    ) {
        let _ = parse_rule_str(&s);
        let _ = RuleSet::load_str("p.yml", &s, &LoadOptions::default());
    }

    #[test]
    fn arbitrary_conditions_never_panic(cond in "(sel|other|not|and|or|1 of|all of|any of|them|sel\\*|\\(|\\)| ){0,12}") {
        let _ = parse_rule_str(&rule_with(&cond, "A", "x"));
    }

    #[test]
    fn arbitrary_modifiers_and_values_compile_or_refuse_and_match_safely(
        mods in proptest::collection::vec(
            "(contains|startswith|endswith|all|windash|base64|base64offset|utf16le|utf16be|utf16|wide|re|i|m|s|cidr|exists|cased|neq|fieldref|expand|lt|lte|gt|gte|minute|hour|day|week|month|year|bogus)",
            0..4),
        value in "[-a-zA-Z0-9*?\\\\/%.:() \\[\\]{}^$|+]{0,16}",
        event_value in "\\PC{0,24}",
    ) {
        let key = std::iter::once("A".to_string()).chain(mods).collect::<Vec<_>>().join("|");
        let yaml = rule_with("sel or other", &key, &value);
        let _ = parse_rule_str(&yaml);
        let (rs, rep) = RuleSet::load_str("p.yml", &yaml, &LoadOptions::default());
        prop_assert_eq!(rs.len() + rep.refused.len(), 1);
        let ev = Event::new("e".into(), 1, json!({"A": event_value, "B": 5, "C": ["x", 1]}));
        let mut out = Vec::new();
        rs.matcher().scan(&ev, &mut out);
    }
}
