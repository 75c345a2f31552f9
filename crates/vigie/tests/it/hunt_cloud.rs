//! `vigie hunt` with SigmaHQ's `rules/cloud` (and `rules/identity` for Okta) over the
//! project's cloud audit samples (`crates/vigie-event/tests/data/`, docs/cloud-logs.md):
//! the exact set of rules that fire, on which record, and the damaged records counted.

use serde_json::json;

use crate::cli::{ok, vigie};
use crate::hunt_linux::check_exact;

fn check(rules: &str, sample: &str, want: &[(u64, &str)], events: u64, skipped: serde_json::Value) {
    check_exact(&[rules], sample, want, events, skipped)
}

/// Records are numbered by their index in the `Records` array.
#[test]
fn cloudtrail_records_file() {
    // Every use of an assumed role is what "AWS STS AssumeRole Misuse" (level low,
    // false positives acknowledged) looks for: the benign records by a role.
    let mut want: Vec<(u64, &str)> = [
        0, 1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 18, 20, 21,
    ]
    .iter()
    .map(|r| (*r, "AWS STS AssumeRole Misuse"))
    .collect();
    want.extend([
        (22, "AWS CloudTrail Important Change"),
        (23, "AWS Successful Console Login Without MFA"),
        (24, "AWS ConsoleLogin Failed Authentication"),
        (25, "AWS IAM Backdoor Users Keys"),
        (25, "AWS IAM S3Browser User or AccessKey Creation"),
        (26, "AWS GuardDuty Detector Deleted Or Updated"),
        (27, "AWS EC2 Startup Shell Script Change"),
        (28, "AWS Root Credentials"),
        (29, "AWS VPC Flow Logs Deleted"),
        (30, "Ingress/Egress Security Group Modification"),
        (31, "Potential Malicious Usage of CloudTrail System Manager"),
        (32, "PUA - AWS TruffleHog Execution"),
    ]);
    check(
        "cloud",
        "cloudtrail.json",
        &want,
        33,
        json!({"not_an_object": 3}),
    );
}

#[test]
fn azure_signin_logs() {
    check(
        "cloud",
        "azure-signin.jsonl",
        &[
            (23, "Account Lockout"),
            (24, "Discovery Using AzureHound"),
            (25, "Login to Disabled Account"),
            (
                26,
                "Sign-in Failure Due to Conditional Access Requirements Not Met",
            ),
            (26, "User Access Blocked by Azure Conditional Access"),
            (27, "Device Registration or Join Without MFA"),
            (27, "Sign-ins from Non-Compliant Devices"),
        ],
        27,
        json!({"bad_json": 1, "not_an_object": 1}),
    );
}

#[test]
fn azure_activity_logs() {
    check(
        "cloud",
        "azure-activity.jsonl",
        &[
            // Benign operations the rules flag by design: listing storage keys is a
            // "rare subscription-level operation", a NIC write a network device change.
            (3, "Rare Subscription-level Operations In Azure"),
            (11, "Rare Subscription-level Operations In Azure"),
            (14, "Rare Subscription-level Operations In Azure"),
            (5, "Azure Virtual Network Device Modified or Deleted"),
            (16, "Azure Virtual Network Device Modified or Deleted"),
            (23, "Azure Firewall Modified or Deleted"),
            (24, "Azure Keyvault Secrets Modified or Deleted"),
            (25, "Azure DNS Zone Modified or Deleted"),
            (26, "Granting Of Permissions To An Account"),
            (27, "Azure Kubernetes Secret or Config Object Access"),
        ],
        27,
        json!({"bad_json": 1, "not_an_object": 1}),
    );
}

#[test]
fn azure_audit_logs() {
    check(
        "cloud",
        "azure-audit.jsonl",
        &[
            // Application and conditional access policy updates, flagged by design.
            (7, "Application AppID Uri Configuration Changes"),
            (18, "Application AppID Uri Configuration Changes"),
            (11, "CA Policy Updated by Non Approved Actor"),
            (22, "CA Policy Updated by Non Approved Actor"),
            (23, "Account Created And Deleted Within A Close Time Frame"),
            (24, "Added Owner To Application"),
            (25, "Disabled MFA to Bypass Authentication Mechanisms"),
            (26, "Azure Application Deleted"),
            (27, "Azure Service Principal Created"),
        ],
        27,
        json!({"bad_json": 1, "not_an_object": 1}),
    );
}

/// Identity Protection and PIM: every risk record is a detection.
#[test]
fn azure_risk_detections() {
    check(
        "cloud",
        "azure-risk.jsonl",
        &[
            (1, "Atypical Travel"),
            (2, "Unfamiliar Sign-In Properties"),
            (3, "Anonymous IP Address"),
            (4, "Stale Accounts In A Privileged Role"),
        ],
        4,
        json!({"bad_json": 1}),
    );
}

/// The IAM service account deletion (method `DeleteServiceAccount`) and the Workspace
/// admin setting change (its event name sits in an array) do not fire: see
/// docs/cloud-logs.md.
#[test]
fn gcp_audit_logs() {
    check(
        "cloud",
        "gcp-audit.jsonl",
        &[
            (23, "Google Cloud Storage Buckets Modified or Deleted"),
            (24, "Google Cloud Firewall Modified or Deleted"),
            (26, "Google Cloud Kubernetes Secrets Modified or Deleted"),
            (27, "Google Cloud SQL Database Modified or Deleted"),
        ],
        28,
        json!({"bad_json": 1, "not_an_object": 1}),
    );
}

#[test]
fn okta_system_log() {
    check(
        "identity",
        "okta.jsonl",
        &[
            (23, "Okta API Token Created"),
            (24, "Okta MFA Reset or Deactivated"),
            (
                25,
                "Okta User Session Start Via An Anonymising Proxy Service",
            ),
            (26, "Okta Policy Modified or Deleted"),
            (27, "Okta User Account Locked Out"),
            (28, "Okta Admin Role Assigned to an User or Group"),
        ],
        28,
        json!({"bad_json": 1, "not_an_object": 1}),
    );
}

#[test]
fn m365_audit_and_alerts() {
    check(
        "cloud",
        "m365.jsonl",
        &[
            (23, "Azure Login Bypassing Conditional Access Policies"),
            (24, "Disabling Multi Factor Authentication"),
            (25, "Suspicious Email Delivered In Microsoft 365"),
            (26, "Microsoft 365 - Impossible Travel Activity"),
            (27, "Suspicious Inbox Forwarding"),
            (28, "New Federated Domain Added - Exchange"),
        ],
        28,
        json!({"bad_json": 2}),
    );
}

#[test]
fn kubernetes_audit_log() {
    check(
        "application/kubernetes",
        "kubernetes-audit.jsonl",
        &[
            (23, "Kubernetes Events Deleted"),
            (24, "Potential Remote Command Execution In Pod Container"),
            (25, "Kubernetes Secrets Enumeration"),
            (26, "Kubernetes Rolebinding Modification"),
            (27, "Kubernetes Unauthorized or Unauthenticated Access"),
            (28, "New Kubernetes Service Account Created"),
            // `apiGroup` in the rule, `objectRef.apiGroup` in the event: the alias.
            (29, "Potential Sidecar Injection Into Running Deployment"),
        ],
        29,
        json!({"bad_json": 1, "not_an_object": 1}),
    );
}

#[test]
fn github_audit_log() {
    check(
        "application/github",
        "github-audit.jsonl",
        &[
            (23, "Github Delete Action Invoked"),
            (24, "New Github Organization Member Added"),
            (25, "Github New Secret Created"),
            (26, "Github Push Protection Bypass Detected"),
            (27, "Outdated Dependency Or Vulnerability Alert Disabled"),
            (28, "GitHub Repository Pages Site Changed to Public"),
        ],
        28,
        json!({"bad_json": 1, "not_an_object": 1}),
    );
}

#[test]
fn bitbucket_audit_log() {
    check(
        "application/bitbucket",
        "bitbucket-audit.jsonl",
        &[
            (23, "Bitbucket Full Data Export Triggered"),
            (24, "Bitbucket Global Permission Changed"),
            (25, "Bitbucket Audit Log Configuration Updated"),
            (26, "Bitbucket User Login Failure"),
            // SigmaHQ's title for the `User details export...` actions.
            (27, "Bitbucket User Permissions Export Attempt"),
        ],
        27,
        json!({"bad_json": 1, "not_an_object": 1}),
    );
}

#[test]
fn onelogin_events() {
    check(
        "identity",
        "onelogin.jsonl",
        &[
            (23, "OneLogin User Assumed Another User"),
            (24, "OneLogin User Account Locked"),
        ],
        24,
        json!({"bad_json": 1, "not_an_object": 1}),
    );
}

/// Every logsource of `rules/cloud`, `rules/identity` and the audit logs of
/// `rules/application` is fully routed.
#[test]
fn cloud_and_identity_rules_fully_routed() {
    for dir in [
        "cloud",
        "identity",
        "application/github",
        "application/kubernetes",
        "application/bitbucket",
    ] {
        let rules = vigie_test_support::shared().join("sigma/rules").join(dir);
        let out = ok(vigie(&[
            "rules",
            "check",
            "--rules",
            rules.to_str().expect("utf-8 path"),
            "--format",
            "json",
        ]));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(report["unrouted_logsources"], json!([]), "{dir}");
        assert_eq!(report["partially_routed_logsources"], json!([]), "{dir}");
    }
}
