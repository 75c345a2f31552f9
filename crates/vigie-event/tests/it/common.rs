//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use vigie_event::{read_input, Event, InputFile, ReadError, ReadOptions, ReadStats};

/// The shared test data folder (`VIGIE_SHARED`, default `../shared` from the repo root).
pub fn shared() -> PathBuf {
    let dir = std::env::var_os("VIGIE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        dir.is_dir(),
        "test data folder {} is missing: set VIGIE_SHARED to the shared data folder",
        dir.display()
    );
    dir
}

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
