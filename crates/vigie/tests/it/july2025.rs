//! The July 2025 intrusion (`samples/july2025.jsonl`, written by
//! `samples/make_july2025.py`, told in `docs/demo.md`): the embedded rule pack fires on
//! exactly the planted steps, on the planted hosts, and nothing in two days of noise
//! fires; every host of the sample is an asset of the demo operator by its identifiers.

use std::collections::BTreeMap;
use std::process::Command;

use vigie_model::identity::{parse_identifier, IdentityIndex};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples/july2025.jsonl");

/// The sample's records (1-based line numbers, as `record` in detections).
fn records() -> Vec<serde_json::Value> {
    std::fs::read_to_string(SAMPLE)
        .expect("samples/july2025.jsonl is part of the repository")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

fn computer(rec: &serde_json::Value) -> &str {
    rec["Event"]["System"]["Computer"]
        .as_str()
        .expect("every record names its Computer")
}

#[test]
fn embedded_rules_fire_on_the_planted_steps_per_host() {
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["hunt", "--format", "jsonl", "-q", SAMPLE])
        .env_remove("VIGIE_RULES")
        .output()
        .expect("run vigie");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = records();
    let mut got: BTreeMap<(String, String), usize> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let d: serde_json::Value = serde_json::from_str(line).expect("jsonl");
        let n = d["record"].as_u64().expect("record number") as usize;
        let host = computer(&recs[n - 1]).split('.').next().unwrap_or_default();
        let title = d["rule_title"].as_str().unwrap_or_default();
        *got.entry((host.to_string(), title.to_string()))
            .or_default() += 1;
    }
    let expected: BTreeMap<(String, String), usize> = [
        // Thu 24 July: the web shell on the exposed EMP front.
        (
            "empweb01",
            "Shell Or Recon Tool Spawned By A Web Or Application Server",
            3,
        ),
        (
            "empweb01",
            "Local User, Group And System Discovery Commands",
            1,
        ),
        (
            "empweb01",
            "Passwords Searched For In Configuration Files",
            1,
        ),
        // svc-emp's password used on the application server, Tomcat spawns PowerShell.
        ("empapp01", "Service Account Logs On From The DMZ", 1),
        (
            "empapp01",
            "Shell Or Recon Tool Spawned By A Web Or Application Server",
            1,
        ),
        (
            "empapp01",
            "Domain Trust And Privileged Group Reconnaissance",
            2,
        ),
        ("empapp01", "LSASS Memory Dump With Procdump Or Comsvcs", 1),
        ("empapp01", "Tunnelling Tool Run On A Server", 1),
        // Provisioning, with svc-prov.
        ("prov01", "Remote Execution Service Installed", 1),
        ("prov01", "LSASS Memory Dump With Procdump Or Comsvcs", 1),
        // Kerberoasting from PROV01, logged by DC01; Fri 25: the directory taken.
        (
            "dc01",
            "Kerberos Service Ticket With RC4 For A User Account",
            3,
        ),
        (
            "dc01",
            "Directory Replication Requested By A Non-Machine Account (DCSync)",
            1,
        ),
        ("dc01", "Member Added To A Privileged Domain Group", 1),
        ("dc01", "Remote Execution Service Installed", 1),
        ("dc01", "NTDS.dit Copied From A Volume Shadow Copy", 1),
        ("dc01", "Security Or System Event Log Cleared", 1),
        // The unrelated, low one on a customer-care workstation.
        (
            "wscare07",
            "Local User, Group And System Discovery Commands",
            3,
        ),
    ]
    .into_iter()
    .map(|(h, t, n)| ((h.to_string(), t.to_string()), n))
    .collect();
    assert_eq!(got, expected);
}

#[test]
fn every_host_of_the_sample_is_a_demo_asset() {
    let model = vigie_model::demo();
    let (index, clashes) = IdentityIndex::build(&model);
    assert!(clashes.is_empty(), "identifier clashes: {clashes:?}");
    for asset in &model.assets {
        assert!(
            !asset.identifiers.is_empty(),
            "{} has no identifiers",
            asset.id
        );
        for text in &asset.identifiers {
            let id = parse_identifier(text)
                .unwrap_or_else(|e| panic!("{}: identifier {text:?}: {e}", asset.id));
            if !matches!(id, vigie_model::Identifier::Cidr(_)) {
                assert_eq!(index.resolve(&id), Some(asset.id.as_str()), "{text}");
            }
        }
    }
    let recs = records();
    assert!(recs.len() > 1000, "two days of noise: {}", recs.len());
    let mut hosts: Vec<&str> = recs.iter().map(computer).collect();
    hosts.sort_unstable();
    hosts.dedup();
    for h in hosts {
        let id = parse_identifier(h).expect("a hostname");
        assert!(index.resolve(&id).is_some(), "{h} is not a demo asset");
    }
    let story = [
        ("empweb01.dmz.armorique.fr", "emp-web-1"),
        ("EMPAPP01", "emp-app-1"),
        ("10.40.4.11", "prov-1"),
        ("dc01.armorique.local", "dc-1"),
        ("ARMORIQUE\\svc-emp", "svc-emp"),
        ("svc-prov@armorique.local", "svc-prov"),
        (
            "S-1-5-21-1487526315-2563912468-3470518206-1108",
            "svc-backup",
        ),
        ("ARMORIQUE\\Domain Admins", "g-domain-admins"),
        ("ARMORIQUE\\c.legall", "u-care-lead"),
        ("10.20.64.77", "vdi-1"),
    ];
    for (text, asset) in story {
        let id = parse_identifier(text).expect("parses");
        assert_eq!(index.resolve(&id), Some(asset), "{text}");
    }
}
