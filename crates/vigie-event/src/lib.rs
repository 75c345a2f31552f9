//! Events: the one record type every detector reads, and the readers that make it.
//!
//! An [`Event`] owns the parsed document of one log record (a `serde_json::Value`, or
//! for a flat object the list of its members, a [`FlatDoc`]) and knows its [`Shape`]. Detectors never copy field values: they walk the document once per
//! event with [`Event::visit_fields`], which hands out every leaf under each name Sigma
//! may use for it (the short Sigma name such as `Image` or `EventID`, and the full dotted
//! path such as `Event.EventData.Image`), and keep `&Value` borrows.
//!
//! Readers (EVTX, JSON lines / arrays, syslog, gzip, directories, stdin) live in [`read`];
//! the syslog parser and stream framing (shared with `vigie serve`) in [`syslog`].

pub mod event;
pub mod flat;
pub mod read;
mod time_fast;
pub mod tree;

pub use event::{Event, Shape};
pub use flat::FlatDoc;
pub use read::{auditd, cef, leef, netdev, syslog, weblog, zeek};
pub use read::{
    discover, read_bytes, read_input, Format, InputFile, Position, ReadError, ReadErrorKind,
    ReadOptions, ReadStats,
};
pub use tree::Node;
