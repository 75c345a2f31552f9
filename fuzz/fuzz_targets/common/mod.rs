//! What every reader target checks on a whole file: each event is a JSON object, and the
//! counts the reader returns are those it reported through its callbacks.

use vigie_event::{read_bytes, ReadOptions};

/// Reads `bytes` as the file `name` through the sniffing readers and checks the counts.
pub fn read_counted(name: &str, bytes: &[u8]) {
    let (mut events, mut errors) = (0u64, 0u64);
    if let Ok(stats) = read_bytes(
        name,
        bytes,
        &ReadOptions::default(),
        &mut |e| {
            assert!(e.doc().is_object());
            events += 1
        },
        &mut |_| errors += 1,
    ) {
        assert_eq!((stats.events, stats.skipped), (events, errors));
    }
}
