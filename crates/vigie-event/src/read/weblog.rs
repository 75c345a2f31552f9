//! Web server and proxy access logs: NCSA common and combined log format (Apache's
//! `common`/`combined`, nginx's default `combined`) as Sigma `category: webserver`, and
//! Squid's access.log (native format, and its `combined` logformat, which ends with
//! `%Ss:%Sh`) as `category: proxy`. Field names in `docs/weblog.md`.
//!
//! CONTRACT (keep it; the mapping and the tests code against it):
//! - Each line is read by its own shape: a first token that is a decimal number with a
//!   fraction (`1764662400.123`) followed by 9 or more tokens is Squid native
//!   (`time elapsed client action/code size method URL ident hierarchy/from type`);
//!   anything else must be `host ident authuser [dd/Mon/yyyy:HH:MM:SS ±zzzz] "request"
//!   status bytes`, optionally followed by `"referer" "user-agent"` and more (Apache's
//!   `vhost_combined` puts `vhost:port` first: `s-sitename`, `s-port`); a trailing
//!   `ACTION:HIERARCHY` token (Squid's `combined`) makes the line a proxy line.
//! - Values are kept as logged: URLs are not percent-decoded (SigmaHQ's web rules list
//!   both encoded and decoded spellings, `%24%7B` and `${`, so they expect the raw
//!   text); inside quotes `\"` and `\\` are unescaped. `-` for an absent value leaves
//!   the field out (`cs-referer: null` in a rule then holds); `""` is kept as `""`.
//! - Webserver lines: `c-ip`, `cs-username`, `timestamp` (RFC 3339 UTC), `date`, `time`
//!   (UTC, as W3C logs write them), `request` (the request line), `cs-method`,
//!   `cs-uri-query` (the request target as sent, path and query: SigmaHQ's webserver
//!   rules match paths in it, e.g. `cs-uri-query|endswith: '/mgmt/tm/util/bash'`),
//!   `cs-uri-stem` (the path, before `?`), `cs-version`, `sc-status`, `sc-bytes`
//!   (numbers), `cs-referer`, `cs-user-agent`, `_source: webserver`.
//! - Proxy lines: `src_ip`, `c-ip`, `cs-username`, `timestamp`, `time-taken` (ms,
//!   native), `s-action` (`TCP_MISS`), `sc-status`, `sc-bytes`, `cs-method`, `c-uri`
//!   (the URL as logged; also `cs-uri`, which SigmaHQ proxy rules use too), `cs-host`
//!   and `r-dns` (the URL's host), `c-uri-stem` (the URL without its query),
//!   `c-uri-query` (after `?`), `c-uri-extension` (of the path's last segment, no dot),
//!   `s-hierarchy`, `dst_ip` (the server Squid reached, when an address),
//!   `rs-content-type`, `c-useragent` and `cs-referrer` (combined), `_source: proxy`.
//! - A line of neither shape, a bad date, a request that is not quoted, a status that is
//!   not a number: an error naming the byte offset. Nothing here panics on any input.

use std::io::BufRead;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::cef::{err, trim_end, TextFormatError, MAX_LINE};
use super::json::each_line;
use super::sink::Sink;
use super::{Position, ReadErrorKind};

/// Whether a first line is an access log line (webserver or proxy).
pub fn looks_like_access_log(line: &[u8]) -> bool {
    parse(line).is_ok()
}

/// A cursor over one line.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn spaces(&mut self) {
        while self.b.get(self.i) == Some(&b' ') || self.b.get(self.i) == Some(&b'\t') {
            self.i += 1;
        }
    }

    fn token(&mut self) -> &'a [u8] {
        self.spaces();
        let s = self.i;
        while self.i < self.b.len() && !matches!(self.b[self.i], b' ' | b'\t') {
            self.i += 1;
        }
        &self.b[s..self.i]
    }

    fn at_end(&mut self) -> bool {
        self.spaces();
        self.i >= self.b.len()
    }

    /// A `"..."` field (`\"`, `\\` unescaped).
    fn quoted(&mut self, what: &str) -> Result<String, TextFormatError> {
        self.spaces();
        if self.b.get(self.i) != Some(&b'"') {
            return Err(err(self.i, format!("{what}: expected a quoted field")));
        }
        let start = self.i;
        self.i += 1;
        let mut out = Vec::new();
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' if matches!(self.b.get(self.i + 1), Some(b'"' | b'\\')) => {
                    out.push(self.b[self.i + 1]);
                    self.i += 2;
                }
                b'"' => {
                    self.i += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                b => {
                    out.push(b);
                    self.i += 1;
                }
            }
        }
        Err(err(start, format!("{what}: quote not closed")))
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Parses one access log line into its document.
pub fn parse(line: &[u8]) -> Result<Map<String, Value>, TextFormatError> {
    let line = trim_end(line);
    let mut c = Cur { b: line, i: 0 };
    let first = c.token();
    if first.is_empty() {
        return Err(err(0, "empty line"));
    }
    if is_epoch(first) {
        return squid_native(line);
    }
    ncsa(line)
}

fn is_epoch(t: &[u8]) -> bool {
    let Some(dot) = memchr::memchr(b'.', t) else {
        return false;
    };
    dot > 0
        && dot + 1 < t.len()
        && t[..dot].iter().all(u8::is_ascii_digit)
        && t[dot + 1..].iter().all(u8::is_ascii_digit)
}

fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn number(t: &[u8]) -> Option<Value> {
    std::str::from_utf8(t)
        .ok()?
        .parse::<u64>()
        .ok()
        .map(Value::from)
}

fn put(m: &mut Map<String, Value>, k: &str, v: &[u8]) {
    if v != b"-" && !v.is_empty() {
        m.insert(k.into(), text(v).into());
    }
}

fn put_str(m: &mut Map<String, Value>, k: &str, v: &str) {
    if v != "-" {
        m.insert(k.into(), v.into());
    }
}

/// `host ident authuser [date] "request" status bytes ["referer" "agent"] [...]`.
fn ncsa(line: &[u8]) -> Result<Map<String, Value>, TextFormatError> {
    let mut c = Cur { b: line, i: 0 };
    let mut host = c.token();
    let mut ident = c.token();
    let mut user = c.token();
    c.spaces();
    // Apache's `vhost_combined` starts with `%v:%p`, the virtual host and port.
    let mut vhost = None;
    if c.b.get(c.i) != Some(&b'[') && memchr::memchr(b':', host).is_some() {
        vhost = Some(host);
        (host, ident, user) = (ident, user, c.token());
        c.spaces();
    }
    if c.b.get(c.i) != Some(&b'[') {
        return Err(err(
            c.i,
            "not an access log line: expected `host ident user [date]` (NCSA) or a Squid epoch time",
        ));
    }
    let close =
        memchr::memchr(b']', &c.b[c.i..]).ok_or_else(|| err(c.i, "date: `]` missing"))? + c.i;
    let date_s = text(&c.b[c.i + 1..close]);
    let t = DateTime::parse_from_str(&date_s, "%d/%b/%Y:%H:%M:%S %z")
        .map_err(|e| err(c.i + 1, format!("date `{date_s}`: {e}")))?
        .with_timezone(&Utc);
    c.i = close + 1;
    let request = c.quoted("request")?;
    let status_at = {
        c.spaces();
        c.i
    };
    let status = c.token();
    let bytes_at = {
        c.spaces();
        c.i
    };
    let bytes = c.token();
    if bytes != b"-" && number(bytes).is_none() {
        return Err(err(
            bytes_at,
            format!("size `{}` is not a number or `-`", text(bytes)),
        ));
    }
    let status_v = if status == b"-" {
        None
    } else {
        Some(number(status).ok_or_else(|| {
            err(
                status_at,
                format!("status `{}` is not a number", text(status)),
            )
        })?)
    };
    let (referer, agent) = if c.at_end() {
        (None, None)
    } else {
        let r = c.quoted("referer")?;
        let a = c.quoted("user-agent")?;
        (Some(r), Some(a))
    };
    let rest = &line[c.i.min(line.len())..];
    let rest = rest.trim_ascii();
    // Squid's `combined` ends with `%Ss:%Sh`.
    let squid_tag = rest
        .rsplit(|b| *b == b' ')
        .next()
        .filter(|t| is_squid_tag(t, b':'));
    let proxy = squid_tag.is_some();
    let mut m = Map::new();
    if proxy {
        put(&mut m, "src_ip", host);
    }
    put(&mut m, "c-ip", host);
    if let Some((site, port)) = vhost.and_then(|v| {
        let p = v.iter().rposition(|b| *b == b':')?;
        Some((&v[..p], &v[p + 1..]))
    }) {
        put(&mut m, "s-sitename", site);
        if let Some(p) = number(port) {
            m.insert("s-port".into(), p);
        }
    }
    if ident != b"-" {
        put(&mut m, "ident", ident);
    }
    put(&mut m, "cs-username", user);
    m.insert("timestamp".into(), rfc3339(&t).into());
    m.insert("date".into(), t.format("%Y-%m-%d").to_string().into());
    m.insert("time".into(), t.format("%H:%M:%S").to_string().into());
    put_str(&mut m, "request", &request);
    let mut parts = request.splitn(3, ' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next();
    let version = parts.next();
    if let (Some(target), true) = (
        target,
        method.bytes().all(|b| b.is_ascii_alphabetic()) && !method.is_empty(),
    ) {
        m.insert("cs-method".into(), method.into());
        if proxy {
            url_fields(&mut m, method, target);
        } else {
            m.insert("cs-uri-query".into(), target.into());
            let stem = target.split('?').next().unwrap_or(target);
            m.insert("cs-uri-stem".into(), stem.into());
        }
        if let Some(v) = version {
            m.insert("cs-version".into(), v.into());
        }
    }
    if let Some(s) = status_v {
        m.insert("sc-status".into(), s);
    }
    if let Some(b) = number(bytes) {
        m.insert("sc-bytes".into(), b);
    }
    let (ref_key, ua_key) = if proxy {
        ("cs-referrer", "c-useragent")
    } else {
        ("cs-referer", "cs-user-agent")
    };
    if let Some(r) = referer {
        put_str(&mut m, ref_key, &r);
    }
    if let Some(a) = agent {
        put_str(&mut m, ua_key, &a);
    }
    if let Some(tag) = squid_tag {
        squid_tag_fields(&mut m, tag, b':');
        let extra = rest[..rest.len() - tag.len()].trim_ascii();
        if !extra.is_empty() {
            m.insert("extra".into(), text(extra).into());
        }
        m.insert("_source".into(), "proxy".into());
    } else {
        if !rest.is_empty() {
            m.insert("extra".into(), text(rest).into());
        }
        m.insert("_source".into(), "webserver".into());
    }
    Ok(m)
}

/// `TCP_MISS/200` (native, `sep` `/`) or `TCP_MISS:HIER_DIRECT` (combined, `:`).
fn is_squid_tag(t: &[u8], sep: u8) -> bool {
    let Some(p) = memchr::memchr(sep, t) else {
        return false;
    };
    let word = |w: &[u8]| !w.is_empty() && w.iter().all(|b| b.is_ascii_uppercase() || *b == b'_');
    word(&t[..p]) && (sep != b':' || word(&t[p + 1..]))
}

fn squid_tag_fields(m: &mut Map<String, Value>, tag: &[u8], sep: u8) {
    if let Some(p) = memchr::memchr(sep, tag) {
        put(m, "s-action", &tag[..p]);
        put(m, "s-hierarchy", &tag[p + 1..]);
    }
}

/// The URL fields of a proxy request.
fn url_fields(m: &mut Map<String, Value>, method: &str, url: &str) {
    m.insert("c-uri".into(), url.into());
    m.insert("cs-uri".into(), url.into());
    let (authority, path) = if let Some(p) = url.find("://") {
        let after = &url[p + 3..];
        let end = after.find(['/', '?']).unwrap_or(after.len());
        (Some(&after[..end]), &after[end..])
    } else if method.eq_ignore_ascii_case("CONNECT") {
        (Some(url), "")
    } else {
        (None, url)
    };
    if let Some(a) = authority {
        let a = a.rsplit('@').next().unwrap_or(a);
        let host = if let Some(v6) = a.strip_prefix('[') {
            v6.split(']').next().unwrap_or(v6)
        } else {
            a.split(':').next().unwrap_or(a)
        };
        if !host.is_empty() {
            m.insert("cs-host".into(), host.into());
            m.insert("r-dns".into(), host.into());
        }
    }
    let (stem, query) = match url.split_once('?') {
        Some((s, q)) => (s, Some(q)),
        None => (url, None),
    };
    m.insert("c-uri-stem".into(), stem.into());
    if let Some(q) = query {
        m.insert("c-uri-query".into(), q.into());
    }
    let path_only = path.split(['?', '#']).next().unwrap_or_default();
    let last = path_only.rsplit('/').next().unwrap_or_default();
    if let Some((_, ext)) = last.rsplit_once('.') {
        if !ext.is_empty() {
            m.insert("c-uri-extension".into(), ext.into());
        }
    }
}

/// `time elapsed client action/code size method URL ident hierarchy/from type [...]`.
fn squid_native(line: &[u8]) -> Result<Map<String, Value>, TextFormatError> {
    let mut c = Cur { b: line, i: 0 };
    let mut toks = Vec::with_capacity(10);
    let mut offs = Vec::with_capacity(10);
    while toks.len() < 10 && !c.at_end() {
        offs.push(c.i);
        toks.push(c.token());
    }
    if toks.len() < 9 {
        return Err(err(
            line.len(),
            format!(
                "Squid access line cut short: {} of its 10 fields",
                toks.len()
            ),
        ));
    }
    let ts: f64 = std::str::from_utf8(toks[0])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| err(0, "time is not a number"))?;
    let t = DateTime::<Utc>::from_timestamp_millis((ts * 1000.0) as i64)
        .ok_or_else(|| err(0, "time out of range"))?;
    let elapsed = number(toks[1]).ok_or_else(|| err(offs[1], "elapsed time is not a number"))?;
    if !is_squid_tag(toks[3], b'/') {
        return Err(err(
            offs[3],
            "expected the Squid result code `ACTION/status`",
        ));
    }
    let mut m = Map::new();
    m.insert("timestamp".into(), rfc3339(&t).into());
    m.insert("time-taken".into(), elapsed);
    put(&mut m, "src_ip", toks[2]);
    put(&mut m, "c-ip", toks[2]);
    let (action, code) = toks[3].split_at(memchr::memchr(b'/', toks[3]).unwrap_or(0));
    put(&mut m, "s-action", action);
    let code = &code[1..];
    if code != b"-" && code != b"000" {
        let s = number(code).ok_or_else(|| err(offs[3], "status is not a number"))?;
        m.insert("sc-status".into(), s);
    }
    if let Some(b) = number(toks[4]) {
        m.insert("sc-bytes".into(), b);
    }
    let method = text(toks[5]);
    let url = text(toks[6]);
    if method != "-" {
        m.insert("cs-method".into(), method.as_str().into());
    }
    url_fields(&mut m, &method, &url);
    put(&mut m, "cs-username", toks[7]);
    if let Some(p) = memchr::memchr(b'/', toks[8]) {
        put(&mut m, "s-hierarchy", &toks[8][..p]);
        let from = &toks[8][p + 1..];
        if std::str::from_utf8(from)
            .ok()
            .and_then(|s| s.parse::<std::net::IpAddr>().ok())
            .is_some()
        {
            put(&mut m, "dst_ip", from);
        } else {
            put(&mut m, "s-supplier-name", from);
        }
    } else {
        put(&mut m, "s-hierarchy", toks[8]);
    }
    if let Some(ty) = toks.get(9) {
        put(&mut m, "rs-content-type", ty);
    }
    if !c.at_end() {
        m.insert("extra".into(), text(&line[c.i..]).into());
    }
    m.insert("_source".into(), "proxy".into());
    Ok(m)
}

/// A web server or proxy access log; `Event::record` is the 1-based line, a line of
/// neither shape is reported ([`ReadErrorKind::BadAccessLog`]) and the next one read.
pub(crate) fn read_lines<R: BufRead>(sink: &mut Sink<'_>, r: R, io: ReadErrorKind) {
    let bad = ReadErrorKind::BadAccessLog;
    each_line(sink, r, MAX_LINE, io, bad, &mut |sink, n, line| {
        let line = if n == 1 {
            line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
        } else {
            line
        };
        match parse(line) {
            Ok(m) => sink.event(n, Value::Object(m)),
            Err(e) => sink.error(Position::Line(n), bad, e.to_string()),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_and_common() {
        // Apache's documentation example (common), then combined.
        let m = parse(br#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#).unwrap();
        assert_eq!(m["c-ip"], "127.0.0.1");
        assert_eq!(m["cs-username"], "frank");
        assert_eq!(m["timestamp"], "2000-10-10T20:55:36Z");
        assert_eq!(m["cs-method"], "GET");
        assert_eq!(m["cs-uri-query"], "/apache_pb.gif");
        assert_eq!(m["sc-status"], 200);
        assert_eq!(m["_source"], "webserver");
        let m = parse(br#"10.0.0.9 - - [02/Dec/2025:08:00:00 +0000] "GET /a/b.php?x=1&y=%27 HTTP/1.1" 404 - "-" "curl/8.5.0""#).unwrap();
        assert_eq!(m["cs-uri-stem"], "/a/b.php");
        assert_eq!(m["cs-uri-query"], "/a/b.php?x=1&y=%27");
        assert!(m.get("cs-referer").is_none());
        assert!(m.get("sc-bytes").is_none());
        assert_eq!(m["cs-user-agent"], "curl/8.5.0");
        let m = parse(br#"10.0.0.9 - - [02/Dec/2025:08:00:00 +0000] "\x16\x03\x01" 400 0 "-" "-""#)
            .unwrap();
        assert!(m.get("cs-method").is_none());
        assert!(parse(b"10.0.0.9 - - [02/Dec/2025:08:00:00 +0000] GET / 200 1").is_err());
        assert!(
            parse(b"10.0.0.9 - - [32/Dec/2025:08:00:00 +0000] \"GET / HTTP/1.1\" 200 1").is_err()
        );
        assert!(parse(b"hello world").is_err());
        let m = parse(br#"www.example-telco.fr:443 192.0.2.1 - - [02/Dec/2025:08:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "x""#).unwrap();
        assert_eq!(
            (&m["s-sitename"], &m["s-port"], &m["c-ip"]),
            (
                &"www.example-telco.fr".into(),
                &443.into(),
                &"192.0.2.1".into()
            )
        );
        let e = parse(br#"1.2.3.4 - - [02/Dec/2025:10:50:00 +0100] "GET / HTTP/1.1" 200"#);
        assert!(e.unwrap_err().what.contains("size"));
    }

    #[test]
    fn squid() {
        let m = parse(b"1286536309.450   1221 192.168.0.68 TCP_MISS/200 1452 GET http://www.google.com/index.html?q=1 - DIRECT/74.125.39.104 text/html").unwrap();
        assert_eq!(m["_source"], "proxy");
        assert_eq!(m["cs-host"], "www.google.com");
        assert_eq!(m["c-uri-extension"], "html");
        assert_eq!(m["c-uri-query"], "q=1");
        assert_eq!(m["dst_ip"], "74.125.39.104");
        assert_eq!(m["sc-status"], 200);
        let m = parse(b"1286536309.450 10 10.0.0.1 TCP_TUNNEL/200 5000 CONNECT api.telegram.org:443 bob HIER_DIRECT/149.154.167.220 -").unwrap();
        assert_eq!(m["cs-host"], "api.telegram.org");
        assert_eq!(m["cs-username"], "bob");
        let m = parse(br#"10.0.0.1 - - [02/Dec/2025:08:00:00 +0000] "GET http://x.example/a.exe HTTP/1.1" 200 10 "-" "rclone/v1.64" TCP_MISS:HIER_DIRECT"#).unwrap();
        assert_eq!(m["_source"], "proxy");
        assert_eq!(m["c-useragent"], "rclone/v1.64");
        assert_eq!(m["c-uri-extension"], "exe");
        assert!(parse(b"1286536309.450 10 10.0.0.1 TCP_MISS/200").is_err());
    }
}
