//! The HTML report as a string: counts against the JSON it was made from, escaping of
//! untrusted text, the empty and undecided cases, size bounds, determinism.

use serde_json::Value;
use vigie_render::html::{self, report_with, Options};
use vigie_wire::v1::respond::RespondReport;

use super::html_expect::{cards, expect, grouped, to_complete};
use super::html_fixture::*;

/// The page of `r` after a trip through its JSON (what a client of `respond` holds).
fn page(r: &RespondReport, g: &vigie_response::Graph, o: &Options) -> (String, Value) {
    let json = serde_json::to_string(r).expect("serialize");
    let back: RespondReport = serde_json::from_str(&json).expect("the wire types read back");
    let doc: Value = serde_json::from_str(&json).expect("json");
    (report_with(&back, g, o), doc)
}

/// The incident sections of a page, in order.
fn sections(html: &str) -> Vec<&str> {
    html.split("<section class=\"incident\"").skip(1).collect()
}

fn occurrences(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn demo_page_counts_match_the_json() {
    let g = demo_graph();
    for cap in [40, 500] {
        let o = Options {
            max_graph_nodes: cap,
            ..Options::default()
        };
        let (html, doc) = page(&demo_report(&g), &g, &o);
        let want = expect(&doc, o.max_incidents, cap);
        let got = sections(&html);
        assert_eq!(got.len(), want.len());
        for (s, w) in got.iter().zip(&want) {
            assert!(s.contains(&format!("data-incident=\"{}\"", w.id)));
            assert_eq!(
                occurrences(s, "data-node=\""),
                w.graph_nodes,
                "{} cap {cap}",
                w.id
            );
            assert_eq!(occurrences(s, "data-bar=\"plan\""), w.plan_bars);
            assert_eq!(occurrences(s, "data-bar=\"isolate\""), w.isolate_bars);
            assert_eq!(occurrences(s, "data-gantt-bar=\"asset\""), w.gantt_bars);
            for id in w.compromised.iter().chain(&w.plan_targets) {
                assert!(s.contains(&format!("data-node=\"{id}\"")), "{id} not drawn");
            }
            if let Some(ch) = &w.plan_customer_hours {
                assert!(
                    s.contains(&format!(">{ch}</span>")),
                    "plan customer-hours {ch}"
                );
            }
        }
    }
}

/// The demo's figures, pinned: 176 assets could be drawn (the 2 compromised and the
/// 174 they reach), 40 are; the plan disables svc-emp and blocks a flow, so its cut
/// edges are marked.
#[test]
fn demo_graph_is_capped_with_a_note() {
    let g = demo_graph();
    let (html, _) = page(&demo_report(&g), &g, &Options::default());
    let july = sections(&html)[0];
    assert_eq!(occurrences(july, "data-node=\""), 40);
    assert!(july.contains("data-graph-shown=\"40\" data-graph-eligible=\"176\""));
    assert!(july.contains("data-node=\"svc-emp\" data-state=\"compromised\" data-crown-jewel=\"false\" data-cut=\"true\""));
    assert!(
        occurrences(july, "data-cut=\"true\" d=\"M") >= 1,
        "no cut edge drawn"
    );
    assert!(july.contains(&grouped(111_450_000.0)));
}

/// The notification block is drawn from the typed draft: one labelled card per deadline
/// (the three NIS2 stages, then GDPR Art. 33 when flagged) with the JSON's times, every
/// threshold crossed, the flags' values, and the items to complete counted as in the JSON.
#[test]
fn notification_follows_the_draft() {
    let g = demo_graph();
    let (html, doc) = page(&demo_report(&g), &g, &Options::default());
    let july = sections(&html)[0];
    let inc = &doc["incidents"][0];
    let want = cards(inc);
    assert_eq!(want.len(), 4, "the fixture's draft flags GDPR: {want:?}");
    assert_eq!(occurrences(july, "data-deadline-kind=\""), want.len());
    // In order, each with its label and its date in words.
    let mut rest = july;
    for c in &want {
        let attr = match &c.deadline {
            Some(d) => format!("data-deadline-kind=\"{}\" data-deadline=\"{d}\">", c.kind),
            None => format!("data-deadline-kind=\"{}\">", c.kind),
        };
        let at = rest.find(&attr).unwrap_or_else(|| panic!("no card {attr}"));
        rest = &rest[at..];
        let label = format!("<span class=\"dl\">{}</span>", c.label);
        assert!(
            rest.starts_with(&format!("{attr}{label}")),
            "card {}",
            c.kind
        );
        let d = c
            .deadline
            .as_deref()
            .expect("the fixture's deadlines are known");
        let human = vigie_render::respond::notification::human_time(d);
        assert!(rest.contains(&format!("<time datetime=\"{d}\">{human}</time>")));
    }
    assert!(!july.to_ascii_lowercase().contains(">deadline</span>"));
    assert_eq!(
        occurrences(july, "data-to-complete=\"true\""),
        to_complete(inc)
    );
    assert!(to_complete(inc) > 0);
    for t in inc["notification"]["thresholds"]["crossed"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let id = t["id"].as_str().expect("threshold id");
        assert!(july.contains(&format!("data-threshold=\"{id}\"")), "{id}");
    }
    for f in ["suspected_malicious", "cross_border", "gdpr"] {
        let v = inc["notification"][f]["value"].as_bool().expect("flag");
        assert!(july.contains(&format!("data-flag=\"{f}\" data-value=\"{v}\"")));
    }
    // The old generic rendering (the JSON walked as key/value tables) is gone.
    assert!(!july.contains("<table class=\"kv\""));
    // An incident with a draft but no decision: three NIS2 cards, the impact to complete.
    let other = sections(&html)[1];
    let inc = &doc["incidents"][1];
    assert_eq!(cards(inc).len(), 3);
    assert_eq!(occurrences(other, "data-deadline-kind=\""), 3);
    assert!(!other.contains("data-deadline-kind=\"gdpr\""));
    assert!(other.contains("the impact is <span class=\"todo\">to complete</span>"));
    assert_eq!(
        occurrences(other, "data-to-complete=\"true\""),
        to_complete(inc)
    );
}

#[test]
fn untrusted_text_is_inert() {
    let g = demo_graph();
    let (html, _) = page(&hostile_report(&g), &g, &Options::default());
    let lower = html.to_ascii_lowercase();
    assert!(
        !lower.contains("<script"),
        "a <script> element reached the page"
    );
    assert!(!lower.contains("<img"), "an <img> element reached the page");
    assert!(
        !lower.contains("<svg onload"),
        "an element with onload reached the page"
    );
    assert!(html.contains("&lt;script&gt;window.__vigie_pwned=1&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=&quot;window.__vigie_pwned=1&quot;&gt;"));
    // The hostile incident id lands in id/href attributes, escaped.
    assert!(html.contains("id=\"inc-&quot;&gt;&lt;img"));
    // The draft's strings too: an unknown stage kind is named as given, escaped.
    assert!(html.contains(
        "<span class=\"dl\">NIS2 stage &lt;script&gt;window.__vigie_pwned=1&lt;/script&gt;</span>"
    ));
    assert!(html.contains("data-deadline=\"&quot;&gt;&lt;img src=x"));
    // Nothing may load either: the policy forbids every fetch and every script.
    assert!(html.contains("content=\"default-src 'none'; style-src 'unsafe-inline'"));
}

#[test]
fn no_incident_gives_a_short_page() {
    let g = demo_graph();
    let (html, _) = page(&report(Vec::new()), &g, &Options::default());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert!(html.contains("data-empty=\"incidents\""));
    assert!(sections(&html).is_empty());
    assert!(html.contains("data-kpi=\"incidents\"><div class=\"kv\">0</div>"));
}

#[test]
fn an_incident_without_a_decision_has_no_drawings() {
    let g = demo_graph();
    let (html, _) = page(&report(vec![undecided_incident()]), &g, &Options::default());
    let s = sections(&html)[0];
    assert!(s.contains("data-no-decision=\"true\""));
    for hook in [
        "attack-graph",
        "segments-chart",
        "gantt",
        "data-plan-customer-hours",
    ] {
        assert!(!s.contains(hook), "{hook} drawn without a decision");
    }
    assert!(s.contains("Port scan from a customer-care workstation"));
    assert!(s.contains("data-tactic=\"discovery\" data-seen=\"true\""));
}

#[test]
fn same_report_same_bytes_and_report_builds_its_own_graph() {
    let g = demo_graph();
    let r = demo_report(&g);
    let a = report_with(&r, &g, &Options::default());
    let b = report_with(&r, &g, &Options::default());
    assert_eq!(a, b);
    assert_eq!(html::report(&r, &vigie_model::demo()), a);
}

/// A generated 20,000-asset operator: one incident's page stays small whatever the reach
/// (40 assets drawn of thousands); 30 incidents of 300 detections each keep to the
/// limits (25 detailed sections, 100 detections an incident).
#[test]
fn a_large_model_still_gives_a_small_page() {
    let model = vigie_model::generate_model(vigie_model::GenOptions {
        assets: 20_000,
        seed: 7,
        ..Default::default()
    });
    let g = vigie_response::from_model(&model).expect("generated model builds");
    let exposed = model
        .assets
        .iter()
        .filter(|a| a.exposed && a.kind == vigie_model::AssetKind::Host)
        .map(|a| a.id.as_str())
        .take(3)
        .collect::<Vec<_>>();
    let (assess, contain, restore) = decisions(&g, &exposed);
    assert!(
        assess.reachable_count > 1000,
        "reach {}",
        assess.reachable_count
    );
    let mut inc = july_incident(&demo_graph());
    inc.compromised = exposed.iter().map(|s| s.to_string()).collect();
    inc.evidence.clear();
    let det = inc.detections[0].clone();
    inc.detections = vec![det; 300];
    inc.assess = Some(assess);
    inc.contain = Some(contain);
    inc.restore = Some(restore);

    let (one, doc) = page(&report(vec![inc.clone()]), &g, &Options::default());
    let want = &expect(&doc, 1, 40)[0];
    assert!(one.len() < 300_000, "one incident: {} bytes", one.len());

    let many = report_with(&report(vec![inc; 30]), &g, &Options::default());
    assert_eq!(sections(&many).len(), 25);
    for s in sections(&many) {
        assert_eq!(occurrences(s, "data-node=\""), 40);
        assert_eq!(want.graph_nodes, 40);
        assert_eq!(occurrences(s, "<tr data-detection="), 100);
        assert_eq!(occurrences(s, "data-bar=\"plan\""), want.plan_bars);
        assert_eq!(occurrences(s, "data-bar=\"isolate\""), want.isolate_bars);
        assert_eq!(occurrences(s, "data-gantt-bar=\"asset\""), want.gantt_bars);
    }
    assert_eq!(occurrences(&many, "<tr data-incident-row="), 30);
    assert!(many.len() < 4_000_000, "30 incidents: {} bytes", many.len());
    eprintln!(
        "large model: one incident {} bytes, 30 incidents {} bytes",
        one.len(),
        many.len()
    );
}
