//! Opaque page cursors: a kind letter, the last row's sequence number in hex, and a
//! check of both, so a cursor this store did not make (or one of another list) is
//! `BadCursor` instead of a silently wrong page.

use sha2::{Digest, Sha256};

use crate::StoreError;

fn check(kind: char, seq: i64) -> String {
    let h = Sha256::digest(format!("vigie-cursor:{kind}:{seq}").as_bytes());
    h[..4].iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn encode(kind: char, seq: i64) -> String {
    format!("{kind}{seq:x}.{}", check(kind, seq))
}

pub(crate) fn decode(kind: char, cursor: &str) -> Result<i64, StoreError> {
    let bad = || StoreError::BadCursor(cursor.to_string());
    let rest = cursor.strip_prefix(kind).ok_or_else(bad)?;
    let (hex, sum) = rest.split_once('.').ok_or_else(bad)?;
    let seq = i64::from_str_radix(hex, 16).map_err(|_| bad())?;
    if hex.starts_with(['+', '-']) || seq < 0 || check(kind, seq) != sum {
        return Err(bad());
    }
    Ok(seq)
}

/// Page size: 0 means the default, capped so one request cannot read a whole table.
pub(crate) fn limit(requested: u32) -> i64 {
    match requested {
        0 => 100,
        n => i64::from(n.min(10_000)),
    }
}
