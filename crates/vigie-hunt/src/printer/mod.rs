//! Printers: where detections go. Each writes one detection at a time (streaming) in
//! the order the pipeline hands them over.
//!
//! The JSON-lines schema (stable; fields are only ever added):
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `rule_id` | string or null | Sigma `id` of the rule |
//! | `rule_title` | string | Sigma `title` |
//! | `level` | string | `informational`, `low`, `medium`, `high`, `critical` |
//! | `tags` | array of strings | Sigma `tags` |
//! | `timestamp` | string or null | event time, RFC 3339 UTC (`2024-05-01T10:00:00.123Z`); for a correlation, the last contributing event |
//! | `source` | string or null | input file (`-` for stdin); null for a correlation |
//! | `record` | integer or null | EVTX record id, JSON-lines line number or JSON-array element index; null for a correlation |
//! | `fields` | object | the event fields that matched, by the name the rule used |
//! | `correlation` | bool | true for a correlation hit |
//!
//! A correlation hit adds `first`, `last` (RFC 3339), `group` (object: group-by field →
//! value), `value` (the aggregate that crossed the threshold) and `events` (array of
//! `{"source", "record"}` of contributing events).

mod csv;
mod jsonl;
mod table;

use std::io::{self, Write};

use vigie_sigma::RuleMeta;

use crate::Detection;

pub use self::csv::CsvPrinter;
pub use self::jsonl::JsonlPrinter;
pub use self::table::TablePrinter;

/// Receives detections in output order.
pub trait Sink {
    fn write(&mut self, d: &Detection, meta: &RuleMeta) -> io::Result<()>;
    /// Pushes buffered output out; called when the input goes quiet, so a live stream
    /// (stdin) shows its detections without waiting for the buffer to fill.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Flushes; called once at the end.
    fn finish(&mut self) -> io::Result<()>;
}

/// Keeps every detection (tests, library users).
#[derive(Debug, Default)]
pub struct Collect(pub Vec<Detection>);

impl Sink for Collect {
    fn write(&mut self, d: &Detection, _meta: &RuleMeta) -> io::Result<()> {
        self.0.push(d.clone());
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The printers `vigie hunt --format` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Jsonl,
    Csv,
}

/// A `--format` name that is no printer's (the text given).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?} (expected table, jsonl or csv)")]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for OutputFormat {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(OutputFormat::Table),
            "jsonl" | "json" => Ok(OutputFormat::Jsonl),
            "csv" => Ok(OutputFormat::Csv),
            other => Err(UnknownFormat(other.to_string())),
        }
    }
}

/// A printer of `format` writing to `out` (buffered here).
pub fn printer(format: OutputFormat, out: Box<dyn Write + Send>) -> Box<dyn Sink + Send> {
    let out = io::BufWriter::with_capacity(64 * 1024, out);
    match format {
        OutputFormat::Table => Box::new(TablePrinter::new(out)),
        OutputFormat::Jsonl => Box::new(JsonlPrinter::new(out)),
        OutputFormat::Csv => Box::new(CsvPrinter::new(out)),
    }
}

/// RFC 3339, UTC, `Z`, as many fraction digits as needed.
pub(crate) fn rfc3339(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Matched fields as a JSON object in rule order; a name repeated (two selections on the
/// same field) is written once, with its first value.
pub(crate) struct FieldsObject<'a>(pub &'a [(std::sync::Arc<str>, serde_json::Value)]);

impl serde::Serialize for FieldsObject<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        for (i, (k, v)) in self.0.iter().enumerate() {
            if self.0[..i].iter().any(|(k2, _)| k2 == k) {
                continue;
            }
            m.serialize_entry(&**k, v)?;
        }
        m.end()
    }
}

/// `[(name, value)]` as a JSON object, keeping order.
pub(crate) struct PairsObject<'a>(pub &'a [(String, serde_json::Value)]);

impl serde::Serialize for PairsObject<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests;
