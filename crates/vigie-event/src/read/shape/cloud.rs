//! Cloud audit records recognised by their shape (docs/cloud-logs.md).
//!
//! CONTRACT:
//! - [`source_of`] looks at the top-level members of one JSON record, in one pass, and
//!   names the logsource it comes from (the routing convention's `_source`:
//!   `aws.cloudtrail`, `azure.signinlogs`, `okta.okta`...), or `None`. It never looks
//!   deeper than one member's value (a `protoPayload.serviceName`, a `category`), so its
//!   cost is one walk of the top-level keys; a record carrying a Windows key (`Channel`,
//!   `EventID`, `Event`, `winlog`) or a `_source` of its own stops the walk at that key.
//!   [`flat_source_of`] gives the same answer for flat records, remembering the key
//!   lists whose answer cannot depend on the values (see there).
//! - [`records_of`] unwraps a container record, one object whose only member is
//!   `Records` (CloudTrail's S3 files) or `records` (Azure diagnostic settings to storage
//!   and Event Hubs) holding an array: the array's elements are the events.
//! - Nothing here allocates unless a record is recognised (then only the `_source`
//!   value) or a flat key list is remembered, and nothing panics on any value.

use serde_json::{Map, Value};

use crate::flat::FlatDoc;

/// The member that names a recognised record's logsource (the routing convention).
pub(crate) const SOURCE_KEY: &str = "_source";

/// The top-level members the decision needs, gathered in one pass.
#[derive(Default)]
struct Seen<'a> {
    event_source: Option<&'a Value>,
    event_name: bool,
    proto_payload: Option<&'a Value>,
    data: Option<&'a Value>,
    event_type: bool,
    actor: Option<&'a Value>,
    okta_id: bool,
    category: Option<&'a Value>,
    la_type: Option<&'a Value>,
    resource_id: bool,
    operation_name: bool,
    workload: bool,
    operation: bool,
    record_type: bool,
    risk_event_type: Option<&'a Value>,
    risk_detail: bool,
    kind: Option<&'a Value>,
    api_version: Option<&'a Value>,
    action: bool,
    document_id: bool,
    org: bool,
    event_type_id: bool,
    account_id: bool,
    audit_type: Option<&'a Value>,
    author: bool,
    txid: bool,
    duo_event_type: bool,
}

/// The logsource of one record given its top-level members, or `None` (see the module
/// contract).
pub(crate) fn source_of<'a>(
    members: impl IntoIterator<Item = (&'a [u8], &'a Value)>,
) -> Option<&'static str> {
    scan(members).and_then(|s| decide(&s))
}

/// Key lists of flat records known to be no cloud record whatever their values, per
/// thread (see [`flat_source_of`]).
const KEPT: usize = 16;
type KnownLists = (Vec<(String, Vec<u32>)>, usize);
thread_local! {
    static UNRECOGNISED: std::cell::RefCell<KnownLists> = const {
        std::cell::RefCell::new((Vec::new(), 0))
    };
}

/// [`source_of`] for a flat record. Records of one log mostly share a few key lists:
/// a list whose decision cannot depend on the values (no `eventSource`, `Type`,
/// `riskEventType`, `kind`, nor `category` with `operationName`) and that was found no
/// cloud record is remembered, and the next record with that list is settled by
/// comparing the lists (as `FlatDoc::has_duplicate_keys` does).
pub(crate) fn flat_source_of(flat: &FlatDoc) -> Option<&'static str> {
    let text = flat.key_text();
    // Flat Windows records (Sigma names) mostly start with `Channel` or `EventID`:
    // settled before the list comparison.
    let first = flat
        .key_ends()
        .next()
        .and_then(|end| text.as_bytes().get(..end as usize));
    if matches!(first, Some(b"Channel" | b"EventID")) {
        return None;
    }
    let same = |(keys, ends): &(String, Vec<u32>)| {
        keys.len() == text.len() && keys == text && ends.iter().copied().eq(flat.key_ends())
    };
    let known = UNRECOGNISED.with(|u| u.try_borrow().is_ok_and(|u| u.0.iter().any(same)));
    if known {
        return None;
    }
    // Keys sliced as bytes from the key text: no character-boundary checks.
    let bytes = text.as_bytes();
    let mut start = 0usize;
    let members = flat.key_ends().zip(flat.iter()).map(|(end, (_, v))| {
        let k = bytes.get(start..end as usize).unwrap_or_default();
        start = end as usize;
        (k, v)
    });
    // A Windows record (or one routed already) is decided by its keys alone too.
    let Some(seen) = scan(members) else {
        remember(flat);
        return None;
    };
    let found = decide(&seen);
    let by_value = seen.event_source.is_some()
        || seen.la_type.is_some()
        || seen.risk_event_type.is_some()
        || seen.kind.is_some()
        || (seen.category.is_some() && seen.operation_name);
    if found.is_none() && !by_value {
        remember(flat);
    }
    found
}

fn remember(flat: &FlatDoc) {
    UNRECOGNISED.with(|u| {
        if let Ok(mut u) = u.try_borrow_mut() {
            let entry = (flat.key_text().to_owned(), flat.key_ends().collect());
            let (lists, next) = &mut *u;
            if lists.len() < KEPT {
                lists.push(entry);
            } else {
                lists[*next % KEPT] = entry;
                *next = (*next + 1) % KEPT;
            }
        }
    });
}

/// The members [`decide`] needs, or `None` for a Windows record or one with a
/// `_source` of its own. Inlined: called out of line, returning the whole `Seen`
/// cost an EVTX-shaped record (one key, `Event`) 380 instructions instead of 60.
#[inline(always)]
fn scan<'a>(members: impl IntoIterator<Item = (&'a [u8], &'a Value)>) -> Option<Seen<'a>> {
    let mut s = Seen::default();
    for (k, v) in members {
        // Dispatched on the first byte: most keys of other logs fall through at once,
        // the rest cost a length check or two.
        let Some(&first) = k.first() else {
            continue;
        };
        match (first, k) {
            // Windows records (flat Sigma names, EVTX JSON, Winlogbeat) and records
            // already routed: nothing to recognise.
            (b'C', b"Channel") | (b'E', b"EventID" | b"Event") | (b'w', b"winlog") => return None,
            (b'_', b"_source") => return None,
            (b'_', b"_document_id") => s.document_id = true,
            (b'e', b"eventSource") => s.event_source = Some(v),
            (b'e', b"eventName") => s.event_name = true,
            (b'e', b"eventType") => s.event_type = true,
            (b'e', b"event_type_id") => s.event_type_id = true,
            (b'e', b"event_type") => s.duo_event_type = true,
            (b'p', b"protoPayload") => s.proto_payload = Some(v),
            (b'p' | b'u', b"published" | b"uuid") => s.okta_id = true,
            (b'd', b"data") => s.data = Some(v),
            (b'd', b"detectionTimingType") => s.risk_detail = true,
            (b'a', b"actor") => s.actor = Some(v),
            (b'a', b"action") => s.action = true,
            (b'a', b"apiVersion") => s.api_version = Some(v),
            (b'a', b"account_id") => s.account_id = true,
            (b'a', b"auditType") => s.audit_type = Some(v),
            (b'a', b"author") => s.author = true,
            (b'c', b"category") => s.category = Some(v),
            (b'T', b"Type") => s.la_type = Some(v),
            (b'r', b"resourceId") => s.resource_id = true,
            (b'r', b"riskEventType") => s.risk_event_type = Some(v),
            (b'r', b"riskLevel" | b"riskState") => s.risk_detail = true,
            (b'o' | b'O', b"operationName" | b"OperationName") => s.operation_name = true,
            (b'o' | b'b', b"org" | b"org_id" | b"business") => s.org = true,
            (b'O', b"Operation") => s.operation = true,
            (b'R' | b'O', b"RecordType" | b"OrganizationId") => s.record_type = true,
            (b'W', b"Workload") => s.workload = true,
            (b'k', b"kind") => s.kind = Some(v),
            (b't', b"txid") => s.txid = true,
            _ => {}
        }
    }
    Some(s)
}

fn decide(s: &Seen<'_>) -> Option<&'static str> {
    if let Some(src) = s.event_source.and_then(Value::as_str) {
        if s.event_name && src.ends_with(".amazonaws.com") {
            return Some("aws.cloudtrail");
        }
        // Microsoft 365 alerts as Sigma's m365 rules see them (threat management and
        // threat detection alerts are one shape: `eventSource` names the portal).
        if src.eq_ignore_ascii_case("SecurityComplianceCenter") {
            return Some("m365.threat_management");
        }
        if src.eq_ignore_ascii_case("Exchange") {
            return Some("m365.exchange");
        }
    }
    if let Some(p) = s.proto_payload.and_then(Value::as_object) {
        return Some(gcp(p));
    }
    // A LogEntry wrapped in `data` (Pub/Sub push, Eventarc), the prefix Sigma's GCP
    // rules write (`data.protoPayload.methodName`).
    if let Some(p) = s
        .data
        .and_then(|d| d.get("protoPayload"))
        .and_then(Value::as_object)
    {
        return Some(gcp(p));
    }
    if s.event_type && s.okta_id && s.actor.is_some_and(Value::is_object) {
        return Some("okta.okta");
    }
    // Every diagnostic-settings record has `operationName`.
    if let Some(c) = s
        .category
        .and_then(Value::as_str)
        .filter(|_| s.operation_name)
    {
        if let Some(src) = azure_category(c, s) {
            return Some(src);
        }
    }
    if let Some(t) = s.la_type.and_then(Value::as_str) {
        if let Some(src) = azure_table(t) {
            return Some(src);
        }
    }
    if let Some(r) = s.risk_event_type.and_then(Value::as_str) {
        if s.risk_detail {
            return Some(risk(r));
        }
    }
    if s.workload && s.operation && s.record_type {
        return Some("m365.audit");
    }
    if s.kind.and_then(Value::as_str) == Some("Event")
        && s.api_version
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with("audit.k8s.io/"))
    {
        return Some("kubernetes.audit");
    }
    if s.action && (s.document_id || (s.actor.is_some() && s.org)) {
        return Some("github.audit");
    }
    if s.event_type_id && s.account_id {
        return Some("onelogin.onelogin.events");
    }
    if s.author && s.audit_type.is_some_and(Value::is_object) {
        return Some("bitbucket.audit");
    }
    // Cisco Duo's Admin API authentication log (`txid` names the transaction).
    if s.txid && s.duo_event_type {
        return Some("cisco.duo");
    }
    None
}

/// A GCP LogEntry with an audit payload: Google Workspace's admin and login audit logs
/// by their service, every other service as Cloud Audit Logs.
fn gcp(proto: &Map<String, Value>) -> &'static str {
    match proto.get("serviceName").and_then(Value::as_str) {
        Some("admin.googleapis.com") => "gcp.google_workspace.admin",
        Some("login.googleapis.com") => "gcp.google_workspace.login",
        _ => "gcp.gcp.audit",
    }
}

/// An Azure diagnostic-settings record (storage, Event Hubs) by its log `category` (the
/// caller has checked `operationName`).
/// Activity log categories are common words, so they also need the activity log's
/// `resourceId` and `operationName`.
fn azure_category(c: &str, s: &Seen<'_>) -> Option<&'static str> {
    let eq = |names: &[&str]| names.iter().any(|n| c.eq_ignore_ascii_case(n));
    if eq(&[
        "SignInLogs",
        "NonInteractiveUserSignInLogs",
        "ServicePrincipalSignInLogs",
        "ManagedIdentitySignInLogs",
    ]) {
        return Some("azure.signinlogs");
    }
    if eq(&["AuditLogs"]) {
        return Some("azure.auditlogs");
    }
    if eq(&[
        "UserRiskEvents",
        "RiskyUsers",
        "ServicePrincipalRiskEvents",
        "RiskyServicePrincipals",
    ]) {
        return Some("azure.riskdetection");
    }
    let activity = [
        "Administrative",
        "Security",
        "ServiceHealth",
        "Alert",
        "Recommendation",
        "Policy",
        "Autoscale",
        "ResourceHealth",
    ];
    (s.resource_id && s.operation_name && eq(&activity)).then_some("azure.activitylogs")
}

/// A Log Analytics row exported as JSON, by its table (`Type`).
fn azure_table(t: &str) -> Option<&'static str> {
    let eq = |names: &[&str]| names.iter().any(|n| t.eq_ignore_ascii_case(n));
    if eq(&[
        "SigninLogs",
        "AADNonInteractiveUserSignInLogs",
        "AADServicePrincipalSignInLogs",
        "AADManagedIdentitySignInLogs",
    ]) {
        Some("azure.signinlogs")
    } else if eq(&["AuditLogs"]) {
        Some("azure.auditlogs")
    } else if eq(&["AzureActivity"]) {
        Some("azure.activitylogs")
    } else if eq(&["AADUserRiskEvents", "AADRiskyUsers"]) {
        Some("azure.riskdetection")
    } else {
        None
    }
}

/// A risk record (Microsoft Graph `riskDetection`): Privileged Identity Management's
/// alerts are the risk event types Sigma's PIM rules name, which end in
/// `AlertIncident` or `AlertConfiguration`; the rest are Identity Protection's.
fn risk(event_type: &str) -> &'static str {
    if event_type.ends_with("AlertIncident") || event_type.ends_with("AlertConfiguration") {
        "azure.pim"
    } else {
        "azure.riskdetection"
    }
}

/// The records of a container record (see the module contract), or `None` when `doc`
/// is not one. The container must have that one member, so a record that merely has a
/// `records` field stays one event.
#[inline(never)]
pub(crate) fn records_of(doc: &mut Map<String, Value>) -> Option<Vec<Value>> {
    if doc.len() != 1 {
        return None;
    }
    let key = match doc.keys().next().map(String::as_str) {
        Some("Records") => "Records",
        Some("records") => "records",
        _ => return None,
    };
    // Taken in place (the emptied container is dropped by the caller).
    match doc.get_mut(key) {
        Some(Value::Array(items)) => Some(std::mem::take(items)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn of(v: Value) -> Option<&'static str> {
        let m = v.as_object().cloned().unwrap_or_default();
        source_of(m.iter().map(|(k, v)| (k.as_bytes(), v)))
    }

    #[test]
    fn recognises_each_shape() {
        let cases = [
            (
                json!({"eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "userIdentity": {"type": "IAMUser"}}),
                Some("aws.cloudtrail"),
            ),
            (
                json!({"eventSource": "SecurityComplianceCenter", "eventName": "Impossible travel activity", "status": "success"}),
                Some("m365.threat_management"),
            ),
            (
                json!({"eventSource": "Exchange", "eventName": "Add-FederatedDomain"}),
                Some("m365.exchange"),
            ),
            (
                json!({"logName": "x", "protoPayload": {"serviceName": "storage.googleapis.com"}}),
                Some("gcp.gcp.audit"),
            ),
            (
                json!({"protoPayload": {"serviceName": "admin.googleapis.com"}}),
                Some("gcp.google_workspace.admin"),
            ),
            (
                json!({"data": {"protoPayload": {"serviceName": "login.googleapis.com"}}}),
                Some("gcp.google_workspace.login"),
            ),
            (
                json!({"uuid": "u", "eventType": "user.session.start", "actor": {"id": "1"}}),
                Some("okta.okta"),
            ),
            (
                json!({"category": "SignInLogs", "operationName": "Sign-in activity"}),
                Some("azure.signinlogs"),
            ),
            (
                json!({"category": "AuditLogs", "operationName": "Add user"}),
                Some("azure.auditlogs"),
            ),
            (json!({"category": "AuditLogs"}), None),
            (
                json!({"category": "Administrative", "resourceId": "/x", "operationName": "w"}),
                Some("azure.activitylogs"),
            ),
            (json!({"category": "Administrative"}), None),
            (json!({"Type": "SigninLogs"}), Some("azure.signinlogs")),
            (json!({"Type": "AzureActivity"}), Some("azure.activitylogs")),
            (
                json!({"riskEventType": "unlikelyTravel", "riskLevel": "high"}),
                Some("azure.riskdetection"),
            ),
            (
                json!({"riskEventType": "staleSignInAlertIncident", "riskState": "atRisk"}),
                Some("azure.pim"),
            ),
            (
                json!({"Workload": "AzureActiveDirectory", "Operation": "UserLoggedIn", "RecordType": 15}),
                Some("m365.audit"),
            ),
            (
                json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "verb": "get"}),
                Some("kubernetes.audit"),
            ),
            (
                json!({"action": "repo.create", "actor": "octocat", "org": "o"}),
                Some("github.audit"),
            ),
            (
                json!({"event_type_id": 5, "account_id": 1}),
                Some("onelogin.onelogin.events"),
            ),
            (
                json!({"author": {"name": "a"}, "auditType": {"action": "x"}}),
                Some("bitbucket.audit"),
            ),
            (
                json!({"txid": "t", "event_type": "authentication", "reason": "user_approved"}),
                Some("cisco.duo"),
            ),
            // Windows and already-routed records stop the walk.
            (
                json!({"Channel": "Security", "eventSource": "iam.amazonaws.com", "eventName": "x"}),
                None,
            ),
            (
                json!({"_source": "x", "eventSource": "iam.amazonaws.com", "eventName": "x"}),
                None,
            ),
            (json!({"eventSource": "iam.amazonaws.com"}), None),
            (json!({"a": 1}), None),
        ];
        for (v, want) in cases {
            assert_eq!(of(v.clone()), want, "{v}");
        }
    }

    #[test]
    fn flat_lists_remembered_only_when_values_cannot_matter() {
        use crate::read::flat_json::parse_flat;
        let of = |text: &str| parse_flat(text).and_then(|f| flat_source_of(&f));
        // Same key list, the value decides: never settled by the list.
        for _ in 0..3 {
            assert_eq!(of(r#"{"eventSource":"Other","eventName":"x"}"#), None);
            assert_eq!(
                of(r#"{"eventSource":"SecurityComplianceCenter","eventName":"x"}"#),
                Some("m365.threat_management")
            );
            assert_eq!(of(r#"{"Type":"Perf","v":1}"#), None);
            assert_eq!(
                of(r#"{"Type":"SigninLogs","v":1}"#),
                Some("azure.signinlogs")
            );
        }
        // Lists decided by their keys: the same answer from the cache.
        for _ in 0..3 {
            assert_eq!(of(r#"{"a":1,"b":"x"}"#), None);
            assert_eq!(
                of(r#"{"Workload":"w","Operation":"o","RecordType":1}"#),
                Some("m365.audit")
            );
            assert_eq!(of(r#"{"Channel":"Security","Workload":"w"}"#), None);
        }
        // More lists than are kept: still right.
        for n in 0..40 {
            let text = format!(r#"{{"k{n}":1,"event_type_id":5,"account_id":{n}}}"#);
            assert_eq!(of(&text), Some("onelogin.onelogin.events"));
            assert_eq!(of(&format!(r#"{{"k{n}":1}}"#)), None);
        }
    }

    #[test]
    fn unwraps_only_containers() {
        let mut m = json!({"Records": [{"a": 1}, 2]});
        let items = m.as_object_mut().and_then(records_of);
        assert_eq!(items, Some(vec![json!({"a": 1}), json!(2)]));
        assert_eq!(m, json!({"Records": []}));
        for v in [
            json!({"records": 1}),
            json!({"records": [], "b": 2}),
            json!({"Recs": []}),
        ] {
            let mut m = v.clone();
            assert_eq!(m.as_object_mut().and_then(records_of), None, "{v}");
            assert_eq!(m, v);
        }
    }
}
