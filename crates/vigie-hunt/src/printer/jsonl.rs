//! One JSON object per line; schema in the module docs of [`crate::printer`].

use std::io::{self, Write};
use std::sync::Arc;

use serde::Serialize;
use vigie_sigma::{Level, RuleMeta};

use super::{rfc3339, FieldsObject, PairsObject, Sink};
use crate::Detection;

/// JSON-lines printer.
pub struct JsonlPrinter<W: Write> {
    out: W,
}

impl<W: Write> JsonlPrinter<W> {
    pub fn new(out: W) -> Self {
        JsonlPrinter { out }
    }
}

#[derive(Serialize)]
struct Line<'a> {
    rule_id: Option<&'a str>,
    rule_title: &'a str,
    level: Level,
    tags: &'a [String],
    timestamp: Option<String>,
    source: Option<&'a str>,
    record: Option<u64>,
    fields: FieldsObject<'a>,
    correlation: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<PairsObject<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<Vec<EventRef<'a>>>,
}

#[derive(Serialize)]
struct EventRef<'a> {
    source: &'a str,
    record: u64,
}

/// The JSON object for one detection (also used by the CSV printer's tests).
pub(crate) fn to_value(d: &Detection, meta: &RuleMeta) -> serde_json::Result<String> {
    let c = d.correlation.as_ref();
    let line = Line {
        rule_id: meta.id.as_deref(),
        rule_title: &meta.title,
        level: meta.level,
        tags: &meta.tags,
        timestamp: d.timestamp.as_ref().map(rfc3339),
        source: d.source.as_deref(),
        record: d.record,
        fields: FieldsObject(&d.fields),
        correlation: c.is_some(),
        first: c.map(|c| rfc3339(&c.first)),
        last: c.map(|c| rfc3339(&c.last)),
        group: c.map(|c| PairsObject(&c.group)),
        value: c.map(|c| c.value),
        events: c.map(|c| {
            c.events
                .iter()
                .map(|(s, r): &(Arc<str>, u64)| EventRef {
                    source: s,
                    record: *r,
                })
                .collect()
        }),
    };
    serde_json::to_string(&line)
}

impl<W: Write> Sink for JsonlPrinter<W> {
    fn write(&mut self, d: &Detection, meta: &RuleMeta) -> io::Result<()> {
        let s = to_value(d, meta).map_err(io::Error::other)?;
        self.out.write_all(s.as_bytes())?;
        self.out.write_all(b"\n")
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
