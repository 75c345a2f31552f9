//! What the ECS and OCSF recognisers share: dotted lookups in nested objects, and the
//! Sigma logsource an event of a category and operating system is routed as.

use serde_json::{Map, Value};

/// The value at a dotted path (`process.parent.executable`), through nested objects;
/// at each level a literal dotted key for the rest of the path is tried too
/// (`{"process": {"parent.executable": ...}}`, `{"process.executable": ...}`).
pub(super) fn at<'a>(m: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = m.get(path) {
        return Some(v);
    }
    let mut rest = path;
    let mut cur = m;
    while let Some((head, tail)) = rest.split_once('.') {
        let next = cur.get(head)?.as_object()?;
        if let Some(v) = next.get(tail) {
            return Some(v);
        }
        cur = next;
        rest = tail;
    }
    None
}

/// A scalar at `path` as text (numbers and booleans written out); the first element of
/// an array of scalars.
pub(super) fn text(m: &Map<String, Value>, path: &str) -> Option<String> {
    scalar(at(m, path)?)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(a) => a.first().and_then(scalar),
        _ => None,
    }
}

/// Whether `path` holds `want` (case-insensitively), or an array holding it.
pub(super) fn has(m: &Map<String, Value>, path: &str, want: &str) -> bool {
    match at(m, path) {
        Some(Value::String(s)) => s.eq_ignore_ascii_case(want),
        Some(Value::Array(a)) => a
            .iter()
            .any(|v| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(want))),
        _ => false,
    }
}

/// The Sigma categories the recognisers give events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Category {
    ProcessCreation,
    NetworkConnection,
    FileEvent,
    DnsQuery,
}

impl Category {
    fn name(self) -> &'static str {
        match self {
            Category::ProcessCreation => "process_creation",
            Category::NetworkConnection => "network_connection",
            Category::FileEvent => "file_event",
            Category::DnsQuery => "dns_query",
        }
    }

    /// The Sysmon event a Windows event of this category stands for.
    fn sysmon_id(self) -> u64 {
        match self {
            Category::ProcessCreation => 1,
            Category::NetworkConnection => 3,
            Category::FileEvent => 11,
            Category::DnsQuery => 22,
        }
    }
}

/// `windows`, `linux`, `macos` from an OS type or name as ECS (`host.os.type`,
/// `host.os.platform`) and OCSF (`device.os.type`) write it.
pub(super) fn product_of(os: &str) -> Option<&'static str> {
    let os = os.to_ascii_lowercase();
    if os.starts_with("windows") {
        Some("windows")
    } else if os == "linux" || os.contains("linux") || os == "unix" {
        Some("linux")
    } else if os == "macos" || os == "darwin" || os == "mac os x" || os == "macos x" {
        Some("macos")
    } else {
        None
    }
}

/// A product guessed from an executable's path when the record names no OS: a drive
/// letter or backslash is Windows, a leading `/` Linux.
pub(super) fn product_of_path(p: &str) -> Option<&'static str> {
    let b = p.as_bytes();
    if p.contains('\\') || (b.len() > 2 && b[1] == b':') {
        Some("windows")
    } else if p.starts_with('/') {
        Some("linux")
    } else {
        None
    }
}

/// Inserts `key` unless the record already has it (its own value wins).
pub(super) fn put(m: &mut Map<String, Value>, key: &str, v: Option<String>) {
    if let Some(v) = v {
        if !m.contains_key(key) {
            m.insert(key.to_string(), Value::String(v));
        }
    }
}

/// The routing fields: `_shape` (`ecs`, `ocsf`), `_source` (`linux.process_creation`;
/// `ecs` / `ocsf` alone when neither category nor product is known) and, for Windows,
/// the `Channel` and `EventID` of the Sysmon event the record stands for, so the
/// shipped Windows entries route it as that Sysmon event (docs/json-shapes.md).
pub(super) fn route(
    m: &mut Map<String, Value>,
    shape: &str,
    category: Option<Category>,
    product: Option<&str>,
) {
    m.insert("_shape".into(), shape.into());
    let source = match (product, category) {
        (Some(p), Some(c)) => format!("{p}.{}", c.name()),
        _ => shape.to_string(),
    };
    m.insert("_source".into(), source.into());
    if let (Some("windows"), Some(c)) = (product, category) {
        if !m.contains_key("Channel") && !m.contains_key("EventID") {
            m.insert(
                "Channel".into(),
                "Microsoft-Windows-Sysmon/Operational".into(),
            );
            m.insert("EventID".into(), c.sysmon_id().into());
        }
    }
}

/// `DOMAIN\name` on Windows (as Sysmon writes `User`), the name elsewhere.
pub(super) fn user(
    name: Option<String>,
    domain: Option<String>,
    product: Option<&str>,
) -> Option<String> {
    match (name, domain, product) {
        (Some(n), Some(d), Some("windows")) if !n.contains('\\') => Some(format!("{d}\\{n}")),
        (n, _, _) => n,
    }
}
