//! The notification draft: deadlines, awareness, figures, thresholds, flags, the
//! thresholds file, and the helper that gathers the input from real decision reports.

use chrono::{DateTime, TimeZone, Utc};
use vigie_incident::notify::{
    awareness, deadlines, notify, AwareBasis, DecisionReports, DetectionFacts, FiguresSource,
    NotificationInput, Outage, PersonalDataReason, SegmentOutage, ServiceOutage, StageKind,
    Thresholds, ThresholdsError,
};
use vigie_model::{Asset, AssetKind, Model, Segment};
use vigie_sigma::Level;

fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap()
}

fn segment(id: &str, customers: u64, sla: f64, countries: &[&str]) -> Segment {
    Segment {
        id: id.into(),
        name: format!("{id} name"),
        customers,
        sla_weight: sla,
        countries: countries.iter().map(|c| c.to_string()).collect(),
        ..Default::default()
    }
}

/// 1000 customers: `a` 150 (FR), `b` 600 (BE, SLA 3), `c` 250 (DE).
fn model() -> Model {
    let mut m = Model::default();
    m.operator.name = "Opérateur".into();
    m.segments = vec![
        segment("a", 150, 1.0, &["FR"]),
        segment("b", 600, 3.0, &["be"]),
        segment("c", 250, 1.0, &["DE"]),
    ];
    let mut crm = Asset::new("crm-db", AssetKind::Database);
    crm.personal_data = true;
    let mut hr = Asset::new("hr-app", AssetKind::Application);
    hr.personal_data = true;
    hr.name = "HR portal".into();
    let mut mail = Asset::new("mail", AssetKind::Host);
    mail.personal_data = true;
    m.assets = vec![crm, hr, mail, Asset::new("web", AssetKind::Host)];
    m
}

fn det(ts: Option<DateTime<Utc>>, level: Level, techniques: &[&str]) -> DetectionFacts {
    DetectionFacts {
        timestamp: ts,
        level,
        rule_title: "rule".into(),
        techniques: techniques.iter().map(|s| s.to_string()).collect(),
    }
}

fn seg_out(id: &str, affected: u64, hours: f64, customer_hours: f64) -> SegmentOutage {
    SegmentOutage {
        id: id.into(),
        name: format!("{id} name"),
        customers_affected: affected,
        hours,
        customer_hours,
        customer_equivalents: affected as f64,
    }
}

fn input(m: &Model) -> NotificationInput<'_> {
    NotificationInput {
        model: m,
        incident_id: "inc-0123456789abcdef".into(),
        severity: Level::High,
        risk: 72.5,
        first_seen: Some(t(2026, 7, 14, 9, 0)),
        last_seen: Some(t(2026, 7, 15, 18, 0)),
        detections: vec![
            det(Some(t(2026, 7, 14, 9, 0)), Level::Medium, &[]),
            det(Some(t(2026, 7, 14, 9, 12)), Level::High, &["T1078"]),
        ],
        techniques: vec!["T1078".into()],
        tactics: vec!["initial-access".into()],
        assets: vec!["web".into()],
        accounts: vec!["corp\\svc".into()],
        ips: vec!["10.0.0.5".into()],
        compromised: vec!["web".into()],
        reachable: Vec::new(),
        reachable_truncated: false,
        outage: Outage {
            source: FiguresSource::Restore,
            services: vec![ServiceOutage {
                id: "svc".into(),
                name: "Service".into(),
                state: "down".into(),
                hours: 6.0,
            }],
            segments: vec![seg_out("a", 150, 1.0, 150.0)],
        },
        mitigation: vec!["isolate web".into()],
        restore_hours: Some(6.0),
        aware_at: None,
    }
}

fn crossed(n: &vigie_incident::notify::Notification) -> Vec<&str> {
    n.thresholds.crossed.iter().map(|c| c.id.as_str()).collect()
}

#[test]
fn deadlines_run_from_awareness() {
    let aware = t(2026, 7, 14, 9, 12);
    let [early, notif, fin] = deadlines(aware);
    assert_eq!(early, Some(t(2026, 7, 15, 9, 12)));
    assert_eq!(notif, Some(t(2026, 7, 17, 9, 12)));
    assert_eq!(fin, Some(t(2026, 8, 17, 9, 12)));
    let m = model();
    let n = notify(&input(&m), &Thresholds::default());
    let kinds: Vec<StageKind> = n.stages.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            StageKind::EarlyWarning,
            StageKind::IncidentNotification,
            StageKind::FinalReport
        ]
    );
    let got: Vec<_> = n.stages.iter().map(|s| s.deadline).collect();
    assert_eq!(got, [early, notif, fin]);
}

#[test]
fn final_report_at_month_end_is_clamped() {
    // Notification due 31 January: one calendar month later is the last day of February.
    let [_, notif, fin] = deadlines(t(2027, 1, 28, 10, 0));
    assert_eq!(notif, Some(t(2027, 1, 31, 10, 0)));
    assert_eq!(fin, Some(t(2027, 2, 28, 10, 0)));
    let [_, notif, fin] = deadlines(t(2028, 1, 28, 23, 30));
    assert_eq!(notif, Some(t(2028, 1, 31, 23, 30)));
    assert_eq!(fin, Some(t(2028, 2, 29, 23, 30)));
    // Across a year end.
    let [_, notif, fin] = deadlines(t(2026, 12, 29, 0, 0));
    assert_eq!(notif, Some(t(2027, 1, 1, 0, 0)));
    assert_eq!(fin, Some(t(2027, 2, 1, 0, 0)));
}

#[test]
fn awareness_default_rule() {
    let m = model();
    let mut i = input(&m);
    // A low detection first, then critical and high ones: the first high-or-critical wins.
    i.detections = vec![
        det(Some(t(2026, 7, 14, 8, 0)), Level::Low, &[]),
        det(Some(t(2026, 7, 14, 11, 0)), Level::High, &[]),
        det(Some(t(2026, 7, 14, 10, 0)), Level::Critical, &[]),
        det(None, Level::Critical, &[]),
    ];
    assert_eq!(
        awareness(&i),
        (Some(t(2026, 7, 14, 10, 0)), AwareBasis::FirstHighOrCritical)
    );
    // Given beats everything.
    i.aware_at = Some(t(2026, 7, 20, 0, 0));
    assert_eq!(
        awareness(&i),
        (Some(t(2026, 7, 20, 0, 0)), AwareBasis::Given)
    );
    i.aware_at = None;
    // No high or critical with a time: the first detection.
    i.detections = vec![
        det(Some(t(2026, 7, 14, 12, 0)), Level::Medium, &[]),
        det(Some(t(2026, 7, 14, 8, 0)), Level::Low, &[]),
        det(None, Level::High, &[]),
    ];
    assert_eq!(
        awareness(&i),
        (Some(t(2026, 7, 14, 8, 0)), AwareBasis::FirstDetection)
    );
    // No time at all: unknown, no deadline anywhere.
    i.detections = vec![det(None, Level::High, &[])];
    assert_eq!(awareness(&i), (None, AwareBasis::Unknown));
    let n = notify(&i, &Thresholds::default());
    assert_eq!(n.aware_basis, AwareBasis::Unknown);
    assert!(n.stages.iter().all(|s| s.deadline.is_none()));
}

fn table(rows: &str) -> Thresholds {
    Thresholds::parse(&format!("source: test\nthresholds:\n{rows}"), "t.yml").unwrap()
}

#[test]
fn thresholds_cross_at_their_boundaries() {
    let m = model(); // 1000 customers
    let t15 = table("  - {id: r, hours: 1, share: 0.15}\n");
    let mut i = input(&m);
    // 150 customers (15 %) for exactly 1 h: crossed.
    i.outage.segments = vec![seg_out("a", 150, 1.0, 150.0)];
    assert_eq!(crossed(&notify(&i, &t15)), ["r"]);
    // One customer short of the share.
    i.outage.segments = vec![seg_out("a", 149, 1.0, 149.0)];
    assert!(crossed(&notify(&i, &t15)).is_empty());
    // Share reached, duration just short.
    i.outage.segments = vec![seg_out("a", 150, 0.99, 148.5)];
    assert!(crossed(&notify(&i, &t15)).is_empty());
    // Users count only for the segments out at least that long: 150 for 1 h + 100 for
    // 0.5 h make 150, not 250, for the 2 h / 25 % row... and 250 for a 0.5 h row.
    let two =
        table("  - {id: long, hours: 1, share: 0.25}\n  - {id: short, hours: 0.5, share: 0.25}\n");
    i.outage.segments = vec![seg_out("a", 150, 1.0, 150.0), seg_out("c", 100, 0.5, 50.0)];
    assert_eq!(crossed(&notify(&i, &two)), ["short"]);
    // Absolute user-hours, exactly at and just under.
    let uh = table("  - {id: uh, user_hours: 1000}\n  - {id: users, users: 150, hours: 1}\n");
    i.outage.segments = vec![seg_out("a", 150, 1000.0 / 150.0, 1000.0)];
    assert_eq!(crossed(&notify(&i, &uh)), ["uh", "users"]);
    i.outage.segments = vec![seg_out("a", 150, 6.0, 999.0)];
    assert_eq!(crossed(&notify(&i, &uh)), ["users"]);
    // A configured user base replaces the operator's customers.
    let base = Thresholds::parse(
        "source: s\nuser_base: 10000\nthresholds:\n  - {id: r, hours: 1, share: 0.015}\n",
        "b.yml",
    )
    .unwrap();
    i.outage.segments = vec![seg_out("a", 150, 2.0, 300.0)];
    let n = notify(&i, &base);
    assert_eq!(crossed(&n), ["r"]);
    assert_eq!(n.thresholds.user_base, 10000);
    assert_eq!(n.thresholds.user_base_basis, "configured");
}

#[test]
fn default_table_names_its_source_and_crosses_by_name() {
    let d = Thresholds::default();
    assert_eq!(d.rows.len(), 6, "{d:?}");
    assert!(d.source.contains("ENISA") && d.source.contains("Version 2.1"));
    let m = model();
    let mut i = input(&m);
    // 150 of 1000 customers (15 %) for 8 h: every relative row is crossed; 1200
    // user-hours are far from the million.
    i.outage.segments = vec![seg_out("a", 150, 8.0, 1200.0)];
    let n = notify(&i, &d);
    assert_eq!(
        crossed(&n),
        [
            "enisa-13a-1h-15pct",
            "enisa-13a-2h-10pct",
            "enisa-13a-4h-5pct",
            "enisa-13a-6h-2pct",
            "enisa-13a-8h-1pct"
        ]
    );
    assert!(n.thresholds.crossed.iter().all(|c| !c.label.is_empty()));
}

#[test]
fn user_hours_drop_sla_weights_that_customer_hours_keep() {
    let m = model();
    let mut i = input(&m);
    // Segment b: 600 customers, SLA weight 3, 2 h: 3600 customer-hours, 1200 user-hours.
    i.outage.segments = vec![
        seg_out("b", 600, 2.0, 3600.0),
        seg_out("a", 150, 2.0, 300.0),
    ];
    let n = notify(&i, &Thresholds::default());
    let f = &n.figures;
    assert_eq!(f.customer_hours, 3900.0);
    assert_eq!(f.user_hours, 1500.0);
    assert!(!f.user_hours_estimated);
    let b = f.segments.iter().find(|s| s.id == "b").unwrap();
    assert_eq!(
        (b.user_hours, b.customer_hours, b.sla_weight),
        (1200.0, 3600.0, 3.0)
    );
    assert_eq!(f.users_affected, 750);
    assert_eq!(f.customers_total, 1000);
    assert_eq!(f.users_share, Some(0.75));
    assert_eq!(f.duration_hours, 2.0);
    // An SLA weight of 0 leaves nothing to divide: estimated from customer equivalents.
    let mut m0 = model();
    m0.segments[0].sla_weight = 0.0;
    let mut i0 = input(&m0);
    i0.outage.segments = vec![seg_out("a", 150, 2.0, 0.0)];
    let n0 = notify(&i0, &Thresholds::default());
    assert!(n0.figures.user_hours_estimated);
    assert_eq!(n0.figures.user_hours, 300.0);
}

#[test]
fn cross_border_when_affected_segments_span_countries() {
    let m = model();
    let mut i = input(&m);
    i.outage.segments = vec![seg_out("a", 150, 1.0, 150.0)];
    let n = notify(&i, &Thresholds::default());
    assert!(!n.cross_border.value);
    assert_eq!(n.cross_border.countries, ["FR"]);
    // Segment c (DE) is in the model but not affected: it does not count. b's `be` is
    // normalised to upper case.
    i.outage.segments = vec![
        seg_out("a", 150, 1.0, 150.0),
        seg_out("b", 600, 1.0, 1800.0),
    ];
    let n = notify(&i, &Thresholds::default());
    assert!(n.cross_border.value);
    assert_eq!(n.cross_border.countries, ["BE", "FR"]);
    // A segment the model gives no country for is listed, not guessed.
    let mut m2 = model();
    m2.segments.push(segment("x", 10, 1.0, &[]));
    let mut i2 = input(&m2);
    i2.outage.segments = vec![seg_out("x", 10, 1.0, 10.0)];
    let n = notify(&i2, &Thresholds::default());
    assert!(!n.cross_border.value);
    assert_eq!(n.cross_border.segments_without_country, ["x"]);
}

#[test]
fn gdpr_flag_from_compromised_named_and_reachable_personal_data() {
    let m = model();
    let mut i = input(&m);
    i.aware_at = Some(t(2026, 7, 14, 9, 12));
    // `web` (no personal data) compromised only: no flag.
    let n = notify(&i, &Thresholds::default());
    assert!(!n.gdpr.value);
    assert_eq!(n.gdpr.deadline, None);
    // crm-db compromised.
    i.compromised = vec!["web".into(), "crm-db".into()];
    let n = notify(&i, &Thresholds::default());
    assert!(n.gdpr.value);
    assert_eq!(n.gdpr.deadline, Some(t(2026, 7, 17, 9, 12)));
    assert_eq!(n.gdpr.assets.len(), 1);
    assert_eq!(n.gdpr.assets[0].reason, PersonalDataReason::Compromised);
    // Reached: hr-app reachable in 3.5 h, mail named by a detection; crm-db no longer
    // compromised.
    i.compromised = vec!["web".into()];
    i.reachable = vec![("hr-app".into(), 3.5), ("web2".into(), 1.0)];
    i.assets = vec!["web".into(), "mail".into()];
    let n = notify(&i, &Thresholds::default());
    assert!(n.gdpr.value);
    let got: Vec<(&str, &str, PersonalDataReason)> = n
        .gdpr
        .assets
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str(), a.reason))
        .collect();
    assert_eq!(
        got,
        [
            ("hr-app", "HR portal", PersonalDataReason::Reachable(3.5)),
            ("mail", "mail", PersonalDataReason::InDetections)
        ]
    );
}

#[test]
fn suspected_malicious_from_techniques_or_high_severity() {
    let m = model();
    let mut i = input(&m);
    let n = notify(&i, &Thresholds::default());
    assert!(n.suspected_malicious.value);
    assert_eq!(
        n.suspected_malicious.reasons.len(),
        2,
        "{:?}",
        n.suspected_malicious
    );
    i.techniques.clear();
    i.detections = vec![det(Some(t(2026, 7, 14, 9, 0)), Level::Medium, &[])];
    let n = notify(&i, &Thresholds::default());
    assert!(!n.suspected_malicious.value);
    assert!(n.suspected_malicious.reasons.is_empty());
    i.detections = vec![det(Some(t(2026, 7, 14, 9, 0)), Level::Critical, &[])];
    assert!(notify(&i, &Thresholds::default()).suspected_malicious.value);
}

#[test]
fn stages_fill_what_is_known_and_leave_the_rest() {
    let m = model();
    let n = notify(&input(&m), &Thresholds::default());
    let item = |stage: usize, key: &str| {
        n.stages[stage]
            .items
            .iter()
            .find(|i| i.key == key)
            .unwrap_or_else(|| panic!("{key} missing"))
            .clone()
    };
    assert!(item(0, "suspected_malicious")
        .value
        .unwrap()
        .starts_with("yes"));
    assert!(item(0, "cross_border").value.unwrap().contains("FR"));
    assert!(item(0, "contact").value.is_none());
    assert!(item(1, "indicators_of_compromise")
        .value
        .unwrap()
        .contains("10.0.0.5"));
    assert!(item(1, "impact")
        .value
        .unwrap()
        .contains("users affected: 150"));
    assert!(item(1, "thresholds")
        .value
        .unwrap()
        .contains("enisa-13a-1h-15pct"));
    assert!(item(2, "root_cause").value.is_none());
    assert!(item(2, "root_cause").hint.unwrap().contains("T1078"));
    assert!(item(2, "mitigation").hint.unwrap().contains("isolate web"));
    // Without a decision the impact is to complete, not zero.
    let mut i = input(&m);
    i.outage = Outage::default();
    let n = notify(&i, &Thresholds::default());
    let impact = n.stages[1]
        .items
        .iter()
        .find(|i| i.key == "impact")
        .unwrap();
    assert!(impact.value.is_none());
}

fn problems(e: ThresholdsError) -> Vec<String> {
    match e {
        ThresholdsError::Invalid { problems } => problems.iter().map(|p| p.to_string()).collect(),
        other => panic!("expected positioned problems, got {other}"),
    }
}

#[test]
fn bad_thresholds_are_reported_with_positions() {
    let text = "\
source: test
colour: blue
thresholds:
  - id: a
    hours: 1
    share: 15
  - id: a
    users: 10
  - id: b
  - id: c
    hours: -2
    speed: 3
  - id: d
    hours: one
";
    let got = problems(Thresholds::parse(text, "bad.yml").unwrap_err());
    let want = [
        "bad.yml:2:1: unknown field `colour`",
        "bad.yml:6:12: `share` is 15",
        "bad.yml:7:9: threshold `a` is listed twice",
        "bad.yml:9:7: threshold `b` sets none of",
        "bad.yml:12:5: unknown field `speed`",
        "bad.yml:14:12: found the text \"one\", expected a number",
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (g, w) in got.iter().zip(want) {
        assert!(g.starts_with(w), "{g:?} does not start with {w:?}");
    }
    // Missing source, syntax error, wrong shape.
    let got = problems(Thresholds::parse("thresholds: []\n", "s.yml").unwrap_err());
    assert!(
        got[0].starts_with("s.yml:1:1: missing field `source`"),
        "{got:?}"
    );
    let got = problems(Thresholds::parse("source: x\nthresholds: [\n", "y.yml").unwrap_err());
    assert!(got[0].starts_with("y.yml:"), "{got:?}");
    let got = problems(Thresholds::parse("- 1\n", "l.yml").unwrap_err());
    assert!(got[0].starts_with("l.yml:1:1: found a sequence"), "{got:?}");
}

#[test]
fn thresholds_load_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("th.yml");
    std::fs::write(
        &path,
        "source: national table\nthresholds:\n  - {id: x, hours: 2}\n",
    )
    .unwrap();
    let th = Thresholds::load(&path).unwrap();
    assert_eq!(th.source, "national table");
    assert_eq!(th.rows[0].label, "x");
    std::fs::write(&path, "source: n\nthresholds:\n  - {id: x, share: 0}\n").unwrap();
    let err = Thresholds::load(&path).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}:3:", path.display())), "{err}");
    let missing = dir.path().join("none.yml");
    let err = Thresholds::load(&missing).unwrap_err();
    assert!(matches!(err, ThresholdsError::Io { .. }));
    assert!(err.to_string().contains("none.yml"));
}

/// The helper on real reports: the demo operator, its first exposed asset compromised,
/// contain's plan and restore's timeline.
#[test]
fn from_reports_takes_the_restore_timeline() {
    use vigie_response::contain::{contain, Action, ContainRequest};
    use vigie_response::graph::Target;
    let m = vigie_model::demo();
    let g = vigie_response::from_model(&m).unwrap();
    let web = m.assets.iter().find(|a| a.exposed).unwrap().id.clone();
    let n0 = g.node(&web).unwrap();
    let a = vigie_response::assess::assess(&g, &[n0], 0).unwrap();
    let c = contain(
        &g,
        &ContainRequest {
            compromised: vec![n0],
            ..Default::default()
        },
    )
    .unwrap();
    let plan = c.plan.as_ref().unwrap();
    let mut down: Vec<Target> = plan
        .raw
        .iter()
        .map(|a| match *a {
            Action::Isolate(n) | Action::Disable(n) => Target::Node(n),
            Action::Block(f) => Target::Flow(f),
            Action::Offline(s) => Target::Service(s),
        })
        .collect();
    down.push(Target::Node(n0));
    let r = vigie_response::restore::restore(&g, &down, None).unwrap();
    let incident = vigie_incident::Incident {
        id: "inc-00000000000000aa".into(),
        first_seen: Some(t(2025, 7, 1, 8, 0)),
        last_seen: Some(t(2025, 7, 2, 8, 0)),
        severity: Level::High,
        risk: 50.0,
        risk_factors: Default::default(),
        assets: vec![web.clone()],
        accounts: Vec::new(),
        ips: Vec::new(),
        techniques: Vec::new(),
        tactics: Vec::new(),
        detections: Vec::new(),
        compromised: vec![vigie_incident::Compromise {
            asset: web.clone(),
            evidence: Vec::new(),
        }],
        unresolved: Vec::new(),
    };
    let reports = DecisionReports {
        assess: Some(&a),
        contain: Some(&c),
        restore: Some(&r),
    };
    let aware = Some(t(2025, 7, 1, 9, 0));
    let i = NotificationInput::from_reports(&incident, &[], &m, reports, aware);
    assert_eq!(i.outage.source, FiguresSource::Restore);
    assert_eq!(i.outage.segments.len(), r.segments.len());
    assert_eq!(i.mitigation.len(), plan.actions.len());
    assert_eq!(i.restore_hours, Some(r.total_hours));
    assert_eq!(i.reachable.len(), a.reachable.len());
    let n = notify(&i, &Thresholds::default());
    let restored: f64 = r.segments.iter().map(|s| s.customer_hours).sum();
    assert!((n.figures.customer_hours - restored).abs() < 1e-6 * restored.max(1.0));
    assert!(n.figures.user_hours > 0.0 || r.segments.is_empty());
    assert_eq!(n.aware_basis, AwareBasis::Given);
    // Without restore, the plan's impact.
    let only_plan = DecisionReports {
        contain: Some(&c),
        ..Default::default()
    };
    let i = NotificationInput::from_reports(&incident, &[], &m, only_plan, None);
    assert_eq!(i.outage.source, FiguresSource::ContainmentPlan);
    assert_eq!(i.outage.services.len(), plan.services.len());
    // The same input gives the same notification.
    assert_eq!(
        notify(&i, &Thresholds::default()),
        notify(&i, &Thresholds::default())
    );
}
