//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use vigie_event::{read_input, Event, InputFile, ReadError, ReadOptions, ReadStats};
pub use vigie_test_support::shared;

/// Everything one read produced.
pub struct Outcome {
    pub events: Vec<Event>,
    pub errors: Vec<ReadError>,
    pub result: Result<ReadStats, ReadError>,
}

pub fn read_all(input: &InputFile, opts: &ReadOptions) -> Outcome {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let result = read_input(input, opts, &mut |e| events.push(e), &mut |e| {
        errors.push(e)
    });
    Outcome {
        events,
        errors,
        result,
    }
}

/// `bytes` gzip-compressed.
pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}
