//! How a hunt tells its caller how far it is: bytes read over bytes to read. The
//! pipeline only reports numbers; drawing them (a terminal bar, a service's metrics) is
//! the caller's business, so this crate has no terminal code.

/// Receives a hunt's progress, from the thread that writes detections.
pub trait Progress: Send + Sync {
    /// Called once before reading; `total_bytes` is 0 when unknown (stdin alone).
    fn start(&self, total_bytes: u64);
    /// Bytes read so far (compressed size for gzip input), several times a second.
    fn position(&self, bytes: u64);
    /// Called once when every input is read.
    fn finish(&self);
}

impl std::fmt::Debug for dyn Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dyn Progress")
    }
}

/// Progress nobody watches.
pub(crate) struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: u64) {}
    fn position(&self, _: u64) {}
    fn finish(&self) {}
}
