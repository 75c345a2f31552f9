//! Network equipment inside syslog: Cisco IOS / IOS XE / IOS XR / NX-OS, Huawei VRP,
//! Juniper Junos and Fortinet FortiGate (FortiOS) messages recognised in a parsed syslog
//! [`Message`] and their fields added to its event document (field names in
//! `docs/network-devices.md`).
//!
//! [`enrich`] is called by [`Message::to_document`] for every message; it looks at a few
//! bytes first (a `%` in the tag or near the start of the text, `logid=` in a
//! `key=value` text, a Junos daemon), so ordinary syslog costs a few comparisons.
//! Recognition adds `_source` (the product: `cisco`, `huawei`, `juniper`, `fortigate`,
//! the routing convention's synthetic field) and the vendor's own fields, on which the
//! shipped mapping routes each `service:` (the Cisco facility, the Huawei module, the
//! Junos daemon, the FortiGate log `type`). The service is not put into `_source`: the
//! SigmaHQ Cisco rules are keyword searches over every field, and a `cisco.aaa` value
//! would itself satisfy the `aaa` keyword of "Cisco Local Accounts" on every event.
//! Nothing here fails: a message that does not fit a vendor's shape is left as it is.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use serde_json::{Map, Value};

use super::syslog::{Message, SyslogFormat};

/// How far into a message text a Cisco `%FACILITY-SEVERITY-MNEMONIC` or a Huawei `%%`
/// is looked for (sequence numbers, IOS XR's node name and the device's own timestamp
/// come first).
const LOOK_AHEAD: usize = 160;

/// Most `key=value` pairs taken from one FortiGate line (FortiOS logs have 30-80).
const MAX_KV: usize = 256;

/// Adds the vendor fields of a network device message to `doc` (see the module doc).
pub fn enrich(msg: &Message, doc: &mut Map<String, Value>) {
    if fortigate(msg, doc) || huawei(msg, doc) || cisco(msg, doc) {
        return;
    }
    juniper(msg, doc);
}

/// The text where a vendor header may start: the tag when it holds one (`%SYS-5-X:` is
/// read as the RFC 3164 TAG), else the first bytes of the message.
fn head(msg: &Message) -> &str {
    let m = msg.message.as_str();
    let mut end = m.len().min(LOOK_AHEAD);
    while !m.is_char_boundary(end) {
        end -= 1;
    }
    &m[..end]
}

// ---------------------------------------------------------------- Cisco

/// A Cisco `%FACILITY[-SUBFACILITY]-SEVERITY-MNEMONIC` at the start of `s`: (facility,
/// severity, mnemonic, bytes consumed).
fn cisco_mnemonic(s: &str) -> Option<(&str, u8, &str, usize)> {
    let b = s.as_bytes();
    if b.first() != Some(&b'%') || b.get(1) == Some(&b'%') {
        return None;
    }
    let n = b[1..]
        .iter()
        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-'))
        .count();
    let word = &s[1..1 + n];
    // The severity is the last `-<digit>-` in the word.
    let at = word
        .as_bytes()
        .windows(3)
        .rposition(|w| w[0] == b'-' && (b'0'..=b'7').contains(&w[1]) && w[2] == b'-')?;
    let facility = &word[..at];
    let mnemonic = &word[at + 3..];
    if facility.is_empty()
        || mnemonic.is_empty()
        || !facility.as_bytes()[0].is_ascii_uppercase()
        || mnemonic.contains('-')
    {
        return None;
    }
    Some((facility, word.as_bytes()[at + 1] - b'0', mnemonic, 1 + n))
}

fn cisco(msg: &Message, doc: &mut Map<String, Value>) -> bool {
    let (found, text) = match msg
        .app
        .as_deref()
        .and_then(|app| cisco_mnemonic(app).filter(|f| f.3 == app.len()))
    {
        Some(f) => (f, msg.message.as_str()),
        None => {
            let h = head(msg);
            let mut hit = None;
            for (i, _) in h.match_indices('%') {
                if i > 0 && !matches!(h.as_bytes()[i - 1], b' ' | b':') {
                    continue;
                }
                if let Some(f) = cisco_mnemonic(&msg.message[i..]) {
                    let rest = msg.message[i + f.3..].trim_start_matches(' ');
                    if let Some(rest) = rest.strip_prefix(':') {
                        hit = Some((f, rest.trim_start_matches(' ')));
                        break;
                    }
                }
            }
            match hit {
                Some(h) => h,
                None => return false,
            }
        }
    };
    let (facility, severity, mnemonic, _) = found;
    doc.insert("_source".into(), "cisco".into());
    doc.insert("cisco_facility".into(), facility.into());
    doc.insert("cisco_severity".into(), severity.into());
    doc.insert("cisco_mnemonic".into(), mnemonic.into());
    // IOS numbers its messages (`service sequence-numbers`): `<189>42: ...` reads `42` as
    // the tag; it is the sequence number, not a program.
    if let Some(app) = msg.app.as_deref() {
        if !app.is_empty() && app.bytes().all(|b| b.is_ascii_digit()) {
            doc.remove("app");
            doc.insert("cisco_sequence".into(), app.into());
        }
    }
    match (facility, mnemonic) {
        // `archive / log config / notify syslog`: every configuration command.
        ("PARSER", "CFGLOG_LOGGEDCMD") => {
            // `User:admin  logged command:no logging console`
            if let Some(rest) = text.strip_prefix("User:") {
                if let Some((user, cmd)) = rest.split_once(" logged command:") {
                    doc.insert("user".into(), user.trim().into());
                    doc.insert("command".into(), cmd.trim().into());
                }
            }
        }
        // `Configured from console by admin on vty0 (10.0.0.5)`
        ("SYS", "CONFIG_I") => {
            if let Some((_, by)) = text.split_once(" by ") {
                let user = by.split(' ').next().unwrap_or_default();
                if !user.is_empty() {
                    doc.insert("user".into(), user.into());
                }
            }
        }
        // EEM `event cli pattern` applets that log each command: `CLI_LOG: show version`
        // (the form varies with the applet; the common `name: command` is split).
        ("HA_EM", "LOG") => {
            if let Some((_, cmd)) = text.split_once(": ") {
                doc.insert("command".into(), cmd.trim().into());
            }
        }
        _ => {}
    }
    true
}

// ---------------------------------------------------------------- Huawei

/// `%%<2-digit version><MODULE>/<severity>/<BRIEF>[(<type>)]` at the start of `s`.
fn huawei_header(s: &str) -> Option<(&str, u8, &str, Option<&str>)> {
    let rest = s.strip_prefix("%%")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &rest[digits..];
    let (module, rest) = rest.split_once('/')?;
    let sev = rest
        .as_bytes()
        .first()
        .copied()
        .filter(u8::is_ascii_digit)?;
    let rest = rest.get(1..)?.strip_prefix('/')?;
    let n = rest
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'))
        .count();
    let brief = &rest[..n];
    let kind = rest[n..]
        .strip_prefix('(')
        .and_then(|r| r.split_once(')'))
        .map(|(k, _)| k);
    let module_ok = !module.is_empty()
        && module
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'));
    (module_ok && !brief.is_empty()).then_some((module, sev - b'0', brief, kind))
}

fn huawei(msg: &Message, doc: &mut Map<String, Value>) -> bool {
    let found = msg.app.as_deref().and_then(huawei_header).or_else(|| {
        let h = head(msg);
        h.find("%%")
            .filter(|&i| i == 0 || h.as_bytes()[i - 1] == b' ')
            .and_then(|i| huawei_header(&msg.message[i..]))
    });
    let Some((module, severity, brief, kind)) = found else {
        return false;
    };
    doc.insert("_source".into(), "huawei".into());
    doc.insert("huawei_module".into(), module.into());
    doc.insert("huawei_severity".into(), severity.into());
    doc.insert("huawei_brief".into(), brief.into());
    if let Some(k) = kind {
        doc.insert("huawei_type".into(), k.into());
    }
    true
}

// ---------------------------------------------------------------- Juniper

/// Junos daemons that log under their own name (the RFC 3164 TAG).
const JUNOS_DAEMONS: &[&str] = &[
    "rpd",
    "mgd",
    "chassisd",
    "dcd",
    "snmpd",
    "mib2d",
    "alarmd",
    "craftd",
    "eventd",
    "kmd",
    "jdhcpd",
    "dfwd",
    "cosd",
    "l2ald",
    "lacpd",
    "ppmd",
    "bfdd",
    "pfed",
    "sampled",
    "rmopd",
    "apsd",
    "vrrpd",
    "xntpd",
    "license-check",
    "mcsnoopd",
    "eswd",
    "jsrpd",
    "smid",
    "fpc0",
    "fpc1",
    "/kernel",
];

/// A Junos event tag (`UI_COMMIT`, `BGP_IO_ERROR_CLOSE_SESSION`) ending in `:` at the
/// start of `s`.
fn junos_tag(s: &str) -> Option<&str> {
    let (tag, _) = s.split_once(':')?;
    let b = tag.as_bytes();
    let ok = b.len() >= 4
        && b[0].is_ascii_uppercase()
        && b.contains(&b'_')
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_');
    ok.then_some(tag)
}

fn juniper(msg: &Message, doc: &mut Map<String, Value>) {
    let junos_sd = msg
        .structured_data
        .iter()
        .any(|el| el.id.starts_with("junos@2636"));
    let app = msg.app.as_deref().unwrap_or_default();
    let tag = if junos_sd && msg.format == SyslogFormat::Rfc5424 {
        msg.msgid.as_deref().map(str::to_owned)
    } else {
        None
    };
    let tag = tag.or_else(|| {
        // Not Linux's `kernel`: its iptables prefixes (`FW_DROP: IN=...`) look the same.
        JUNOS_DAEMONS
            .contains(&app)
            .then(|| junos_tag(&msg.message).map(str::to_owned))
            .flatten()
    });
    // The Junos kernel's TCP-MD5 check (`tcp_auth_ok: Packet from 192.0.2.1:179 missing
    // MD5 digest`) carries no event tag.
    let kernel_md5 = matches!(app, "kernel" | "/kernel") && msg.message.starts_with("tcp_auth_ok:");
    if !(junos_sd || tag.is_some() || kernel_md5 || app == "/kernel") {
        return;
    }
    doc.insert("_source".into(), "juniper".into());
    if let Some(t) = tag {
        doc.insert("juniper_tag".into(), t.into());
    }
}

// ---------------------------------------------------------------- FortiGate

/// Whether `s` starts like a FortiOS `key=value` log line (`date=`, `logver=`,
/// `eventtime=`... first, a `logid=` in it).
pub fn looks_like_fortigate(s: &[u8]) -> bool {
    let first = s.iter().take_while(|b| **b != b' ').count();
    let key = &s[..first];
    let Some(eq) = memchr::memchr(b'=', key) else {
        return false;
    };
    eq > 0
        && key[..eq]
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
        && memchr::memmem::find(&s[..s.len().min(4096)], b"logid=").is_some()
}

/// `key=value key="quoted value" ...` as FortiOS writes it (`\"` and `\\` inside quotes;
/// an unquoted value runs to the next space). At most [`MAX_KV`] pairs; anything that
/// is not a pair ends the list.
pub fn parse_kv(s: &str) -> Vec<(&str, String)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && out.len() < MAX_KV {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'-' | b'.')) {
            i += 1;
        }
        if i == start || b.get(i) != Some(&b'=') {
            break;
        }
        let key = &s[start..i];
        i += 1;
        let value = if b.get(i) == Some(&b'"') {
            i += 1;
            let mut v = String::new();
            let mut from = i;
            loop {
                match b.get(i) {
                    None => {
                        v.push_str(&s[from..i]);
                        break;
                    }
                    Some(b'"') => {
                        v.push_str(&s[from..i]);
                        i += 1;
                        break;
                    }
                    Some(b'\\') if matches!(b.get(i + 1), Some(b'"' | b'\\')) => {
                        v.push_str(&s[from..i]);
                        i += 1;
                        from = i;
                        i += 1;
                    }
                    Some(_) => i += 1,
                }
            }
            v
        } else {
            let from = i;
            while i < b.len() && b[i] != b' ' {
                i += 1;
            }
            s[from..i].to_owned()
        };
        out.push((key, value));
    }
    out
}

fn fortigate(msg: &Message, doc: &mut Map<String, Value>) -> bool {
    let text = msg.message.as_str();
    if !looks_like_fortigate(text.as_bytes()) {
        return false;
    }
    let kv = parse_kv(text);
    let has = |k: &str| kv.iter().any(|(key, _)| *key == k);
    if !(has("logid") && has("type") && (has("devid") || has("devname"))) {
        return false;
    }
    doc.insert("_source".into(), "fortigate".into());
    for (k, v) in &kv {
        // The syslog fields keep their meaning; FortiOS names none of them but these.
        let key = match *k {
            "message" | "host" | "app" | "timestamp" | "format" | "_source" => {
                format!("fortigate_{k}")
            }
            other => other.to_owned(),
        };
        doc.insert(key, v.as_str().into());
    }
    if !doc.contains_key("timestamp") {
        let get = |k: &str| {
            kv.iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.as_str())
        };
        if let Some(t) = forti_time(get("eventtime"), get("date"), get("time"), get("tz")) {
            doc.insert(
                "timestamp".into(),
                t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                    .into(),
            );
        }
    }
    true
}

/// The event time of a FortiOS line: `eventtime` (epoch seconds, micro- or nanoseconds
/// by its length), else `date` + `time` in `tz` (`+0200`, `-05:00`; UTC without).
fn forti_time(
    eventtime: Option<&str>,
    date: Option<&str>,
    time: Option<&str>,
    tz: Option<&str>,
) -> Option<DateTime<Utc>> {
    if let Some(n) = eventtime.and_then(|e| e.parse::<i64>().ok()) {
        let digits = eventtime.map_or(0, str::len);
        let t = match digits {
            0..=11 => DateTime::from_timestamp(n, 0),
            12..=14 => DateTime::from_timestamp_millis(n),
            15..=17 => DateTime::from_timestamp_micros(n),
            _ => Some(DateTime::from_timestamp_nanos(n)),
        };
        if t.is_some() {
            return t;
        }
    }
    let d = NaiveDate::parse_from_str(date?, "%Y-%m-%d").ok()?;
    let t = NaiveTime::parse_from_str(time?, "%H:%M:%S").ok()?;
    let offset = tz
        .and_then(parse_offset)
        .unwrap_or(FixedOffset::east_opt(0)?);
    offset
        .from_local_datetime(&d.and_time(t))
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// `+0200`, `-05:00`, `+02` as an offset.
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
        _ => return None,
    };
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cisco_headers() {
        assert_eq!(
            cisco_mnemonic("%SYS-5-CONFIG_I: x"),
            Some(("SYS", 5, "CONFIG_I", 15))
        );
        assert_eq!(
            cisco_mnemonic("%IP-TCP-3-BADAUTH : x"),
            Some(("IP-TCP", 3, "BADAUTH", 17))
        );
        assert_eq!(cisco_mnemonic("%%01BGP/3/X"), None);
        assert_eq!(cisco_mnemonic("%SYS-9-X:"), None);
        assert_eq!(cisco_mnemonic("%sys-5-x:"), None);
        assert_eq!(cisco_mnemonic("%-5-X"), None);
    }

    #[test]
    fn huawei_headers() {
        assert_eq!(
            huawei_header("%%01BGP/3/BGP_AUTH_FAILED(l)[5]:x"),
            Some(("BGP", 3, "BGP_AUTH_FAILED", Some("l")))
        );
        assert_eq!(
            huawei_header("%%SHELL/5/CMDRECORD:"),
            Some(("SHELL", 5, "CMDRECORD", None))
        );
        assert_eq!(huawei_header("%%01/3/X"), None);
        assert_eq!(huawei_header("%%01BGP/x/X"), None);
    }

    #[test]
    fn kv_pairs() {
        let kv = parse_kv(r#"date=2024-01-02 msg="a \"b\" c" x=1 broken"#);
        assert_eq!(
            kv,
            vec![
                ("date", "2024-01-02".to_string()),
                ("msg", r#"a "b" c"#.to_string()),
                ("x", "1".to_string())
            ]
        );
        assert_eq!(
            parse_kv(r#"a="unterminated"#),
            vec![("a", "unterminated".to_string())]
        );
        assert!(looks_like_fortigate(b"date=2024-01-02 time=1 logid=\"1\""));
        assert!(!looks_like_fortigate(b"Date=2024 logid=1"));
        assert!(!looks_like_fortigate(b"free text logid=1"));
    }

    #[test]
    fn forti_times() {
        let t = |e, d, ti, tz| forti_time(e, d, ti, tz).map(|t| t.to_rfc3339());
        assert_eq!(
            t(None, Some("2024-05-10"), Some("10:21:33"), Some("+0200")),
            Some("2024-05-10T08:21:33+00:00".into())
        );
        assert_eq!(
            t(Some("1715329293123456789"), None, None, None),
            Some("2024-05-10T08:21:33.123456789+00:00".into())
        );
        assert_eq!(
            t(Some("1715329293"), None, None, None),
            Some("2024-05-10T08:21:33+00:00".into())
        );
        assert_eq!(t(None, Some("2024-13-10"), Some("10:21:33"), None), None);
    }
}
