//! Syslog: RFC 5424 and RFC 3164 messages into event documents, the stream framings of
//! RFC 6587 ([`Framer`]), and syslog files for the readers (sniffed, one message a line).
//!
//! [`parse`] takes one message (a UDP datagram, a frame, a line) and returns a
//! [`Message`]; [`Message::to_document`] makes the event document whose field names are
//! documented in `docs/syslog.md` (`host`, `app`, `procid`, `msgid`, `facility`,
//! `severity`, `timestamp` as RFC 3339 UTC, `message`, `structured_data.<id>.<param>`),
//! so [`crate::Event`]'s time is the syslog timestamp (`timestamp` is one of its time keys).
//! The file reader hands a message without structured data, Sysmon XML, device header
//! or CEF/LEEF body over as a flat member list of the same fields in the same order.
//!
//! RFC 5424 is recognised by the version after the PRI (`<34>1 `) and parsed to the
//! letter where it matters (header fields, structured data with its escapes, the BOM,
//! `-` for nil), leniently where senders differ harmlessly (more than 6 fraction digits,
//! header fields longer than the RFC's limits, a message without structured data).
//! Anything else goes through the RFC 3164 reader, which takes what real devices send:
//! the PRI may be missing (log files), the timestamp may be `Mmm dd hh:mm:ss` (year
//! inferred from [`ParseOptions::reference`]), with a year or fractions, or ISO 8601, or
//! absent after a PRI; the hostname may be missing; `TAG[PID]:` is optional.
//! Errors name the byte offset and what is wrong; nothing here panics on any input.

mod frame;
pub mod sysmon;

use std::io::BufRead;

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
    Timelike, Utc,
};
use serde_json::{Map, Value};

pub use frame::{FrameError, FrameSink, Framer, Framing};

use super::json::each_line;
use super::sink::Sink;
use super::{Position, ReadErrorKind};
use crate::flat::FlatDoc;

/// Default bound on one message (frame, datagram, line): larger ones are reported and
/// skipped. syslog-ng's default `log-msg-size` is 64 KiB; rsyslog's is 8 KiB.
pub const DEFAULT_MAX_MESSAGE: usize = 64 << 10;

/// Bound on one line of a syslog file read by `vigie hunt` (files may hold the long lines
/// of forwarded Windows events; a line past it is reported and skipped).
pub const MAX_FILE_LINE: usize = 1 << 20;

/// Which RFC a message was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogFormat {
    Rfc5424,
    Rfc3164,
}

impl SyslogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SyslogFormat::Rfc5424 => "rfc5424",
            SyslogFormat::Rfc3164 => "rfc3164",
        }
    }
}

/// One STRUCTURED-DATA element: its SD-ID and its parameters in order (a name may repeat).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdElement {
    pub id: String,
    pub params: Vec<(String, String)>,
}

/// One parsed message. Absent or nil (`-`) fields are `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub format: SyslogFormat,
    /// Facility and severity from the PRI (`None` when the PRI is missing).
    pub facility: Option<u8>,
    pub severity: Option<u8>,
    /// RFC 5424 VERSION.
    pub version: Option<u32>,
    pub timestamp: Option<DateTime<Utc>>,
    pub host: Option<String>,
    /// RFC 5424 APP-NAME or the RFC 3164 TAG.
    pub app: Option<String>,
    pub procid: Option<String>,
    pub msgid: Option<String>,
    pub structured_data: Vec<SdElement>,
    /// MSG / CONTENT, BOM removed, invalid UTF-8 replaced by U+FFFD.
    pub message: String,
}

/// How messages are read.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// The time a message was received (or a file last written): the year of an RFC 3164
    /// timestamp is the latest that does not put it more than [`YEAR_TOLERANCE_DAYS`]
    /// after this.
    pub reference: DateTime<Utc>,
    /// Give a message without a timestamp the reference time (RFC 3164 §4.3.2: a relay
    /// adds its own); listeners set it, file readers do not (a file's time is not the
    /// message's).
    pub stamp_missing: bool,
    /// Zone of timestamps that carry none (RFC 3164 `Mmm dd hh:mm:ss`, ISO without
    /// zone). UTC by default.
    pub zone: Zone,
}

impl ParseOptions {
    /// Options with `reference` as the reference time, nothing stamped, zone-less times UTC.
    pub fn at(reference: DateTime<Utc>) -> ParseOptions {
        ParseOptions {
            reference,
            stamp_missing: false,
            zone: Zone::utc(),
        }
    }
}

/// The time zone of timestamps written without one: a fixed offset, or a zone of the
/// tz database (`Europe/Paris`), whose offset follows daylight saving time.
#[derive(Debug, Clone)]
pub enum Zone {
    Fixed(FixedOffset),
    Named(jiff::tz::TimeZone),
}

impl From<FixedOffset> for Zone {
    fn from(o: FixedOffset) -> Zone {
        Zone::Fixed(o)
    }
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::utc()
    }
}

/// Why a `--timezone` value is not a zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("time zone `{given}`: {why} (give `UTC`, an offset such as `+02:00` or `-0530`, or a tz database name such as `Europe/Paris`)")]
pub struct ZoneError {
    pub given: String,
    pub why: String,
}

impl Zone {
    pub fn utc() -> Zone {
        Zone::Fixed(Utc.fix())
    }

    /// `UTC` / `Z`, an offset (`+02:00`, `-0530`, `+02`), or a tz database name, found in
    /// the system's database (`/usr/share/zoneinfo`, or `TZDIR`).
    pub fn parse(s: &str) -> Result<Zone, ZoneError> {
        let bad = |why: String| ZoneError {
            given: s.to_owned(),
            why,
        };
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") {
            return Ok(Zone::utc());
        }
        if let Some(sign) = t.bytes().next().filter(|b| matches!(b, b'+' | b'-')) {
            let digits: String = t[1..].chars().filter(|c| *c != ':').collect();
            let ok = digits.bytes().all(|b| b.is_ascii_digit());
            let (h, m) = match (ok, digits.len()) {
                (true, 2) => (digits.parse::<i32>().unwrap_or(99), 0),
                (true, 4) => (
                    digits[..2].parse::<i32>().unwrap_or(99),
                    digits[2..].parse::<i32>().unwrap_or(99),
                ),
                _ => return Err(bad("an offset is `+hh:mm`, `+hhmm` or `+hh`".into())),
            };
            if h > 23 || m > 59 {
                return Err(bad("offset out of range".into()));
            }
            let secs = h * 3600 + m * 60;
            return FixedOffset::east_opt(if sign == b'-' { -secs } else { secs })
                .map(Zone::Fixed)
                .ok_or_else(|| bad("offset out of range".into()));
        }
        jiff::tz::TimeZone::get(t)
            .map(Zone::Named)
            .map_err(|e| bad(format!("not a known zone: {e}")))
    }

    /// The instant a wall-clock time of this zone stands for. In a daylight-saving fold
    /// (a time that occurs twice) the earlier; in a gap (a time skipped) the time as if
    /// the clock had not moved (jiff's "compatible" rule, as `date` and most systems).
    pub fn to_utc(&self, t: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            Zone::Fixed(o) => o
                .from_local_datetime(&t)
                .single()
                .map(|t| t.with_timezone(&Utc)),
            Zone::Named(tz) => {
                let civil = jiff::civil::DateTime::new(
                    i16::try_from(t.year()).ok()?,
                    t.month() as i8,
                    t.day() as i8,
                    t.hour() as i8,
                    t.minute() as i8,
                    t.second() as i8,
                    i32::try_from(t.nanosecond().min(999_999_999)).ok()?,
                )
                .ok()?;
                let ts = tz.to_ambiguous_timestamp(civil).compatible().ok()?;
                DateTime::from_timestamp(ts.as_second(), ts.subsec_nanosecond().max(0) as u32)
            }
        }
    }
}

/// How far past the reference time an inferred RFC 3164 date may fall (clock skew,
/// zones) before the year before is taken instead.
pub const YEAR_TOLERANCE_DAYS: i64 = 2;

/// What is wrong with a message, and where (byte offset from its first byte).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset}: {message}")]
pub struct SyslogError {
    pub offset: usize,
    pub message: String,
}

/// Facility keywords by code (RFC 5424 table 1, names as rsyslog and syslog-ng use them).
const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// Severity keywords by code (RFC 5424 table 2).
const SEVERITIES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// The keyword of a facility code (0-23).
pub fn facility_name(code: u8) -> Option<&'static str> {
    FACILITIES.get(code as usize).copied()
}

/// The keyword of a severity code (0-7).
pub fn severity_name(code: u8) -> Option<&'static str> {
    SEVERITIES.get(code as usize).copied()
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parses one message. Trailing CR, LF and NUL (framing left-overs) are ignored.
pub fn parse(input: &[u8], opts: &ParseOptions) -> Result<Message, SyslogError> {
    let mut end = input.len();
    while end > 0 && matches!(input[end - 1], b'\n' | b'\r' | 0) {
        end -= 1;
    }
    let mut c = Cur {
        b: &input[..end],
        i: 0,
    };
    c.eat_bytes(BOM);
    c.skip_spaces();
    if c.at_end() {
        return Err(c.err("empty message"));
    }
    let pri = if c.peek() == Some(b'<') {
        Some(parse_pri(&mut c)?)
    } else {
        None
    };
    let mut msg = match (pri, version_ahead(&c)) {
        (Some(_), Some(_)) => parse_5424(&mut c)?,
        _ => parse_3164(&mut c, pri.is_some(), opts)?,
    };
    if let Some(p) = pri {
        msg.facility = Some(p >> 3);
        msg.severity = Some(p & 7);
    }
    if msg.timestamp.is_none() && opts.stamp_missing {
        msg.timestamp = Some(opts.reference);
    }
    Ok(msg)
}

/// [`parse`], then [`Message::to_document`].
pub fn parse_document(input: &[u8], opts: &ParseOptions) -> Result<Value, SyslogError> {
    parse(input, opts).map(|m| m.to_document())
}

/// Whether a line reads as syslog with a header: a well-formed `<PRI>`, or a timestamp
/// (`Mmm dd hh:mm:ss`, ISO 8601) at its start. Used to sniff files.
pub fn looks_like_syslog(line: &[u8]) -> bool {
    let line = line.strip_prefix(BOM).unwrap_or(line);
    let mut c = Cur { b: line, i: 0 };
    c.skip_spaces();
    if c.peek() == Some(b'<') {
        return parse_pri(&mut c).is_ok();
    }
    let opts = ParseOptions::at(DateTime::<Utc>::UNIX_EPOCH);
    bsd_timestamp(&mut c.clone(), &opts).is_some()
        || iso_timestamp(&mut c.clone(), &opts).is_some()
        || super::netdev::looks_like_fortigate(c.rest())
}

impl Message {
    /// The event document (field names in `docs/syslog.md`); absent fields are left out.
    /// A Sysmon for Linux event whose XML cannot be read keeps its syslog fields only.
    pub fn to_document(&self) -> Value {
        Value::Object(self.document().0)
    }

    /// [`Message::to_document`], but a Sysmon for Linux event (tag `sysmon`, text
    /// `<Event`) whose XML cannot be read is an error instead of an event without its
    /// fields (the file readers report it as a damaged line).
    pub fn to_document_checked(&self) -> Result<Value, sysmon::XmlError> {
        match self.document() {
            (m, None) => Ok(Value::Object(m)),
            (_, Some(e)) => Err(e),
        }
    }

    fn document(&self) -> (Map<String, Value>, Option<sysmon::XmlError>) {
        let mut m = Map::new();
        self.base_fields(&mut |k, v| {
            m.insert(k.into(), v);
        });
        let mut damaged = None;
        if sysmon::is_sysmon(self.app.as_deref(), &self.message) {
            // `enrich` adds nothing when the XML is damaged.
            damaged = sysmon::enrich(&self.message, &mut m).err();
        } else {
            super::netdev::enrich(self, &mut m);
        }
        (m, damaged)
    }

    /// The fields every message document starts with, in order (distinct keys).
    fn base_fields(&self, put: &mut dyn FnMut(&'static str, Value)) {
        put("format", self.format.as_str().into());
        if let Some(f) = self.facility {
            if let Some(name) = facility_name(f) {
                put("facility", name.into());
            }
            put("facility_code", f.into());
        }
        if let Some(s) = self.severity {
            if let Some(name) = severity_name(s) {
                put("severity", name.into());
            }
            put("severity_code", s.into());
        }
        if let Some(v) = self.version {
            put("version", v.into());
        }
        if let Some(t) = &self.timestamp {
            put("timestamp", rfc3339(t).into());
        }
        for (key, v) in [
            ("host", &self.host),
            ("app", &self.app),
            ("procid", &self.procid),
            ("msgid", &self.msgid),
        ] {
            if let Some(v) = v {
                put(key, v.as_str().into());
            }
        }
        if !self.structured_data.is_empty() {
            put("structured_data", sd_document(&self.structured_data));
        }
        put("message", self.message.as_str().into());
    }

    /// The document as a flat member list, when it is one: no structured data (an
    /// object), no Sysmon XML, no network-device header and no CEF or LEEF body, which
    /// add fields through a map. Most lines of a server's syslog are such messages, and
    /// the list skips the map's hashing (the same members in the same order as
    /// [`Message::to_document`]). `scratch` is an empty map the device check writes into.
    fn flat_document(&self, scratch: &mut Map<String, Value>) -> Option<FlatDoc> {
        if !self.structured_data.is_empty()
            || sysmon::is_sysmon(self.app.as_deref(), &self.message)
            || super::cef::embeds_body(self.app.as_deref(), self.procid.is_some(), &self.message)
        {
            return None;
        }
        // The vendor parsers only ever add fields (and may drop `app`): run on an empty
        // map, they add none exactly when the message is no device's.
        scratch.clear();
        super::netdev::enrich(self, scratch);
        if !scratch.is_empty() {
            scratch.clear();
            return None;
        }
        let mut flat = FlatDoc::with_capacity(12, 64);
        let mut ok = true;
        self.base_fields(&mut |k, v| {
            flat.key_buf().push_str(k);
            ok &= flat.push(v);
        });
        ok.then_some(flat)
    }

    /// The message written as RFC 5424 (a missing PRI is written as 13, user.notice,
    /// which RFC 3164 §4.3.3 assigns; nil fields as `-`). For tests and relays.
    pub fn to_rfc5424(&self) -> String {
        let pri = match (self.facility, self.severity) {
            (Some(f), Some(s)) => u32::from(f) * 8 + u32::from(s),
            _ => 13,
        };
        let nil = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        let mut out = format!(
            "<{pri}>{} {} {} {} {} {} ",
            self.version.unwrap_or(1),
            self.timestamp.as_ref().map_or_else(|| "-".into(), rfc3339),
            nil(&self.host),
            nil(&self.app),
            nil(&self.procid),
            nil(&self.msgid),
        );
        if self.structured_data.is_empty() {
            out.push('-');
        }
        for el in &self.structured_data {
            out.push('[');
            out.push_str(&el.id);
            for (k, v) in &el.params {
                out.push(' ');
                out.push_str(k);
                out.push_str("=\"");
                for ch in v.chars() {
                    if matches!(ch, '"' | '\\' | ']') {
                        out.push('\\');
                    }
                    out.push(ch);
                }
                out.push('"');
            }
            out.push(']');
        }
        if !self.message.is_empty() {
            out.push(' ');
            out.push_str(&self.message);
        }
        out
    }
}

/// `structured_data` as `{id: {param: value}}`; a parameter named more than once gives
/// an array of its values (a Sigma value matches any), an SD-ID repeated (which RFC 5424
/// forbids) merges into one object.
fn sd_document(sd: &[SdElement]) -> Value {
    let mut out = Map::new();
    for el in sd {
        let entry = out
            .entry(el.id.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(params) = entry else {
            continue;
        };
        for (k, v) in &el.params {
            match params.get_mut(k) {
                None => {
                    params.insert(k.clone(), v.as_str().into());
                }
                Some(Value::Array(a)) => a.push(v.as_str().into()),
                Some(prev) => {
                    let first = prev.take();
                    *prev = Value::Array(vec![first, v.as_str().into()]);
                }
            }
        }
    }
    Value::Object(out)
}

fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A position in the message.
#[derive(Clone)]
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }

    fn rest(&self) -> &'a [u8] {
        self.b.get(self.i..).unwrap_or_default()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat_bytes(&mut self, s: &[u8]) -> bool {
        if self.rest().starts_with(s) {
            self.i += s.len();
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    /// Bytes up to the next space (or the end), consumed.
    fn token(&mut self) -> &'a [u8] {
        let rest = self.rest();
        let n = memchr::memchr(b' ', rest).unwrap_or(rest.len());
        self.i += n;
        &rest[..n]
    }

    /// `n` ASCII digits as a number, consumed; `None` (nothing consumed) otherwise.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let d = self.rest().get(..n)?;
        if !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(d.iter().fold(0, |a, b| a * 10 + u32::from(b - b'0')))
    }

    fn err(&self, what: impl Into<String>) -> SyslogError {
        SyslogError {
            offset: self.i,
            message: what.into(),
        }
    }

    fn err_at(&self, offset: usize, what: impl Into<String>) -> SyslogError {
        SyslogError {
            offset,
            message: what.into(),
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A short quotation of input bytes for error messages.
fn quote(b: &[u8]) -> String {
    let s = text(&b[..b.len().min(40)]);
    if b.len() > 40 {
        format!("`{s}...`")
    } else {
        format!("`{s}`")
    }
}

/// `<PRIVAL>`, 0-191.
fn parse_pri(c: &mut Cur<'_>) -> Result<u8, SyslogError> {
    let start = c.i;
    c.eat(b'<');
    let digits_at = c.i;
    let mut v: u32 = 0;
    while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
        if c.i - digits_at == 3 {
            return Err(c.err("PRI has more than 3 digits"));
        }
        v = v * 10 + u32::from(d - b'0');
        c.i += 1;
    }
    if c.i == digits_at {
        return Err(c.err("expected the digits of PRI after `<`"));
    }
    if !c.eat(b'>') {
        return Err(c.err(format!("PRI opened at byte {start} is not closed by `>`")));
    }
    u8::try_from(v)
        .ok()
        .filter(|v| *v <= 191)
        .ok_or_else(|| c.err_at(digits_at, format!("PRI {v} is over 191")))
}

/// An RFC 5424 VERSION (1-3 digits, not starting with 0, then a space) at the cursor.
fn version_ahead(c: &Cur<'_>) -> Option<u32> {
    let rest = c.rest();
    let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if !(1..=3).contains(&n) || rest[0] == b'0' || rest.get(n) != Some(&b' ') {
        return None;
    }
    Some(
        rest[..n]
            .iter()
            .fold(0, |a, b| a * 10 + u32::from(b - b'0')),
    )
}

/// RFC 5424 after the PRI: `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP
/// MSGID SP STRUCTURED-DATA [SP MSG]`.
fn parse_5424(c: &mut Cur<'_>) -> Result<Message, SyslogError> {
    let version = version_ahead(c);
    c.token();
    let mut fields: [Option<String>; 5] = Default::default();
    const NAMES: [&str; 5] = ["TIMESTAMP", "HOSTNAME", "APP-NAME", "PROCID", "MSGID"];
    let mut ts_at = c.i;
    for (slot, name) in fields.iter_mut().zip(NAMES) {
        if !c.eat(b' ') {
            return Err(c.err(format!("message ends before {name}")));
        }
        let at = c.i;
        if name == "TIMESTAMP" {
            ts_at = at;
        }
        let tok = c.token();
        if tok.is_empty() {
            return Err(c.err_at(at, format!("empty {name} (`-` stands for none)")));
        }
        if tok != b"-" {
            *slot = Some(text(tok));
        }
    }
    let [ts, host, app, procid, msgid] = fields;
    let timestamp = match ts {
        None => None,
        Some(ts) => Some(
            parse_5424_time(&ts)
                .map_err(|why| c.err_at(ts_at, format!("bad TIMESTAMP `{ts}`: {why}")))?,
        ),
    };
    let mut msg = Message {
        format: SyslogFormat::Rfc5424,
        facility: None,
        severity: None,
        version,
        timestamp,
        host,
        app,
        procid,
        msgid,
        structured_data: Vec::new(),
        message: String::new(),
    };
    // Lenient: a message that stops after MSGID has no structured data and no text.
    if !c.eat(b' ') {
        return Ok(msg);
    }
    match c.peek() {
        Some(b'-') if matches!(c.b.get(c.i + 1), None | Some(b' ')) => c.i += 1,
        Some(b'[') => msg.structured_data = parse_sd(c)?,
        // Lenient: senders that leave STRUCTURED-DATA out altogether.
        _ => {
            msg.message = message_text(c.rest());
            return Ok(msg);
        }
    }
    if c.at_end() {
        return Ok(msg);
    }
    if !c.eat(b' ') {
        return Err(c.err("expected a space after STRUCTURED-DATA"));
    }
    msg.message = message_text(c.rest());
    Ok(msg)
}

/// MSG: the BOM that marks it UTF-8 removed, invalid UTF-8 replaced.
fn message_text(b: &[u8]) -> String {
    text(b.strip_prefix(BOM).unwrap_or(b))
}

/// RFC 5424 TIMESTAMP (RFC 3339 with a zone; `t`/`z` in lower case and any number of
/// fraction digits accepted).
fn parse_5424_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| e.to_string())
}

/// STRUCTURED-DATA: one or more `[SD-ID *(SP PARAM-NAME="PARAM-VALUE")]`.
fn parse_sd(c: &mut Cur<'_>) -> Result<Vec<SdElement>, SyslogError> {
    let mut out = Vec::new();
    while c.peek() == Some(b'[') {
        let open = c.i;
        c.i += 1;
        let id = sd_name(c, "SD-ID")?;
        let mut params = Vec::new();
        loop {
            match c.peek() {
                Some(b']') => {
                    c.i += 1;
                    break;
                }
                Some(b' ') => {
                    c.skip_spaces();
                    if c.peek() == Some(b']') {
                        continue;
                    }
                    let name = sd_name(c, "PARAM-NAME")?;
                    if !c.eat(b'=') {
                        return Err(c.err(format!("expected `=` after PARAM-NAME `{name}`")));
                    }
                    if !c.eat(b'"') {
                        return Err(c.err(format!("expected `\"` to open the value of `{name}`")));
                    }
                    let value = sd_value(c, &name)?;
                    params.push((name, value));
                }
                None => {
                    return Err(c.err_at(
                        open,
                        format!("structured data element `{id}` is not closed by `]`"),
                    ))
                }
                Some(b) => {
                    return Err(c.err(format!(
                        "unexpected {} in structured data element `{id}`",
                        quote(&[b])
                    )))
                }
            }
        }
        out.push(SdElement { id, params });
    }
    Ok(out)
}

/// SD-NAME: 1-32 printable US-ASCII but `=`, space, `]`, `"` (longer names accepted).
fn sd_name(c: &mut Cur<'_>, what: &str) -> Result<String, SyslogError> {
    let rest = c.rest();
    let n = rest
        .iter()
        .take_while(|b| b.is_ascii_graphic() && !matches!(b, b'=' | b']' | b'"'))
        .count();
    if n == 0 {
        return Err(match rest.first() {
            None => c.err(format!("message ends where {what} was expected")),
            Some(b) => c.err(format!("expected {what}, found {}", quote(&[*b]))),
        });
    }
    c.i += n;
    Ok(text(&rest[..n]))
}

/// PARAM-VALUE after its opening quote, through the closing one: `\"`, `\\` and `\]`
/// stand for the character; a backslash before anything else is kept (RFC 5424 §6.3.3).
fn sd_value(c: &mut Cur<'_>, name: &str) -> Result<String, SyslogError> {
    let open = c.i - 1;
    let mut out = Vec::new();
    loop {
        let rest = c.rest();
        let Some(j) = memchr::memchr2(b'"', b'\\', rest) else {
            return Err(c.err_at(open, format!("the value of `{name}` is not closed by `\"`")));
        };
        out.extend_from_slice(&rest[..j]);
        c.i += j + 1;
        if rest[j] == b'"' {
            return Ok(text(&out));
        }
        match c.peek() {
            Some(e @ (b'"' | b'\\' | b']')) => {
                out.push(e);
                c.i += 1;
            }
            _ => out.push(b'\\'),
        }
    }
}

/// RFC 3164 (and what devices send under that name) after an optional PRI.
fn parse_3164(c: &mut Cur<'_>, had_pri: bool, opts: &ParseOptions) -> Result<Message, SyslogError> {
    c.skip_spaces();
    let timestamp = match bsd_timestamp(c, opts) {
        Some(t) => Some(t.map_err(|why| c.err(why))?),
        None => iso_timestamp(c, opts),
    };
    if timestamp.is_none() && !had_pri && !super::netdev::looks_like_fortigate(c.rest()) {
        return Err(c.err("not syslog: no `<PRI>` and no timestamp at the start"));
    }
    let mut msg = Message {
        format: SyslogFormat::Rfc3164,
        facility: None,
        severity: None,
        version: None,
        timestamp,
        host: None,
        app: None,
        procid: None,
        msgid: None,
        structured_data: Vec::new(),
        message: String::new(),
    };
    c.skip_spaces();
    // Without a timestamp RFC 3164 makes the rest CONTENT; a tag is still read, as
    // devices that send `<13>app[1]: text` mean it.
    if timestamp.is_some() && tag(&mut c.clone()).is_none_or(|(_, _, whole)| !whole) {
        let tok = c.token();
        if !tok.is_empty() {
            msg.host = Some(text(tok));
        }
        c.skip_spaces();
    }
    if let Some((app, procid, _)) = tag(c) {
        msg.app = Some(app);
        msg.procid = procid;
        c.eat(b' ');
    }
    msg.message = message_text(c.rest());
    Ok(msg)
}

/// `TAG[PID]:` or `TAG:` at the cursor, consumed: (tag, pid, whether the token ends
/// there, i.e. a space or the end follows). `None` (nothing consumed) otherwise.
fn tag(c: &mut Cur<'_>) -> Option<(String, Option<String>, bool)> {
    let rest = c.rest();
    let n = rest
        .iter()
        .take_while(|b| !matches!(b, b'[' | b':' | b' '))
        .count();
    if n == 0 {
        return None;
    }
    let mut j = n;
    let mut pid = None;
    if rest.get(j) == Some(&b'[') {
        let close = rest[j..].iter().position(|b| *b == b']')? + j;
        let p = &rest[j + 1..close];
        if p.is_empty() || p.contains(&b' ') {
            return None;
        }
        pid = Some(text(p));
        j = close + 1;
    }
    if rest.get(j) != Some(&b':') {
        return None;
    }
    j += 1;
    let whole = matches!(rest.get(j), None | Some(b' '));
    c.i += j;
    Some((text(&rest[..n]), pid, whole))
}

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

/// `Mmm dd hh:mm:ss` (day space- or zero-padded, or one digit), optionally with a year
/// before the time (`Mmm dd yyyy hh:mm:ss`), fractions, a leading `*` or `.` (Cisco's
/// unsynchronised clock) and a `:` after it. `None` (nothing consumed) when the cursor
/// is not on one; `Some(Err)` when it names a day that does not exist.
fn bsd_timestamp(c: &mut Cur<'_>, opts: &ParseOptions) -> Option<Result<DateTime<Utc>, String>> {
    let mut t = c.clone();
    let _ = t.eat(b'*') || t.eat(b'.');
    let m = t.rest().get(..3)?;
    let month = MONTHS
        .iter()
        .position(|name| name.eq_ignore_ascii_case(m))? as u32
        + 1;
    t.i += 3;
    if !t.eat(b' ') {
        return None;
    }
    t.eat(b' ');
    let day = t.digits(2).or_else(|| t.digits(1))?;
    if !t.eat(b' ') {
        return None;
    }
    let year = {
        let mut y = t.clone();
        match (y.digits(4), y.eat(b' ')) {
            (Some(year), true) => {
                t = y;
                Some(year as i32)
            }
            _ => None,
        }
    };
    let time = clock(&mut t)?;
    t.eat(b':');
    if !(t.at_end() || t.peek() == Some(b' ')) {
        return None;
    }
    c.i = t.i;
    let what = || format!("no such day: {} {day}", text(m));
    let found = match year {
        Some(y) => NaiveDate::from_ymd_opt(y, month, day)
            .and_then(|d| local(d.and_time(time), opts))
            .ok_or_else(what),
        None => infer_year(month, day, time, opts).ok_or_else(what),
    };
    Some(found)
}

/// `hh:mm:ss[.fraction]`, consumed on success.
fn clock(c: &mut Cur<'_>) -> Option<NaiveTime> {
    let mut t = c.clone();
    let h = t.digits(2)?;
    t.eat(b':').then_some(())?;
    let m = t.digits(2)?;
    t.eat(b':').then_some(())?;
    let s = t.digits(2)?;
    let mut nanos = 0u32;
    if t.peek() == Some(b'.') && t.b.get(t.i + 1).is_some_and(u8::is_ascii_digit) {
        t.i += 1;
        let mut scale = 100_000_000;
        while let Some(d) = t.peek().filter(u8::is_ascii_digit) {
            nanos += u32::from(d - b'0') * scale;
            scale /= 10;
            t.i += 1;
        }
    }
    let time = NaiveTime::from_hms_nano_opt(h, m, s, nanos)?;
    c.i = t.i;
    Some(time)
}

fn local(t: NaiveDateTime, opts: &ParseOptions) -> Option<DateTime<Utc>> {
    opts.zone.to_utc(t)
}

/// The latest year (from the reference's next one back) in which the date exists and
/// does not fall more than [`YEAR_TOLERANCE_DAYS`] after the reference. Nine years back
/// reach a 29 February across a century that is not a leap year.
fn infer_year(month: u32, day: u32, time: NaiveTime, opts: &ParseOptions) -> Option<DateTime<Utc>> {
    let limit = opts.reference + chrono::Duration::days(YEAR_TOLERANCE_DAYS);
    let year = opts.reference.year();
    (year - 8..=year + 1).rev().find_map(|y| {
        let t = local(NaiveDate::from_ymd_opt(y, month, day)?.and_time(time), opts)?;
        (t <= limit).then_some(t)
    })
}

/// An ISO 8601 timestamp: `YYYY-MM-DD` then `T` or a space, `hh:mm:ss[.frac]`, then
/// `Z`, `±hh:mm`, `±hhmm` or no zone ([`ParseOptions::zone`]). Consumed on success.
fn iso_timestamp(c: &mut Cur<'_>, opts: &ParseOptions) -> Option<DateTime<Utc>> {
    let mut t = c.clone();
    let y = t.digits(4)?;
    t.eat(b'-').then_some(())?;
    let mo = t.digits(2)?;
    t.eat(b'-').then_some(())?;
    let d = t.digits(2)?;
    let _ = t.eat(b'T') || t.eat(b't') || t.eat(b' ');
    let date = NaiveDate::from_ymd_opt(y as i32, mo, d)?;
    let time = clock(&mut t)?;
    let naive = date.and_time(time);
    let at = if t.eat(b'Z') || t.eat(b'z') {
        Some(naive.and_utc())
    } else if let Some(sign) = t.peek().filter(|b| matches!(b, b'+' | b'-')) {
        t.i += 1;
        let hh = t.digits(2)?;
        t.eat(b':');
        let mm = t.digits(2)?;
        let secs = (hh * 3600 + mm * 60) as i32;
        let off = FixedOffset::east_opt(if sign == b'-' { -secs } else { secs })?;
        off.from_local_datetime(&naive)
            .single()
            .map(|x| x.with_timezone(&Utc))
    } else {
        local(naive, opts)
    }?;
    if !(t.at_end() || t.peek() == Some(b' ')) {
        return None;
    }
    c.i = t.i;
    Some(at)
}

/// A syslog file (sniffed by its first line): one message a line, blank lines skipped,
/// `Event::record` the 1-based line; a line that is not syslog is reported
/// ([`ReadErrorKind::BadSyslog`]) and the next one read.
pub(crate) fn read_lines<R: BufRead>(
    sink: &mut Sink<'_>,
    r: R,
    opts: &ParseOptions,
    io: ReadErrorKind,
) {
    let bad = ReadErrorKind::BadSyslog;
    let mut scratch = Map::new();
    each_line(
        sink,
        r,
        MAX_FILE_LINE,
        io,
        bad,
        &mut |sink, number, line| match parse(line, opts) {
            Ok(m) => match m.flat_document(&mut scratch) {
                Some(flat) => sink.event_flat(number, flat),
                None => match m.to_document_checked() {
                    Ok(d) => sink.event(number, with_embedded(d)),
                    Err(e) => sink.error(Position::Line(number), bad, e.to_string()),
                },
            },
            Err(e) => sink.error(Position::Line(number), bad, e.to_string()),
        },
    );
}

/// A message document with the fields of a CEF or LEEF body added (helper textfmt's
/// hook: [`super::cef::merge_into_syslog`], `docs/cef-leef.md`).
fn with_embedded(mut doc: Value) -> Value {
    if let Value::Object(m) = &mut doc {
        super::cef::merge_into_syslog(m);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> ParseOptions {
        ParseOptions::at(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    fn doc(line: &str) -> Value {
        parse_document(line.as_bytes(), &at("2024-06-15T12:00:00Z")).unwrap()
    }

    fn err(line: &str) -> String {
        parse(line.as_bytes(), &at("2024-06-15T12:00:00Z"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn rfc5424_examples() {
        // RFC 5424 §6.5, examples 1 and 3 (the BOM before the message is removed).
        let d = doc("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{feff}'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(
            d,
            json!({"format": "rfc5424", "facility": "auth", "facility_code": 4,
                "severity": "crit", "severity_code": 2, "version": 1,
                "timestamp": "2003-10-11T22:14:15.003Z", "host": "mymachine.example.com",
                "app": "su", "msgid": "ID47",
                "message": "'su root' failed for lonvick on /dev/pts/8"})
        );
        let d = doc(
            r#"<165>1 2003-10-11T22:14:15.003-07:00 mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] An application event"#,
        );
        assert_eq!(d["timestamp"], "2003-10-12T05:14:15.003Z");
        assert_eq!(d["facility"], "local4");
        assert_eq!(d["severity"], "notice");
        assert_eq!(d["structured_data"]["exampleSDID@32473"]["eventID"], "1011");
        assert_eq!(
            d["structured_data"]["examplePriority@32473"]["class"],
            "high"
        );
        assert_eq!(d["message"], "An application event");
        let d = doc("<165>1 - - - - - -");
        assert_eq!(
            d,
            json!({"format": "rfc5424", "facility": "local4", "facility_code": 20,
                "severity": "notice", "severity_code": 5, "version": 1, "message": ""})
        );
    }

    #[test]
    fn sd_escapes_and_repeats() {
        let d = doc(r#"<13>1 - h a 1 m [x@1 p="a\"b\\c\]d\e" p="2"][x@1 q="3"] msg"#);
        assert_eq!(
            d["structured_data"]["x@1"]["p"],
            json!([r#"a"b\c]d\e"#, "2"])
        );
        assert_eq!(d["structured_data"]["x@1"]["q"], "3");
        assert_eq!(d["procid"], "1");
    }

    #[test]
    fn rfc5424_errors_name_the_place() {
        assert_eq!(
            err("<34>1 2003-13-11T22:14:15Z h a - - -")
                .split(':')
                .next(),
            Some("byte 6")
        );
        assert!(err("<34>1 2003-10-11T22:14:15Z h a").contains("before PROCID"));
        assert_eq!(
            err(r#"<34>1 - h a - - [x p="v"#),
            "byte 21: the value of `p` is not closed by `\"`"
        );
        assert_eq!(
            err(r#"<34>1 - h a - - [x p="v""#),
            "byte 16: structured data element `x` is not closed by `]`"
        );
        assert_eq!(err("<192>1 - - - - - -"), "byte 1: PRI 192 is over 191");
        assert_eq!(
            err("<34 1"),
            "byte 3: PRI opened at byte 0 is not closed by `>`"
        );
        assert_eq!(err("<>x"), "byte 1: expected the digits of PRI after `<`");
        assert!(err("<34>1 - h  a - - -").starts_with("byte 10: empty APP-NAME"));
        assert!(err(r#"<34>1 - h a - - [x p="v"]x"#).contains("space after STRUCTURED-DATA"));
    }

    #[test]
    fn rfc3164_variants() {
        let d = doc("<38>Feb  5 17:32:18 10.0.0.99 sshd[4022]: Failed password for root");
        assert_eq!(
            d,
            json!({"format": "rfc3164", "facility": "auth", "facility_code": 4,
                "severity": "info", "severity_code": 6,
                "timestamp": "2024-02-05T17:32:18Z", "host": "10.0.0.99", "app": "sshd",
                "procid": "4022", "message": "Failed password for root"})
        );
        // A log file: no PRI, no hostname, `TAG:` only.
        let d = doc("Jun 16 01:02:03 kernel: oops");
        assert_eq!(d["timestamp"], "2024-06-16T01:02:03Z");
        assert_eq!(d.get("host"), None);
        assert_eq!(d["app"], "kernel");
        assert_eq!(d.get("facility"), None);
        // Past the reference + tolerance: the year before.
        assert_eq!(
            doc("Jun 18 01:02:03 h x: y")["timestamp"],
            "2023-06-18T01:02:03Z"
        );
        // ISO timestamp (rsyslog's file format), fractions and an offset.
        let d = doc("2024-01-02T03:04:05.123456+01:00 web01 postfix/smtpd[77]: connect");
        assert_eq!(d["timestamp"], "2024-01-02T02:04:05.123456Z");
        assert_eq!(d["host"], "web01");
        assert_eq!(d["app"], "postfix/smtpd");
        // Year, fractions and Cisco's `*` and trailing colon.
        let d = doc("<189>*Mar  1 2023 18:46:11.123: %SYS-5-CONFIG_I: Configured");
        assert_eq!(d["timestamp"], "2023-03-01T18:46:11.123Z");
        assert_eq!(d["app"], "%SYS-5-CONFIG_I");
        assert_eq!(d.get("host"), None);
        // PRI but nothing else recognisable: all content.
        let d = doc("<13>just some text");
        assert_eq!(d["message"], "just some text");
        assert_eq!(d.get("timestamp"), None);
        let d = doc("<13>app[1]: text");
        assert_eq!((&d["app"], &d["procid"]), (&json!("app"), &json!("1")));
        // Host without tag.
        let d = doc("Jun  1 00:00:00 host message text");
        assert_eq!(
            (&d["host"], &d["message"]),
            (&json!("host"), &json!("message text"))
        );
        let d = doc("2024-01-02 03:04:05 gw app: x");
        assert_eq!(
            (&d["timestamp"], &d["host"]),
            (&json!("2024-01-02T03:04:05Z"), &json!("gw"))
        );
        let d = doc("<13>1 - h a - -");
        assert_eq!((&d["app"], &d["message"]), (&json!("a"), &json!("")));
        let d = doc("<13>1 - h a - - text without sd");
        assert_eq!(d["message"], "text without sd");
        assert!(err("hello world").contains("no `<PRI>` and no timestamp"));
        assert!(err("Feb 30 00:00:00 h x").contains("no such day"));
    }

    #[test]
    fn year_inference_edges() {
        let p = at("2025-01-01T00:01:00Z");
        let t = |s: &str| {
            parse(s.as_bytes(), &p)
                .unwrap()
                .timestamp
                .unwrap()
                .to_rfc3339()
        };
        assert_eq!(t("Dec 31 23:59:00 h a: m"), "2024-12-31T23:59:00+00:00");
        assert_eq!(t("Jan  1 00:02:00 h a: m"), "2025-01-01T00:02:00+00:00");
        let p = at("2024-12-31T23:59:00Z");
        let t = |s: &str| {
            parse(s.as_bytes(), &p)
                .unwrap()
                .timestamp
                .unwrap()
                .to_rfc3339()
        };
        assert_eq!(t("Jan  1 00:01:00 h a: m"), "2025-01-01T00:01:00+00:00");
        let p = at("2025-03-01T00:00:00Z");
        let t = |s: &str| {
            parse(s.as_bytes(), &p)
                .unwrap()
                .timestamp
                .unwrap()
                .to_rfc3339()
        };
        assert_eq!(t("Feb 29 10:00:00 h a: m"), "2024-02-29T10:00:00+00:00");
    }

    #[test]
    fn stamping_and_offset() {
        let mut p = at("2024-06-15T12:00:00Z");
        p.stamp_missing = true;
        p.zone = FixedOffset::east_opt(2 * 3600).unwrap().into();
        let m = parse(b"<13>text", &p).unwrap();
        assert_eq!(m.timestamp, Some(p.reference));
        let m = parse(b"Jun 15 13:00:00 h a: m\r\n\0", &p).unwrap();
        assert_eq!(
            m.timestamp.unwrap().to_rfc3339(),
            "2024-06-15T11:00:00+00:00"
        );
        assert_eq!(m.message, "m");
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_syslog(b"<13>anything"));
        assert!(looks_like_syslog(b"Jan  2 03:04:05 host a: b"));
        assert!(looks_like_syslog(
            b"\xEF\xBB\xBF2024-01-02T03:04:05Z host a: b"
        ));
        assert!(!looks_like_syslog(b"<x>"));
        assert!(!looks_like_syslog(b"title: rule"));
        assert!(!looks_like_syslog(b"2024-01-02,3,4"));
    }
}
