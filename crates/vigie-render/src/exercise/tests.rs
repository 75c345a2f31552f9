use vigie_wire::v1::exercise::*;

fn jewel(id: &str, name: &str, p: f64, before: f64, ttc: Option<Percentiles>) -> CrownJewel {
    CrownJewel {
        id: id.into(),
        name: name.into(),
        reached: (p * 1000.0) as u64,
        p_reached: p,
        p_reached_ci95: [p - 0.01, p + 0.01],
        reached_before_detection: (before * 1000.0) as u64,
        p_reached_before_detection: before,
        p_reached_before_detection_ci95: [before - 0.01, before + 0.01],
        ttc_hours: ttc,
    }
}

fn report() -> ExerciseReport {
    let t = Percentiles {
        mean: 35.25,
        p5: 4.0,
        p50: 28.5,
        p95: 90.0,
    };
    ExerciseReport {
        schema: "vigie/v1".into(),
        model: "sha256:m".into(),
        rules: "sha256:r".into(),
        seed: 7,
        samples: 1000,
        horizon_hours: 720.0,
        entry: vec![],
        containment: true,
        crown_jewels: vec![
            jewel("db-1", "Billing database", 0.2, 0.05, Some(t)),
            jewel("emp-core", "Enterprise management core", 0.6, 0.3, Some(t)),
            jewel("vault", "", 0.0, 0.0, None),
        ],
        detected: 900,
        p_detected: 0.9,
        p_detected_ci95: [0.88, 0.92],
        ttd_hours: Some(TimeToDetect {
            mean: 12.0,
            mean_ci95: [11.0, 13.0],
            p5: 1.0,
            p50: 10.0,
            p95: 30.0,
        }),
        customer_hours: Some(CustomerHours {
            mean: 1_500_000.0,
            mean_ci95: [1_400_000.0, 1_600_000.0],
            p5: 0.0,
            p50: 1_000_000.0,
            p95: 4_000_000.0,
            p99: 6_000_000.0,
            containment_mean: 1_000_000.0,
            restore_mean: 500_000.0,
        }),
        paths: vec![AttackPath {
            to: "emp-core".into(),
            nodes: vec![
                Node {
                    id: "internet".into(),
                    name: "Internet".into(),
                },
                Node {
                    id: "emp-web-1".into(),
                    name: "EMP web".into(),
                },
                Node {
                    id: "emp-core".into(),
                    name: "Enterprise management core".into(),
                },
            ],
            count: 250,
            frequency: 0.25,
        }],
        edges: (0..12)
            .map(|i| EdgeUse {
                from: "internet".into(),
                from_name: "Internet".into(),
                to: format!("web-{i}"),
                to_name: format!("Web {i}"),
                technique: "T1190".into(),
                rule: "exploit".into(),
                count: 100 - i,
                frequency: (100 - i) as f64 / 1000.0,
            })
            .collect(),
        first_detecting_rules: vec![FirstDetector {
            kind: "rule".into(),
            key: "0001".into(),
            title: "Webshell spawned a shell".into(),
            level: Some("high".into()),
            count: 450,
            frequency: 0.45,
        }],
        detection: vec![],
        uncovered_techniques: vec![UncoveredTechnique {
            technique: "T1078".into(),
            name: Some("Valid Accounts".into()),
            frequency: 0.0003,
        }],
    }
}

#[test]
fn jewels_most_exposed_first_with_names_and_intervals() {
    let text = super::report(&report());
    let core = text
        .find("emp-core  Enterprise management core")
        .expect(&text);
    let db = text.find("db-1  Billing database").expect(&text);
    let vault = text.find("\n  vault ").expect(&text);
    assert!(core < db && db < vault, "{text}");
    assert!(text.contains("60.0 % [59.0, 61.0]"), "{text}");
    assert!(text.contains("30.0 % [29.0, 31.0]"), "{text}");
    assert!(text.contains("never"), "{text}");
    assert!(text.contains("35.2") || text.contains("35.3"), "{text}");
}

#[test]
fn lists_are_cut_and_rare_events_do_not_read_as_impossible() {
    let text = super::report(&report());
    assert!(text.contains("... 2 more edges"), "{text}");
    assert!(!text.contains("web-11"), "{text}");
    assert!(
        text.contains("T1078       on the attack in at least <0.1 % of samples (Valid Accounts)"),
        "{text}"
    );
    assert!(text.contains("internet -> emp-web-1 -> emp-core"), "{text}");
    assert!(
        text.contains("(emp-core: Enterprise management core)"),
        "{text}"
    );
    assert!(text.contains("45.0 %  rule Webshell"), "{text}");
    assert!(text.contains("rule Webshell spawned a shell (high, 0001)"));
    assert!(
        text.contains("mean 1.50 M (95 % CI 1.40 M to 1.60 M; containment 1.00 M"),
        "{text}"
    );
    assert!(
        text.contains("Time to detect: mean 12 h; p5 1 h, p50 10 h, p95 30 h"),
        "{text}"
    );
    assert!(
        text.contains("attacker starting from the Internet"),
        "{text}"
    );
}

#[test]
fn nothing_detected_nothing_reached() {
    let mut r = report();
    r.ttd_hours = None;
    r.customer_hours = None;
    r.paths.clear();
    r.first_detecting_rules.clear();
    r.entry = vec!["vpn-1".into()];
    let text = super::report(&r);
    assert!(text.contains("Time to detect: never detected"), "{text}");
    assert!(text.contains("no sample reached a crown jewel"), "{text}");
    assert!(text.contains("nothing detected the attacker"), "{text}");
    assert!(text.contains("starting from vpn-1"), "{text}");
    assert!(!text.contains("Customer-hours"), "{text}");
}
