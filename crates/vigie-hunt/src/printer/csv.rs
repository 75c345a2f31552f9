//! One CSV row per detection, with a header row.
//!
//! Columns: `timestamp,level,rule_id,rule_title,tags,source,record,correlation,fields`.
//! `tags` are joined with `;`. `fields` is the matched fields as compact JSON (for a
//! correlation: `{"group":{..},"value":..,"first":..,"events":[..]}`), so any field set
//! fits one column.

use std::io::{self, Write};

use serde_json::json;
use vigie_sigma::RuleMeta;

use super::{rfc3339, FieldsObject, PairsObject, Sink};
use crate::Detection;

/// CSV printer.
pub struct CsvPrinter<W: Write> {
    out: csv::Writer<W>,
    header: bool,
}

impl<W: Write> CsvPrinter<W> {
    pub fn new(out: W) -> Self {
        CsvPrinter {
            out: csv::Writer::from_writer(out),
            header: false,
        }
    }
}

const HEADER: [&str; 9] = [
    "timestamp",
    "level",
    "rule_id",
    "rule_title",
    "tags",
    "source",
    "record",
    "correlation",
    "fields",
];

fn csv_err(e: csv::Error) -> io::Error {
    io::Error::other(e)
}

impl<W: Write> CsvPrinter<W> {
    fn ensure_header(&mut self) -> io::Result<()> {
        if !self.header {
            self.header = true;
            self.out.write_record(HEADER).map_err(csv_err)?;
        }
        Ok(())
    }
}

impl<W: Write> Sink for CsvPrinter<W> {
    fn write(&mut self, d: &Detection, meta: &RuleMeta) -> io::Result<()> {
        self.ensure_header()?;
        let fields = match &d.correlation {
            None => serde_json::to_string(&FieldsObject(&d.fields)),
            Some(c) => serde_json::to_string(&json!({
                "group": PairsObject(&c.group),
                "value": c.value,
                "first": rfc3339(&c.first),
                "events": c.events.iter().map(|(s, r)| json!({"source": &**s, "record": r})).collect::<Vec<_>>(),
            })),
        }
        .map_err(io::Error::other)?;
        let ts = d.timestamp.as_ref().map(rfc3339).unwrap_or_default();
        let record = d.record.map(|r| r.to_string()).unwrap_or_default();
        self.out
            .write_record([
                ts.as_str(),
                meta.level.as_str(),
                meta.id.as_deref().unwrap_or(""),
                meta.title.as_str(),
                meta.tags.join(";").as_str(),
                d.source.as_deref().unwrap_or(""),
                record.as_str(),
                if d.correlation.is_some() {
                    "true"
                } else {
                    "false"
                },
                fields.as_str(),
            ])
            .map_err(csv_err)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
    fn finish(&mut self) -> io::Result<()> {
        // A run without detections still gets its header, so the file is valid CSV.
        self.ensure_header()?;
        self.out.flush()
    }
}
