//! Arbitrary bytes as one syslog message, as a framed stream cut at a point the first
//! byte picks (the frames must not depend on the cut), and as a syslog file.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;
use vigie_event::syslog::{parse, FrameError, Framer, ParseOptions};

fn frames(chunks: &[&[u8]]) -> Vec<Result<Vec<u8>, FrameError>> {
    let mut f = Framer::new(64);
    let mut out = Vec::new();
    let mut take = |r: Result<&[u8], FrameError>| out.push(r.map(<[u8]>::to_vec));
    for c in chunks {
        f.push(c, &mut take);
    }
    f.finish(&mut take);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let opts = ParseOptions::at(chrono::DateTime::UNIX_EPOCH);
    match parse(rest, &opts) {
        Ok(m) => assert!(m.to_document().get("message").is_some()),
        Err(e) => assert!(e.offset <= rest.len()),
    }
    let cut = usize::from(first) % (rest.len() + 1);
    let (a, b) = rest.split_at(cut);
    assert_eq!(frames(&[a, b]), frames(&[rest]));
    let mut file = b"<13>".to_vec();
    file.extend_from_slice(rest);
    common::read_counted("fuzz.log", &file);
});
