//! STIX 2.1 bundles (being built).
use std::path::Path;

use super::{Position, Sink};

pub(crate) fn load_file(path: &Path, sink: &mut Sink<'_>) {
    let Some(text) = super::read_text(path, sink) else {
        return;
    };
    parse_into(&text, sink);
}

pub(crate) fn parse_into(_text: &str, sink: &mut Sink<'_>) {
    sink.refuse(Position::File, "STIX reader not built yet");
}
