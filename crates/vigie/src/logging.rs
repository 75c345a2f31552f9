//! Diagnostics on stderr (`tracing`), drawn around the progress bar: a warning printed
//! while the bar is shown clears the bar, prints, and lets the bar come back, instead of
//! being written over it.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use vigie_render::progress::TerminalProgress;

static PROGRESS: Mutex<Option<Arc<TerminalProgress>>> = Mutex::new(None);

/// Log lines from now on are printed around `bar`.
pub fn show_progress(bar: Arc<TerminalProgress>) {
    *PROGRESS.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
}

/// The bar is gone: log lines go straight to stderr again.
pub fn hide_progress() {
    *PROGRESS.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// Sets up `tracing` on stderr at `level` (a `tracing` filter: `warn`, `vigie=debug`...);
/// an invalid filter falls back to `warn`.
pub fn init(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LineWriter(Vec::new()))
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// One log event, buffered, written to stderr in one piece when dropped.
struct LineWriter(Vec<u8>);

impl Write for LineWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        let bar = PROGRESS.lock().unwrap_or_else(|e| e.into_inner()).clone();
        // Nothing sensible to do when stderr itself cannot be written.
        let write = || {
            let _ = std::io::stderr().lock().write_all(&self.0);
        };
        match bar {
            Some(b) => b.suspend(write),
            None => write(),
        }
    }
}
