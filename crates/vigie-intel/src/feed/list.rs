//! Plain lists: one value a line.
//!
//! - Blank lines are skipped; a line whose first non-blank character is `#` is a
//!   comment. Among the comment lines before the first value, `# type: TYPE` declares
//!   the type of every value (any [`DeclaredType`] name); `# name: NAME` names the list
//!   (default: the file name), which is the title its detections carry.
//! - The source's `TYPE:` prefix wins over a `# type:` line. With neither, the whole
//!   file is refused (position: file).
//! - A value is the line without surrounding blanks; for every type but file names, a
//!   blank followed by `#` starts a trailing comment (file names may hold ` #`).
//! - Each value is validated by [`crate::indicator::IocType::normalize`]; a value
//!   refused names its line and column. A value repeated in one list is refused as a
//!   duplicate of its first line (same id).
//! - Each entry's id is [`crate::indicator::list_entry_id`] of the file name, the type
//!   and the normalised value. All entries share one [`IndicatorMeta`].

use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{file_name_of, read_text, Position, Sink};
use crate::indicator::{
    list_entry_digest, list_entry_id_from_digest, DeclaredType, Indicator, IndicatorBody,
    IndicatorMeta, IocType,
};

pub(crate) fn load_file(path: &Path, declared: Option<DeclaredType>, sink: &mut Sink<'_>) {
    let Some(text) = read_text(path, sink) else {
        return;
    };
    parse_into(&text, &file_name_of(path), declared, sink);
}

/// The header lines a list may start with.
#[derive(Debug, Default)]
pub(crate) struct Header {
    pub declared: Option<DeclaredType>,
    pub name: Option<String>,
}

/// Read `# key: value` header comments (before the first non-comment line). An unknown
/// `# type:` value is refused at its line.
pub(crate) fn read_header(text: &str, sink: &mut Sink<'_>) -> Header {
    let mut h = Header::default();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let Some(c) = t.strip_prefix('#') else {
            break;
        };
        let Some((k, v)) = c.split_once(':') else {
            continue;
        };
        match k.trim().to_ascii_lowercase().as_str() {
            "type" => match v.trim().parse::<DeclaredType>() {
                Ok(d) => h.declared = Some(d),
                Err(e) => sink.refuse(
                    Position::Line {
                        line: i as u64 + 1,
                        column: 1,
                    },
                    e.to_string(),
                ),
            },
            "name" => {
                let n = v.trim();
                if !n.is_empty() {
                    h.name = Some(n.to_string());
                }
            }
            _ => {}
        }
    }
    h
}

pub(crate) fn parse_into(
    text: &str,
    file_name: &str,
    declared: Option<DeclaredType>,
    sink: &mut Sink<'_>,
) {
    let header = read_header(text, sink);
    let Some(declared) = declared.or(header.declared) else {
        sink.refuse(
            Position::File,
            "no type declared: prefix the source with TYPE: (e.g. ipv4:bad.txt) or add a `# type: TYPE` line",
        );
        return;
    };
    let meta = Arc::new(IndicatorMeta {
        name: header.name.unwrap_or_else(|| file_name.to_string()),
        source: sink.file.clone(),
        ..IndicatorMeta::default()
    });
    let mut seen: FxHashMap<[u8; 16], u64> = FxHashMap::default();
    for (i, line) in text.lines().enumerate() {
        let lineno = i as u64 + 1;
        let lead = line.len() - line.trim_start().len();
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let ty = declared.resolve(t);
        let value = if ty == IocType::FileName {
            t
        } else {
            match t.find([' ', '\t']) {
                Some(k) if t[k..].trim_start().starts_with('#') => t[..k].trim_end(),
                _ => t,
            }
        };
        let pos = Position::Line {
            line: lineno,
            column: lead as u64 + 1,
        };
        let norm = match ty.normalize(value) {
            Ok(n) => n,
            Err(reason) => {
                sink.refuse(pos, reason);
                continue;
            }
        };
        let d = list_entry_digest(file_name, ty, &norm);
        if let Some(first) = seen.get(&d) {
            sink.refuse(pos, format!("duplicate of line {first}"));
            continue;
        }
        seen.insert(d, lineno);
        sink.push(Indicator {
            id: list_entry_id_from_digest(&d),
            meta: meta.clone(),
            what: IndicatorBody::Value(ty, norm.into_boxed_str()),
        });
    }
}
