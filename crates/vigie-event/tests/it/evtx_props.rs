//! Damaged EVTX bytes never panic the reader, and what comes out is counted.

use crate::common;

use proptest::prelude::*;
use vigie_event::{read_bytes, ReadErrorKind, ReadOptions};

fn sample() -> Vec<u8> {
    let p = common::shared().join("evtx/edge-cases/new-user-security.evtx");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Reads `bytes`; checks the counts agree and no parser panic was contained.
fn check(bytes: &[u8]) -> Result<(u64, u64), TestCaseError> {
    let opts = ReadOptions {
        evtx_threads: 1,
        ..Default::default()
    };
    let (mut n, mut errs) = (0u64, Vec::new());
    match read_bytes("fuzz.evtx", bytes, &opts, &mut |_| n += 1, &mut |e| {
        errs.push(e)
    }) {
        Ok(stats) => {
            prop_assert_eq!(stats.events, n);
            prop_assert_eq!(stats.skipped, errs.len() as u64);
            for e in &errs {
                prop_assert!(
                    matches!(
                        e.kind,
                        ReadErrorKind::EvtxChunkMissing
                            | ReadErrorKind::EvtxChunkDamaged
                            | ReadErrorKind::EvtxRecordDamaged
                            | ReadErrorKind::CorruptEvtx
                    ),
                    "{}",
                    e
                );
                // The reader contains a parser panic; the parser should not have one.
                prop_assert!(!e.message.contains("parser failed"), "{}", e);
            }
            Ok((n, errs.len() as u64))
        }
        Err(e) => {
            prop_assert_eq!(n, 0);
            prop_assert!(errs.is_empty());
            prop_assert!(
                matches!(
                    e.kind,
                    ReadErrorKind::CorruptEvtx | ReadErrorKind::UnsupportedFormat
                ),
                "{}",
                e
            );
            Ok((0, 0))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn flipped_bytes_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..40)
    ) {
        let mut bytes = sample();
        for (at, v) in flips {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        check(&bytes)?;
    }

    #[test]
    fn truncated_never_panics(cut in any::<prop::sample::Index>()) {
        let mut bytes = sample();
        let len = cut.index(bytes.len());
        bytes.truncate(len);
        check(&bytes)?;
    }

    #[test]
    fn arbitrary_after_magic_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..5000)) {
        let mut bytes = b"ElfFile\0".to_vec();
        bytes.extend_from_slice(&tail);
        check(&bytes)?;
    }
}

#[test]
fn intact_sample_reads_whole() {
    let (n, e) = check(&sample()).unwrap();
    assert_eq!((n, e), (4, 0));
}

// --- A file cut short says what it lost ---------------------------------------------
//
// The expectations come from the bytes themselves (file header chunk count, each chunk
// header's record range), read here without the reader's code.

const FILE_HEADER: usize = 4096;
const CHUNK: usize = 65536;

/// Every EVTX file of the shared collection, read once per test binary.
fn collection() -> &'static [(String, Vec<u8>)] {
    static FILES: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let (files, _) = vigie_event::discover(&[common::shared().join("evtx")]);
        let all: Vec<_> = files
            .iter()
            .filter(|f| f.format == vigie_event::Format::Evtx && !f.gzip)
            .map(|f| {
                let bytes = std::fs::read(&f.path).unwrap_or_else(|e| panic!("{}: {e}", f.name));
                (f.name.to_string(), bytes)
            })
            .collect();
        assert!(all.len() > 200, "{} EVTX files", all.len());
        all
    })
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Reads `bytes` (a file cut at `bytes.len()`) and checks the accounting of the module
/// docs of `read/evtx_ledger.rs`: each chunk slot is read or reported once, and in each
/// read chunk every id of its header's range is an event or a reported record.
/// Ids of the records of a chunk's bytes that end before `cut`, walked by their sizes.
fn ids_before_cut(chunk: &[u8]) -> Vec<u64> {
    let (mut at, mut ids) = (512usize, Vec::new());
    while chunk.get(at..at + 4) == Some(b"**\0\0") && at + 24 <= chunk.len() {
        let size = u32::from_le_bytes(chunk[at + 4..at + 8].try_into().unwrap()) as usize;
        if size < 28 || at + size > chunk.len() {
            break;
        }
        ids.push(u64_at(chunk, at + 8));
        at += size;
    }
    ids
}

/// Ids of the events of a whole file.
fn event_ids(bytes: &[u8]) -> std::collections::BTreeSet<u64> {
    let opts = ReadOptions {
        evtx_threads: 1,
        ..Default::default()
    };
    let mut ids = std::collections::BTreeSet::new();
    let _ = read_bytes(
        "whole.evtx",
        bytes,
        &opts,
        &mut |e| {
            ids.insert(e.record);
        },
        &mut |_| {},
    );
    ids
}

/// As [`check_cut`], and the records before the cut in the chunk the file ends inside
/// come out as they do from the whole file.
fn check_cut_of(name: &str, whole: &[u8], cut: usize) -> Result<(), TestCaseError> {
    let bytes = &whole[..cut];
    let ids = check_cut(name, bytes)?;
    if cut <= FILE_HEADER || (cut - FILE_HEADER).is_multiple_of(CHUNK) {
        return Ok(());
    }
    let start = FILE_HEADER + (cut - FILE_HEADER) / CHUNK * CHUNK;
    let before = ids_before_cut(&bytes[start..]);
    if before.is_empty() {
        return Ok(());
    }
    let from_whole = event_ids(whole);
    for id in before {
        prop_assert!(
            !from_whole.contains(&id) || ids.contains(&id),
            "{name} cut at {cut}: record {id}, before the cut, not read"
        );
    }
    Ok(())
}

fn check_cut(name: &str, bytes: &[u8]) -> Result<std::collections::BTreeSet<u64>, TestCaseError> {
    use std::collections::{BTreeMap, BTreeSet};
    use vigie_event::Position;
    let opts = ReadOptions {
        evtx_threads: 1,
        ..Default::default()
    };
    let (mut ids, mut errs) = (BTreeSet::new(), Vec::new());
    let res = read_bytes(
        name,
        bytes,
        &opts,
        &mut |e| {
            ids.insert(e.record);
        },
        &mut |e| errs.push(e),
    );
    if bytes.len() < FILE_HEADER {
        // No file header, nothing can be read: the file as a whole is refused.
        prop_assert!(res.is_err(), "{name} cut at {}: read", bytes.len());
        return Ok(ids);
    }
    let stats = res.map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(stats.skipped, errs.len() as u64);
    let counted = u16::from_le_bytes([bytes[42], bytes[43]]) as usize;
    let slots = counted.max((bytes.len() - FILE_HEADER).div_ceil(CHUNK));
    let mut chunk_errs: BTreeMap<u64, u32> = BTreeMap::new();
    let mut reported = BTreeSet::new();
    for e in &errs {
        prop_assert_eq!(&*e.source_name, name);
        match (e.kind, e.position) {
            (
                ReadErrorKind::EvtxChunkMissing | ReadErrorKind::EvtxChunkDamaged,
                Position::Chunk(c),
            ) => {
                *chunk_errs.entry(c).or_default() += 1;
            }
            (ReadErrorKind::EvtxRecordDamaged, Position::Record(id)) => {
                prop_assert!(e.message.contains("chunk"), "{}", e);
                reported.insert(id);
            }
            (ReadErrorKind::EvtxRecordDamaged, Position::Chunk(_)) => {}
            _ => prop_assert!(
                false,
                "{name} cut at {}: unexpected {:?} {}",
                bytes.len(),
                e.kind,
                e
            ),
        }
    }
    let (mut read, mut unread) = (0usize, 0usize);
    for i in 0..slots {
        let at = FILE_HEADER + i * CHUNK;
        let there = bytes.get(at..(at + CHUNK).min(bytes.len())).unwrap_or(&[]);
        let n_errs = chunk_errs.get(&(i as u64)).copied().unwrap_or(0);
        prop_assert!(n_errs <= 1, "{name}: chunk {i} reported {n_errs} times");
        let header = there.len() >= 512 && there.starts_with(b"ElfChnk\0");
        if n_errs == 1 {
            unread += 1;
            continue;
        }
        if !header {
            // Silent only if free space: zeros past the chunks the header counts.
            prop_assert!(
                i >= counted && !there.is_empty() && there.iter().all(|b| *b == 0),
                "{name} cut at {}: chunk {i} neither read nor reported",
                bytes.len()
            );
            continue;
        }
        read += 1;
        let (first, last) = (u64_at(there, 24), u64_at(there, 32));
        if first > last || last - first > 3000 {
            continue;
        }
        for id in first..=last {
            prop_assert!(
                ids.contains(&id) || reported.contains(&id),
                "{name} cut at {}: record {id} of chunk {i} neither read nor reported",
                bytes.len()
            );
        }
    }
    prop_assert_eq!(
        chunk_errs.len(),
        unread,
        "{} cut at {}: chunk errors for slots that do not exist: {:?}",
        name,
        bytes.len(),
        chunk_errs
    );
    prop_assert!(read + unread <= slots && counted <= slots);
    Ok(ids)
}

proptest! {
    // Each case cuts a few files at random points; the seeded run below cuts every one.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn cut_files_account_for_every_chunk_and_record(
        picks in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 3)
    ) {
        let files = collection();
        for (file, cut) in picks {
            let (name, bytes) = &files[file.index(files.len())];
            check_cut_of(name, bytes, cut.index(bytes.len() + 1))?;
        }
    }
}

/// Every file of the collection, cut at one pseudo-random point each (a fixed seed, so a
/// failure reproduces), and at the two places the issue names.
#[test]
fn every_cut_file_accounts_for_what_it_lost() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for (name, bytes) in collection() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let cut = (seed % (bytes.len() as u64 + 1)) as usize;
        check_cut_of(name, bytes, cut).unwrap();
    }
    let (name, big) = collection()
        .iter()
        .find(|(n, _)| n.ends_with("edge-cases/security.evtx"))
        .expect("security.evtx");
    for cut in [5000, 100_000] {
        check_cut_of(name, big, cut).unwrap();
        // The parser's own threads (on the reader's pool) change nothing.
        let run = |threads: usize| {
            let opts = ReadOptions {
                evtx_threads: threads,
                ..Default::default()
            };
            let (mut ids, mut errs) = (Vec::new(), Vec::new());
            read_bytes(
                name,
                &big[..cut],
                &opts,
                &mut |e| ids.push(e.record),
                &mut |e| errs.push((e.position, e.kind)),
            )
            .unwrap();
            (ids, errs)
        };
        assert_eq!(run(1), run(3), "{name} cut at {cut}");
    }
}
