//! A realistic `RespondReport` for the HTML report's tests, built until `vigie respond`
//! fills one: the demo operator, the July story's compromised set (the EMP web front and
//! its service account), and the decisions of the real engines (assess, contain, restore
//! on the plan's actions plus the compromised assets), converted with the wire's own
//! `From` impls. Only the detections and the kill-chain timeline are written by hand,
//! shaped like what `hunt --format jsonl` prints; the notification drafts come from the
//! notification engine (the July one from the incident's reach and restore timeline).

use serde_json::{json, Value};
use vigie_incident::notify::{
    notify, DetectionFacts, FiguresSource, NotificationInput, Outage, SegmentOutage, ServiceOutage,
    Thresholds,
};
use vigie_response::contain::{contain, Action, ContainRequest};
use vigie_response::graph::{Graph, Target};
use vigie_wire::v1::notification::Notification;
use vigie_wire::v1::respond::{
    Compromise, EvidenceItem, Incident, RespondReport, RespondSummary, RiskFactors, TimelineStep,
    Unresolved,
};
use vigie_wire::v1::response::{AssessReport, ContainReport, RestoreReport};
use vigie_wire::v1::{Detection, Fields};

/// The July incident's compromised set on the demo operator.
pub const COMPROMISED: [&str; 2] = ["emp-web-1", "svc-emp"];

pub fn demo_graph() -> Graph {
    vigie_response::from_model(&vigie_model::demo()).expect("the demo model builds a graph")
}

/// The three decisions for `compromised`, as `vigie respond` embeds them (no
/// `elapsed_ms`: the report is independent of the machine's speed).
pub fn decisions(g: &Graph, compromised: &[&str]) -> (AssessReport, ContainReport, RestoreReport) {
    let ids: Vec<String> = compromised.iter().map(|s| s.to_string()).collect();
    let src = g.resolve_nodes("asset", &ids).expect("known asset ids");
    let a = vigie_response::assess::assess(g, &src, 0).expect("assess");
    let req = ContainRequest {
        compromised: src.clone(),
        ..Default::default()
    };
    let c = contain(g, &req).expect("contain");
    let mut down: Vec<Target> = src.iter().map(|&n| Target::Node(n)).collect();
    for act in c
        .plan
        .as_ref()
        .map(|p| p.raw.as_slice())
        .unwrap_or_default()
    {
        let t = match *act {
            Action::Isolate(n) | Action::Disable(n) => Target::Node(n),
            Action::Block(f) => Target::Flow(f),
            Action::Offline(s) => Target::Service(s),
        };
        if !down.contains(&t) {
            down.push(t);
        }
    }
    let r = vigie_response::restore::restore(g, &down, None).expect("restore");
    let mut a = AssessReport::from(&a);
    a.elapsed_ms = None;
    let mut c = ContainReport::from(&c);
    c.elapsed_ms = None;
    let mut r = RestoreReport::from(&r);
    r.order_search.elapsed_ms = None;
    (a, c, r)
}

fn detection(
    rule_id: &str,
    title: &str,
    level: &str,
    tags: &[&str],
    ts: &str,
    record: u64,
    fields: &[(&str, &str)],
) -> Detection {
    Detection {
        rule_id: rule_id.to_string(),
        rule_title: title.to_string(),
        level: level.to_string(),
        tags: tags.iter().map(|s| s.to_string()).collect(),
        timestamp: Some(ts.to_string()),
        source: Some("samples/july-2025.jsonl".to_string()),
        record: Some(record),
        fields: Fields::from_pairs(fields.iter().map(|(k, v)| (*k, Value::from(*v)))),
        keywords: Vec::new(),
        correlation: false,
        hit: None,
    }
}

fn detections() -> Vec<Detection> {
    vec![
        detection(
            "a1b2c3d4-0001-4000-8000-000000000001",
            "Suspicious child process of a Java web server",
            "high",
            &["attack.initial_access", "attack.t1190"],
            "2025-07-24T21:12:09Z",
            118,
            &[
                ("Computer", "emp-web-1.pro.armorique.fr"),
                ("ParentImage", "C:\\Program Files\\EMP\\jre\\bin\\java.exe"),
                ("Image", "C:\\Windows\\System32\\cmd.exe"),
            ],
        ),
        detection(
            "a1b2c3d4-0001-4000-8000-000000000002",
            "Encoded PowerShell command line",
            "high",
            &["attack.execution", "attack.t1059.001"],
            "2025-07-24T21:14:40Z",
            131,
            &[
                ("Computer", "emp-web-1.pro.armorique.fr"),
                ("CommandLine", "powershell -nop -w hidden -enc SQBFAFgA..."),
            ],
        ),
        detection(
            "a1b2c3d4-0001-4000-8000-000000000003",
            "Credentials read from an application configuration file",
            "critical",
            &["attack.credential_access", "attack.t1552.001"],
            "2025-07-24T22:03:51Z",
            162,
            &[
                ("Computer", "emp-web-1.pro.armorique.fr"),
                ("TargetFilename", "D:\\emp\\conf\\datasource.properties"),
            ],
        ),
        detection(
            "a1b2c3d4-0001-4000-8000-000000000004",
            "Service account logon from an unusual host",
            "high",
            &["attack.defense_evasion", "attack.t1078.002"],
            "2025-07-25T02:40:17Z",
            2201,
            &[
                ("Computer", "emp-app-1.it.armorique.local"),
                ("TargetUserName", "svc-emp"),
                ("TargetDomainName", "ARMORIQUE"),
                ("IpAddress", "10.20.4.11"),
                ("LogonType", "3"),
            ],
        ),
    ]
}

fn timeline() -> Vec<TimelineStep> {
    let step = |t: &str, name: &str, tactics: &[&str], ts: &str| TimelineStep {
        technique: t.to_string(),
        name: Some(name.to_string()),
        tactics: tactics.iter().map(|s| s.to_string()).collect(),
        first_seen: Some(ts.to_string()),
        detections: 1,
    };
    vec![
        step(
            "T1190",
            "Exploit Public-Facing Application",
            &["initial-access"],
            "2025-07-24T21:12:09Z",
        ),
        step(
            "T1059.001",
            "PowerShell",
            &["execution"],
            "2025-07-24T21:14:40Z",
        ),
        step(
            "T1552.001",
            "Credentials In Files",
            &["credential-access"],
            "2025-07-24T22:03:51Z",
        ),
        step(
            "T1078.002",
            "Domain Accounts",
            &[
                "defense-evasion",
                "persistence",
                "privilege-escalation",
                "initial-access",
            ],
            "2025-07-25T02:40:17Z",
        ),
    ]
}

fn evidence(asset: &str, items: &[(usize, &str)], dets: &[Detection]) -> Compromise {
    Compromise {
        asset: asset.to_string(),
        evidence: items
            .iter()
            .map(|&(i, reason)| EvidenceItem {
                rule_id: dets[i].rule_id.clone(),
                detection: i,
                reason: reason.to_string(),
            })
            .collect(),
    }
}

/// A notification draft drawn up by the notification engine on the demo, from the
/// incident's assess and restore reports as `respond` does (reach for GDPR, the restore
/// timeline for the figures), so the page shows every part of it.
fn notification(a: &AssessReport, r: &RestoreReport) -> Notification {
    let model = vigie_model::demo();
    let t = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .expect("fixture time")
            .with_timezone(&chrono::Utc)
    };
    let input = NotificationInput {
        model: &model,
        incident_id: "inc-3f9a0c2b7d41e865".to_string(),
        severity: vigie_sigma::Level::Critical,
        risk: 87.5,
        first_seen: Some(t("2025-07-24T21:12:09Z")),
        last_seen: Some(t("2025-07-25T02:40:17Z")),
        detections: vec![DetectionFacts {
            timestamp: Some(t("2025-07-24T21:12:09Z")),
            level: vigie_sigma::Level::High,
            rule_title: "Suspicious child process of a Java web server".to_string(),
            techniques: vec!["T1190".to_string()],
        }],
        techniques: vec!["T1190".to_string()],
        tactics: vec!["initial-access".to_string()],
        assets: COMPROMISED.iter().map(|s| s.to_string()).collect(),
        accounts: Vec::new(),
        ips: Vec::new(),
        compromised: COMPROMISED.iter().map(|s| s.to_string()).collect(),
        reachable: a
            .reachable
            .iter()
            .map(|x| (x.id.clone(), x.hours))
            .collect(),
        reachable_truncated: a.reachable_truncated,
        outage: outage(r),
        mitigation: vec!["disable svc-emp (EMP service account)".to_string()],
        restore_hours: Some(r.total_hours),
        aware_at: None,
    };
    Notification::from(&notify(&input, &Thresholds::default()))
}

/// The draft of the undecided incident: no decision, so no figures (its impact items are
/// to complete) and no reach (no GDPR flag).
fn undecided_notification(id: &str, at: &str) -> Notification {
    let model = vigie_model::demo();
    let at = chrono::DateTime::parse_from_rfc3339(at)
        .expect("fixture time")
        .with_timezone(&chrono::Utc);
    let input = NotificationInput {
        model: &model,
        incident_id: id.to_string(),
        severity: vigie_sigma::Level::Low,
        risk: 12.0,
        first_seen: Some(at),
        last_seen: Some(at),
        detections: vec![DetectionFacts {
            timestamp: Some(at),
            level: vigie_sigma::Level::Low,
            rule_title: "Port scan from a customer-care workstation".to_string(),
            techniques: vec!["T1046".to_string()],
        }],
        techniques: vec!["T1046".to_string()],
        tactics: vec!["discovery".to_string()],
        assets: vec!["ws-care-04".to_string()],
        accounts: Vec::new(),
        ips: Vec::new(),
        compromised: Vec::new(),
        reachable: Vec::new(),
        reachable_truncated: false,
        outage: Outage::default(),
        mitigation: Vec::new(),
        restore_hours: None,
        aware_at: None,
    };
    Notification::from(&notify(&input, &Thresholds::default()))
}

/// The restore timeline's outage, as the notification engine takes it.
fn outage(r: &RestoreReport) -> Outage {
    Outage {
        source: FiguresSource::Restore,
        services: r
            .services
            .iter()
            .map(|s| ServiceOutage {
                id: s.id.clone(),
                name: s.name.clone(),
                state: s.state.clone(),
                hours: s.up_hours,
            })
            .collect(),
        segments: r
            .segments
            .iter()
            .map(|s| SegmentOutage {
                id: s.id.clone(),
                name: s.name.clone(),
                customers_affected: s.customers_affected,
                hours: s.back_after_hours,
                customer_hours: s.customer_hours,
                customer_equivalents: s.customer_equivalents,
            })
            .collect(),
    }
}

/// The July incident with its decisions.
pub fn july_incident(g: &Graph) -> Incident {
    let (a, c, r) = decisions(g, &COMPROMISED);
    let dets = detections();
    Incident {
        id: "inc-3f9a0c2b7d41e865".to_string(),
        first_seen: Some("2025-07-24T21:12:09Z".to_string()),
        last_seen: Some("2025-07-25T02:40:17Z".to_string()),
        severity: "critical".to_string(),
        risk: 87.5,
        risk_factors: RiskFactors {
            severity: 40.0,
            tactics: 25.0,
            crown_jewel_proximity: 22.5,
        },
        assets: vec!["emp-web-1".into(), "emp-app-1".into(), "svc-emp".into()],
        compromised: COMPROMISED.iter().map(|s| s.to_string()).collect(),
        evidence: vec![
            evidence(
                "emp-web-1",
                &[
                    (1, "execution on the host"),
                    (2, "credential access on the host"),
                ],
                &dets,
            ),
            evidence("svc-emp", &[(2, "credentials read on emp-web-1")], &dets),
        ],
        accounts: vec!["ARMORIQUE\\svc-emp".into()],
        ips: vec!["10.20.4.11".into()],
        techniques: timeline().iter().map(|s| s.technique.clone()).collect(),
        tactics: [
            "initial-access",
            "execution",
            "credential-access",
            "defense-evasion",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        timeline: timeline(),
        detections: dets,
        notification: Some(notification(&a, &r)),
        assess: Some(a),
        contain: Some(c),
        restore: Some(r),
        unresolved: vec![Unresolved {
            kind: "ip".into(),
            value: "185.220.101.47".into(),
            count: 3,
        }],
        decision_skipped: Vec::new(),
        indicators: Vec::new(),
    }
}

/// A low-severity incident with no compromised asset: no decision.
pub fn undecided_incident() -> Incident {
    let det = detection(
        "a1b2c3d4-0001-4000-8000-000000000009",
        "Port scan from a customer-care workstation",
        "low",
        &["attack.discovery", "attack.t1046"],
        "2025-07-25T09:30:00Z",
        4410,
        &[("Computer", "ws-care-04.corp.armorique.local")],
    );
    Incident {
        id: "inc-0c51d2e9a4b37f10".to_string(),
        first_seen: det.timestamp.clone(),
        last_seen: det.timestamp.clone(),
        severity: "low".to_string(),
        risk: 12.0,
        risk_factors: RiskFactors {
            severity: 10.0,
            tactics: 2.0,
            crown_jewel_proximity: 0.0,
        },
        assets: vec!["ws-care-04".into()],
        compromised: Vec::new(),
        evidence: Vec::new(),
        accounts: Vec::new(),
        ips: Vec::new(),
        techniques: vec!["T1046".into()],
        tactics: vec!["discovery".into()],
        timeline: vec![TimelineStep {
            technique: "T1046".into(),
            name: Some("Network Service Discovery".into()),
            tactics: vec!["discovery".into()],
            first_seen: det.timestamp.clone(),
            detections: 1,
        }],
        detections: vec![det],
        assess: None,
        contain: None,
        restore: None,
        notification: Some(undecided_notification(
            "inc-0c51d2e9a4b37f10",
            "2025-07-25T09:30:00Z",
        )),
        unresolved: Vec::new(),
        decision_skipped: Vec::new(),
        indicators: Vec::new(),
    }
}

/// The whole document around `incidents`.
pub fn report(incidents: Vec<Incident>) -> RespondReport {
    let detections = incidents.iter().map(|i| i.detections.len() as u64).sum();
    let compromised = incidents.iter().map(|i| i.compromised.len()).sum();
    let unresolved = vec![
        Unresolved {
            kind: "ip".into(),
            value: "185.220.101.47".into(),
            count: 3,
        },
        Unresolved {
            kind: "host".into(),
            value: "laptop-7f3k".into(),
            count: 1,
        },
    ];
    RespondReport {
        schema: "vigie/v1".into(),
        model: vigie_model::digest(&vigie_model::demo()),
        rules: "sha256:5d1c0a3e9f7b2c4d6e8f0a1b3c5d7e9f".into(),
        summary: RespondSummary {
            events: 48_211,
            detections,
            incidents: incidents.len(),
            compromised_assets: compromised,
            unresolved_entities: unresolved.len(),
            timing: json!({"total_ms": 412.0}),
            ..Default::default()
        },
        incidents,
        unresolved,
    }
}

/// The demo's two incidents: the July intrusion and an unrelated low one.
pub fn demo_report(g: &Graph) -> RespondReport {
    report(vec![july_incident(g), undecided_incident()])
}

/// Text planted in every untrusted field: if any of it ran, `window.__vigie_pwned` would
/// be set; if any of it were markup, the page would hold a `<script>` or an `<img>`.
pub const SCRIPT: &str = "<script>window.__vigie_pwned=1</script>";
pub const IMG: &str = "\"><img src=x onerror=\"window.__vigie_pwned=1\">";

/// The July incident and the undecided one with hostile text in the fields a log or a
/// rule author controls (titles, field values, reasons, entity values, the draft).
pub fn hostile_report(g: &Graph) -> RespondReport {
    let mut july = july_incident(g);
    july.detections[0].rule_title = format!("Web shell {SCRIPT}");
    july.detections[1].fields = Fields::from_pairs([
        ("Computer", Value::from(IMG)),
        ("CommandLine", Value::from(format!("cmd /c {SCRIPT}"))),
    ]);
    july.evidence[0].evidence[0].reason = format!("execution {IMG}");
    july.timeline[0].name = Some(SCRIPT.to_string());
    july.accounts.push(format!("EVIL\\{SCRIPT}"));
    let mut n = july
        .notification
        .clone()
        .expect("the July incident has a draft");
    n.stages[0].stage = SCRIPT.to_string();
    n.stages[0].deadline = Some(IMG.to_string());
    n.stages[0].items[0].value = Some(SCRIPT.to_string());
    n.stages[1].items[0].hint = Some(IMG.to_string());
    n.stages[1].items[0].label = SCRIPT.to_string();
    n.operator = IMG.to_string();
    n.aware_at_basis = SCRIPT.to_string();
    n.thresholds.source = SCRIPT.to_string();
    n.cross_border.countries.push(IMG.to_string());
    n.suspected_malicious.reasons.push(SCRIPT.to_string());
    n.figures.services[0].name = IMG.to_string();
    n.gdpr.value = true;
    n.gdpr.deadline = Some(SCRIPT.to_string());
    n.gdpr
        .assets
        .push(vigie_wire::v1::notification::PersonalDataAsset {
            id: SCRIPT.to_string(),
            name: IMG.to_string(),
            reason: SCRIPT.to_string(),
            hours: None,
        });
    july.notification = Some(n);
    let mut other = undecided_incident();
    other.id = format!("inc-{IMG}");
    other.detections[0].rule_title = SCRIPT.to_string();
    other.detections[0].level = IMG.to_string();
    // An asset the model does not know, compromised: drawn without edges, still escaped.
    other.compromised = vec![format!("<svg onload=\"window.__vigie_pwned=1\">")];
    other.unresolved = vec![Unresolved {
        kind: SCRIPT.into(),
        value: IMG.into(),
        count: 1,
    }];
    let mut r = report(vec![july, other]);
    r.model = SCRIPT.to_string();
    r
}
