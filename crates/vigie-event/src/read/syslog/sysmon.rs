//! Sysmon for Linux: the XML event it writes as a syslog message (tag `sysmon`), read
//! into the field names of Windows Sysmon (`docs/syslog.md`, "Sysmon for Linux").
//!
//! `<Event><System>...<EventID>1</EventID>...</System><EventData><Data
//! Name="Image">/usr/bin/curl</Data>...</EventData></Event>` gives `EventID: 1`,
//! `Image: /usr/bin/curl`, ... : each `Data` element of `EventData` under its `Name`, and
//! of `System` the elements `EventID`, `Version`, `Level`, `Task`, `Opcode`, `Keywords`,
//! `EventRecordID`, `Computer` and the attributes `Provider Name` (`Provider_Name`),
//! `TimeCreated SystemTime` (`SystemTime`), `Execution ProcessID` / `ThreadID`
//! (`ExecutionProcessID`, `ExecutionThreadID`), `Security UserId` (`UserId`), and
//! `Channel` (`Linux-Sysmon/Operational`), by which the default mapping routes them and
//! keeps Windows rules (whose entries name the Windows channels) off them.
//!
//! The reader is a small scanner for the XML that Sysmon writes (elements, attributes,
//! text, the five predefined entities and character references; comments, processing
//! instructions and CDATA accepted); it is bounded (at most [`MAX_FIELDS`] fields,
//! nesting depth [`MAX_DEPTH`]) and returns an error naming the byte offset for
//! anything else. It never panics.

use serde_json::{Map, Value};

/// Most fields taken from one event.
pub const MAX_FIELDS: usize = 512;
/// Deepest element nesting accepted (Sysmon's is 3).
pub const MAX_DEPTH: usize = 16;

/// What is wrong with the XML, and where (byte offset into it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Sysmon event XML: byte {offset}: {message}")]
pub struct XmlError {
    pub offset: usize,
    pub message: String,
}

fn err(offset: usize, message: impl Into<String>) -> XmlError {
    XmlError {
        offset,
        message: message.into(),
    }
}

/// Whether a syslog message is a Sysmon for Linux event (tag `sysmon`, text `<Event`).
pub fn is_sysmon(app: Option<&str>, message: &str) -> bool {
    app.is_some_and(|a| a.eq_ignore_ascii_case("sysmon")) && message.starts_with("<Event")
}

/// The fields of one Sysmon XML event, in document order (see the module doc).
pub fn parse_event(xml: &str) -> Result<Vec<(String, Value)>, XmlError> {
    let b = xml.as_bytes();
    let mut out: Vec<(String, Value)> = Vec::new();
    let mut stack: Vec<&str> = Vec::new();
    // The `Name` of the `Data` element being read, and its text so far.
    let mut data: Option<(String, String)> = None;
    // Text of a System child element.
    let mut text = String::new();
    let mut seen_event = false;
    let mut i = 0;
    let push = |out: &mut Vec<(String, Value)>, k: String, v: Value, at: usize| {
        if out.len() >= MAX_FIELDS {
            return Err(err(at, format!("more than {MAX_FIELDS} fields")));
        }
        out.push((k, v));
        Ok(())
    };
    while i < b.len() {
        if b[i] != b'<' {
            let end = memchr::memchr(b'<', &b[i..]).map_or(b.len(), |j| i + j);
            let chunk = &xml[i..end];
            if stack.is_empty() {
                if !chunk.trim().is_empty() {
                    return Err(err(i, "text outside the <Event> element"));
                }
            } else {
                let decoded = unescape(chunk, i)?;
                match &mut data {
                    Some((_, v)) => v.push_str(&decoded),
                    None => text.push_str(&decoded),
                }
            }
            i = end;
            continue;
        }
        let rest = &xml[i..];
        if rest.starts_with("<!--") {
            i += rest
                .find("-->")
                .ok_or_else(|| err(i, "comment not closed"))?
                + 3;
            continue;
        }
        if rest.starts_with("<?") {
            i += rest
                .find("?>")
                .ok_or_else(|| err(i, "processing instruction not closed"))?
                + 2;
            continue;
        }
        if let Some(cdata) = rest.strip_prefix("<![CDATA[") {
            let n = cdata
                .find("]]>")
                .ok_or_else(|| err(i, "CDATA not closed"))?;
            match &mut data {
                Some((_, v)) => v.push_str(&cdata[..n]),
                None => text.push_str(&cdata[..n]),
            }
            i += 9 + n + 3;
            continue;
        }
        let close = memchr::memchr(b'>', &b[i..]).ok_or_else(|| err(i, "tag not closed by `>`"))?;
        let inner = &xml[i + 1..i + close];
        let tag_at = i;
        i += close + 1;
        if let Some(name) = inner.strip_prefix('/') {
            let name = name.trim_end();
            match stack.pop() {
                Some(open) if open == name => {}
                Some(open) => {
                    return Err(err(tag_at, format!("</{name}> closes <{open}>")));
                }
                None => return Err(err(tag_at, format!("</{name}> closes nothing"))),
            }
            let parent = stack.last().copied();
            if name == "Data" {
                if let Some((k, v)) = data.take() {
                    push(&mut out, k, Value::String(v), tag_at)?;
                }
            } else if parent == Some("System") {
                let v = std::mem::take(&mut text);
                push(&mut out, name.to_owned(), system_value(name, v), tag_at)?;
            }
            text.clear();
            if stack.is_empty() {
                // After </Event> only blanks may follow.
                if !xml[i..].trim().is_empty() {
                    return Err(err(i, "content after </Event>"));
                }
                return Ok(out);
            }
            continue;
        }
        let self_closing = inner.ends_with('/');
        let inner = inner.strip_suffix('/').unwrap_or(inner);
        let name_len = inner
            .bytes()
            .take_while(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        let name = &inner[..name_len];
        if name.is_empty()
            || !name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'-' | b'.'))
        {
            return Err(err(tag_at, format!("bad element name `{}`", short(name))));
        }
        if stack.is_empty() {
            if seen_event || name != "Event" {
                return Err(err(
                    tag_at,
                    format!("expected <Event>, found <{}>", short(name)),
                ));
            }
            seen_event = true;
        }
        if stack.len() >= MAX_DEPTH {
            return Err(err(
                tag_at,
                format!("elements nested deeper than {MAX_DEPTH}"),
            ));
        }
        let attrs = attributes(&inner[name_len..], tag_at + 1 + name_len)?;
        let parent = stack.last().copied();
        if name == "Data" && parent == Some("EventData") {
            let key = attrs
                .iter()
                .find(|(k, _)| *k == "Name")
                .map(|(_, v)| v.clone())
                .ok_or_else(|| err(tag_at, "<Data> without a Name attribute"))?;
            if self_closing {
                push(&mut out, key, Value::String(String::new()), tag_at)?;
            } else {
                data = Some((key, String::new()));
            }
        } else if parent == Some("System") {
            for (k, v) in attrs {
                let key = match (name, k) {
                    ("Provider", "Name") => "Provider_Name".to_owned(),
                    ("Provider", "Guid") => "Provider_Guid".to_owned(),
                    ("TimeCreated", "SystemTime") => "SystemTime".to_owned(),
                    ("Execution", k) => format!("Execution{k}"),
                    ("Security", "UserId") => "UserId".to_owned(),
                    (el, k) => format!("{el}_{k}"),
                };
                push(&mut out, key, Value::String(v), tag_at)?;
            }
        }
        if !self_closing {
            stack.push(name);
        }
        text.clear();
    }
    Err(match stack.last() {
        Some(open) => err(b.len(), format!("ends inside <{open}>")),
        None => err(b.len(), "no <Event> element"),
    })
}

/// System elements that hold numbers become numbers (as in EVTX); others stay text.
fn system_value(name: &str, v: String) -> Value {
    match name {
        "EventID" | "Version" | "Level" | "Task" | "Opcode" | "EventRecordID" => v
            .trim()
            .parse::<u64>()
            .map_or(Value::String(v), Value::from),
        _ => Value::String(v),
    }
}

/// Attributes `name="value"` or `name='value'` of a start tag.
fn attributes(s: &str, base: usize) -> Result<Vec<(&str, String)>, XmlError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Ok(out);
        }
        let start = i;
        while i < b.len() && !matches!(b[i], b'=' | b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        let name = &s[start..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            return Err(err(
                base + i,
                format!("attribute `{}` has no value", short(name)),
            ));
        }
        i += 1;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let q = match b.get(i) {
            Some(q @ (b'"' | b'\'')) => *q,
            _ => {
                return Err(err(
                    base + i,
                    format!("value of `{}` is not quoted", short(name)),
                ))
            }
        };
        i += 1;
        let end = memchr::memchr(q, &b[i..]).map(|j| i + j).ok_or_else(|| {
            err(
                base + i,
                format!("value of `{}` is not closed", short(name)),
            )
        })?;
        out.push((name, unescape(&s[i..end], base + i)?));
        i = end + 1;
    }
}

/// Text with `&lt; &gt; &amp; &quot; &apos;` and `&#NN;` / `&#xHH;` replaced.
fn unescape(s: &str, base: usize) -> Result<String, XmlError> {
    if !s.contains('&') {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut at = base;
    while let Some(j) = rest.find('&') {
        out.push_str(&rest[..j]);
        let tail = &rest[j..];
        // Bytes, not a `str` slice: the 12th byte may fall inside a character.
        let semi = tail
            .bytes()
            .take(12)
            .position(|b| b == b';')
            .ok_or_else(|| err(at + j, "`&` without its `;`"))?;
        let name = &tail[1..semi];
        let ch = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code =
                    if let Some(h) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                        u32::from_str_radix(h, 16).ok()
                    } else if let Some(d) = name.strip_prefix('#') {
                        d.parse::<u32>().ok()
                    } else {
                        None
                    };
                code.and_then(char::from_u32)
                    .ok_or_else(|| err(at + j, format!("unknown entity `&{}`", short(name))))?
            }
        };
        out.push(ch);
        rest = &tail[semi + 1..];
        at += j + semi + 1;
    }
    out.push_str(rest);
    Ok(out)
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The fields of `xml` added to `doc` (the syslog fields stay: `host`, `app`, `timestamp`
/// of the syslog header; a Data element named like one is kept under `sysmon_<name>`).
/// On an error nothing is added.
pub fn enrich(xml: &str, doc: &mut Map<String, Value>) -> Result<(), XmlError> {
    let fields = parse_event(xml)?;
    for (k, v) in fields {
        let key = match k.as_str() {
            "message" | "host" | "app" | "procid" | "timestamp" | "format" | "facility"
            | "severity" => format!("sysmon_{k}"),
            _ => k,
        };
        doc.insert(key, v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EV: &str = r#"<Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="2024-05-10T08:21:33.123456000Z"/><EventRecordID>42</EventRecordID><Correlation/><Execution ProcessID="812" ThreadID="812"/><Channel>Linux-Sysmon/Operational</Channel><Computer>web01</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="Image">/usr/bin/curl</Data><Data Name="CommandLine">curl -s http://a/?x=1&amp;y=&lt;2&gt;</Data><Data Name="Empty"/></EventData></Event>"#;

    #[test]
    fn reads_the_fields() {
        let f = parse_event(EV).unwrap();
        let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("EventID"), Some(Value::from(1)));
        assert_eq!(get("Provider_Name"), Some("Linux-Sysmon".into()));
        assert_eq!(
            get("SystemTime"),
            Some("2024-05-10T08:21:33.123456000Z".into())
        );
        assert_eq!(get("ExecutionProcessID"), Some("812".into()));
        assert_eq!(get("Computer"), Some("web01".into()));
        assert_eq!(get("Image"), Some("/usr/bin/curl".into()));
        assert_eq!(
            get("CommandLine"),
            Some("curl -s http://a/?x=1&y=<2>".into())
        );
        assert_eq!(get("Empty"), Some("".into()));
        let mut doc = Map::new();
        enrich(EV, &mut doc).unwrap();
        assert_eq!(doc["Channel"], "Linux-Sysmon/Operational");
    }

    #[test]
    fn damage_is_an_error() {
        let cut = &EV[..200];
        assert!(parse_event(cut)
            .unwrap_err()
            .message
            .starts_with("ends inside"));
        let e = parse_event("<Event><System></Event>").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Sysmon event XML: byte 15: </Event> closes <System>"
        );
        assert!(parse_event("<Event><EventData><Data>x</Data></EventData></Event>").is_err());
        assert!(parse_event("<Event>&bogus;</Event>").is_err());
        assert!(parse_event("<Other/>").is_err());
        assert!(parse_event("<Event></Event> trailing").is_err());
        let deep = "<Event>".to_string() + &"<a>".repeat(40);
        assert!(parse_event(&deep).unwrap_err().message.contains("deeper"));
    }
}
