//! `vigie demo`: respond on the embedded July 2025 intrusion with the demo operator
//! (`docs/demo.md`). The story's conclusions are pinned here: the intrusion is one
//! incident whose compromised set is the four hosts the intruder ran code or stole
//! credentials on, the optimal plan costs less than isolating everything, and the care
//! workstation's discovery burst is a separate low incident sharing nothing with it.

use std::process::Command;

use vigie_wire::v1::respond::{Incident, RespondReport};

fn vigie(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(args)
        .current_dir(dir)
        .env_remove("VIGIE_RULES")
        .output()
        .expect("run vigie")
}

fn json_report(dir: &std::path::Path) -> RespondReport {
    let out = vigie(&["demo", "--format", "json"], dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("respond's JSON document")
}

fn shares(a: &Incident, b: &Incident) -> bool {
    a.assets.iter().any(|x| b.assets.contains(x))
        || a.accounts.iter().any(|x| b.accounts.contains(x))
        || a.ips.iter().any(|x| b.ips.contains(x))
}

#[test]
fn the_july_incident_its_decision_and_the_unrelated_low_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = json_report(dir.path());
    assert_eq!(r.summary.detections, 24, "{:?}", r.summary);
    assert_eq!(
        r.incidents.len(),
        2,
        "{:#?}",
        r.incidents
            .iter()
            .map(|i| (&i.id, &i.assets))
            .collect::<Vec<_>>()
    );
    let july = r
        .incidents
        .iter()
        .find(|i| i.severity == "critical")
        .expect("the intrusion is critical (ntds.dit copied)");
    assert_eq!(
        july.compromised,
        ["dc-1", "emp-app-1", "emp-web-1", "prov-1"]
    );
    assert_eq!(july.detections.len(), 21);
    let c = july.contain.as_ref().expect("a containment decision");
    let plan = c.plan.as_ref().expect("a complete plan");
    assert!(c.optimality.optimal, "the search proves its plan optimal");
    assert!(
        plan.customer_hours < c.isolate_everything.customer_hours,
        "optimal {} vs isolate everything {}",
        plan.customer_hours,
        c.isolate_everything.customer_hours
    );
    assert!(july.restore.is_some() && july.assess.is_some());
    let n = july.notification.as_ref().expect("a notification draft");
    assert!(n.cross_border.value, "the enterprise segment is FR+BE");
    assert!(n.gdpr.value, "customer data is reached");

    let low = r
        .incidents
        .iter()
        .find(|i| i.id != july.id)
        .expect("a second incident");
    assert_eq!(low.severity, "low");
    assert_eq!(low.assets, ["u-care-lead", "ws-care-07"]);
    assert!(
        low.compromised.is_empty(),
        "discovery only: {:?}",
        low.evidence
    );
    assert_eq!(low.detections.len(), 3);
    assert!(!shares(july, low), "the two incidents share an entity");
}

#[test]
fn demo_tells_the_story_and_writes_the_html_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = vigie(&["demo"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let r = json_report(dir.path());
    for i in &r.incidents {
        assert!(text.contains(&i.id), "{} missing from:\n{text}", i.id);
    }
    for a in ["emp-web-1", "emp-app-1", "prov-1", "dc-1", "ws-care-07"] {
        assert!(text.contains(a), "{a} missing from:\n{text}");
    }
    // The figures a person reads are the JSON's: the plan and isolate-everything in
    // customer-hours, the restore's end, the notification deadlines (shown to the minute).
    let c = r
        .incidents
        .iter()
        .find_map(|i| i.contain.as_ref())
        .expect("a decided incident");
    let human = vigie_response::report::human;
    let plan = c.plan.as_ref().expect("a plan");
    for figure in [
        format!("{} customer-hours", human(plan.customer_hours)),
        format!(
            "isolate everything: {} customer-hours",
            human(c.isolate_everything.customer_hours)
        ),
    ] {
        assert!(text.contains(&figure), "{figure:?} missing from:\n{text}");
    }
    let notification = r
        .incidents
        .iter()
        .find_map(|i| i.notification.as_ref())
        .expect("a notification draft");
    for stage in &notification.stages {
        let due = stage.deadline.as_deref().expect("deadlines from awareness");
        let shown = format!("by {} {} UTC", &due[..10], &due[11..16]);
        assert!(text.contains(&shown), "{shown:?} missing from:\n{text}");
    }
    let html = dir.path().join("vigie-demo.html");
    assert!(text.contains("vigie-demo.html"), "{text}");
    let page = std::fs::read_to_string(&html).expect("the HTML report is written");
    assert!(page.contains(&r.incidents[0].id));

    let other = dir.path().join("elsewhere.html");
    let out = vigie(
        &["demo", "--output", other.to_str().expect("utf-8 path")],
        dir.path(),
    );
    assert!(out.status.success());
    assert!(other.exists());
    assert!(String::from_utf8_lossy(&out.stdout).contains("elsewhere.html"));
}

/// `demo --format json` is respond's document for the same run, whatever the threads;
/// only `summary.timing` may differ.
#[test]
fn demo_json_is_respond_with_its_defaults_on_any_thread_count() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        let out = vigie(args, dir.path());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v["summary"]["timing"] = serde_json::Value::Null;
        v
    };
    let one = run(&["demo", "--format", "json", "--threads", "1"]);
    assert_eq!(one, run(&["demo", "--format", "json", "--threads", "2"]));
    assert_eq!(one, run(&["respond", "--format", "json"]));
    assert!(
        !dir.path().join("vigie-demo.html").exists(),
        "--format json writes no HTML unless --output is given"
    );
}
