//! Property tests: parsers never panic; the engine agrees with a naive model.

use proptest::prelude::*;
use serde_json::json;

use super::{compile, obs, run};
use crate::correlation::{parse, parse_timespan_str};

proptest! {
    #[test]
    fn timespan_parser_never_panics(s in "\\PC{0,12}") {
        let _ = parse_timespan_str(&s);
    }

    #[test]
    fn timespan_roundtrip(n in 1u64..100_000, unit in prop::sample::select(vec![('s', 1i64), ('m', 60), ('h', 3600), ('d', 86_400)])) {
        let r = parse_timespan_str(&format!("{n}{}", unit.0));
        let secs = n as i64 * unit.1;
        if secs <= 10 * 366 * 86_400 {
            prop_assert_eq!(r, Ok(secs * 1_000_000));
        } else {
            prop_assert!(r.is_err());
        }
    }

    #[test]
    fn parse_never_panics_on_odd_documents(
        ty in "[a-z_]{0,18}",
        ts in "[0-9a-zA-Z ]{0,6}",
        op in "[a-z]{0,4}",
        n in any::<i32>(),
        rules in prop::collection::vec("[a-z]{0,3}", 0..4),
    ) {
        let doc = format!(
            "title: t\ncorrelation:\n  type: '{ty}'\n  rules: {rules:?}\n  timespan: '{ts}'\n  condition: {{'{op}': {n}, field: f}}\n"
        );
        if let Ok(v) = serde_yaml::from_str::<serde_yaml::Value>(&doc) {
            let _ = parse(&v);
        }
    }

    /// Eager `event_count gte k`: same hits as a naive re-scan of the window.
    #[test]
    fn event_count_matches_naive_model(
        gaps in prop::collection::vec(0i64..40, 1..60),
        k in 1usize..6,
        span in 1i64..120,
    ) {
        let rule = format!(
            "title: t\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [User]\n  timespan: {span}s\n  condition: {{gte: {k}}}\n"
        );
        let c = compile(&[&rule]);
        let mut t = 0;
        let times: Vec<i64> = gaps.iter().map(|g| { t += g; t }).collect();
        let obs_list = times.iter().map(|&t| obs(&c, "failed_login", t, json!({"User": "u"}))).collect();
        let (hits, _) = run(&c, obs_list);
        // Naive model: keep the times since the last hit, re-filter on each event.
        let mut since_reset: Vec<i64> = Vec::new();
        let mut expected = Vec::new();
        for &t in &times {
            since_reset.push(t);
            let live: Vec<i64> = since_reset.iter().copied().filter(|&x| x >= t - span).collect();
            if live.len() >= k {
                expected.push((live[0], t));
                since_reset.clear();
            }
        }
        let got: Vec<(i64, i64)> = hits.iter().map(|h| (h.first.timestamp() - super::T0, h.last.timestamp() - super::T0)).collect();
        prop_assert_eq!(got, expected);
    }
}
