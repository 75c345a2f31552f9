//! The terminal progress bar of a hunt: bytes read over bytes to read, on stderr, only
//! when stderr is a terminal (piped or redirected runs get clean stderr).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A [`vigie_hunt::Progress`] drawn as an indicatif bar.
#[derive(Debug, Clone)]
pub struct TerminalProgress {
    bar: ProgressBar,
}

impl TerminalProgress {
    /// A bar on stderr when `wanted` and stderr is a terminal; hidden otherwise.
    pub fn stderr(wanted: bool) -> TerminalProgress {
        let bar = if wanted && std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        TerminalProgress { bar }
    }

    /// Starts the bar as a counter of `total` items named `unit` (`vigie exercise`'s
    /// samples) instead of bytes; [`vigie_hunt::Progress::position`] and `finish` move
    /// and clear it as for a hunt.
    pub fn start_count(&self, total: u64, unit: &str) {
        self.bar.set_length(total);
        let template = format!(
            "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{human_pos}}/{{human_len}} {unit} {{per_sec}} eta {{eta}}"
        );
        if let Ok(style) = ProgressStyle::with_template(&template) {
            self.bar.set_style(style);
        }
    }

    /// Runs `f` with the bar cleared, so what `f` writes to stderr (a warning) is not
    /// drawn over; the bar comes back after.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }
}

impl vigie_hunt::Progress for TerminalProgress {
    fn start(&self, total: u64) {
        // stdin alone has no known size: a byte counter without a bar. The templates
        // are constants; if indicatif ever rejects one, its default style stays.
        let template = if total == 0 {
            "{spinner} [{elapsed_precise}] {bytes} {bytes_per_sec}"
        } else {
            self.bar.set_length(total);
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style);
        }
    }
    fn position(&self, bytes: u64) {
        self.bar.set_position(bytes);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
