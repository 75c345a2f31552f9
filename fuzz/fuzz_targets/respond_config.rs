//! Arbitrary text as respond's user-editable inputs, chosen by the first byte: the entity
//! mapping (`vigie_incident::EntityMapping::parse`), the notification thresholds table
//! (`Thresholds::parse`) or one asset identifier (`vigie_model::identity`). Each gives a
//! value or an error positioned inside the text, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_incident::notify::Thresholds;
use vigie_incident::EntityMapping;
use vigie_model::identity;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    match which % 3 {
        0 => {
            let _ = EntityMapping::parse(text, "fuzz.yml");
        }
        1 => {
            let _ = Thresholds::parse(text, "fuzz.yml");
        }
        _ => {
            // What parses prints back to something that parses to the same (a bare
            // account prints as its name, which reads back as a hostname: left out).
            let parsed = identity::parse_identifier(text);
            if let Some(id) = parsed.ok().filter(|id| !id.is_weak()) {
                let again = identity::parse_identifier(&id.to_string());
                assert_eq!(again.as_ref().ok(), Some(&id), "{text:?} -> {id}");
            }
            let _ = identity::normalize_ip(text);
            let _ = identity::parse_account(text);
            let _ = identity::normalize_sid(text);
        }
    }
});
