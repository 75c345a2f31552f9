//! ArcSight Common Event Format (CEF) lines, alone in a file or as the message of a
//! syslog record, as event documents (field names in `docs/cef-leef.md`).
//!
//! CONTRACT (keep it; the mapping and the tests code against it):
//! - A line is `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|
//!   Name|Severity|Extension`. In the header `\|` and `\\` are escapes; in the
//!   extension `\=`, `\\`, `\n`, `\r` (and, leniently, `\|`). The extension is
//!   `key=value` pairs separated by spaces; a value may hold spaces: it runs to the last
//!   space before the next `key=` (a key is ASCII letters, digits, `_`, `.`, `-`, `[`,
//!   `]`, starting a space-separated token, followed by an unescaped `=`). An `=` that
//!   does not follow such a token (`request=http://h/?a=b`) stays in the value.
//! - The document has the header as `cefVersion`, `deviceVendor`, `deviceProduct`,
//!   `deviceVersion`, `signatureId`, `name`, `severity`, every extension key as written
//!   (`src`, `dpt`, `suser`, `act`, `cs1Label`...; a key written twice gives an array of
//!   its values), the Sigma taxonomy's firewall names where CEF has the field
//!   (`src_ip` = `src`, `dst_ip` = `dst`, `src_port` = `spt`, `dst_port` = `dpt`,
//!   `username` = `suser`, `action` = `act`; never over an extension key of that name),
//!   `timestamp` (RFC 3339 UTC) from `rt` when it reads as epoch milliseconds or
//!   `MMM dd yyyy HH:mm:ss[.SSS]` (taken as UTC; ` GMT`/` UTC` after it), and
//!   `_source: cef`.
//! - A line that is not CEF (no `CEF:` start, fewer than 7 header fields, a version that
//!   is not a number, text before the first `key=`) is an error naming the byte offset;
//!   nothing here panics on any input.
//! - Inside syslog: [`merge_into_syslog`] is the hook the syslog reader calls on each
//!   message document: a `message` that starts with `CEF:` or `LEEF:` (or that the
//!   RFC 3164 parser split as tag `CEF`/`LEEF` + `0|...`) is parsed and its fields added;
//!   the syslog header fields are kept, and a CEF/LEEF field named like a syslog field
//!   (`severity`, `app`, `host`, `message`, `timestamp`...) or already in the document is
//!   added as `cef.<name>` / `leef.<name>`.

use std::io::BufRead;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use super::json::each_line;
use super::sink::Sink;
use super::{Position, ReadErrorKind};

/// Bound on one line.
pub const MAX_LINE: usize = 1 << 20;

/// What is wrong with a CEF or LEEF line, and where (byte offset in the line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset}: {what}")]
pub struct TextFormatError {
    pub offset: usize,
    pub what: String,
}

pub(crate) fn err(offset: usize, what: impl Into<String>) -> TextFormatError {
    TextFormatError {
        offset,
        what: what.into(),
    }
}

/// Whether a first line is a CEF record (after leading spaces).
pub fn looks_like_cef(line: &[u8]) -> bool {
    let t = line.trim_ascii_start();
    t.starts_with(b"CEF:") && memchr::memchr(b'|', t).is_some()
}

/// Parses one CEF line (leading spaces and trailing CR/LF ignored) into its document.
pub fn parse(line: &[u8]) -> Result<Map<String, Value>, TextFormatError> {
    let start = line.len() - line.trim_ascii_start().len();
    let line = trim_end(line);
    let Some(body) = line.get(start..).and_then(|l| l.strip_prefix(b"CEF:")) else {
        return Err(err(start, "not CEF: the line does not start with `CEF:`"));
    };
    let base = start + 4;
    let (fields, ext_at) = header_fields(body, 7, base, "CEF")?;
    let version = fields[0].trim();
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(err(
            base,
            format!("CEF version `{version}` is not a number"),
        ));
    }
    let mut m = Map::new();
    for (name, v) in [
        "cefVersion",
        "deviceVendor",
        "deviceProduct",
        "deviceVersion",
        "signatureId",
        "name",
        "severity",
    ]
    .iter()
    .zip(&fields)
    {
        m.insert((*name).into(), v.as_str().into());
    }
    let ext = &body[ext_at..];
    for (k, v) in extension(ext, base + ext_at)? {
        insert_multi(&mut m, k, v);
    }
    add_aliases(&mut m, CEF_ALIASES);
    if let Some(t) = m.get("rt").and_then(Value::as_str).and_then(cef_time) {
        m.entry("timestamp").or_insert(t.into());
    }
    m.insert("_source".into(), "cef".into());
    Ok(m)
}

/// Sigma taxonomy name -> CEF key.
const CEF_ALIASES: &[(&str, &str)] = &[
    ("src_ip", "src"),
    ("dst_ip", "dst"),
    ("src_port", "spt"),
    ("dst_port", "dpt"),
    ("username", "suser"),
    ("action", "act"),
];

pub(crate) fn add_aliases(m: &mut Map<String, Value>, aliases: &[(&str, &str)]) {
    for (alias, key) in aliases {
        if m.contains_key(*alias) {
            continue;
        }
        if let Some(v) = m.get(*key).cloned() {
            m.insert((*alias).into(), v);
        }
    }
}

/// Inserts `k`, turning a repeated key into an array of its values.
pub(crate) fn insert_multi(m: &mut Map<String, Value>, k: String, v: String) {
    match m.get_mut(&k) {
        None => {
            m.insert(k, v.into());
        }
        Some(Value::Array(a)) => a.push(v.into()),
        Some(prev) => {
            let first = prev.take();
            *prev = Value::Array(vec![first, v.into()]);
        }
    }
}

pub(crate) fn trim_end(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && matches!(b[end - 1], b'\n' | b'\r' | 0) {
        end -= 1;
    }
    &b[..end]
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The first `n` `|`-separated header fields of `body` (`\|`, `\\` unescaped) and the
/// offset just past the `|` ending the last one (the end of `body` when the last field
/// ends the line). `base` is `body`'s offset in the line, for errors.
pub(crate) fn header_fields(
    body: &[u8],
    n: usize,
    base: usize,
    what: &str,
) -> Result<(Vec<String>, usize), TextFormatError> {
    let mut fields = Vec::with_capacity(n);
    let mut cur = Vec::new();
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'\\' if matches!(body.get(i + 1), Some(b'|' | b'\\')) => {
                cur.push(body[i + 1]);
                i += 2;
                continue;
            }
            b'|' => {
                fields.push(text(&cur));
                cur.clear();
                i += 1;
                if fields.len() == n {
                    return Ok((fields, i));
                }
                continue;
            }
            b => cur.push(b),
        }
        i += 1;
    }
    if fields.len() == n - 1 {
        // The last header field ends the line: no extension.
        fields.push(text(&cur));
        return Ok((fields, body.len()));
    }
    Err(err(
        base + body.len(),
        format!(
            "{what} header cut short: {} of its {n} `|`-separated fields",
            fields.len()
        ),
    ))
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'[' | b']')
}

/// Length of the key at the start of `b` when it is one followed by `=`.
fn key_at(b: &[u8]) -> Option<usize> {
    let n = b.iter().take_while(|c| is_key_byte(**c)).count();
    (n > 0 && b.get(n) == Some(&b'=')).then_some(n)
}

/// The `key=value` pairs of a CEF extension (or of a LEEF 1.0 line whose attributes are
/// separated by spaces), values unescaped. `base`: offset of `ext` in the line.
pub(crate) fn extension(ext: &[u8], base: usize) -> Result<Vec<(String, String)>, TextFormatError> {
    let mut out = Vec::new();
    // (key, value start) of the pair being read.
    let mut cur: Option<(String, usize)> = None;
    let mut i = 0;
    while i < ext.len() {
        let at_token = i == 0 || ext[i - 1] == b' ';
        if at_token && ext[i] != b' ' {
            if let Some(k) = key_at(&ext[i..]) {
                if let Some((key, vs)) = cur.take() {
                    out.push((key, unescape_value(&ext[vs..i])));
                } else if !ext[..i].trim_ascii().is_empty() {
                    return Err(err(base, "text before the first extension key=value"));
                }
                cur = Some((text(&ext[i..i + k]), i + k + 1));
                i += k + 1;
                continue;
            }
        }
        i += if ext[i] == b'\\' { 2 } else { 1 };
    }
    match cur {
        Some((key, vs)) => out.push((key, unescape_value(&ext[vs.min(ext.len())..]))),
        None if !ext.trim_ascii().is_empty() => {
            return Err(err(base, "extension without any key=value"));
        }
        None => {}
    }
    Ok(out)
}

/// A CEF extension value: trailing spaces (the separator) dropped, escapes decoded.
fn unescape_value(v: &[u8]) -> String {
    let v = v.trim_ascii_end();
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' {
            match v.get(i + 1) {
                Some(b'=') => out.push(b'='),
                Some(b'\\') => out.push(b'\\'),
                Some(b'|') => out.push(b'|'),
                Some(b'n') => out.push(b'\n'),
                Some(b'r') => out.push(b'\r'),
                Some(&o) => {
                    out.push(b'\\');
                    out.push(o);
                }
                None => out.push(b'\\'),
            }
            i += 2;
            continue;
        }
        out.push(v[i]);
        i += 1;
    }
    text(&out)
}

/// `rt` (or LEEF `devTime`) as RFC 3339 UTC: epoch milliseconds, or
/// `MMM dd yyyy HH:mm:ss[.SSS]` taken as UTC (a trailing ` GMT`/` UTC` allowed; another
/// zone name is not read, and the record then has no `timestamp` of its own).
pub(crate) fn cef_time(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s
        .strip_suffix(" GMT")
        .or_else(|| s.strip_suffix(" UTC"))
        .or_else(|| s.strip_suffix(" Z"))
        .unwrap_or(s);
    let t = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let ms: i64 = s.parse().ok()?;
        DateTime::<Utc>::from_timestamp_millis(ms)?
    } else {
        let n = NaiveDateTime::parse_from_str(s, "%b %d %Y %H:%M:%S%.f")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%b %d %Y %H:%M:%S"))
            .ok()?;
        n.and_utc()
    };
    Some(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// A file of CEF lines; `Event::record` is the 1-based line, a line that is not CEF is
/// reported ([`ReadErrorKind::BadCef`]) and the next one read. A line with a syslog
/// header before its `CEF:` (collectors mix both) is read as syslog with the hook.
pub(crate) fn read_lines<R: BufRead>(
    sink: &mut Sink<'_>,
    r: R,
    io: ReadErrorKind,
    syslog: &super::syslog::ParseOptions,
) {
    read_records(sink, r, io, ReadErrorKind::BadCef, b"CEF:", parse, syslog);
}

/// A CEF or LEEF line parser.
pub(crate) type LineParser = fn(&[u8]) -> Result<Map<String, Value>, TextFormatError>;

/// The line loop of the CEF and LEEF files.
pub(crate) fn read_records<R: BufRead>(
    sink: &mut Sink<'_>,
    r: R,
    io: ReadErrorKind,
    bad: ReadErrorKind,
    magic: &[u8],
    parse: LineParser,
    syslog: &super::syslog::ParseOptions,
) {
    each_line(sink, r, MAX_LINE, io, bad, &mut |sink, n, line| {
        let line = if n == 1 {
            line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
        } else {
            line
        };
        let e = match parse(line) {
            Ok(m) => return sink.event(n, Value::Object(m)),
            Err(e) => e,
        };
        let embedded = memchr::memmem::find(line, magic).is_some_and(|i| i > 0);
        if embedded && super::syslog::looks_like_syslog(line) {
            if let Ok(msg) = super::syslog::parse(line, syslog) {
                if let Value::Object(mut m) = msg.to_document() {
                    merge_into_syslog(&mut m);
                    if m.contains_key("_source") {
                        return sink.event(n, Value::Object(m));
                    }
                }
            }
        }
        sink.error(Position::Line(n), bad, e.to_string());
    });
}

/// The names of the syslog document's own fields (`docs/syslog.md`): a CEF/LEEF field of
/// one of these names is always added as `cef.<name>`/`leef.<name>`, present or not, so
/// that a name means one thing in a syslog event.
const SYSLOG_FIELDS: &[&str] = &[
    "format",
    "facility",
    "facility_code",
    "severity",
    "severity_code",
    "version",
    "timestamp",
    "host",
    "app",
    "procid",
    "msgid",
    "structured_data",
    "message",
];

/// Whether a syslog message with this tag (`app`), PID presence and text carries a CEF or
/// LEEF body that [`merge_into_syslog`] reads.
pub(crate) fn embeds_body(app: Option<&str>, has_procid: bool, msg: &str) -> bool {
    tag_split_body(app, has_procid, msg) || msg.starts_with("CEF:") || msg.starts_with("LEEF:")
}

/// RFC 3164 read `CEF:0|...` as the tag `CEF` and the text `0|...`.
fn tag_split_body(app: Option<&str>, has_procid: bool, msg: &str) -> bool {
    !has_procid
        && matches!(app, Some("CEF" | "LEEF"))
        && msg.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// The syslog hook (see the module contract): adds the fields of a CEF or LEEF message
/// to a syslog document. A message that starts like CEF/LEEF but does not parse is left
/// as it is (the syslog record is good) with `cef_error`/`leef_error` saying why.
pub fn merge_into_syslog(doc: &mut Map<String, Value>) {
    let Some(msg) = doc.get("message").and_then(Value::as_str) else {
        return;
    };
    let app = doc.get("app").and_then(Value::as_str);
    let split_tag = tag_split_body(app, doc.get("procid").is_some(), msg);
    let body = if split_tag {
        format!("{}:{msg}", app.unwrap_or_default())
    } else if msg.starts_with("CEF:") || msg.starts_with("LEEF:") {
        msg.to_string()
    } else {
        return;
    };
    let (prefix, parsed) = if body.starts_with("CEF:") {
        ("cef", parse(body.as_bytes()))
    } else {
        ("leef", super::leef::parse(body.as_bytes()))
    };
    match parsed {
        Ok(fields) => {
            if split_tag {
                // The tag was the format's name, not a program.
                doc.remove("app");
            }
            for (k, v) in fields {
                if SYSLOG_FIELDS.contains(&k.as_str()) || (doc.contains_key(&k) && k != "_source") {
                    doc.insert(format!("{prefix}.{k}"), v);
                } else {
                    doc.insert(k, v);
                }
            }
        }
        Err(e) => {
            doc.insert(format!("{prefix}_error"), e.to_string().into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spec_examples() {
        // The examples of the CEF specification (escapes in header and extension).
        let m = parse(br"CEF:0|security|threatmanager|1.0|100|detected a \| in message|10|src=10.0.0.1 act=blocked a | dst=1.1.1.1").unwrap();
        assert_eq!(m["name"], "detected a | in message");
        assert_eq!(m["act"], "blocked a |");
        assert_eq!(m["action"], "blocked a |");
        assert_eq!(m["dst_ip"], "1.1.1.1");
        let m = parse(br"CEF:0|security|threatmanager|1.0|100|detected a \\ in packet|10|src=10.0.0.1 act=blocked a \\ dst=1.1.1.1").unwrap();
        assert_eq!(m["name"], r"detected a \ in packet");
        assert_eq!(m["act"], r"blocked a \");
        let m = parse(br"CEF:0|security|threatmanager|1.0|100|detected a = in message|10|src=10.0.0.1 act=blocked a \= dst=1.1.1.1").unwrap();
        assert_eq!(m["act"], "blocked a =");
        let m = parse(
            b"CEF:0|V|P|1|2|n|3|msg=line1\\nline2 request=http://h/x?a=b&c=d rt=1764662400000",
        )
        .unwrap();
        assert_eq!(m["msg"], "line1\nline2");
        assert_eq!(m["request"], "http://h/x?a=b&c=d");
        assert_eq!(m["timestamp"], "2025-12-02T08:00:00Z");
        assert_eq!(m["_source"], "cef");
    }

    #[test]
    fn damaged() {
        assert!(parse(b"CEF:0|a|b|c")
            .unwrap_err()
            .what
            .contains("cut short"));
        assert!(parse(b"CEF:x|a|b|c|d|e|f|").is_err());
        assert!(parse(b"CEF:0|a|b|c|d|e|f|junk src=1").is_err());
        assert!(parse(b"CEF:0|a|b|c|d|e|f|junk").is_err());
        assert!(parse(b"LEEF:1.0|a").is_err());
        let m = parse(b"CEF:1|a|b|c|d|e|f").unwrap();
        assert_eq!(m["severity"], "f");
    }

    #[test]
    fn syslog_hook() {
        let mut d = json!({"host": "fw1", "app": "CEF", "severity": "notice",
            "message": "0|Fortinet|FortiGate|7.2|13|traffic|3|src=10.1.1.1 dpt=23 act=accept"});
        let Value::Object(m) = &mut d else { panic!() };
        merge_into_syslog(m);
        assert_eq!(d["deviceProduct"], "FortiGate");
        assert_eq!(d["severity"], "notice");
        assert_eq!(d["cef.severity"], "3");
        assert_eq!(d["dst_port"], "23");
        assert!(d.get("app").is_none());
    }
}
