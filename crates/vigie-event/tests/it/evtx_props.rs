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
                prop_assert_eq!(e.kind, ReadErrorKind::CorruptEvtx);
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
