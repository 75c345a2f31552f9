//! `--from` / `--to`: RFC 3339 instants or plain dates.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Which end of the time window a value bounds; a plain date means the start of that
/// day for `From` and the end of it (inclusive) for `To`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    From,
    To,
}

/// Parses a time bound: RFC 3339 (`2024-05-01T10:00:00Z`, `...+02:00`), a UTC date-time
/// without zone (`2024-05-01 10:00:00`, `2024-05-01T10:00`), or a date (`2024-05-01`).
/// Returns the instant; for [`Bound::To`] and a date, the last nanosecond of that day, so
/// `--to 2024-05-01` includes all of May 1st.
pub fn parse_time_bound(s: &str, bound: Bound) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = match bound {
            Bound::From => d.and_hms_opt(0, 0, 0),
            Bound::To => d.and_hms_nano_opt(23, 59, 59, 999_999_999),
        };
        if let Some(t) = t {
            return Ok(t.and_utc());
        }
    }
    Err(format!(
        "cannot read time {s:?}: expected RFC 3339 (2024-05-01T10:00:00Z), \
         a UTC date-time (2024-05-01 10:00:00) or a date (2024-05-01)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let f = |s, b| parse_time_bound(s, b).map(|t| t.to_rfc3339());
        assert_eq!(
            f("2024-05-01T10:00:00+02:00", Bound::From).as_deref(),
            Ok("2024-05-01T08:00:00+00:00")
        );
        assert_eq!(
            f("2024-05-01 10:00:00", Bound::From).as_deref(),
            Ok("2024-05-01T10:00:00+00:00")
        );
        assert_eq!(
            f("2024-05-01", Bound::From).as_deref(),
            Ok("2024-05-01T00:00:00+00:00")
        );
        assert_eq!(
            f("2024-05-01", Bound::To).as_deref(),
            Ok("2024-05-01T23:59:59.999999999+00:00")
        );
        assert!(f("yesterday", Bound::From).is_err());
        assert!(f("2024-13-01", Bound::From).is_err());
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse_time_bound(&s, Bound::From);
            let _ = parse_time_bound(&s, Bound::To);
        }

        #[test]
        fn dates_round_trip(y in 1970i32..2100, m in 1u32..=12, d in 1u32..=28) {
            let s = format!("{y:04}-{m:02}-{d:02}");
            let from = parse_time_bound(&s, Bound::From).unwrap();
            let to = parse_time_bound(&s, Bound::To).unwrap();
            prop_assert!(from < to);
            prop_assert_eq!(from.date_naive(), to.date_naive());
        }
    }
}
