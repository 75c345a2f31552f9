//! Elastic Common Schema records (Elastic Agent / Endpoint, Beats, anything writing ECS):
//! recognised by a top-level `ecs` object, or `@timestamp` with an `event` object
//! naming a `category` or `kind`. Winlogbeat records (a `winlog` object) are left to the
//! Winlogbeat shape. Field names: `docs/json-shapes.md`.

use serde_json::{Map, Value};

use super::taxonomy::{at, has, product_of, product_of_path, put, route, text, user, Category};

/// Completes an ECS record; `false` when it is not one.
pub(super) fn recognise(m: &mut Map<String, Value>) -> bool {
    let ecs = m.get("ecs").is_some_and(Value::is_object)
        || (m.contains_key("@timestamp")
            && m.get("event")
                .and_then(Value::as_object)
                .is_some_and(|e| e.contains_key("category") || e.contains_key("kind")));
    if !ecs || m.contains_key("winlog") || m.contains_key("Event") {
        return false;
    }
    let category = category(m);
    let product = [
        "host.os.type",
        "host.os.platform",
        "host.os.family",
        "host.os.name",
    ]
    .iter()
    .find_map(|p| text(m, p).and_then(|os| product_of(&os)))
    .or_else(|| text(m, "process.executable").and_then(|p| product_of_path(&p)));
    let t = |m: &Map<String, Value>, p: &str| text(m, p);
    let u = user(t(m, "user.name"), t(m, "user.domain"), product);
    let image = t(m, "process.executable");
    match category {
        Some(Category::ProcessCreation) => {
            let fields = [
                ("Image", image),
                (
                    "CommandLine",
                    t(m, "process.command_line").or_else(|| args(m, "process.args")),
                ),
                ("ParentImage", t(m, "process.parent.executable")),
                (
                    "ParentCommandLine",
                    t(m, "process.parent.command_line").or_else(|| args(m, "process.parent.args")),
                ),
                ("ProcessId", t(m, "process.pid")),
                ("ParentProcessId", t(m, "process.parent.pid")),
                ("CurrentDirectory", t(m, "process.working_directory")),
                ("OriginalFileName", t(m, "process.pe.original_file_name")),
                ("Product", t(m, "process.pe.product")),
                ("Company", t(m, "process.pe.company")),
                ("Description", t(m, "process.pe.description")),
                ("Hashes", hashes(m, "process.hash")),
                ("User", u),
                ("LogonId", t(m, "process.Ext.authentication_id")),
            ];
            for (k, v) in fields {
                put(m, k, v);
            }
        }
        Some(Category::NetworkConnection) => {
            let initiated =
                t(m, "network.direction").and_then(|d| match d.to_ascii_lowercase().as_str() {
                    "outbound" | "egress" => Some("true".to_string()),
                    "inbound" | "ingress" => Some("false".to_string()),
                    _ => None,
                });
            let fields = [
                ("Image", image),
                ("ProcessId", t(m, "process.pid")),
                ("User", u),
                ("Protocol", t(m, "network.transport")),
                ("Initiated", initiated),
                ("SourceIp", t(m, "source.ip")),
                ("SourcePort", t(m, "source.port")),
                ("SourceHostname", t(m, "source.domain")),
                ("DestinationIp", t(m, "destination.ip")),
                ("DestinationPort", t(m, "destination.port")),
                ("DestinationHostname", t(m, "destination.domain")),
            ];
            for (k, v) in fields {
                put(m, k, v);
            }
        }
        Some(Category::FileEvent) => {
            let fields = [
                ("TargetFilename", t(m, "file.path")),
                ("Image", image),
                ("ProcessId", t(m, "process.pid")),
                ("User", u),
            ];
            for (k, v) in fields {
                put(m, k, v);
            }
        }
        Some(Category::DnsQuery) => {
            let results = at(m, "dns.resolved_ip").and_then(|v| match v {
                Value::Array(a) => Some(
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(";"),
                ),
                Value::String(s) => Some(s.clone()),
                _ => None,
            });
            let fields = [
                ("QueryName", t(m, "dns.question.name")),
                ("QueryResults", results),
                ("QueryStatus", t(m, "dns.response_code")),
                ("Image", image),
                ("ProcessId", t(m, "process.pid")),
                ("User", u),
            ];
            for (k, v) in fields {
                put(m, k, v);
            }
        }
        None => {}
    }
    route(m, "ecs", category, product);
    true
}

/// The Sigma category an ECS record describes: a process start, a DNS question, a
/// network connection (not its end), a file creation.
fn category(m: &Map<String, Value>) -> Option<Category> {
    let cat = |c| has(m, "event.category", c);
    let typ = |t| has(m, "event.type", t);
    if cat("process") && typ("start") {
        Some(Category::ProcessCreation)
    } else if at(m, "dns.question.name").is_some() && (cat("network") || m.contains_key("dns")) {
        Some(Category::DnsQuery)
    } else if cat("network")
        && !typ("end")
        && (m.contains_key("destination") || m.contains_key("source"))
    {
        Some(Category::NetworkConnection)
    } else if cat("file") && typ("creation") {
        Some(Category::FileEvent)
    } else {
        None
    }
}

/// `process.args` (a list) joined by spaces, when there is no `command_line`.
fn args(m: &Map<String, Value>, path: &str) -> Option<String> {
    let a = at(m, path)?.as_array()?;
    let parts: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// `process.hash.{md5,sha1,sha256}` as Sysmon's `Hashes` (`SHA1=...,MD5=...,SHA256=...`).
fn hashes(m: &Map<String, Value>, path: &str) -> Option<String> {
    let h = at(m, path)?.as_object()?;
    let parts: Vec<String> = ["sha1", "md5", "sha256", "imphash"]
        .iter()
        .filter_map(|k| {
            let v = h.get(*k)?.as_str()?;
            Some(format!(
                "{}={}",
                k.to_ascii_uppercase(),
                v.to_ascii_uppercase()
            ))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}
