//! The progress bar: bytes read over bytes to read, on stderr, only on a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar over `total` bytes; hidden unless `wanted` and stderr is a terminal, so piped
/// or redirected runs get clean stderr.
pub(crate) fn bar(total: u64, wanted: bool) -> ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    // stdin alone has no known size: a byte counter without a bar.
    let length = (total > 0).then_some(total);
    let pb = ProgressBar::with_draw_target(length, ProgressDrawTarget::stderr());
    if length.is_none() {
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bytes} {bytes_per_sec}")
        {
            pb.set_style(style);
        }
        return pb;
    }
    // The template is a constant; if indicatif ever rejects it we fall back to its default.
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
    ) {
        pb.set_style(style);
    }
    pb
}
