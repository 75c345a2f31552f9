//! CSV files: a header row naming the columns, then one row per indicator.
//!
//! - Comment lines (`#` first) before the header row are skipped; among them
//!   `# type: TYPE` and `# name: NAME` as in plain lists ([`super::list`]).
//! - Value columns, found from the header (names compared case-insensitively, without
//!   surrounding blanks):
//!   1. a column named `value`, `indicator`, `ioc` or `observable`: its type is the
//!      row's `type` column when there is one (any [`DeclaredType`] name, MISP's
//!      included: `ip-dst`, `domain`, `sha256`...), else the declared type (the
//!      source's `TYPE:` prefix or `# type:`);
//!   2. otherwise every column named after a type (`ip`, `ipv4`, `domain`, `url`,
//!      `md5`, `sha256`, `filename`, ...) holds values of that type;
//!   3. otherwise, with a declared type and a single column, that column.
//!
//!   With none of these the file is refused.
//! - Optional columns: `id` (used as the indicator id when there is one value
//!   column), `name`, `confidence` (0-100), `labels` or `tags` (`;`-separated),
//!   `techniques` (`;`-separated ATT&CK ids), `valid_from`, `valid_until` (RFC 3339).
//! - One indicator per non-empty value cell; ids as plain lists unless an `id` column
//!   gives one; a value repeated is refused as a duplicate. Positions are the line and
//!   the column (character) of the field, exact for unquoted fields.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

use super::{Position, Sink};
use crate::indicator::{
    list_entry_digest, list_entry_id_from_digest, DeclaredType, Indicator, IndicatorBody,
    IndicatorMeta,
};

pub(crate) fn load_file(path: &Path, declared: Option<DeclaredType>, sink: &mut Sink<'_>) {
    let Some(text) = super::read_text(path, sink) else {
        return;
    };
    parse_into(&text, &super::file_name_of(path), declared, sink);
}

#[derive(Default)]
struct Columns {
    /// (column, its type when fixed by the header or the declared type)
    values: Vec<(usize, Option<DeclaredType>)>,
    row_type: Option<usize>,
    id: Option<usize>,
    name: Option<usize>,
    confidence: Option<usize>,
    labels: Option<usize>,
    techniques: Option<usize>,
    valid_from: Option<usize>,
    valid_until: Option<usize>,
}

impl Columns {
    fn has_meta(&self) -> bool {
        self.name.is_some()
            || self.confidence.is_some()
            || self.labels.is_some()
            || self.techniques.is_some()
            || self.valid_from.is_some()
            || self.valid_until.is_some()
    }
}

pub(crate) fn parse_into(
    text: &str,
    file_name: &str,
    declared: Option<DeclaredType>,
    sink: &mut Sink<'_>,
) {
    let header = super::list::read_header(text, sink);
    let declared = declared.or(header.declared);
    // Skip leading comment and blank lines.
    let mut skipped_lines = 0u64;
    let mut start = 0usize;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            skipped_lines += 1;
            start += line.len();
        } else {
            break;
        }
    }
    let body = &text[start..];
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes());
    let mut records = rdr.byte_records();
    let head = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            sink.refuse(
                Position::Line {
                    line: skipped_lines + 1,
                    column: 1,
                },
                format!("CSV header row: {e}"),
            );
            return;
        }
        None => {
            sink.refuse(Position::File, "empty CSV (no header row)");
            return;
        }
    };
    let names: Vec<String> = head
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_ascii_lowercase())
        .collect();
    let mut cols = Columns::default();
    for (k, n) in names.iter().enumerate() {
        match n.as_str() {
            "type" => cols.row_type = Some(k),
            "id" => cols.id = Some(k),
            "name" => cols.name = Some(k),
            "confidence" => cols.confidence = Some(k),
            "labels" | "tags" => cols.labels = Some(k),
            "techniques" => cols.techniques = Some(k),
            "valid_from" => cols.valid_from = Some(k),
            "valid_until" => cols.valid_until = Some(k),
            _ => {}
        }
    }
    if let Some(k) = names
        .iter()
        .position(|n| matches!(n.as_str(), "value" | "indicator" | "ioc" | "observable"))
    {
        if cols.row_type.is_none() && declared.is_none() {
            sink.refuse(
                Position::Line {
                    line: skipped_lines + 1,
                    column: 1,
                },
                "the value column has no type: add a `type` column, prefix the source with TYPE: or add a `# type: TYPE` line",
            );
            return;
        }
        cols.values.push((
            k,
            if cols.row_type.is_some() {
                None
            } else {
                declared
            },
        ));
    } else {
        for (k, n) in names.iter().enumerate() {
            if n == "type" || n == "id" || n == "name" {
                continue;
            }
            if let Ok(t) = n.parse::<DeclaredType>() {
                cols.values.push((k, Some(t)));
            }
        }
        if cols.values.is_empty() {
            match (declared, names.len()) {
                (Some(t), 1) => cols.values.push((0, Some(t))),
                _ => {
                    sink.refuse(
                        Position::Line {
                            line: skipped_lines + 1,
                            column: 1,
                        },
                        "no value column: name it `value` (with a type) or after its type (e.g. `ip`, `domain`, `sha256`)",
                    );
                    return;
                }
            }
        }
    }
    let shared = Arc::new(IndicatorMeta {
        name: header.name.clone().unwrap_or_else(|| file_name.to_string()),
        source: sink.file.clone(),
        ..IndicatorMeta::default()
    });
    let mut seen: FxHashMap<[u8; 16], u64> = FxHashMap::default();
    for rec in records {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line()) + skipped_lines;
                sink.refuse(
                    Position::Line { line, column: 1 },
                    format!("CSV: {}", e.kind_message()),
                );
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line()) + skipped_lines;
        let mut fields: Vec<Option<&str>> = Vec::with_capacity(rec.len());
        let mut columns: Vec<u64> = Vec::with_capacity(rec.len());
        let mut col = 1u64;
        for f in rec.iter() {
            columns.push(col);
            col += f.len() as u64 + 1;
            fields.push(std::str::from_utf8(f).ok());
        }
        if fields.iter().all(|f| f.is_none_or(|s| s.trim().is_empty())) {
            continue;
        }
        let pos = |k: usize| Position::Line {
            line,
            column: columns.get(k).copied().unwrap_or(1),
        };
        let cell = |k: Option<usize>| -> Option<&str> {
            k.and_then(|k| fields.get(k).copied().flatten())
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        // Row metadata.
        let meta = if cols.has_meta() {
            match row_meta(&cols, &cell, &shared) {
                Ok(m) => Arc::new(m),
                Err((k, reason)) => {
                    sink.refuse(pos(k), reason);
                    continue;
                }
            }
        } else {
            shared.clone()
        };
        for &(k, fixed) in &cols.values {
            let Some(&field) = fields.get(k) else {
                continue;
            };
            let Some(raw) = field else {
                sink.refuse(pos(k), "not UTF-8");
                continue;
            };
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let dt = match fixed {
                Some(t) => t,
                None => match cell(cols.row_type).map(str::parse::<DeclaredType>) {
                    Some(Ok(t)) => t,
                    Some(Err(e)) => {
                        sink.refuse(pos(cols.row_type.unwrap_or(0)), e.to_string());
                        continue;
                    }
                    None => {
                        sink.refuse(pos(cols.row_type.unwrap_or(0)), "empty type");
                        continue;
                    }
                },
            };
            let ty = dt.resolve(raw);
            let norm = match ty.normalize(raw) {
                Ok(n) => n,
                Err(reason) => {
                    sink.refuse(pos(k), reason);
                    continue;
                }
            };
            let d = list_entry_digest(file_name, ty, &norm);
            if let Some(first) = seen.get(&d) {
                sink.refuse(pos(k), format!("duplicate of line {first}"));
                continue;
            }
            seen.insert(d, line);
            let id = match cell(cols.id) {
                Some(id) if cols.values.len() == 1 => Box::from(id),
                _ => list_entry_id_from_digest(&d),
            };
            sink.push(Indicator {
                id,
                meta: meta.clone(),
                what: IndicatorBody::Value(ty, norm.into_boxed_str()),
            });
        }
    }
}

fn row_meta<'a>(
    cols: &Columns,
    cell: &impl Fn(Option<usize>) -> Option<&'a str>,
    shared: &IndicatorMeta,
) -> Result<IndicatorMeta, (usize, String)> {
    let time = |k: Option<usize>, what: &str| -> Result<Option<DateTime<Utc>>, (usize, String)> {
        match cell(k) {
            None => Ok(None),
            Some(s) => DateTime::parse_from_rfc3339(s)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| {
                    (
                        k.unwrap_or(0),
                        format!("{what} {s:?} is not an RFC 3339 timestamp"),
                    )
                }),
        }
    };
    let confidence = match cell(cols.confidence) {
        None => None,
        Some(s) => match s.parse::<u8>() {
            Ok(c) if c <= 100 => Some(c),
            _ => {
                return Err((
                    cols.confidence.unwrap_or(0),
                    format!("confidence {s:?} is not an integer 0-100"),
                ))
            }
        },
    };
    let split = |k: Option<usize>| -> Vec<String> {
        cell(k)
            .map(|s| {
                s.split(';')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut techniques = Vec::new();
    for t in split(cols.techniques) {
        match super::stix::technique_id(&t) {
            Some(t) => techniques.push(t),
            None => {
                return Err((
                    cols.techniques.unwrap_or(0),
                    format!("{t:?} is not an ATT&CK technique id (T1234 or T1234.567)"),
                ))
            }
        }
    }
    techniques.sort();
    techniques.dedup();
    Ok(IndicatorMeta {
        name: cell(cols.name)
            .map(str::to_string)
            .unwrap_or_else(|| shared.name.clone()),
        confidence,
        labels: split(cols.labels),
        techniques,
        valid_from: time(cols.valid_from, "valid_from")?,
        valid_until: time(cols.valid_until, "valid_until")?,
        source: shared.source.clone(),
    })
}

trait KindMessage {
    fn kind_message(&self) -> String;
}

impl KindMessage for ::csv::Error {
    fn kind_message(&self) -> String {
        match self.kind() {
            ::csv::ErrorKind::Utf8 { err, .. } => format!("not UTF-8 ({err})"),
            _ => self.to_string(),
        }
    }
}
