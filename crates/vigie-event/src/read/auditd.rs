//! Linux auditd raw logs (`/var/log/audit/audit.log`): records into events, one event per
//! audit serial, with the field names of Sigma's `service: auditd` rules and, for program
//! executions, the `category: process_creation` fields of `product: linux`.
//!
//! CONTRACT (field names are documented in `docs/auditd.md`; keep them):
//! - A record is one line `[node=N ]type=T msg=audit(SECS.MILLIS:SERIAL): k=v ...`, as
//!   auditd writes it in its `RAW` and `ENRICHED` formats (the enriched names after the
//!   `0x1d` separator, `UID="root"`, `SYSCALL=execve`..., are kept as written).
//! - [`parse_record`] reads one line; values are `"quoted"`, `'single quoted'` (the
//!   `msg='...'` of user-space records, whose own `k=v` pairs become fields of the record)
//!   or bare. A bare value of a field auditd escapes (see [`ESCAPED`]; the arguments
//!   `aN` of `EXECVE`) that is all hex digits is decoded: auditd writes a string it would
//!   have to quote (spaces, quotes, control bytes) as hex instead. `proctitle` is decoded
//!   and its NUL-separated arguments joined by spaces; a hex `key` holding several keys
//!   (separated by `0x01`) becomes a list. `EXECVE`'s split arguments (`a1_len=`,
//!   `a1[0]=`, `a1[1]=`...) are joined back into `a1`.
//! - [`Assembler`] joins the records of one event. An event is complete when a record
//!   with another serial (or time) arrives, at its `EOE` record, at the end of the input,
//!   or once it holds [`MAX_RECORDS`] records (the rest of a larger event becomes another
//!   event with the same serial). Records of two events interleaved in the file therefore
//!   give several events with the same serial: auditd writes an event's records together.
//! - An event document is a flat member list ([`FlatDoc`]: matching walks it without a
//!   map's hashing) with `type` (the record types, a string when there is one, else a
//!   list in order), `timestamp` (RFC 3339 UTC), `serial`, `_source: linux.auditd`
//!   (the routing convention of docs/mapping.md), `node` when given, and every
//!   field of every record: a field seen in several records with different values holds
//!   the list of its distinct values (a Sigma value matches any of them).
//! - An event with an `EXECVE` record, or a `SYSCALL` of `execve`/`execveat`, also gets the
//!   process-creation fields: `Image` (the `exe`), `CommandLine` (the arguments, else the
//!   `proctitle`), `CurrentDirectory`, `ProcessId`, `ParentProcessId`, `User` (the
//!   enriched `UID` name, else the `uid` number), `LogonId` (`ses`), and `ParentImage` /
//!   `ParentCommandLine` when an earlier event of the same input executed the parent PID
//!   (a bounded table: at most [`MAX_PROCESSES`] PIDs remembered).
//! - `SYSCALL` (the name) is added from `arch` and `syscall` when the log is not enriched,
//!   for the calls named in [`syscall_name`] (x86_64, i386, aarch64).
//! - Nothing panics on any input; a line that is not an audit record is reported with its
//!   line number and the next one read.

use std::io::BufRead;

use chrono::DateTime;
use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::flat::FlatDoc;

use super::json::each_line;
use super::sink::Sink;
use super::{Position, ReadErrorKind};

/// Records kept for one event before it is emitted anyway.
pub const MAX_RECORDS: usize = 256;

/// PIDs whose executed image is remembered for `ParentImage`; the table is emptied when
/// it grows past this.
pub const MAX_PROCESSES: usize = 65_536;

/// Bound on one line (auditd's own records are at most about 8 KiB).
pub const MAX_LINE: usize = 1 << 20;

/// Fields whose bare values auditd writes hex-encoded when they hold characters it would
/// have to quote (auparse's "escaped" fields). Sorted: looked up by binary search.
pub const ESCAPED: &[&str] = &[
    "acct",
    "cgroup",
    "cmd",
    "comm",
    "cwd",
    "data",
    "device",
    "dir",
    "exe",
    "file",
    "grp",
    "key",
    "name",
    "new",
    "new-chardev",
    "new-disk",
    "new-fs",
    "new-net",
    "new-rng",
    "ocomm",
    "old",
    "old-chardev",
    "old-disk",
    "old-fs",
    "old-net",
    "old-rng",
    "path",
    "proctitle",
    "root_dir",
    "sw",
    "vm",
    "watch",
];

/// One audit record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub node: Option<String>,
    /// Record type (`SYSCALL`, `EXECVE`, `PATH`...).
    pub kind: String,
    /// Seconds since the epoch and milliseconds, from `msg=audit(...)`.
    pub secs: i64,
    pub millis: u32,
    pub serial: u64,
    /// Fields in order, values decoded.
    pub fields: Vec<(String, Value)>,
}

impl Record {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_str())
    }
}

/// What is wrong with a line, and where (byte offset).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset}: {message}")]
pub struct AuditError {
    pub offset: usize,
    pub message: String,
}

fn err(offset: usize, message: impl Into<String>) -> AuditError {
    AuditError {
        offset,
        message: message.into(),
    }
}

/// Whether a line starts like an audit record (`type=NAME msg=audit(`, perhaps after
/// `node=NAME `). Used to sniff files.
pub fn looks_like_auditd(line: &[u8]) -> bool {
    let mut c = Cur { b: line, i: 0 };
    header(&mut c).is_ok()
}

struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn eat(&mut self, s: &[u8]) -> bool {
        if self.b[self.i..].starts_with(s) {
            self.i += s.len();
            true
        } else {
            false
        }
    }

    fn word(&mut self) -> &'a [u8] {
        let start = self.i;
        while self.i < self.b.len() && !is_sep(self.b[self.i]) {
            self.i += 1;
        }
        &self.b[start..self.i]
    }

    fn digits(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        while self.i < self.b.len() && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        (self.i > start).then(|| &self.b[start..self.i])
    }

    fn skip_seps(&mut self) {
        while self.i < self.b.len() && is_sep(self.b[self.i]) {
            self.i += 1;
        }
    }
}

/// Spaces and the enriched format's group separator between fields.
fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x1d | b'\r' | b'\n')
}

fn text(b: &[u8]) -> String {
    // Audit records are nearly always valid UTF-8 (ASCII, with hex for the rest): the
    // strict check is the fast one, the lossy one only for what fails it.
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

type Header = (Option<String>, String, i64, u32, u64);

/// `[node=N ]type=T msg=audit(S.MS:SERIAL):`
fn header(c: &mut Cur<'_>) -> Result<Header, AuditError> {
    let mut node = None;
    if c.eat(b"node=") {
        node = Some(text(c.word()));
        c.skip_seps();
    }
    if !c.eat(b"type=") {
        return Err(err(c.i, "expected `type=` (not an audit record)"));
    }
    let kind = c.word();
    let good = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    if kind.is_empty() || !kind.iter().all(good) {
        return Err(err(c.i, "record type must be letters, digits or `_`"));
    }
    c.skip_seps();
    if !c.eat(b"msg=audit(") {
        return Err(err(c.i, "expected `msg=audit(` after the record type"));
    }
    let secs = c.digits().ok_or_else(|| err(c.i, "expected the seconds"))?;
    let millis = if c.eat(b".") {
        c.digits()
            .ok_or_else(|| err(c.i, "expected the milliseconds"))?
    } else {
        b"0"
    };
    if !c.eat(b":") {
        return Err(err(c.i, "expected `:` before the serial"));
    }
    let serial = c.digits().ok_or_else(|| err(c.i, "expected the serial"))?;
    if !c.eat(b"):") {
        return Err(err(c.i, "expected `):` after the serial"));
    }
    let num = |b: &[u8], what: &str| {
        std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| err(c.i, format!("{what} out of range")))
    };
    let secs =
        i64::try_from(num(secs, "seconds")?).map_err(|_| err(c.i, "seconds out of range"))?;
    // Milliseconds: the first three digits (auditd writes exactly three).
    let ms = &millis[..millis.len().min(3)];
    let mut millis = num(ms, "milliseconds")? as u32;
    for _ in ms.len()..3 {
        millis *= 10;
    }
    let serial = num(serial, "serial")?;
    Ok((node, text(kind), secs, millis, serial))
}

/// Parses one record line. Trailing CR/LF ignored.
pub fn parse_record(line: &[u8]) -> Result<Record, AuditError> {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    let mut c = Cur {
        b: &line[..end],
        i: 0,
    };
    let (node, kind, secs, millis, serial) = header(&mut c)?;
    // A SYSCALL record has about 30 fields.
    let mut raw = Vec::with_capacity(32);
    fields(&mut c, &mut raw, true)?;
    let execve = kind == "EXECVE";
    let mut out: Vec<(String, Value)> = Vec::with_capacity(raw.len());
    // EXECVE's long arguments come in pieces: `a1_len=N a1[0]=.. a1[1]=..`.
    let mut pieces: Vec<(String, String)> = Vec::new();
    for (k, v, quoted) in raw {
        if execve {
            if let Some((arg, _)) = k.split_once('[').filter(|(a, _)| is_arg(a)) {
                let decoded = decode_value(&v, quoted).unwrap_or(v);
                match pieces.iter_mut().find(|(a, _)| a == arg) {
                    Some((_, s)) => s.push_str(&decoded),
                    None => pieces.push((arg.to_string(), decoded)),
                }
                continue;
            }
            if k.strip_suffix("_len").is_some_and(is_arg) {
                continue;
            }
        }
        let value = if k == "proctitle" && !quoted {
            match hex(&v) {
                Some(bytes) => Value::String(args_text(&bytes)),
                None => Value::String(v),
            }
        } else if k == "key" && !quoted {
            match hex(&v) {
                Some(bytes) => {
                    let keys: Vec<Value> = bytes
                        .split(|b| *b == 1)
                        .filter(|k| !k.is_empty())
                        .map(|k| Value::String(text(k)))
                        .collect();
                    if keys.len() == 1 {
                        keys.into_iter().next().unwrap_or(Value::Null)
                    } else {
                        Value::Array(keys)
                    }
                }
                None => Value::String(v),
            }
        } else {
            // Only a bare value is ever hex; the table is sorted (a test checks), and
            // this lookup ran on every field of every record.
            // The hex test first: most bare values are not hex, and it is cheaper than
            // the table's string comparisons.
            let escaped = !quoted
                && is_hex(&v)
                && (ESCAPED.binary_search(&k.as_str()).is_ok() || (execve && is_arg(&k)));
            Value::String(if escaped {
                decode_value(&v, quoted).unwrap_or(v)
            } else {
                v
            })
        };
        out.push((k, value));
    }
    for (arg, s) in pieces {
        out.push((arg, Value::String(s)));
    }
    if kind == "SOCKADDR" && !out.iter().any(|(k, _)| k == "saddr_fam") {
        let decoded = out
            .iter()
            .find(|(k, _)| k == "saddr")
            .and_then(|(_, v)| v.as_str())
            .and_then(decode_saddr);
        for (k, v) in decoded.unwrap_or_default() {
            out.push((k.to_string(), Value::String(v)));
        }
    }
    Ok(Record {
        node,
        kind,
        secs,
        millis,
        serial,
        fields: out,
    })
}

/// A `SOCKADDR` record's hex `saddr` (a `struct sockaddr` as the kernel copied it), as
/// `ausearch -i` and the enriched format name it: `saddr_fam` (`inet`, `inet6`, `local`,
/// `netlink`, or the number), then `laddr` and `lport` (inet, inet6) or `path` (local;
/// an abstract socket's name starts with `@`). The family is in host byte order (little
/// endian on x86 and arm; a big-endian host's is recognised too); `None` when `saddr`
/// is not hex or too short for its family.
pub fn decode_saddr(saddr: &str) -> Option<Vec<(&'static str, String)>> {
    let b = hex(saddr)?;
    if b.len() < 2 {
        return None;
    }
    let known = |f: u16| matches!(f, 1 | 2 | 10 | 16 | 17);
    let le = u16::from_le_bytes([b[0], b[1]]);
    let be = u16::from_be_bytes([b[0], b[1]]);
    let fam = if known(le) || !known(be) { le } else { be };
    let port = || u16::from_be_bytes([b[2], b[3]]).to_string();
    let out = match fam {
        2 if b.len() >= 8 => {
            let ip = std::net::Ipv4Addr::new(b[4], b[5], b[6], b[7]);
            vec![
                ("saddr_fam", "inet".to_string()),
                ("laddr", ip.to_string()),
                ("lport", port()),
            ]
        }
        10 if b.len() >= 24 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(&b[8..24]);
            vec![
                ("saddr_fam", "inet6".to_string()),
                ("laddr", std::net::Ipv6Addr::from(a).to_string()),
                ("lport", port()),
            ]
        }
        2 | 10 => return None,
        1 => {
            let rest = &b[2..];
            let path = match rest.split_first() {
                Some((0, name)) => {
                    let name = name.split(|c| *c == 0).next().unwrap_or_default();
                    format!("@{}", text(name))
                }
                _ => text(rest.split(|c| *c == 0).next().unwrap_or_default()),
            };
            vec![("saddr_fam", "local".to_string()), ("path", path)]
        }
        16 => vec![("saddr_fam", "netlink".to_string())],
        17 => vec![("saddr_fam", "packet".to_string())],
        n => vec![("saddr_fam", n.to_string())],
    };
    Some(out)
}

/// `aN`: an EXECVE argument name.
fn is_arg(k: &str) -> bool {
    k.len() > 1 && k.starts_with('a') && k[1..].bytes().all(|b| b.is_ascii_digit())
}

/// A bare value that is hex, decoded (`None`: keep it as written).
fn decode_value(v: &str, quoted: bool) -> Option<String> {
    if quoted {
        return None;
    }
    hex(v).map(|b| text(&b))
}

/// A non-empty, even-length run of hex digits (what [`hex`] decodes).
fn is_hex(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty() && b.len().is_multiple_of(2) && b.iter().all(u8::is_ascii_hexdigit)
}

/// Decodes an even-length run of hex digits; `None` for anything else.
fn hex(v: &str) -> Option<Vec<u8>> {
    if !is_hex(v) {
        return None;
    }
    let b = v.as_bytes();
    let val = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    };
    Some(
        b.chunks_exact(2)
            .map(|p| (val(p[0]) << 4) | val(p[1]))
            .collect(),
    )
}

/// NUL-separated arguments as one space-separated command line.
fn args_text(bytes: &[u8]) -> String {
    let parts: Vec<String> = bytes
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(text)
        .collect();
    parts.join(" ")
}

/// `k=v` pairs up to the end; `(key, value, quoted)`. Inside `msg='...'` (`outer`), the
/// quoted text's own pairs are read as fields; words without `=` (AVC's `{ read }`)
/// are gathered under `text`.
fn fields(
    c: &mut Cur<'_>,
    out: &mut Vec<(String, String, bool)>,
    outer: bool,
) -> Result<(), AuditError> {
    let mut words: Vec<String> = Vec::new();
    loop {
        c.skip_seps();
        if c.i >= c.b.len() {
            break;
        }
        let start = c.i;
        while c.i < c.b.len() && !is_sep(c.b[c.i]) && c.b[c.i] != b'=' {
            c.i += 1;
        }
        let key = &c.b[start..c.i];
        if c.i >= c.b.len() || c.b[c.i] != b'=' {
            words.push(text(key));
            continue;
        }
        c.i += 1;
        let key = text(key);
        match c.b.get(c.i) {
            Some(&q @ (b'"' | b'\'')) => {
                let open = c.i;
                c.i += 1;
                let from = c.i;
                let close = memchr::memchr(q, &c.b[from..])
                    .ok_or_else(|| err(open, format!("`{key}`: unterminated quote")))?;
                let inner = &c.b[from..from + close];
                c.i = from + close + 1;
                if q == b'\'' && outer && key == "msg" {
                    let mut sub = Cur { b: inner, i: 0 };
                    let before = out.len();
                    fields(&mut sub, out, false).map_err(|e| err(from + e.offset, e.message))?;
                    if out.len() == before {
                        out.push((key, text(inner), true));
                    }
                } else {
                    out.push((key, text(inner), true));
                }
            }
            _ => {
                let v = c.word();
                out.push((key, text(v), false));
            }
        }
    }
    if !words.is_empty() {
        out.push(("text".into(), words.join(" "), true));
    }
    Ok(())
}

/// The name of a system call, for the calls Sigma's auditd rules and process creation
/// need, on x86_64 (`c000003e`), i386 (`40000003`) and aarch64 (`c00000b7`).
pub fn syscall_name(arch: &str, number: u32) -> Option<&'static str> {
    const X86_64: &[(u32, &str)] = &[
        (0, "read"),
        (1, "write"),
        (2, "open"),
        (3, "close"),
        (9, "mmap"),
        (10, "mprotect"),
        (21, "access"),
        (41, "socket"),
        (42, "connect"),
        (43, "accept"),
        (49, "bind"),
        (50, "listen"),
        (56, "clone"),
        (57, "fork"),
        (58, "vfork"),
        (59, "execve"),
        (62, "kill"),
        (63, "uname"),
        (76, "truncate"),
        (77, "ftruncate"),
        (82, "rename"),
        (83, "mkdir"),
        (84, "rmdir"),
        (85, "creat"),
        (86, "link"),
        (87, "unlink"),
        (88, "symlink"),
        (90, "chmod"),
        (91, "fchmod"),
        (92, "chown"),
        (93, "fchown"),
        (94, "lchown"),
        (99, "sysinfo"),
        (101, "ptrace"),
        (103, "syslog"),
        (105, "setuid"),
        (106, "setgid"),
        (133, "mknod"),
        (135, "personality"),
        (157, "prctl"),
        (161, "chroot"),
        (165, "mount"),
        (166, "umount2"),
        (169, "reboot"),
        (175, "init_module"),
        (176, "delete_module"),
        (257, "openat"),
        (258, "mkdirat"),
        (259, "mknodat"),
        (263, "unlinkat"),
        (264, "renameat"),
        (268, "fchmodat"),
        (288, "accept4"),
        (313, "finit_module"),
        (316, "renameat2"),
        (319, "memfd_create"),
        (321, "bpf"),
        (322, "execveat"),
    ];
    const I386: &[(u32, &str)] = &[
        (11, "execve"),
        (14, "mknod"),
        (103, "syslog"),
        (116, "sysinfo"),
        (128, "init_module"),
        (136, "personality"),
        (350, "finit_module"),
        (356, "memfd_create"),
        (358, "execveat"),
    ];
    const AARCH64: &[(u32, &str)] = &[
        (33, "mknodat"),
        (35, "unlinkat"),
        (56, "openat"),
        (200, "bind"),
        (202, "accept"),
        (203, "connect"),
        (242, "accept4"),
        (92, "personality"),
        (105, "init_module"),
        (116, "syslog"),
        (179, "sysinfo"),
        (221, "execve"),
        (273, "finit_module"),
        (279, "memfd_create"),
        (281, "execveat"),
    ];
    let table = match arch.to_ascii_lowercase().as_str() {
        "c000003e" | "x86_64" => X86_64,
        "40000003" | "i386" => I386,
        "c00000b7" | "aarch64" => AARCH64,
        _ => return None,
    };
    table.iter().find(|(n, _)| *n == number).map(|(_, s)| *s)
}

/// Joins records into events (see the module contract).
#[derive(Default)]
pub struct Assembler {
    pending: Vec<Record>,
    /// Line of the first pending record.
    first_line: u64,
    /// PID → (image, command line) of the last execution seen.
    processes: FxHashMap<String, (String, String)>,
    builder: DocBuilder,
}

impl Assembler {
    pub fn new() -> Assembler {
        Assembler::default()
    }

    /// Adds a record read at `line`; returns the events it completes (with the line of
    /// their first record).
    pub fn push(&mut self, line: u64, rec: Record, out: &mut Vec<(u64, FlatDoc)>) {
        if let Some(last) = self.pending.last() {
            if last.serial != rec.serial || last.secs != rec.secs || last.millis != rec.millis {
                self.flush(out);
            }
        }
        if rec.kind == "EOE" {
            if self.pending.is_empty() {
                self.first_line = line;
                self.pending.push(rec);
            }
            self.flush(out);
            return;
        }
        if self.pending.is_empty() {
            self.first_line = line;
        }
        self.pending.push(rec);
        if self.pending.len() >= MAX_RECORDS {
            self.flush(out);
        }
    }

    /// Emits the pending event, if any.
    pub fn flush(&mut self, out: &mut Vec<(u64, FlatDoc)>) {
        if self.pending.is_empty() {
            return;
        }
        let mut records = std::mem::take(&mut self.pending);
        let doc = self.document(&mut records);
        out.push((self.first_line, doc));
        // The allocation is kept for the next event.
        records.clear();
        self.pending = records;
    }

    /// One event's document, as a flat member list (a field of several records is a
    /// list value, which the field walk hands over whole, as it does a JSON array).
    /// The fields derived from the records are worked out first, while the records are
    /// whole; then the records' values are moved (not copied) into the document.
    fn document(&mut self, records: &mut [Record]) -> FlatDoc {
        let mut derived = Derived::default();
        self.derive(&mut derived, records);
        let mut b = std::mem::take(&mut self.builder);
        b.start();
        let mut types: Vec<Value> = Vec::new();
        for r in records.iter() {
            if !types.iter().any(|t| t.as_str() == Some(r.kind.as_str())) {
                types.push(Value::String(r.kind.clone()));
            }
        }
        let first = &records[0];
        b.merge(
            "type",
            if types.len() == 1 {
                types.remove(0)
            } else {
                Value::Array(types)
            },
        );
        if let Some(t) = DateTime::from_timestamp(first.secs, first.millis * 1_000_000) {
            b.merge(
                "timestamp",
                t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                    .into(),
            );
        }
        b.merge("serial", first.serial.into());
        // The routing convention's `_source`: keeps auditd events out of the Windows
        // entries (which admit no `_source` but their own) and of the ECS/OCSF ones.
        b.merge("_source", "linux.auditd".into());
        if let Some(n) = &first.node {
            b.merge("node", n.as_str().into());
        }
        for r in records.iter_mut() {
            for (k, v) in r.fields.drain(..) {
                b.merge(&k, v);
            }
        }
        for (k, v) in derived.fields {
            b.set(k, v);
        }
        let doc = b.finish();
        self.builder = b;
        doc
    }

    /// The fields an event gets beyond its records' (see the module contract), in the
    /// order they are set.
    fn derive(&mut self, d: &mut Derived, records: &[Record]) {
        let syscall = records.iter().find(|r| r.kind == "SYSCALL");
        if let Some(s) = syscall {
            if !d.has(records, "SYSCALL") {
                let name = s
                    .get("arch")
                    .zip(s.get("syscall").and_then(|n| n.parse().ok()))
                    .and_then(|(a, n)| syscall_name(a, n));
                if let Some(name) = name {
                    d.set("SYSCALL", name.into());
                }
            }
        }
        let call = syscall.and_then(|s| {
            s.get("SYSCALL").map(str::to_string).or_else(|| {
                let n = s.get("syscall")?.parse().ok()?;
                syscall_name(s.get("arch")?, n).map(str::to_string)
            })
        });
        let execve = records.iter().find(|r| r.kind == "EXECVE");
        let executes = execve.is_some() || matches!(call.as_deref(), Some("execve" | "execveat"));
        if executes {
            self.process_fields(d, records, syscall, execve);
        }
        if let Some(s) = syscall {
            network_fields(d, records, s, call.as_deref());
            file_fields(d, records, s);
        }
    }

    fn process_fields(
        &mut self,
        d: &mut Derived,
        records: &[Record],
        syscall: Option<&Record>,
        execve: Option<&Record>,
    ) {
        let image = syscall.and_then(|s| s.get("exe")).map(str::to_string);
        let command = execve
            .map(|e| {
                let argc: Option<usize> = e.get("argc").and_then(|a| a.parse().ok());
                let mut args: Vec<(usize, &str)> = e
                    .fields
                    .iter()
                    .filter(|(k, _)| is_arg(k))
                    .filter_map(|(k, v)| Some((k[1..].parse().ok()?, v.as_str()?)))
                    .filter(|(i, _)| argc.is_none_or(|n| *i < n))
                    .collect();
                args.sort_by_key(|(i, _)| *i);
                args.iter().map(|(_, a)| *a).collect::<Vec<_>>().join(" ")
            })
            .filter(|c| !c.is_empty())
            .or_else(|| {
                records
                    .iter()
                    .find(|r| r.kind == "PROCTITLE")
                    .and_then(|p| p.get("proctitle"))
                    .map(str::to_string)
            });
        let cwd = records
            .iter()
            .find(|r| r.kind == "CWD")
            .and_then(|c| c.get("cwd"));
        if let Some(i) = &image {
            d.set("Image", i.as_str().into());
        }
        if let Some(c) = &command {
            d.set("CommandLine", c.as_str().into());
        }
        if let Some(c) = cwd {
            d.set("CurrentDirectory", c.into());
        }
        let Some(s) = syscall else {
            return;
        };
        let pid = s.get("pid");
        let ppid = s.get("ppid");
        if let Some(p) = pid {
            d.set("ProcessId", p.into());
        }
        if let Some(p) = ppid {
            d.set("ParentProcessId", p.into());
            if let Some((pi, pc)) = self.processes.get(p) {
                d.set("ParentImage", pi.as_str().into());
                d.set("ParentCommandLine", pc.as_str().into());
            }
        }
        if let Some(u) = s.get("UID").or_else(|| s.get("uid")) {
            d.set("User", u.into());
        }
        if let Some(ses) = s.get("ses") {
            d.set("LogonId", ses.into());
        }
        if let (Some(p), Some(i)) = (pid, image) {
            if self.processes.len() >= MAX_PROCESSES {
                self.processes.clear();
            }
            self.processes
                .insert(p.to_string(), (i, command.unwrap_or_default()));
        }
    }
}

/// The fields derived from an event's records, set in order after its record fields
/// with the semantics of a map insert: a field already there keeps its place and takes
/// the new value.
#[derive(Default)]
struct Derived {
    fields: Vec<(&'static str, Value)>,
}

impl Derived {
    fn set(&mut self, k: &'static str, v: Value) {
        match self.fields.iter_mut().find(|(f, _)| *f == k) {
            Some((_, slot)) => *slot = v,
            None => self.fields.push((k, v)),
        }
    }

    /// Whether the event will have field `k`: from a record or set here already.
    fn has(&self, records: &[Record], k: &str) -> bool {
        self.fields.iter().any(|(f, _)| *f == k)
            || records.iter().any(|r| r.fields.iter().any(|(f, _)| f == k))
    }
}

/// An event's members being gathered: distinct keys, in the order first seen. Kept by
/// the [`Assembler`] across events, so its table is allocated once.
#[derive(Default)]
struct DocBuilder {
    doc: FlatDoc,
    /// Hash of a key → its member index. The key text is checked on every hit; two keys
    /// of one event with the same hash (possible with Fx, which resists no crafted
    /// input) make the second one found by a scan instead.
    at: FxHashMap<u64, u32>,
}

fn key_hash(k: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(k)
}

impl DocBuilder {
    /// Starts an event's document, sized like the last one.
    fn start(&mut self) {
        self.doc = FlatDoc::with_capacity(self.doc.len(), self.doc.key_text().len());
        self.at.clear();
    }

    fn find(&self, k: &str, hash: u64) -> Option<usize> {
        let i = *self.at.get(&hash)? as usize;
        if self.doc.key_at(i) == Some(k) {
            return Some(i);
        }
        self.doc.iter().position(|(key, _)| key == k)
    }

    /// Adds a field: a second, different value makes the field a list of its distinct
    /// values.
    fn merge(&mut self, k: &str, v: Value) {
        let hash = key_hash(k);
        let Some(prev) = self.find(k, hash).and_then(|i| self.doc.value_mut(i)) else {
            self.push(k, hash, v);
            return;
        };
        if !prev.is_array() {
            let same = match &v {
                Value::Array(new) => new.len() == 1 && new[0] == *prev,
                v => v == prev,
            };
            if same {
                return;
            }
            *prev = Value::Array(vec![prev.take()]);
        }
        let Value::Array(list) = prev else {
            return;
        };
        let mut add = |v: Value| {
            if !list.contains(&v) {
                list.push(v);
            }
        };
        match v {
            Value::Array(new) => new.into_iter().for_each(add),
            v => add(v),
        }
    }

    /// Sets a field, replacing its value in place when it is there already.
    fn set(&mut self, k: &str, v: Value) {
        let hash = key_hash(k);
        match self.find(k, hash).and_then(|i| self.doc.value_mut(i)) {
            Some(prev) => *prev = v,
            None => self.push(k, hash, v),
        }
    }

    fn push(&mut self, k: &str, hash: u64, v: Value) {
        self.doc.key_buf().push_str(k);
        // An event's keys are bounded by MAX_RECORDS lines of MAX_LINE bytes, far from
        // the 4 GiB a member list can index.
        if self.doc.push(v) {
            let i = (self.doc.len() - 1) as u32;
            self.at.entry(hash).or_insert(i);
        }
    }

    fn finish(&mut self) -> FlatDoc {
        std::mem::take(&mut self.doc)
    }
}

/// The process of a `SYSCALL` as Sigma's linux `network_connection` and `file_event`
/// rules name it: `Image`, `ProcessId`, `User` (not overwriting process creation's).
fn actor_fields(d: &mut Derived, records: &[Record], s: &Record) {
    for (name, value) in [
        ("Image", s.get("exe")),
        ("ProcessId", s.get("pid")),
        ("User", s.get("UID").or_else(|| s.get("uid"))),
    ] {
        if let Some(v) = value {
            if !d.has(records, name) {
                d.set(name, v.into());
            }
        }
    }
}

/// `connect`, `accept`/`accept4` and `bind` with an inet or inet6 `SOCKADDR`: the fields
/// of Sigma's linux `network_connection` (docs/auditd.md). `connect`'s address is the
/// destination (`Initiated: "true"`); `accept`'s the peer, so the source
/// (`Initiated: "false"`); `bind`'s the local address, so the source too. An IPv4 address
/// in IPv6 (`::ffff:10.0.0.1`) is given as IPv4.
fn network_fields(d: &mut Derived, records: &[Record], s: &Record, call: Option<&str>) {
    let (ip_key, port_key, v6_key, initiated) = match call {
        Some("connect") => (
            "DestinationIp",
            "DestinationPort",
            "DestinationIsIpv6",
            "true",
        ),
        Some("accept" | "accept4" | "bind") => ("SourceIp", "SourcePort", "SourceIsIpv6", "false"),
        _ => return,
    };
    let Some(sa) = records
        .iter()
        .find(|r| r.kind == "SOCKADDR" && matches!(r.get("saddr_fam"), Some("inet" | "inet6")))
    else {
        return;
    };
    let (Some(addr), Some(port)) = (sa.get("laddr"), sa.get("lport")) else {
        return;
    };
    let ip: Option<std::net::IpAddr> = addr.parse().ok();
    let ip = match ip {
        Some(std::net::IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4),
        Some(v4) => v4,
        None => return,
    };
    d.set(ip_key, ip.to_string().into());
    d.set(port_key, port.into());
    d.set(v6_key, if ip.is_ipv6() { "true" } else { "false" }.into());
    d.set("Initiated", initiated.into());
    actor_fields(d, records, s);
}

/// `PATH` records with `nametype=CREATE`: the fields of Sigma's linux `file_event`,
/// `TargetFilename` (the name made absolute by its `PARENT` record's directory, else by
/// the `CWD`; a list when the call created several) and the actor.
fn file_fields(d: &mut Derived, records: &[Record], s: &Record) {
    let created: Vec<&str> = records
        .iter()
        .filter(|r| r.kind == "PATH" && r.get("nametype") == Some("CREATE"))
        .filter_map(|r| r.get("name"))
        .collect();
    if created.is_empty() {
        return;
    }
    let parent = records
        .iter()
        .filter(|r| r.kind == "PATH" && r.get("nametype") == Some("PARENT"))
        .filter_map(|r| r.get("name"))
        .find(|n| n.starts_with('/'));
    let cwd = records
        .iter()
        .find(|r| r.kind == "CWD")
        .and_then(|c| c.get("cwd"))
        .filter(|c| c.starts_with('/'));
    let mut names: Vec<Value> = Vec::new();
    for name in created {
        let full = if name.starts_with('/') {
            name.to_string()
        } else {
            match parent.or(cwd) {
                Some(dir) => format!(
                    "{}/{}",
                    dir.trim_end_matches('/'),
                    name.trim_start_matches("./")
                ),
                None => name.to_string(),
            }
        };
        let v = Value::String(full);
        if !names.contains(&v) {
            names.push(v);
        }
    }
    let v = if names.len() == 1 {
        names.remove(0)
    } else {
        Value::Array(names)
    };
    d.set("TargetFilename", v);
    actor_fields(d, records, s);
}

/// An auditd file (sniffed by its first line): records joined into events,
/// `Event::record` the line of an event's first record; a line that is not an audit
/// record is reported ([`ReadErrorKind::BadAuditd`]) and the next one read.
pub(crate) fn read_lines<R: BufRead>(sink: &mut Sink<'_>, r: R, io: ReadErrorKind) {
    let mut asm = Assembler::new();
    let mut done = Vec::new();
    let bad = ReadErrorKind::BadAuditd;
    each_line(sink, r, MAX_LINE, io, bad, &mut |sink, number, line| {
        match parse_record(line) {
            Ok(rec) => asm.push(number, rec, &mut done),
            Err(e) => sink.error(Position::Line(number), bad, e.to_string()),
        }
        for (at, doc) in done.drain(..) {
            sink.event_flat(at, doc);
        }
    });
    asm.flush(&mut done);
    for (at, doc) in done.drain(..) {
        sink.event_flat(at, doc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escaped_fields_are_sorted_for_binary_search() {
        assert!(
            ESCAPED.windows(2).all(|w| w[0] < w[1]),
            "ESCAPED is not sorted"
        );
    }

    fn events(text: &str) -> Vec<Value> {
        let mut asm = Assembler::new();
        let mut out = Vec::new();
        for (i, l) in text.lines().enumerate() {
            asm.push(i as u64 + 1, parse_record(l.as_bytes()).unwrap(), &mut out);
        }
        asm.flush(&mut out);
        out.into_iter().map(|(_, d)| d.to_value()).collect()
    }

    #[test]
    fn execve_event_joined_and_decoded() {
        let log = concat!(
            "type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=900 pid=901 auid=1000 uid=1000 gid=1000 euid=1000 ses=3 comm=\"bash\" exe=\"/usr/bin/bash\" key=\"exec\"\n",
            "type=EXECVE msg=audit(1700000000.123:42): argc=3 a0=\"bash\" a1=\"-c\" a2=6563686F202268692074686572652220",
            "\ntype=CWD msg=audit(1700000000.123:42): cwd=\"/home/alice\"\n",
            "type=PATH msg=audit(1700000000.123:42): item=0 name=\"/usr/bin/bash\" inode=1 nametype=NORMAL\n",
            "type=PATH msg=audit(1700000000.123:42): item=1 name=2F746D702F61206220 nametype=NORMAL\n",
            "type=PROCTITLE msg=audit(1700000000.123:42): proctitle=62617368002D63006563686F\n",
            "type=EOE msg=audit(1700000000.123:42): \n",
            "type=USER_CMD msg=audit(1700000001.000:43): pid=5 uid=0 msg='cwd=\"/root\" cmd=6C73202D6C61 exe=\"/usr/bin/sudo\" res=success'\n",
        );
        let ev = events(log);
        assert_eq!(ev.len(), 2);
        let e = &ev[0];
        assert_eq!(
            e["type"],
            json!(["SYSCALL", "EXECVE", "CWD", "PATH", "PROCTITLE"])
        );
        assert_eq!(e["SYSCALL"], "execve");
        assert_eq!(e["a2"], json!(["55d2", "echo \"hi there\" "]));
        assert_eq!(e["name"], json!(["/usr/bin/bash", "/tmp/a b "]));
        assert_eq!(e["proctitle"], "bash -c echo");
        assert_eq!(e["Image"], "/usr/bin/bash");
        assert_eq!(e["CommandLine"], "bash -c echo \"hi there\" ");
        assert_eq!(e["CurrentDirectory"], "/home/alice");
        assert_eq!(e["ProcessId"], "901");
        assert_eq!(e["timestamp"], "2023-11-14T22:13:20.123Z");
        assert_eq!(ev[1]["cmd"], "ls -la");
        assert_eq!(ev[1]["exe"], "/usr/bin/sudo");
        assert_eq!(ev[1]["uid"], "0");
    }

    #[test]
    fn split_args_keys_and_parents() {
        let log = concat!(
            "type=SYSCALL msg=audit(1.5:1): arch=c000003e syscall=59 ppid=1 pid=10 exe=\"/bin/sh\" key=6B3101","6B32\n",
            "type=EXECVE msg=audit(1.5:1): argc=2 a0=\"sh\" a1_len=6 a1[0]=\"abc\" a1[1]=\"def\"\n",
            "type=SYSCALL msg=audit(2.0:2): arch=c000003e syscall=59 ppid=10 pid=11 exe=\"/bin/id\"\n",
            "type=EXECVE msg=audit(2.0:2): argc=1 a0=\"id\"\n",
        );
        let ev = events(log);
        assert_eq!(ev[0]["key"], json!(["k1", "k2"]));
        assert_eq!(ev[0]["a1"], "abcdef");
        assert_eq!(ev[0]["CommandLine"], "sh abcdef");
        assert_eq!(ev[1]["ParentImage"], "/bin/sh");
        assert_eq!(ev[1]["ParentCommandLine"], "sh abcdef");
    }

    #[test]
    fn errors_and_sniffing() {
        assert!(looks_like_auditd(b"type=SYSCALL msg=audit(1.2:3): a=b"));
        assert!(looks_like_auditd(b"node=h1 type=EOE msg=audit(1.2:3): "));
        assert!(!looks_like_auditd(b"Jan  1 00:00:00 h a: type=X"));
        assert!(parse_record(b"type=SYSCALL msg=audit(1.2:3) a=b").is_err());
        assert!(parse_record(b"type=SYSCALL msg=audit(1.2:3): a=\"b").is_err());
        assert!(parse_record(b"type= msg=audit(1.2:3): ").is_err());
        assert!(parse_record(b"type=X msg=audit(99999999999999999999.2:3): ").is_err());
        let avc =
            parse_record(b"type=AVC msg=audit(1.2:3): avc:  denied  { read } for pid=1").unwrap();
        assert_eq!(avc.fields[0], ("pid".into(), Value::from("1")));
        assert_eq!(
            avc.fields[1],
            ("text".into(), Value::from("avc: denied { read } for"))
        );
    }
}
