//! Plumbing shared by the readers: the callback pair with its counters, and a byte
//! counter around the underlying reader.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::Value;

use super::{Position, ReadError, ReadErrorKind, ReadStats};
use crate::Event;

/// The callbacks of one [`super::read_input`] call, counting what goes through them.
pub(crate) struct Sink<'a> {
    pub name: Arc<str>,
    on_event: &'a mut dyn FnMut(Event),
    on_error: &'a mut dyn FnMut(ReadError),
    pub events: u64,
    pub skipped: u64,
    /// Records read so far out of containers (`{"Records":[...]}`, see `json.rs`).
    pub contained: u64,
    /// Bytes pulled from the underlying input (compressed bytes for gzip).
    pub bytes: Arc<AtomicU64>,
}

impl<'a> Sink<'a> {
    pub fn new(
        name: Arc<str>,
        on_event: &'a mut dyn FnMut(Event),
        on_error: &'a mut dyn FnMut(ReadError),
    ) -> Self {
        Sink {
            name,
            on_event,
            on_error,
            events: 0,
            skipped: 0,
            contained: 0,
            bytes: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn event(&mut self, record: u64, doc: Value) {
        self.events += 1;
        (self.on_event)(Event::new(self.name.clone(), record, doc));
    }

    pub fn event_node(&mut self, record: u64, doc: crate::Node) {
        self.events += 1;
        (self.on_event)(Event::from_node(self.name.clone(), record, doc));
    }

    pub fn event_flat(&mut self, record: u64, doc: crate::FlatDoc) {
        self.events += 1;
        (self.on_event)(Event::from_flat(self.name.clone(), record, doc));
    }

    pub fn error(&mut self, position: Position, kind: ReadErrorKind, message: impl Into<String>) {
        self.skipped += 1;
        let err = self.make_error(position, kind, message);
        tracing::debug!("{err}");
        (self.on_error)(err);
    }

    /// An error about this input, for returning (not reported through `on_error`).
    pub fn make_error(
        &self,
        position: Position,
        kind: ReadErrorKind,
        message: impl Into<String>,
    ) -> ReadError {
        ReadError {
            source_name: self.name.clone(),
            position,
            kind,
            message: message.into(),
        }
    }

    pub fn stats(&self) -> ReadStats {
        ReadStats {
            events: self.events,
            skipped: self.skipped,
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }
}

/// Counts how far into the input reading has got, into a per-input counter and, when
/// given, the caller's progress counter.
///
/// It is a high-water mark of the read position, not a sum of reads: the EVTX parser
/// seeks back and reads some chunk headers twice, and progress must not pass the size.
pub(crate) struct Counting<R> {
    inner: R,
    pos: u64,
    high: u64,
    local: Arc<AtomicU64>,
    global: Option<Arc<AtomicU64>>,
}

impl<R> Counting<R> {
    pub fn new(inner: R, local: Arc<AtomicU64>, global: Option<Arc<AtomicU64>>) -> Self {
        Counting {
            inner,
            pos: 0,
            high: 0,
            local,
            global,
        }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos = self.pos.saturating_add(n as u64);
        if self.pos > self.high {
            let grown = self.pos - self.high;
            self.high = self.pos;
            self.local.fetch_add(grown, Ordering::Relaxed);
            if let Some(g) = &self.global {
                g.fetch_add(grown, Ordering::Relaxed);
            }
        }
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.pos = self.inner.seek(pos)?;
        Ok(self.pos)
    }
}
