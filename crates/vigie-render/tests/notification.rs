//! The notification draft as Markdown and text, from the wire type, with the JSON the
//! wire type round-trips.

use chrono::{TimeZone, Utc};
use vigie_incident::notify::{
    notify, DetectionFacts, FiguresSource, NotificationInput, Outage, SegmentOutage, ServiceOutage,
    Thresholds,
};
use vigie_model::{Asset, AssetKind, Model, Segment};
use vigie_render::respond::notification::{human_time, markdown, text};
use vigie_sigma::Level;
use vigie_wire::v1::notification::Notification;

fn model() -> Model {
    let mut m = Model::default();
    m.operator.name = "Télécom_Ouest".into();
    m.segments = vec![
        Segment {
            id: "res_fr".into(),
            name: "Residential | FR".into(),
            customers: 800,
            sla_weight: 2.0,
            countries: vec!["FR".into()],
            ..Default::default()
        },
        Segment {
            id: "biz_be".into(),
            name: "Business BE".into(),
            customers: 200,
            sla_weight: 1.0,
            countries: vec!["BE".into()],
            ..Default::default()
        },
    ];
    let mut crm = Asset::new("crm-db", AssetKind::Database);
    crm.personal_data = true;
    m.assets = vec![crm];
    m
}

fn wire(m: &Model, aware: bool) -> Notification {
    let i = NotificationInput {
        model: m,
        incident_id: "inc-00000000000000ab".into(),
        severity: Level::Critical,
        risk: 81.0,
        first_seen: Some(Utc.with_ymd_and_hms(2027, 1, 28, 9, 0, 0).unwrap()),
        last_seen: Some(Utc.with_ymd_and_hms(2027, 1, 28, 18, 0, 0).unwrap()),
        detections: vec![DetectionFacts {
            timestamp: Some(Utc.with_ymd_and_hms(2027, 1, 28, 9, 30, 0).unwrap()),
            level: Level::Critical,
            rule_title: "Mimikatz".into(),
            techniques: vec!["T1003.001".into()],
        }],
        techniques: vec!["T1003.001".into()],
        tactics: vec!["credential-access".into()],
        assets: vec!["crm-db".into()],
        accounts: vec!["corp\\admin".into()],
        ips: vec!["192.0.2.7".into()],
        compromised: vec!["crm-db".into()],
        reachable: Vec::new(),
        reachable_truncated: false,
        outage: Outage {
            source: FiguresSource::Restore,
            services: vec![ServiceOutage {
                id: "crm".into(),
                name: "CRM".into(),
                state: "down".into(),
                hours: 12.0,
            }],
            segments: vec![
                SegmentOutage {
                    id: "res_fr".into(),
                    name: "Residential | FR".into(),
                    customers_affected: 800,
                    hours: 12.0,
                    customer_hours: 19200.0,
                    customer_equivalents: 800.0,
                },
                SegmentOutage {
                    id: "biz_be".into(),
                    name: "Business BE".into(),
                    customers_affected: 200,
                    hours: 3.0,
                    customer_hours: 600.0,
                    customer_equivalents: 200.0,
                },
            ],
        },
        mitigation: vec!["isolate crm-db".into()],
        restore_hours: Some(12.0),
        aware_at: None,
    };
    let mut i = i;
    if !aware {
        i.detections[0].timestamp = None;
    }
    Notification::from(&notify(&i, &Thresholds::default()))
}

#[test]
fn markdown_draft_has_stages_deadlines_figures_and_flags() {
    let m = model();
    let n = wire(&m, true);
    let md = markdown(&n);
    // Awareness from the critical detection; notification on 31 January, final report
    // on 28 February.
    for want in [
        "# Incident notification draft: inc-00000000000000ab",
        "2027-01-28T09:30:00Z (Thu 28 Jan 2027, 09:30 UTC) (time of the first high or critical detection)",
        "| Early warning | NIS2 Art. 23(4)(a) |",
        "2027-01-29T09:30:00Z (Fri 29 Jan 2027, 09:30 UTC)",
        "2027-01-31T09:30:00Z (Sun 31 Jan 2027, 09:30 UTC)",
        "2027-02-28T09:30:00Z (Sun 28 Feb 2027, 09:30 UTC)",
        "| Personal data breach, to the supervisory authority | GDPR Art. 33(1) |",
        "- **Suspected unlawful or malicious act:** yes",
        "- **Cross-border impact:** yes (countries of the affected segments: BE, FR)",
        "  - crm-db (crm-db): compromised",
        "- **Users affected:** 1000 (100 % of 1000 customers)",
        "- **Duration:** 12 h",
        // 19200 / 2 + 600 / 1: SLA weights out.
        "- **User-hours lost:** 10200",
        "- **Customer-hours (SLA-weighted):** 19800",
        "| res\\_fr | Residential \\| FR | 800 | 12 | 9600 | 19200 | FR |",
        "- **enisa-13a-8h-1pct**:",
        "- [ ] **Operator's point of contact (name, phone, e-mail):** *to complete*",
        "- [x] **Indicators of compromise:**",
        "- **Operator:** Télécom\\_Ouest",
        "## 3. Final report (NIS2 Art. 23(4)(d)), due 2027-02-28T09:30:00Z",
    ] {
        assert!(md.contains(want), "missing {want:?} in\n{md}");
    }
    // Same input, same bytes.
    assert_eq!(md, markdown(&wire(&m, true)));
}

#[test]
fn text_block_is_compact_and_says_what_is_left() {
    let m = model();
    let n = wire(&m, true);
    let t = text(&n);
    assert!(
        t.starts_with("Notification (NIS2 Art. 23): aware 2027-01-28T09:30:00Z"),
        "{t}"
    );
    assert!(
        t.contains("  Final report           by 2027-02-28T09:30:00Z\n"),
        "{t}"
    );
    assert!(
        t.contains("  GDPR Art. 33           by 2027-01-31T09:30:00Z (crm-db compromised)"),
        "{t}"
    );
    assert!(
        t.contains("impact: 1 service(s), 1000 users (100 % of 1000), 12 h, 10200 user-hours"),
        "{t}"
    );
    assert!(t.contains("cross-border: yes (BE, FR)"), "{t}");
    let open = n
        .stages
        .iter()
        .flat_map(|s| &s.items)
        .filter(|i| i.to_complete)
        .count();
    assert!(open > 0);
    assert!(t.contains(&format!("to complete: {open} item(s)")), "{t}");
    assert!(t.lines().count() <= 10, "{t}");
}

#[test]
fn unknown_awareness_is_said_not_invented() {
    let m = model();
    let n = wire(&m, false);
    assert_eq!(n.aware_at, None);
    assert_eq!(n.aware_at_basis, "unknown");
    let md = markdown(&n);
    assert!(
        md.contains("unknown: no detection has a time (give it with --aware-at)"),
        "{md}"
    );
    assert!(!md.contains("2027-01-29"), "{md}");
    assert!(text(&n).contains("Early warning          by unknown"));
}

#[test]
fn wire_json_round_trips() {
    let m = model();
    let n = wire(&m, true);
    let json = serde_json::to_string(&n).unwrap();
    let back: Notification = serde_json::from_str(&json).unwrap();
    assert_eq!(back, n);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["stages"][2]["deadline"], "2027-02-28T09:30:00Z");
    assert_eq!(v["figures"]["user_hours"], 10200.0);
    assert_eq!(v["gdpr"]["assets"][0]["reason"], "compromised");
    assert_eq!(v["figures"]["source"], "restore");
    assert_eq!(human_time("not a time"), "not a time");
}

/// Writes the demo draft to `$VIGIE_NOTIFICATION_DUMP` when set (to read it by eye).
#[test]
fn dump_when_asked() {
    if let Some(p) = std::env::var_os("VIGIE_NOTIFICATION_DUMP") {
        let m = model();
        let n = wire(&m, true);
        std::fs::write(p, format!("{}\n---\n{}", markdown(&n), text(&n))).unwrap();
    }
}
