//! `--sort time`: detections in event-time order instead of input order. The only
//! printer wrapper that holds detections: nothing is written until the hunt ends, and
//! memory grows with the number of detections (not of events).

use std::io;

use vigie_hunt::{Detection, Sink};
use vigie_sigma::RuleMeta;

/// Holds every detection, then writes them to the inner sink sorted by event time;
/// detections without a time come last, ties keep input order.
pub struct SortByTime<S: Sink> {
    inner: S,
    held: Vec<(Detection, RuleMeta)>,
}

impl<S: Sink> SortByTime<S> {
    pub fn new(inner: S) -> Self {
        SortByTime {
            inner,
            held: Vec::new(),
        }
    }
}

impl<S: Sink> Sink for SortByTime<S> {
    fn write(&mut self, d: &Detection, meta: &RuleMeta) -> io::Result<()> {
        self.held.push((d.clone(), meta.clone()));
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        let mut held = std::mem::take(&mut self.held);
        // Stable sort: equal times keep input order. `None` sorts after every time.
        held.sort_by_key(|(d, _)| (d.timestamp.is_none(), d.timestamp));
        for (d, m) in &held {
            self.inner.write(d, m)?;
        }
        self.inner.finish()
    }
}

/// The width of the terminal on stdout, else `$COLUMNS`, else `default`.
pub fn output_width(default: usize) -> usize {
    if let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size() {
        return w as usize;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(default)
}
