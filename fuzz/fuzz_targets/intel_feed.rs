//! Indicator feed readers (plain list, CSV, STIX bundle, MISP event) on arbitrary
//! input: no panic, and every refusal names a position.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_intel::feed::{parse_str, Format, LoadOptions};
use vigie_intel::index::IntelIndex;
use vigie_intel::indicator::{DeclaredType, IocType};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = match sel % 4 {
        0 => Format::List,
        1 => Format::Csv,
        2 => Format::StixBundle,
        _ => Format::MispEvent,
    };
    let declared = match (sel / 4) % 4 {
        0 => None,
        1 => Some(DeclaredType::Ip),
        2 => Some(DeclaredType::One(IocType::Domain)),
        _ => Some(DeclaredType::One(IocType::Url)),
    };
    let (set, report) = parse_str(format, text, "fuzz", declared, &LoadOptions::default());
    assert_eq!(report.sources[0].loaded, set.len());
    let ix = IntelIndex::build(&set);
    let mut out = Vec::new();
    for line in text.lines().take(16) {
        for t in IocType::ALL {
            ix.lookup(t, line, &mut out);
        }
    }
});
