//! Open Cybersecurity Schema Framework records (OCSF 1.x, as Amazon Security Lake,
//! CrowdStrike, Splunk and others export them): recognised by a numeric `class_uid`
//! with `metadata` or `activity_id`. The classes mapped to Sigma categories: 1007
//! Process Activity (Launch), 4001 Network Activity (Open), 1001 File System Activity
//! (Create), 4003 DNS Activity. Field names: `docs/json-shapes.md`.

use serde_json::{Map, Value};

use super::taxonomy::{at, product_of, product_of_path, put, route, text, user, Category};

/// Completes an OCSF record; `false` when it is not one.
pub(super) fn recognise(m: &mut Map<String, Value>) -> bool {
    let Some(class) = m.get("class_uid").and_then(Value::as_u64) else {
        return false;
    };
    if !(m.contains_key("metadata") || m.contains_key("activity_id")) {
        return false;
    }
    let activity = m.get("activity_id").and_then(Value::as_u64);
    let category = match (class, activity) {
        (1007, Some(1)) => Some(Category::ProcessCreation),
        (4001, Some(1)) => Some(Category::NetworkConnection),
        (1001, Some(1)) => Some(Category::FileEvent),
        (4003, _) => Some(Category::DnsQuery),
        _ => None,
    };
    let t = |m: &Map<String, Value>, p: &str| text(m, p);
    // The acting process: in Process Activity, `process` is the one launched and
    // `actor.process` the one that launched it; elsewhere `actor.process` acts.
    let actor_image = t(m, "actor.process.file.path");
    let product = ["device.os.type", "device.os.name"]
        .iter()
        .find_map(|p| text(m, p).and_then(|os| product_of(&os)))
        .or_else(|| {
            t(m, "process.file.path")
                .or_else(|| actor_image.clone())
                .and_then(|p| product_of_path(&p))
        });
    let actor_user = user(t(m, "actor.user.name"), t(m, "actor.user.domain"), product);
    match category {
        Some(Category::ProcessCreation) => {
            let u = user(
                t(m, "process.user.name"),
                t(m, "process.user.domain"),
                product,
            )
            .or(actor_user);
            let fields = [
                ("Image", t(m, "process.file.path")),
                ("CommandLine", t(m, "process.cmd_line")),
                (
                    "ParentImage",
                    t(m, "process.parent_process.file.path").or(actor_image),
                ),
                (
                    "ParentCommandLine",
                    t(m, "process.parent_process.cmd_line")
                        .or_else(|| t(m, "actor.process.cmd_line")),
                ),
                ("ProcessId", t(m, "process.pid")),
                (
                    "ParentProcessId",
                    t(m, "process.parent_process.pid").or_else(|| t(m, "actor.process.pid")),
                ),
                ("CurrentDirectory", t(m, "process.working_directory")),
                ("Hashes", file_hashes(m, "process.file.hashes")),
                ("IntegrityLevel", t(m, "process.integrity")),
                ("User", u),
            ];
            for (k, v) in fields {
                put(m, k, v);
            }
        }
        Some(Category::NetworkConnection) => {
            let initiated = m
                .get("connection_info")
                .and_then(|c| c.get("direction_id"))
                .and_then(Value::as_u64)
                .and_then(|d| match d {
                    2 => Some("true".to_string()),
                    1 => Some("false".to_string()),
                    _ => None,
                });
            let fields = [
                ("Image", actor_image),
                ("ProcessId", t(m, "actor.process.pid")),
                ("User", actor_user),
                ("Protocol", t(m, "connection_info.protocol_name")),
                ("Initiated", initiated),
                ("SourceIp", t(m, "src_endpoint.ip")),
                ("SourcePort", t(m, "src_endpoint.port")),
                ("SourceHostname", t(m, "src_endpoint.hostname")),
                ("DestinationIp", t(m, "dst_endpoint.ip")),
                ("DestinationPort", t(m, "dst_endpoint.port")),
                ("DestinationHostname", t(m, "dst_endpoint.hostname")),
            ];
            for (k, v) in fields {
                put(m, k, v);
            }
        }
        Some(Category::FileEvent) => {
            let fields = [
                ("TargetFilename", t(m, "file.path")),
                ("Image", actor_image),
                ("ProcessId", t(m, "actor.process.pid")),
                ("User", actor_user),
            ];
            for (k, v) in fields {
                put(m, k, v);
            }
        }
        Some(Category::DnsQuery) => {
            let results = at(m, "answers").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(|x| x.get("rdata").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(";")
            });
            let fields = [
                ("QueryName", t(m, "query.hostname")),
                ("QueryResults", results.filter(|r| !r.is_empty())),
                ("QueryStatus", t(m, "rcode")),
                ("Image", actor_image),
                ("ProcessId", t(m, "actor.process.pid")),
                ("User", actor_user),
            ];
            for (k, v) in fields {
                put(m, k, v);
            }
        }
        None => {}
    }
    route(m, "ocsf", category, product);
    true
}

/// OCSF `hashes` (a list of `{algorithm, value}` or `{algorithm_id, value}`) as Sysmon's
/// `Hashes` (`SHA256=...`, as the ECS recogniser writes it).
fn file_hashes(m: &Map<String, Value>, path: &str) -> Option<String> {
    let list = at(m, path)?.as_array()?;
    let parts: Vec<String> = list
        .iter()
        .filter_map(|h| {
            let value = h.get("value")?.as_str()?;
            let alg = match h.get("algorithm").and_then(Value::as_str) {
                Some(a) => a.to_ascii_uppercase().replace('-', ""),
                None => match h.get("algorithm_id").and_then(Value::as_u64)? {
                    1 => "MD5".to_string(),
                    2 => "SHA1".to_string(),
                    3 => "SHA256".to_string(),
                    4 => "SHA512".to_string(),
                    _ => return None,
                },
            };
            Some(format!("{alg}={}", value.to_ascii_uppercase()))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}
