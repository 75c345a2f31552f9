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
        if let Ok(Some(v)) = crate::yaml::parse(&doc, &crate::yaml::default_limits()) {
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

    /// Eager `value_count gte k`: same hits as a naive re-scan of the window.
    #[test]
    fn value_count_matches_naive_model(
        events in prop::collection::vec((0i64..30, 0u8..6), 1..80),
        k in 1usize..5,
        span in 1i64..90,
    ) {
        let rule = format!(
            "title: t\ncorrelation:\n  type: value_count\n  rules: [failed_login]\n  group-by: [Ip]\n  timespan: {span}s\n  condition: {{field: User, gte: {k}}}\n"
        );
        let c = compile(&[&rule]);
        let mut t = 0;
        let timed: Vec<(i64, u8)> = events.iter().map(|(g, u)| { t += g; (t, *u) }).collect();
        let obs_list = timed
            .iter()
            .map(|&(t, u)| obs(&c, "failed_login", t, json!({"Ip": "x", "User": format!("u{u}")})))
            .collect();
        let (hits, _) = run(&c, obs_list);
        let mut since_reset: Vec<(i64, u8)> = Vec::new();
        let mut expected = Vec::new();
        for &(t, u) in &timed {
            since_reset.push((t, u));
            let mut latest: std::collections::BTreeMap<u8, i64> = Default::default();
            for &(x, v) in since_reset.iter().filter(|(x, _)| *x >= t - span) {
                latest.insert(v, x);
            }
            if latest.len() >= k {
                expected.push((latest.values().copied().min().unwrap_or(t), t, latest.len()));
                since_reset.clear();
            }
        }
        let got: Vec<(i64, i64, usize)> = hits
            .iter()
            .map(|h| (h.first.timestamp() - super::T0, h.last.timestamp() - super::T0, h.value as usize))
            .collect();
        prop_assert_eq!(got, expected);
    }

    /// `temporal_ordered` over three rules: same hits as a backward greedy search (latest
    /// possible predecessor at each step) over the events since the last hit.
    #[test]
    fn temporal_ordered_matches_naive_model(
        events in prop::collection::vec((0i64..20, 0usize..3), 1..60),
        span in 1i64..60,
    ) {
        const NAMES: [&str; 3] = ["recon_cmd_a", "recon_cmd_b", "recon_cmd_c"];
        let rule = format!(
            "title: t\ncorrelation:\n  type: temporal_ordered\n  rules: [recon_cmd_a, recon_cmd_b, recon_cmd_c]\n  group-by: [U]\n  timespan: {span}s\n"
        );
        let c = compile(&[&rule]);
        let mut t = 0;
        let timed: Vec<(i64, usize)> = events.iter().map(|(g, p)| { t += g; (t, *p) }).collect();
        let obs_list = timed
            .iter()
            .map(|&(t, p)| obs(&c, NAMES[p], t, json!({"U": "u"})))
            .collect();
        let (hits, _) = run(&c, obs_list);
        let mut since_reset: Vec<(i64, usize)> = Vec::new();
        let mut expected = Vec::new();
        for &(t, p) in &timed {
            since_reset.push((t, p));
            if p != 2 {
                continue;
            }
            let mut idx = since_reset.len() - 1;
            let mut ok = true;
            for want in [1usize, 0] {
                match since_reset[..idx].iter().rposition(|&(_, q)| q == want) {
                    Some(i) => idx = i,
                    None => { ok = false; break; }
                }
            }
            if ok && since_reset[idx].0 >= t - span {
                expected.push((since_reset[idx].0, t));
                since_reset.clear();
            }
        }
        let got: Vec<(i64, i64)> = hits
            .iter()
            .map(|h| (h.first.timestamp() - super::T0, h.last.timestamp() - super::T0))
            .collect();
        prop_assert_eq!(got, expected);
    }

    /// Fixed windows (`event_count` with a range) over two interleaved groups: same hits
    /// as a per-group model where a window opens at the first event after the previous
    /// one ended and spans `timespan` inclusive.
    #[test]
    fn fixed_windows_match_naive_model(
        events in prop::collection::vec((0i64..15, any::<bool>()), 1..80),
        lo in 1usize..4,
        width in 0usize..3,
        span in 1i64..60,
    ) {
        let hi = lo + width;
        let rule = format!(
            "title: t\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [U]\n  timespan: {span}s\n  condition: {{gte: {lo}, lte: {hi}}}\n"
        );
        let c = compile(&[&rule]);
        let mut t = 0;
        let timed: Vec<(i64, bool)> = events.iter().map(|(g, b)| { t += g; (t, *b) }).collect();
        let obs_list = timed
            .iter()
            .map(|&(t, b)| obs(&c, "failed_login", t, json!({"U": if b { "x" } else { "y" }})))
            .collect();
        let (hits, _) = run(&c, obs_list);
        let mut got: Vec<(String, i64, i64, usize)> = hits
            .iter()
            .map(|h| (h.group[0].1.to_string(), h.first.timestamp() - super::T0, h.last.timestamp() - super::T0, h.value as usize))
            .collect();
        got.sort();
        let mut expected = Vec::new();
        for (name, flag) in [("\"x\"", true), ("\"y\"", false)] {
            let ts: Vec<i64> = timed.iter().filter(|(_, b)| *b == flag).map(|(t, _)| *t).collect();
            let mut i = 0;
            while i < ts.len() {
                let start = ts[i];
                let win: Vec<i64> = ts[i..].iter().copied().take_while(|&x| x <= start + span).collect();
                if (lo..=hi).contains(&win.len()) {
                    expected.push((name.to_string(), start, *win.last().unwrap_or(&start), win.len()));
                }
                i += win.len();
            }
        }
        expected.sort();
        prop_assert_eq!(got, expected);
    }
}
