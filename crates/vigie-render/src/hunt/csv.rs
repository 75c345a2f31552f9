//! One CSV row per detection, with a header row.
//!
//! Columns: `timestamp,level,rule_id,rule_title,tags,source,record,correlation,fields`.
//! `tags` are joined with `;`. `fields` is the matched fields as compact JSON, keyword
//! matches under `"keywords"` (for a correlation:
//! `{"group":{..},"value":..,"first":..,"events":[..]}`), so any field set fits one
//! column. Values are those of the wire form ([`vigie_wire::v1::Detection`]).

use std::io::{self, Write};

use serde_json::json;
use vigie_hunt::{Detection, Sink};
use vigie_sigma::RuleMeta;
use vigie_wire::v1;

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
        let w = v1::Detection::from_engine(d, meta);
        let fields = match &w.hit {
            None if w.keywords.is_empty() => serde_json::to_string(&w.fields),
            None => {
                let mut f = w.fields.clone();
                f.0.push(("keywords".into(), json!(w.keywords)));
                serde_json::to_string(&f)
            }
            Some(c) => serde_json::to_string(&json!({
                "group": c.group,
                "value": c.value,
                "first": c.first,
                "events": c.events,
            })),
        }
        .map_err(io::Error::other)?;
        let record = w.record.map(|r| r.to_string()).unwrap_or_default();
        self.out
            .write_record([
                w.timestamp.as_deref().unwrap_or(""),
                w.level.as_str(),
                w.rule_id.as_str(),
                w.rule_title.as_str(),
                w.tags.join(";").as_str(),
                w.source.as_deref().unwrap_or(""),
                record.as_str(),
                if w.correlation { "true" } else { "false" },
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
