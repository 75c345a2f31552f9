//! One JSON object per line (schema: [`vigie_wire::v1::Detection`]).

use std::io::{self, Write};

use vigie_hunt::{Detection, Sink};
use vigie_sigma::RuleMeta;
use vigie_wire::v1;

/// JSON-lines printer.
pub struct JsonlPrinter<W: Write> {
    out: W,
}

impl<W: Write> JsonlPrinter<W> {
    pub fn new(out: W) -> Self {
        JsonlPrinter { out }
    }
}

impl<W: Write> Sink for JsonlPrinter<W> {
    fn write(&mut self, d: &Detection, meta: &RuleMeta) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &v1::Detection::from_engine(d, meta))
            .map_err(io::Error::other)?;
        self.out.write_all(b"\n")
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
