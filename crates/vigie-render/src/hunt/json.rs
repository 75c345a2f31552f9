//! One JSON array of detections (`--format json`), streamed: `[` before the first, one
//! object per line, `]` at the end, so it is valid JSON even with no detection and
//! memory stays flat however many there are.

use std::io::{self, Write};

use vigie_hunt::{Detection, Sink};
use vigie_sigma::RuleMeta;
use vigie_wire::v1;

/// JSON-array printer.
pub struct JsonArrayPrinter<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> JsonArrayPrinter<W> {
    pub fn new(out: W) -> Self {
        JsonArrayPrinter { out, written: 0 }
    }
}

impl<W: Write> Sink for JsonArrayPrinter<W> {
    fn write(&mut self, d: &Detection, meta: &RuleMeta) -> io::Result<()> {
        self.out
            .write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
        self.written += 1;
        serde_json::to_writer(&mut self.out, &v1::Detection::from_engine(d, meta))
            .map_err(io::Error::other)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out
            .write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()
    }
}
