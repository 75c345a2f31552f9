//! Zeek logs, TSV (Zeek's ASCII writer) and JSON (one object a line), as events of the
//! `product: zeek, service: <log>` logsources.
//!
//! CONTRACT (field names and routing are documented in `docs/zeek.md`; keep them):
//! - TSV is sniffed by its first line `#separator `; its header lines are honoured where
//!   they stand (a file may hold several logs one after another): `#separator` (written
//!   `\x09`), `#set_separator`, `#empty_field`, `#unset_field`, `#path`, `#fields`,
//!   `#types`; `#open`, `#close` and other `#` lines are skipped.
//! - A TSV value equal to `#unset_field` leaves the field out; `#empty_field` is `""`
//!   (an empty list for a container type); `set[..]`/`vector[..]` values are lists split
//!   on `#set_separator`; `count`, `int`, `port` are integers, `double`, `time`,
//!   `interval` numbers, `bool` (`T`/`F`) booleans; `\xHH` escapes are decoded. A value
//!   that does not read as its type is kept as text.
//! - JSON is sniffed when the first line is an object with `ts` and one of `_path`,
//!   `uid`, `id.orig_h`, `fuid`: the whole file is then read as Zeek JSON.
//! - Every event has `_path`, the log's name: `#path` for TSV, `_path` when the JSON
//!   carries it, else the log recognised from the fields ([`log_of`]); an event whose
//!   log is not recognised has no `_path` (and is then offered every Zeek rule).
//!   Field names are Zeek's own, dotted names kept flat (`id.orig_h`).
//! - A damaged line (a data line before `#fields`, a wrong number of columns, bad JSON)
//!   is reported with its line number and the next one read. Nothing panics on any input.

use std::io::BufRead;

use serde_json::{Map, Number, Value};

use super::json::{each_line, trim_eol};
use super::sink::Sink;
use super::{Position, ReadErrorKind};

/// Bound on one line.
pub const MAX_LINE: usize = 1 << 20;

/// Whether a first line starts a Zeek TSV log.
pub fn looks_like_zeek_tsv(line: &[u8]) -> bool {
    line.starts_with(b"#separator ")
}

/// Whether the first line of a JSON-lines input (perhaps cut short) is a Zeek record.
pub fn looks_like_zeek_json(line: &[u8]) -> bool {
    let has = |k: &[u8]| memchr::memmem::find(line, k).is_some();
    has(b"\"ts\":")
        && (has(b"\"_path\":") || has(b"\"uid\":") || has(b"\"id.orig_h\":") || has(b"\"fuid\":"))
}

/// The Zeek log a record belongs to, from the fields it has (`has(name)`); `None` when
/// no log is recognised.
pub fn log_of(has: &dyn Fn(&str) -> bool) -> Option<&'static str> {
    let any = |ks: &[&str]| ks.iter().any(|k| has(k));
    let log = if has("endpoint") && has("operation") {
        "dce_rpc"
    } else if has("request_type") {
        "kerberos"
    } else if has("share_type") {
        "smb_mapping"
    } else if has("action") && any(&["name", "path"]) {
        "smb_files"
    } else if any(&[
        "certificate.subject",
        "certificate.serial",
        "certificate.version",
    ]) {
        "x509"
    } else if has("fuid") && any(&["mime_type", "seen_bytes", "source", "total_bytes"]) {
        "files"
    } else if has("cipher") && any(&["server_name", "established", "version", "ssl_history"]) {
        "ssl"
    } else if any(&["method", "status_code", "request_body_len"]) && has("uri") {
        "http"
    } else if any(&["query", "qtype", "rcode", "trans_id"]) {
        "dns"
    } else if any(&["cookie", "security_protocol", "keyboard_layout"]) {
        "rdp"
    } else if any(&["auth_success", "auth_attempts", "hassh", "hasshServer"]) {
        "ssh"
    } else if any(&["conn_state", "orig_bytes", "missed_bytes"]) {
        "conn"
    } else if any(&["mailfrom", "rcptto"]) {
        "smtp"
    } else if has("domainname") && any(&["server_nb_computer_name", "username"]) {
        "ntlm"
    } else if has("note") {
        "notice"
    } else if any(&["assigned_addr", "msg_types"]) {
        "dhcp"
    } else if has("name") && has("notice") && has("peer") {
        "weird"
    } else {
        return None;
    };
    Some(log)
}

/// The header of the TSV log being read.
struct Header {
    sep: Vec<u8>,
    set_sep: Vec<u8>,
    empty: Vec<u8>,
    unset: Vec<u8>,
    path: Option<String>,
    fields: Option<Vec<String>>,
    types: Vec<String>,
}

impl Default for Header {
    fn default() -> Header {
        Header {
            sep: b"\t".to_vec(),
            set_sep: b",".to_vec(),
            empty: b"(empty)".to_vec(),
            unset: b"-".to_vec(),
            path: None,
            fields: None,
            types: Vec::new(),
        }
    }
}

/// `\xHH` escapes decoded (what Zeek writes for separators and unprintable bytes).
fn unescape(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') {
            let h = b
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = h.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(&unescape(b)).into_owned()
}

fn split<'a>(b: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    if sep.is_empty() {
        return vec![b];
    }
    let mut out = Vec::new();
    let mut start = 0;
    for i in memchr::memmem::find_iter(b, sep) {
        if i >= start {
            out.push(&b[start..i]);
            start = i + sep.len();
        }
    }
    out.push(&b[start..]);
    out
}

/// One TSV value by its Zeek type.
fn typed(b: &[u8], ty: &str, h: &Header) -> Value {
    if let Some(inner) = ty
        .strip_prefix("set[")
        .or_else(|| ty.strip_prefix("vector["))
        .and_then(|t| t.strip_suffix(']'))
    {
        if b == h.empty.as_slice() {
            return Value::Array(Vec::new());
        }
        return Value::Array(
            split(b, &h.set_sep)
                .into_iter()
                .map(|e| scalar(e, inner))
                .collect(),
        );
    }
    if b == h.empty.as_slice() {
        return Value::String(String::new());
    }
    scalar(b, ty)
}

fn scalar(b: &[u8], ty: &str) -> Value {
    let s = std::str::from_utf8(b).ok();
    let v = match ty {
        "count" | "port" => s.and_then(|s| s.parse::<u64>().ok()).map(Value::from),
        "int" => s.and_then(|s| s.parse::<i64>().ok()).map(Value::from),
        "double" | "time" | "interval" => s
            .and_then(|s| s.parse::<f64>().ok())
            .and_then(Number::from_f64)
            .map(Value::Number),
        "bool" => match b {
            b"T" => Some(Value::Bool(true)),
            b"F" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    };
    v.unwrap_or_else(|| Value::String(text(b)))
}

/// Parses one TSV data line against the header; the document or what is wrong.
fn tsv_record(line: &[u8], h: &Header) -> Result<Value, String> {
    let Some(fields) = &h.fields else {
        return Err("data line before the #fields header".into());
    };
    let cols = split(line, &h.sep);
    if cols.len() != fields.len() {
        return Err(format!(
            "{} fields, the #fields header names {}",
            cols.len(),
            fields.len()
        ));
    }
    let mut m = Map::new();
    let path = h.path.clone().or_else(|| {
        log_of(&|k: &str| {
            fields
                .iter()
                .zip(&cols)
                .any(|(f, c)| f == k && *c != h.unset.as_slice())
        })
        .map(str::to_string)
    });
    if let Some(p) = path {
        m.insert("_path".into(), p.into());
    }
    for (i, (name, col)) in fields.iter().zip(cols).enumerate() {
        if col == h.unset.as_slice() {
            continue;
        }
        let ty = h.types.get(i).map_or("string", String::as_str);
        m.insert(name.clone(), typed(col, ty, h));
    }
    Ok(Value::Object(m))
}

/// A header line (`#...`): updates `h`.
/// Applies a `#` header line to `h`; `false` when the line is not one of Zeek's header
/// directives (a record whose first field starts with `#`, read as a record).
fn header_line(line: &[u8], h: &mut Header) -> bool {
    if let Some(v) = line.strip_prefix(b"#separator ") {
        *h = Header {
            sep: unescape(v),
            ..Header::default()
        };
        return true;
    }
    let body = &line[1..];
    let mut parts = split(body, &h.sep).into_iter();
    let key = parts.next().unwrap_or_default();
    let rest: Vec<&[u8]> = parts.collect();
    let one = || rest.first().map(|v| unescape(v)).unwrap_or_default();
    match key {
        b"set_separator" => h.set_sep = one(),
        b"empty_field" => h.empty = one(),
        b"unset_field" => h.unset = one(),
        b"path" => h.path = Some(String::from_utf8_lossy(&one()).into_owned()),
        b"fields" => {
            h.fields = Some(rest.iter().map(|f| text(f)).collect());
        }
        b"types" => h.types = rest.iter().map(|t| text(t)).collect(),
        b"open" | b"close" => {}
        _ => return false,
    }
    true
}

/// One non-blank TSV line: `None` for a header directive (applied to `h`), else the
/// record or why it is not one.
fn tsv_line(line: &[u8], h: &mut Header) -> Option<Result<Value, String>> {
    if line.first() == Some(&b'#') && header_line(line, h) {
        return None;
    }
    Some(tsv_record(line, h))
}

/// A Zeek TSV log (see the module contract); `Event::record` is the line.
pub(crate) fn read_tsv<R: BufRead>(sink: &mut Sink<'_>, r: R, io: ReadErrorKind) {
    let mut h = Header::default();
    each_line(
        sink,
        r,
        MAX_LINE,
        io,
        ReadErrorKind::BadZeek,
        &mut |sink, n, line| match tsv_line(line, &mut h) {
            None => {}
            Some(Ok(doc)) => sink.event(n, doc),
            Some(Err(why)) => sink.error(Position::Line(n), ReadErrorKind::BadZeek, why),
        },
    );
}

/// One Zeek JSON line: the object with its `_path` (given or recognised).
pub fn json_record(line: &[u8]) -> Result<Value, (ReadErrorKind, String)> {
    let v = super::parse::parse_value(line).map_err(|e| (ReadErrorKind::BadJson, e.to_string()))?;
    let Value::Object(mut m) = v else {
        return Err((ReadErrorKind::NotAnObject, "not a JSON object".into()));
    };
    if !m.contains_key("_path") {
        if let Some(log) = log_of(&|k: &str| m.get(k).is_some_and(|v| !v.is_null())) {
            m.insert("_path".into(), log.into());
        }
    }
    Ok(Value::Object(m))
}

/// A Zeek JSON log (see the module contract); `Event::record` is the line.
pub(crate) fn read_json<R: BufRead>(sink: &mut Sink<'_>, r: R, io: ReadErrorKind) {
    each_line(
        sink,
        r,
        MAX_LINE,
        io,
        ReadErrorKind::BadJson,
        &mut |sink, n, line| {
            let line = if n == 1 {
                line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
            } else {
                line
            };
            match json_record(line) {
                Ok(doc) => sink.event(n, doc),
                Err((kind, why)) => sink.error(Position::Line(n), kind, why),
            }
        },
    );
}

/// Parses a whole TSV log held in memory: the documents and the errors (line, message),
/// for tests and fuzzing.
pub fn parse_tsv(text: &[u8]) -> (Vec<Value>, Vec<(u64, String)>) {
    let mut h = Header::default();
    let mut docs = Vec::new();
    let mut errs = Vec::new();
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        let line = trim_eol(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match tsv_line(line, &mut h) {
            None => {}
            Some(Ok(d)) => docs.push(d),
            Some(Err(e)) => errs.push((i as u64 + 1, e)),
        }
    }
    (docs, errs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CONN: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t2025-12-02-08-00-00\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tproto\tservice\tduration\tlocal_orig\ttunnel_parents\tnote\n#types\ttime\tstring\taddr\tport\tenum\tstring\tinterval\tbool\tset[string]\tstring\n1764662400.123456\tC1\t10.0.0.5\t52112\ttcp\t-\t0.5\tT\t(empty)\ta\\x09b\n1764662401.0\tC2\t10.0.0.6\t53\tudp\tdns\t-\tF\tX,Y\t(empty)\nshort\tline\n#close\t2025-12-02-09-00-00\n";

    #[test]
    fn tsv_header_types_and_markers() {
        let (docs, errs) = parse_tsv(CONN.as_bytes());
        assert_eq!(
            errs,
            vec![(11, "2 fields, the #fields header names 10".to_string())]
        );
        assert_eq!(
            docs[0],
            json!({"_path": "conn", "ts": 1764662400.123456, "uid": "C1", "id.orig_h": "10.0.0.5",
                   "id.orig_p": 52112, "proto": "tcp", "duration": 0.5, "local_orig": true,
                   "tunnel_parents": [], "note": "a\tb"})
        );
        assert_eq!(docs[1]["tunnel_parents"], json!(["X", "Y"]));
        assert_eq!(docs[1]["note"], "");
        assert!(docs[1].get("duration").is_none());
        let (_, errs) = parse_tsv(b"#separator \\x09\n1\t2\n");
        assert_eq!(errs[0].1, "data line before the #fields header");
    }

    #[test]
    fn json_logs_by_shape() {
        let d = json_record(
            br#"{"ts":1.5,"uid":"C","id.orig_h":"1.2.3.4","query":"a.example","qtype_name":"A"}"#,
        )
        .unwrap();
        assert_eq!(d["_path"], "dns");
        let d = json_record(br#"{"_path":"dns_custom","ts":1.5,"query":"x"}"#).unwrap();
        assert_eq!(d["_path"], "dns_custom");
        let d = json_record(
            br#"{"ts":1.5,"uid":"C","endpoint":"svcctl","operation":"CreateServiceW"}"#,
        )
        .unwrap();
        assert_eq!(d["_path"], "dce_rpc");
        assert!(json_record(b"[1]").is_err());
        assert!(looks_like_zeek_json(br#"{"ts":1.5,"uid":"C"#));
        assert!(!looks_like_zeek_json(br#"{"EventID":1,"Image":"x"}"#));
    }
}
