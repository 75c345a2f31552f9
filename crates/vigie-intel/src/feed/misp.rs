//! MISP feeds (being built).
use std::path::Path;

use super::{LoadOptions, Position, Sink};

pub(crate) fn load_feed(_dir: &Path, _opts: &LoadOptions, sink: &mut Sink<'_>) {
    sink.refuse(Position::File, "MISP reader not built yet");
}

pub(crate) fn load_event_file(path: &Path, opts: &LoadOptions, sink: &mut Sink<'_>) {
    let Some(text) = super::read_text(path, sink) else {
        return;
    };
    parse_event_into(&text, &super::file_name_of(path), opts, sink);
}

pub(crate) fn parse_event_into(_text: &str, _file: &str, _opts: &LoadOptions, sink: &mut Sink<'_>) {
    sink.refuse(Position::File, "MISP reader not built yet");
}
