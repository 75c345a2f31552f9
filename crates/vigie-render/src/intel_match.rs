//! `vigie intel match --format text`, written from its wire report
//! ([`vigie_wire::v1::intel_match::IntelMatch`]).

use std::fmt::Write as _;

use vigie_wire::v1::intel_match::IntelMatch;

pub fn intel_match(r: &IntelMatch) -> String {
    let mut s = String::new();
    if r.matched {
        let _ = writeln!(
            s,
            "MATCH: {} (over {} observed-data)",
            r.pattern, r.observed_data
        );
        for id in &r.matched_observed_data {
            let _ = writeln!(s, "  bound: {id}");
        }
    } else {
        let _ = writeln!(
            s,
            "NO MATCH: {} (over {} observed-data)",
            r.pattern, r.observed_data
        );
    }
    for u in &r.unresolved_refs {
        let _ = writeln!(
            s,
            "  note: {} refers to {}, which is not in the file (ignored)",
            u.observed_data, u.object_ref
        );
    }
    s
}
