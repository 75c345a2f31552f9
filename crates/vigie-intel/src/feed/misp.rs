//! MISP feeds: a directory with `manifest.json` (event uuid -> event summary) and one
//! `<uuid>.json` per event (`{"Event": {...}}`), as MISP publishes them and as
//! pymisp's `MISPEvent.to_feed()` and `pymisp.tools.feed_meta_generator` write them.
//!
//! - The events read are those the manifest names, in uuid order (a `<uuid>.json`
//!   missing is refused at the manifest's `/<uuid>`; event files the manifest does not
//!   name are not read, as MISP does not).
//! - Attributes of the event and of its objects (`/Event/Attribute/N`,
//!   `/Event/Object/N/Attribute/M`) become indicators when `to_ids` is true (the others
//!   are context: refused with that reason unless
//!   [`LoadOptions::misp_include_non_ids`]), not `deleted`, and of an indexed type:
//!   `ip-src`, `ip-dst` (either family; also `ip-src|port`, `ip-dst|port`: the
//!   address), `domain`, `hostname` (also `hostname|port`: the host), `domain|ip`
//!   (both), `url`, `md5`, `sha1`, `sha256`, `filename`, and `filename|md5`,
//!   `filename|sha1`, `filename|sha256`: the hash only (a file name alone would hit
//!   every benign file of that name), the file name going into the indicator's name.
//!   Other types are refused ("not indexed").
//! - Id: the attribute `uuid` (else a list-entry id of the event file, type and value).
//!   Name: the event `info` (plus ` (file name)` for composites). Labels: the event's
//!   and the attribute's tags, except `misp-galaxy:mitre-attack-pattern` tags, whose
//!   `T1234[.567]` become techniques (as do ATT&CK galaxy clusters of the event).
//!   `valid_from`/`valid_until`: none (MISP's `first_seen`/`last_seen` say when the
//!   value was observed, not how long it is valid).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::{LoadOptions, Position, Sink};
use crate::indicator::{
    list_entry_id, DeclaredType, Indicator, IndicatorBody, IndicatorMeta, IocType,
};

pub(crate) fn load_feed(dir: &Path, opts: &LoadOptions, sink: &mut Sink<'_>) {
    let manifest_path = dir.join("manifest.json");
    let manifest_file = manifest_path.display().to_string();
    let text = match std::fs::read_to_string(&manifest_path) {
        Ok(t) => t,
        Err(e) => {
            sink.refuse_in(
                &manifest_file,
                Position::File,
                format!("a MISP feed directory needs a readable manifest.json: {e}"),
            );
            return;
        }
    };
    let manifest: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            sink.refuse_in(
                &manifest_file,
                Position::Line {
                    line: e.line() as u64,
                    column: e.column() as u64,
                },
                format!("manifest.json is not JSON: {e}"),
            );
            return;
        }
    };
    let Some(events) = manifest.as_object() else {
        sink.refuse_in(
            &manifest_file,
            Position::Pointer(String::new()),
            "manifest.json must be an object of event uuid -> summary",
        );
        return;
    };
    let mut uuids: Vec<&String> = events.keys().collect();
    uuids.sort();
    for uuid in uuids {
        if uuid.is_empty() || !uuid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            sink.refuse_in(
                &manifest_file,
                Position::Pointer(format!("/{}", escape_pointer(uuid))),
                format!("{uuid:?} is not an event uuid"),
            );
            continue;
        }
        let path = dir.join(format!("{uuid}.json"));
        let file = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(t) => parse_event_in(&t, &file, opts, sink),
            Err(e) => sink.refuse_in(
                &manifest_file,
                Position::Pointer(format!("/{uuid}")),
                format!("the event file {file} cannot be read: {e}"),
            ),
        }
    }
}

pub(crate) fn load_event_file(path: &Path, opts: &LoadOptions, sink: &mut Sink<'_>) {
    let Some(text) = super::read_text(path, sink) else {
        return;
    };
    parse_event_into(&text, &path.display().to_string(), opts, sink);
}

pub(crate) fn parse_event_into(text: &str, file: &str, opts: &LoadOptions, sink: &mut Sink<'_>) {
    parse_event_in(text, file, opts, sink);
}

fn escape_pointer(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// One event document; refusals name `file`.
fn parse_event_in(text: &str, file: &str, opts: &LoadOptions, sink: &mut Sink<'_>) {
    let doc: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            sink.refuse_in(
                file,
                Position::Line {
                    line: e.line() as u64,
                    column: e.column() as u64,
                },
                format!("not JSON: {e}"),
            );
            return;
        }
    };
    let Some(ev) = doc.get("Event").filter(|e| e.is_object()) else {
        sink.refuse_in(
            file,
            Position::Pointer(String::new()),
            "a MISP event file holds {\"Event\": {...}}",
        );
        return;
    };
    let source: Arc<str> = Arc::from(file);
    let id_file = Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string());
    let info = ev
        .get("info")
        .and_then(Value::as_str)
        .unwrap_or("MISP event")
        .to_string();
    let (ev_labels, mut ev_techniques) = tags(ev.get("Tag"));
    for g in ev
        .get("Galaxy")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for c in g
            .get("GalaxyCluster")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for field in ["value", "tag_name"] {
                if let Some(s) = c.get(field).and_then(Value::as_str) {
                    ev_techniques.extend(techniques_in(s));
                }
            }
            if let Some(ids) = c
                .get("meta")
                .and_then(|m| m.get("external_id"))
                .and_then(Value::as_array)
            {
                for x in ids.iter().filter_map(Value::as_str) {
                    ev_techniques.extend(super::stix::technique_id(x));
                }
            }
        }
    }
    let ev_meta = Arc::new(IndicatorMeta {
        name: info.clone(),
        labels: ev_labels.clone(),
        techniques: ev_techniques.iter().cloned().collect(),
        source: source.clone(),
        ..IndicatorMeta::default()
    });
    let mut ctx = EventCtx {
        file,
        id_file: &id_file,
        info: &info,
        ev_labels: &ev_labels,
        ev_techniques: &ev_techniques,
        ev_meta,
        source,
        opts,
    };
    for (i, a) in ev
        .get("Attribute")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        ctx.attribute(a, &format!("/Event/Attribute/{i}"), sink);
    }
    for (j, o) in ev
        .get("Object")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if o.get("deleted").and_then(as_bool) == Some(true) {
            continue;
        }
        for (i, a) in o
            .get("Attribute")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            ctx.attribute(a, &format!("/Event/Object/{j}/Attribute/{i}"), sink);
        }
    }
}

struct EventCtx<'a> {
    file: &'a str,
    id_file: &'a str,
    info: &'a str,
    ev_labels: &'a [String],
    ev_techniques: &'a BTreeSet<String>,
    ev_meta: Arc<IndicatorMeta>,
    source: Arc<str>,
    opts: &'a LoadOptions,
}

/// `to_ids`, `deleted`: JSON booleans, or `"1"`/`"0"`, `1`/`0` as older exports write.
fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.as_str() {
            "1" | "true" | "True" => Some(true),
            "0" | "false" | "False" | "" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_u64().map(|n| n != 0),
        _ => None,
    }
}

impl EventCtx<'_> {
    fn attribute(&mut self, a: &Value, ptr: &str, sink: &mut Sink<'_>) {
        let at = |f: &str| Position::Pointer(format!("{ptr}/{f}"));
        let Some(ty) = a.get("type").and_then(Value::as_str) else {
            sink.refuse_in(self.file, at("type"), "an attribute needs a type");
            return;
        };
        let Some(value) = a.get("value").and_then(Value::as_str) else {
            sink.refuse_in(self.file, at("value"), "an attribute needs a string value");
            return;
        };
        if a.get("deleted").and_then(as_bool) == Some(true) {
            sink.refuse_in(self.file, at("deleted"), "deleted attribute");
            return;
        }
        let to_ids = a.get("to_ids").and_then(as_bool).unwrap_or(false);
        if !to_ids && !self.opts.misp_include_non_ids {
            sink.refuse_in(
                self.file,
                at("to_ids"),
                format!("to_ids is false ({ty} kept as context, not an indicator)"),
            );
            return;
        }
        // (type of each part, the part); `None` parts are not indexed.
        let parts: Vec<(IocType, &str)> = match ty {
            "ip-src" | "ip-dst" => vec![(DeclaredType::Ip.resolve(value), value)],
            "ip-src|port" | "ip-dst|port" => {
                let ip = value.rsplit_once('|').map_or(value, |(ip, _)| ip);
                vec![(DeclaredType::Ip.resolve(ip), ip)]
            }
            "domain" | "hostname" => vec![(IocType::Domain, value)],
            "hostname|port" => vec![(
                IocType::Domain,
                value.split_once('|').map_or(value, |(h, _)| h),
            )],
            "domain|ip" => match value.split_once('|') {
                Some((d, ip)) => vec![(IocType::Domain, d), (DeclaredType::Ip.resolve(ip), ip)],
                None => {
                    sink.refuse_in(self.file, at("value"), "domain|ip needs two parts");
                    return;
                }
            },
            "url" => vec![(IocType::Url, value)],
            "md5" => vec![(IocType::Md5, value)],
            "sha1" => vec![(IocType::Sha1, value)],
            "sha256" => vec![(IocType::Sha256, value)],
            "filename" => vec![(IocType::FileName, value)],
            "filename|md5" | "filename|sha1" | "filename|sha256" => {
                let Some((_, h)) = value.rsplit_once('|') else {
                    sink.refuse_in(
                        self.file,
                        at("value"),
                        format!("{ty} needs two parts (name|hash)"),
                    );
                    return;
                };
                let ht = match ty {
                    "filename|md5" => IocType::Md5,
                    "filename|sha1" => IocType::Sha1,
                    _ => IocType::Sha256,
                };
                vec![(ht, h)]
            }
            other => {
                sink.refuse_in(
                    self.file,
                    at("type"),
                    format!("MISP attribute type {other:?} is not indexed"),
                );
                return;
            }
        };
        let mut values: Vec<(IocType, String)> = Vec::with_capacity(parts.len());
        for (t, v) in parts {
            match t.normalize(v) {
                Ok(n) => values.push((t, n)),
                Err(reason) => {
                    sink.refuse_in(self.file, at("value"), format!("{ty}: {reason}"));
                    return;
                }
            }
        }
        let (labels, techniques) = tags(a.get("Tag"));
        let composite_name = ty
            .starts_with("filename|")
            .then(|| value.rsplit_once('|').map(|(n, _)| n))
            .flatten();
        let meta = if labels.is_empty() && techniques.is_empty() && composite_name.is_none() {
            self.ev_meta.clone()
        } else {
            let mut l = self.ev_labels.to_vec();
            for x in labels {
                if !l.contains(&x) {
                    l.push(x);
                }
            }
            let mut t = self.ev_techniques.clone();
            t.extend(techniques);
            Arc::new(IndicatorMeta {
                name: match composite_name {
                    Some(n) => format!("{} ({n})", self.info),
                    None => self.info.to_string(),
                },
                labels: l,
                techniques: t.into_iter().collect(),
                source: self.source.clone(),
                ..IndicatorMeta::default()
            })
        };
        let id: Box<str> = match a.get("uuid").and_then(Value::as_str) {
            Some(u) if !u.is_empty() => Box::from(u),
            _ => list_entry_id(self.id_file, values[0].0, &values[0].1),
        };
        let what = if values.len() == 1 {
            let (t, v) = values.swap_remove(0);
            IndicatorBody::Value(t, v.into_boxed_str())
        } else {
            IndicatorBody::AnyOf(values)
        };
        sink.push(Indicator { id, meta, what });
    }
}

/// Labels and ATT&CK techniques of a `Tag` array.
fn tags(v: Option<&Value>) -> (Vec<String>, BTreeSet<String>) {
    let mut labels = Vec::new();
    let mut techniques = BTreeSet::new();
    for t in v.and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = t.get("name").and_then(Value::as_str) else {
            continue;
        };
        if name.starts_with("misp-galaxy:mitre-") {
            let found = techniques_in(name);
            if !found.is_empty() {
                techniques.extend(found);
                continue;
            }
        }
        if !labels.iter().any(|l: &String| l == name) {
            labels.push(name.to_string());
        }
    }
    (labels, techniques)
}

/// Every `T1234[.567]` in a text (as a word).
fn techniques_in(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let word_start = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if word_start
            && b[i] == b'T'
            && i + 5 <= b.len()
            && b[i + 1..i + 5].iter().all(u8::is_ascii_digit)
        {
            let mut end = i + 5;
            if end + 4 <= b.len()
                && b[end] == b'.'
                && b[end + 1..end + 4].iter().all(u8::is_ascii_digit)
            {
                end += 4;
            }
            if b.get(end).is_none_or(|c| !c.is_ascii_alphanumeric()) {
                out.push(s[i..end].to_string());
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_from_galaxy_tags() {
        assert_eq!(
            techniques_in("misp-galaxy:mitre-attack-pattern=\"PowerShell - T1059.001\""),
            vec!["T1059.001"]
        );
        assert_eq!(techniques_in("T1234x T4321"), vec!["T4321"]);
    }
}
