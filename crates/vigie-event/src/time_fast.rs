//! A fast path for the timestamp layout nearly every JSON log uses
//! (`YYYY-MM-DD HH:MM:SS[.fff]`, `T` or space), taken before chrono's format-string
//! parser, which re-reads its format on every call and was a visible share of reading
//! Sysmon JSON. Anything else, or anything this path rejects, goes to chrono, so the
//! result is chrono's for every input (the proptest below holds it to that).

use chrono::{DateTime, NaiveDate, Utc};

/// `YYYY-MM-DD[ T]HH:MM:SS` with an optional `.` and 1 to 9 fraction digits, nothing
/// before or after, as UTC; `None` when `s` is not exactly that or not a valid time.
pub(crate) fn naive_utc(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if b[10] != b' ' && b[10] != b'T' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let min = digits(&b[14..16])?;
    let sec = digits(&b[17..19])?;
    let nano = match &b[19..] {
        [] => 0,
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            digits(frac)? * 10u32.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    // Leap seconds (`:60`) are left to chrono.
    if sec > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    Some(date.and_hms_nano_opt(hour, min, sec, nano)?.and_utc())
}

/// ASCII digits to a number; `None` on anything else. At most 9 digits, so no overflow.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_time_chrono;
    use proptest::prelude::*;

    #[test]
    fn common_layouts() {
        let t = naive_utc("2026-05-04 08:00:00.009").map(|t| t.to_rfc3339());
        assert_eq!(t.as_deref(), Some("2026-05-04T08:00:00.009+00:00"));
        let t = naive_utc("2026-05-04T23:59:59").map(|t| t.to_rfc3339());
        assert_eq!(t.as_deref(), Some("2026-05-04T23:59:59+00:00"));
        assert!(naive_utc("2026-02-30 08:00:00").is_none());
        assert!(naive_utc("2026-05-04 08:00:00Z").is_none());
        assert!(naive_utc("2026-05-04 08:00:00.").is_none());
        assert!(naive_utc("2026-05-04 08:00:00.1234567890").is_none());
        assert!(naive_utc("2026-05-04 24:00:00").is_none());
    }

    /// Near-miss timestamps: right layout with random digits, or random bytes from the
    /// layout's alphabet.
    fn stamp() -> impl Strategy<Value = String> {
        prop_oneof![
            (
                0u32..10000,
                0u32..14,
                0u32..33,
                prop::sample::select(vec![' ', 'T', 't', '_']),
                0u32..26,
                0u32..61,
                0u32..62,
                prop::option::of("[0-9]{0,11}"),
                prop::sample::select(vec!["", "Z", "+02:00", " "]),
            )
                .prop_map(|(y, mo, d, sep, h, mi, s, frac, tail)| {
                    let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
                    format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}{frac}{tail}")
                }),
            "[0-9:. T+Z-]{0,30}",
        ]
    }

    proptest! {
        /// Whenever the fast path answers, chrono answers the same.
        #[test]
        fn agrees_with_chrono(s in stamp()) {
            if let Some(fast) = naive_utc(&s) {
                prop_assert_eq!(Some(fast), parse_time_chrono(&s), "{}", s);
            }
        }
    }
}
