//! Format sniffing: decide what an input holds from its first bytes, never its name.

use std::io::{self, Read};

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniffed {
    Evtx,
    Gzip,
    /// UTF-16 text with a byte-order mark.
    Utf16 {
        big_endian: bool,
    },
    JsonArray,
    JsonLines,
    /// Text whose first line reads as syslog.
    Syslog,
    /// Text whose first line is a Linux audit record.
    Auditd,
    /// A Zeek TSV log (first line `#separator `).
    ZeekTsv,
    /// JSON lines whose first line is a Zeek record.
    ZeekJson,
    /// Text whose first line is a CEF record.
    Cef,
    /// Text whose first line is a LEEF record.
    Leef,
    /// Text whose first line is a web server or proxy access log line.
    AccessLog,
    /// Nothing but whitespace (or nothing at all).
    Empty,
    /// Something else.
    Unknown,
}

pub(crate) const EVTX_MAGIC: &[u8; 8] = b"ElfFile\0";
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// How much leading whitespace we look through for the first JSON byte before giving up.
const MAX_LEADING_WS: usize = 1 << 20;

pub(crate) fn is_json_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// How much of a text input's first line is read to tell whether it is syslog.
const MAX_FIRST_LINE: usize = 4096;

/// Reads from `r` just enough to sniff: at least the 8 magic bytes, and up to the first
/// non-whitespace byte (bounded); for text that is not JSON, through the end of its
/// first line (bounded), which tells syslog. Returns fewer bytes only at end of input.
pub(crate) fn read_prefix<R: Read + ?Sized>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(64);
    let mut chunk = [0u8; 4096];
    loop {
        if buf.len() >= EVTX_MAGIC.len() && first_non_ws(&buf).is_some() && !wants_line(&buf) {
            return Ok(buf);
        }
        if buf.len() > MAX_LEADING_WS {
            return Ok(buf);
        }
        // Small reads at first so a pipe delivering a few bytes is not over-read; the
        // prefix is replayed in front of the rest anyway.
        let want = if buf.len() < 8 {
            8 - buf.len()
        } else {
            chunk.len()
        };
        let n = match r.read(&mut chunk[..want]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn first_non_ws(buf: &[u8]) -> Option<u8> {
    first_text(buf).first().copied()
}

/// The input from its first non-whitespace byte (after a UTF-8 BOM).
fn first_text(buf: &[u8]) -> &[u8] {
    let body = buf.strip_prefix(BOM).unwrap_or(buf);
    let start = body
        .iter()
        .position(|b| !is_json_ws(*b))
        .unwrap_or(body.len());
    &body[start..]
}

/// Whether the prefix is text that is not a JSON array and its first line is not all
/// there yet (within [`MAX_FIRST_LINE`]); a JSON object's line tells Zeek JSON.
fn wants_line(buf: &[u8]) -> bool {
    if binary_magic(buf) || matches!(first_non_ws(buf), Some(b'[')) {
        return false;
    }
    let text = first_text(buf);
    text.len() < MAX_FIRST_LINE && memchr::memchr(b'\n', text).is_none()
}

fn binary_magic(prefix: &[u8]) -> bool {
    prefix.starts_with(EVTX_MAGIC)
        || prefix.starts_with(&GZIP_MAGIC)
        || prefix.starts_with(&[0xFF, 0xFE])
        || prefix.starts_with(&[0xFE, 0xFF])
}

/// Classifies a prefix read with [`read_prefix`].
pub(crate) fn sniff(prefix: &[u8]) -> Sniffed {
    if prefix.starts_with(EVTX_MAGIC) {
        return Sniffed::Evtx;
    }
    if prefix.starts_with(&GZIP_MAGIC) {
        return Sniffed::Gzip;
    }
    if prefix.starts_with(&[0xFF, 0xFE]) {
        return Sniffed::Utf16 { big_endian: false };
    }
    if prefix.starts_with(&[0xFE, 0xFF]) {
        return Sniffed::Utf16 { big_endian: true };
    }
    match first_non_ws(prefix) {
        Some(b'[') => Sniffed::JsonArray,
        Some(b'{') => {
            let text = first_text(prefix);
            let line = memchr::memchr(b'\n', text).map_or(text, |i| &text[..i]);
            if super::zeek::looks_like_zeek_json(line) {
                Sniffed::ZeekJson
            } else {
                Sniffed::JsonLines
            }
        }
        Some(_) => {
            let text = first_text(prefix);
            let line = memchr::memchr(b'\n', text).map_or(text, |i| &text[..i]);
            if super::auditd::looks_like_auditd(line) {
                Sniffed::Auditd
            } else if super::zeek::looks_like_zeek_tsv(line) {
                Sniffed::ZeekTsv
            } else if super::cef::looks_like_cef(line) {
                Sniffed::Cef
            } else if super::leef::looks_like_leef(line) {
                Sniffed::Leef
            } else if super::weblog::looks_like_access_log(line) {
                Sniffed::AccessLog
            } else if super::syslog::looks_like_syslog(line) {
                Sniffed::Syslog
            } else {
                Sniffed::Unknown
            }
        }
        None => Sniffed::Empty,
    }
}

/// A short printable rendering of the first bytes, for "unsupported format" messages.
pub(crate) fn describe_start(prefix: &[u8]) -> String {
    let head: String = prefix
        .iter()
        .take(8)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                (b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect();
    format!("starts with \"{head}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"ElfFile\0rest"), Sniffed::Evtx);
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Sniffed::Gzip);
        assert_eq!(sniff(b"  \n [ {}]"), Sniffed::JsonArray);
        assert_eq!(sniff(b"\xEF\xBB\xBF{\"a\":1}"), Sniffed::JsonLines);
        assert_eq!(sniff(b"   \n"), Sniffed::Empty);
        assert_eq!(sniff(b""), Sniffed::Empty);
        assert_eq!(sniff(b"title: x"), Sniffed::Unknown);
        assert_eq!(sniff(b"<13>1 - - - - - -\n{"), Sniffed::Syslog);
        assert_eq!(sniff(b"\nJan  1 00:00:00 h a: m"), Sniffed::Syslog);
        assert_eq!(sniff(b"<xml>\n"), Sniffed::Unknown);
        assert_eq!(
            sniff(b"type=DAEMON_START msg=audit(1.0:1): op=start\n"),
            Sniffed::Auditd
        );
        assert_eq!(sniff(b"#separator \\x09\n#path\tconn\n"), Sniffed::ZeekTsv);
        assert_eq!(
            sniff(b"{\"ts\":1.5,\"uid\":\"C1\",\"query\":\"a\"}\n{"),
            Sniffed::ZeekJson
        );
        assert_eq!(sniff(b"{\"EventID\":1}\n"), Sniffed::JsonLines);
        assert_eq!(sniff(b"CEF:0|V|P|1|2|n|3|src=1\n"), Sniffed::Cef);
        assert_eq!(sniff(b"LEEF:1.0|V|P|1|2|src=1\n"), Sniffed::Leef);
        assert_eq!(
            sniff(b"10.0.0.1 - - [02/Dec/2025:08:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n"),
            Sniffed::AccessLog
        );
        assert_eq!(
            sniff(b"1764662400.123 5 10.0.0.1 TCP_MISS/200 10 GET http://a/ - DIRECT/1.2.3.4 -\n"),
            Sniffed::AccessLog
        );
        assert_eq!(
            sniff(b"<13>Dec  2 08:00:00 h CEF:0|V|P|1|2|n|3|\n"),
            Sniffed::Syslog
        );
        assert_eq!(sniff(b"ElfFile"), Sniffed::Unknown);
        assert_eq!(sniff(b"\xFF\xFE[\0"), Sniffed::Utf16 { big_endian: false });
        assert_eq!(sniff(b"\xFE\xFF\0{"), Sniffed::Utf16 { big_endian: true });
    }

    #[test]
    fn prefix_reaches_first_byte() {
        let mut data = vec![b' '; 10_000];
        data.push(b'[');
        let p = read_prefix(&mut &data[..]).unwrap();
        assert_eq!(sniff(&p), Sniffed::JsonArray);
        let p = read_prefix(&mut &b"{}"[..]).unwrap();
        assert_eq!(p, b"{}");
        // Text that is not JSON: through its first line, which tells syslog.
        let data = b"Jan  1 00:00:00 host app[1]: a message\nmore";
        let p = read_prefix(&mut &data[..]).unwrap();
        assert_eq!(p.len(), data.len());
        assert_eq!(sniff(&p), Sniffed::Syslog);
    }
}
