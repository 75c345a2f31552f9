//! Every EVTX edge case in the shared data is read without panic; damaged records are
//! reported and the good ones still come out.

use crate::common;

use std::collections::BTreeMap;

use common::{read_all, shared};
use vigie_event::{discover, Format, Position, ReadErrorKind, ReadOptions};

#[test]
fn all_edge_cases_read_without_panic() {
    let dir = shared().join("evtx/edge-cases");
    let (files, errors) = discover(std::slice::from_ref(&dir));
    // LICENSE-MIT sits in the folder: it must come back as unsupported, not vanish.
    assert!(
        errors
            .iter()
            .any(|e| e.kind == ReadErrorKind::UnsupportedFormat
                && e.source_name.ends_with("LICENSE-MIT")),
        "{errors:?}"
    );
    assert!(files.len() >= 20, "only {} inputs found", files.len());
    let mut summary = BTreeMap::new();
    for f in &files {
        assert_eq!(f.format, Format::Evtx, "{}", f.name);
        let out = read_all(f, &ReadOptions::default());
        let stats = out.result.as_ref().ok().cloned().unwrap_or_default();
        // The stats count exactly what went through the callbacks.
        if out.result.is_ok() {
            assert_eq!(stats.events, out.events.len() as u64, "{}", f.name);
            assert_eq!(stats.skipped, out.errors.len() as u64, "{}", f.name);
            assert!(stats.bytes <= f.size, "{}", f.name);
        }
        for e in &out.errors {
            assert!(
                matches!(
                    e.kind,
                    ReadErrorKind::EvtxChunkDamaged
                        | ReadErrorKind::EvtxChunkMissing
                        | ReadErrorKind::EvtxRecordDamaged
                ),
                "{e}"
            );
            assert_eq!(e.source_name, f.name);
            // The reader contains a panic of the parser; the parser should not have one.
            assert!(!e.message.contains("parser failed"), "{e}");
        }
        let name = f.path.file_name().unwrap().to_string_lossy().into_owned();
        summary.insert(
            name,
            (out.events.len(), out.errors.len(), out.result.is_err()),
        );
    }
    eprintln!("{summary:#?}");
}

/// Files known to hold damage next to good records.
#[test]
fn damaged_files_report_errors_and_keep_good_records() {
    let dir = shared().join("evtx/edge-cases");
    for name in [
        "sample_with_a_bad_chunk_magic.evtx",
        "sample-with-zero-data-size-event.evtx",
        "sysmon.evtx",
    ] {
        let (files, errors) = discover(&[dir.join(name)]);
        assert!(errors.is_empty(), "{errors:?}");
        let out = read_all(&files[0], &ReadOptions::default());
        let stats = out.result.expect("header is readable");
        assert!(!out.errors.is_empty(), "{name}: no error reported");
        assert!(stats.events > 0, "{name}: no good record");
        // The damage is located, not just "somewhere in the file".
        assert!(
            out.errors
                .iter()
                .all(|e| matches!(e.position, Position::Record(_) | Position::Chunk(_))),
            "{name}: {:?}",
            out.errors
        );
        // The cause, without the parser's wrappers that only repeat the position.
        for e in &out.errors {
            assert!(!e.message.is_empty());
            assert!(!e.message.contains("An error occurred while"), "{e}");
            assert!(
                !e.message.starts_with("Failed to parse record number"),
                "{e}"
            );
        }
    }
}

/// The parser's own threads change speed, not output; and reading files in parallel on a
/// rayon pool with the default settings does not deadlock.
#[test]
fn threads_change_nothing_and_pools_do_not_deadlock() {
    use rayon::prelude::*;
    let dir = shared().join("evtx/edge-cases");
    let (files, _) = discover(&[dir]);
    let digest = |threads: usize, f: &vigie_event::InputFile| {
        let opts = ReadOptions {
            evtx_threads: threads,
            ..Default::default()
        };
        let out = read_all(f, &opts);
        let ids: Vec<u64> = out.events.iter().map(|e| e.record).collect();
        let errs: Vec<Position> = out.errors.iter().map(|e| e.position).collect();
        (ids, errs)
    };
    let big = files
        .iter()
        .find(|f| f.name.ends_with("/security.evtx"))
        .expect("security.evtx");
    let one = digest(1, big);
    assert!(one.0.len() > 1000);
    assert_eq!(digest(3, big), one);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let total: usize = pool.install(|| files.par_iter().map(|f| digest(0, f).0.len()).sum());
    let serial: usize = files.iter().map(|f| digest(1, f).0.len()).sum();
    assert_eq!(total, serial);
}

/// The whole shared EVTX collection (attack samples included): every record is an event
/// or an error, and files that are not EVTX (README, PDF...) come back as unsupported.
#[test]
fn whole_collection_reads() {
    let (files, errors) = discover(&[shared().join("evtx")]);
    assert!(files.len() > 200, "{} inputs", files.len());
    assert!(errors
        .iter()
        .all(|e| e.kind == ReadErrorKind::UnsupportedFormat));
    let (mut events, mut skipped) = (0u64, 0u64);
    for f in &files {
        let out = read_all(f, &ReadOptions::default());
        let stats = out.result.unwrap_or_else(|e| panic!("{e}"));
        assert!(out
            .errors
            .iter()
            .all(|e| !e.message.contains("parser failed")));
        events += stats.events;
        skipped += stats.skipped;
    }
    assert!(events > 20_000, "{events} events");
    // 20 damaged chunks (sysmon.evtx: 8 bad headers past its counted chunk;
    // sample_with_a_bad_chunk_magic.evtx: 2 bad headers and 10 zeroed chunks it counts)
    // and 352 records that chunk headers claim but that cannot be read (damaged, or in
    // zeroed parts of their chunk), nearly all in four files.
    assert_eq!(skipped, 372, "damaged chunks and records in the collection");
}
