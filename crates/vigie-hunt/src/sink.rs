//! Where a hunt's detections go. The pipeline hands them over one at a time, in output
//! order; what becomes of them (a printer, a store, a channel) is the caller's business.

use std::io;

use vigie_sigma::RuleMeta;

use crate::Detection;

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

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn write(&mut self, d: &Detection, meta: &RuleMeta) -> io::Result<()> {
        (**self).write(d, meta)
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
    fn finish(&mut self) -> io::Result<()> {
        (**self).finish()
    }
}
