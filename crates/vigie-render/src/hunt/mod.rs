//! Printers of detections: where `vigie hunt` writes what it finds. Each writes one
//! detection at a time (streaming) in the order the pipeline hands them over, from the
//! wire form ([`vigie_wire::v1::Detection`], whose module documents the JSON schema),
//! so the JSON lines, the JSON array, the CSV and the table all say the same thing.

mod csv;
mod json;
mod jsonl;
mod sort;
mod summary;
mod table;

use std::io::{self, Write};

use vigie_hunt::Sink;

pub use self::csv::CsvPrinter;
pub use self::json::JsonArrayPrinter;
pub use self::jsonl::JsonlPrinter;
pub use self::sort::{output_width, SortByTime};
pub use self::summary::SummaryText;
pub use self::table::TablePrinter;

/// The printers `vigie hunt --format` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Aligned columns, as wide as the terminal.
    Table,
    /// One JSON object per line.
    Jsonl,
    /// One JSON array of objects.
    Json,
    /// One CSV row per detection.
    Csv,
}

/// An unknown `--format` name.
#[derive(Debug, thiserror::Error)]
#[error("unknown format {0:?} (expected table, jsonl, json or csv)")]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for OutputFormat {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(OutputFormat::Table),
            "jsonl" => Ok(OutputFormat::Jsonl),
            "json" => Ok(OutputFormat::Json),
            "csv" => Ok(OutputFormat::Csv),
            other => Err(UnknownFormat(other.to_string())),
        }
    }
}

/// A printer of `format` writing to `out` (buffered here); `width` is the table's width
/// in columns (the terminal's, when it is one).
pub fn printer(
    format: OutputFormat,
    out: Box<dyn Write + Send>,
    width: usize,
) -> Box<dyn Sink + Send> {
    let out = io::BufWriter::with_capacity(64 * 1024, out);
    match format {
        OutputFormat::Table => Box::new(TablePrinter::new(out, width)),
        OutputFormat::Jsonl => Box::new(JsonlPrinter::new(out)),
        OutputFormat::Json => Box::new(JsonArrayPrinter::new(out)),
        OutputFormat::Csv => Box::new(CsvPrinter::new(out)),
    }
}

#[cfg(test)]
mod tests;
