//! IBM QRadar Log Event Extended Format (LEEF) 1.0 and 2.0 lines, alone in a file or as
//! the message of a syslog record (see [`super::cef::merge_into_syslog`]), as event
//! documents (field names in `docs/cef-leef.md`).
//!
//! CONTRACT (keep it):
//! - LEEF 1.0 is `LEEF:1.0|Vendor|Product|Version|EventID|` then attributes
//!   `key=value` separated by tabs. LEEF 2.0 adds a delimiter field after the EventID:
//!   `LEEF:2.0|Vendor|Product|Version|EventID|^|...`, the delimiter a single character
//!   or its code in hex (`x5E`, `0x5E`); an empty or absent delimiter field means tab.
//!   The header fields may escape `|` as `\|`.
//! - A value runs to the next delimiter (LEEF has no escapes in attributes); a segment
//!   without `=` belongs to the previous value, delimiter included (a value holding the
//!   delimiter character). A LEEF 1.0 line with no tab among its attributes but
//!   `key=value` pairs separated by spaces (what some senders write) is split the CEF
//!   way (a value runs to the last space before the next `key=`).
//! - The document has `leefVersion`, `deviceVendor`, `deviceProduct`, `deviceVersion`,
//!   `eventId`, every attribute key as written (`src`, `dst`, `srcPort`, `usrName`,
//!   `cat`, `devTime`...; a key written twice gives an array), the Sigma firewall names
//!   `src_ip` = `src`, `dst_ip` = `dst`, `src_port` = `srcPort`, `dst_port` = `dstPort`,
//!   `username` = `usrName` (never over an attribute of that name), `timestamp` from
//!   `devTime` when it is epoch milliseconds or `MMM dd yyyy HH:mm:ss[.SSS]` (UTC), and
//!   `_source: leef`.
//! - Errors name the byte offset: no `LEEF:` start, a header cut short, a version that
//!   is not `1.0`/`2.0`-like, a delimiter that is neither one character nor hex, text
//!   before the first `key=`. Nothing here panics on any input.

use std::io::BufRead;

use serde_json::{Map, Value};

use super::cef::{add_aliases, cef_time, err, extension, header_fields, insert_multi};
use super::cef::{trim_end, TextFormatError};
use super::sink::Sink;
use super::ReadErrorKind;

/// Whether a first line is a LEEF record (after leading spaces).
pub fn looks_like_leef(line: &[u8]) -> bool {
    let t = line.trim_ascii_start();
    t.starts_with(b"LEEF:") && memchr::memchr(b'|', t).is_some()
}

const LEEF_ALIASES: &[(&str, &str)] = &[
    ("src_ip", "src"),
    ("dst_ip", "dst"),
    ("src_port", "srcPort"),
    ("dst_port", "dstPort"),
    ("username", "usrName"),
];

/// The delimiter a LEEF 2.0 delimiter field names.
fn delimiter(f: &str, at: usize) -> Result<u8, TextFormatError> {
    let hex = f
        .strip_prefix("0x")
        .or_else(|| f.strip_prefix("0X"))
        .or_else(|| f.strip_prefix('x'))
        .or_else(|| f.strip_prefix('X'));
    match (f.as_bytes(), hex) {
        ([], _) => Ok(b'\t'),
        ([b], _) => Ok(*b),
        (_, Some(h)) if !h.is_empty() && h.len() <= 2 => u8::from_str_radix(h, 16)
            .map_err(|_| err(at, format!("LEEF delimiter `{f}` is not a hex code"))),
        _ => Err(err(
            at,
            format!("LEEF delimiter `{f}` is neither one character nor a hex code"),
        )),
    }
}

/// Parses one LEEF line (leading spaces and trailing CR/LF ignored) into its document.
pub fn parse(line: &[u8]) -> Result<Map<String, Value>, TextFormatError> {
    let start = line.len() - line.trim_ascii_start().len();
    let line = trim_end(line);
    let Some(body) = line.get(start..).and_then(|l| l.strip_prefix(b"LEEF:")) else {
        return Err(err(start, "not LEEF: the line does not start with `LEEF:`"));
    };
    let base = start + 5;
    let (fields, mut at) = header_fields(body, 5, base, "LEEF")?;
    let version = fields[0].trim();
    let major = version.split('.').next().unwrap_or_default();
    if major.is_empty() || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(err(
            base,
            format!("LEEF version `{version}` is not a number"),
        ));
    }
    let mut delim = b'\t';
    if major != "1" {
        // 2.0: a delimiter field, unless the attributes start right away.
        let rest = &body[at..];
        if let Some(p) = memchr::memchr(b'|', rest) {
            let f = &rest[..p];
            if f.len() <= 4 && !f.contains(&b'=') {
                delim = delimiter(&String::from_utf8_lossy(f), base + at)?;
                at += p + 1;
            }
        }
    }
    let mut m = Map::new();
    for (name, v) in [
        "leefVersion",
        "deviceVendor",
        "deviceProduct",
        "deviceVersion",
        "eventId",
    ]
    .iter()
    .zip(&fields)
    {
        m.insert((*name).into(), v.as_str().into());
    }
    let attrs = &body[at..];
    let pairs = if major == "1" && delim == b'\t' && !attrs.contains(&b'\t') {
        extension(attrs, base + at)?
    } else {
        delimited(attrs, delim, base + at)?
    };
    for (k, v) in pairs {
        insert_multi(&mut m, k, v);
    }
    add_aliases(&mut m, LEEF_ALIASES);
    if let Some(t) = m.get("devTime").and_then(Value::as_str).and_then(cef_time) {
        m.entry("timestamp").or_insert(t.into());
    }
    m.insert("_source".into(), "leef".into());
    Ok(m)
}

/// Attributes separated by `delim`.
fn delimited(
    attrs: &[u8],
    delim: u8,
    base: usize,
) -> Result<Vec<(String, String)>, TextFormatError> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut off = 0;
    for seg in attrs.split(|b| *b == delim) {
        let here = off;
        off += seg.len() + 1;
        if seg.is_empty() {
            continue;
        }
        match memchr::memchr(b'=', seg) {
            Some(eq) if eq > 0 && !seg[..eq].contains(&b' ') => {
                out.push((
                    String::from_utf8_lossy(&seg[..eq]).into_owned(),
                    seg[eq + 1..].to_vec(),
                ));
            }
            _ => match out.last_mut() {
                Some((_, v)) => {
                    v.push(delim);
                    v.extend_from_slice(seg);
                }
                None if seg.trim_ascii().is_empty() => {}
                None => {
                    return Err(err(
                        base + here,
                        "text before the first attribute key=value",
                    ))
                }
            },
        }
    }
    Ok(out
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect())
}

/// A file of LEEF lines; `Event::record` is the 1-based line, a line that is not LEEF is
/// reported ([`ReadErrorKind::BadLeef`]) and the next one read (a line with a syslog
/// header before its `LEEF:` is read as syslog with the hook, as for CEF).
pub(crate) fn read_lines<R: BufRead>(
    sink: &mut Sink<'_>,
    r: R,
    io: ReadErrorKind,
    syslog: &super::syslog::ParseOptions,
) {
    super::cef::read_records(sink, r, io, ReadErrorKind::BadLeef, b"LEEF:", parse, syslog);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leef_1_and_2() {
        let m = parse(b"LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=10.50.1.1\tdst=2.10.20.20\tsev=5\tusrName=joe user").unwrap();
        assert_eq!(m["eventId"], "15345");
        assert_eq!(m["usrName"], "joe user");
        assert_eq!(m["username"], "joe user");
        assert_eq!(m["dst_ip"], "2.10.20.20");
        assert_eq!(m["_source"], "leef");
        let m = parse(b"LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^srcPort=81^dstPort=21").unwrap();
        assert_eq!(m["dst_port"], "21");
        let m = parse(b"LEEF:2.0|V|P|1|41|x7C|src=1.2.3.4|msg=a|b").unwrap();
        assert_eq!(m["msg"], "a|b");
        let m = parse(b"LEEF:2.0|V|P|1|41|src=1.2.3.4\tdst=5.6.7.8").unwrap();
        assert_eq!(m["dst"], "5.6.7.8");
        let m =
            parse(b"LEEF:1.0|V|P|1|41|src=1.2.3.4 msg=hello world devTime=1764662400000").unwrap();
        assert_eq!(m["msg"], "hello world");
        assert_eq!(m["timestamp"], "2025-12-02T08:00:00Z");
        assert!(parse(b"LEEF:2.0|V|P|1|41|abc|src=1").is_err());
        assert!(parse(b"LEEF:1.0|V|P").is_err());
        assert!(parse(b"LEEF:one|V|P|1|2|").is_err());
        assert!(parse(b"LEEF:1.0|V|P|1|2|junk\tsrc=1").is_err());
    }
}
