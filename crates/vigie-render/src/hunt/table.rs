//! A table for the terminal: aligned columns as wide as the terminal, fixed once the
//! first row is out so rows stream as they come; long values are cut with `…`, control
//! characters shown as spaces.
//!
//! ```text
//! TIME (UTC)           LEVEL          RULE                                 FILE:RECORD            MATCHED
//! 2024-05-01 10:00:05  high           Suspicious Encoded PowerShell Co…    sysmon.evtx:1234       CommandLine=powershell -enc …
//! ```
//!
//! The FILE column shows the file name (`sysmon.evtx`), never a path cut from the left:
//! the JSON forms carry the full path.

use std::io::{self, Write};
use std::path::Path;

use serde_json::Value;
use vigie_hunt::{Detection, Sink};
use vigie_sigma::RuleMeta;
use vigie_wire::v1;

const W_TIME: usize = 19;
/// `informational` is the longest level.
const W_LEVEL: usize = 13;
const GAPS: usize = 4 * 2;
/// Narrowest width laid out; a narrower terminal wraps.
pub const MIN_WIDTH: usize = 110;
/// Widest value shown in MATCHED.
const W_VALUE: usize = 60;

/// Column widths for a table `width` characters wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    rule: usize,
    source: usize,
    matched: usize,
}

impl Layout {
    fn new(width: usize) -> Layout {
        let free = width.max(MIN_WIDTH) - W_TIME - W_LEVEL - GAPS;
        // The rule title and the file name get about 30 % and 20 % of what is left,
        // within bounds that keep both readable; MATCHED, the widest, takes the rest.
        let rule = (free * 30 / 100).clamp(24, 50);
        let source = (free * 20 / 100).clamp(20, 40);
        Layout {
            rule,
            source,
            matched: free - rule - source,
        }
    }
}

/// Table printer.
pub struct TablePrinter<W: Write> {
    out: W,
    header: bool,
    layout: Layout,
}

impl<W: Write> TablePrinter<W> {
    /// A table `width` columns wide (at least [`MIN_WIDTH`]).
    pub fn new(out: W, width: usize) -> Self {
        TablePrinter {
            out,
            header: false,
            layout: Layout::new(width),
        }
    }

    fn row(&mut self, cols: [&str; 5]) -> io::Result<()> {
        let [time, level, rule, source, matched] = cols;
        let l = self.layout;
        writeln!(
            self.out,
            "{}  {}  {}  {}  {}",
            pad(time, W_TIME),
            pad(level, W_LEVEL),
            pad(&cut_end(rule, l.rule), l.rule),
            pad(&cut_middle(source, l.source), l.source),
            cut_end(matched, l.matched).trim_end()
        )
    }
}

/// Printable, one line: control characters (newlines in command lines) become spaces.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn cut_end(s: &str, w: usize) -> String {
    let s = clean(s);
    if s.chars().count() <= w {
        return s;
    }
    let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Cuts the middle of `name:record`, keeping the record and both ends of the name
/// (`intrusion-2…25.jsonl:23`): the end of a file name tells files apart, the record
/// finds the event.
fn cut_middle(s: &str, w: usize) -> String {
    let s = clean(s);
    let n = s.chars().count();
    if n <= w {
        return s;
    }
    let (name, record) = match s.rfind(':') {
        Some(i) if s[i + 1..].chars().all(|c| c.is_ascii_digit()) => (&s[..i], &s[i..]),
        _ => (s.as_str(), ""),
    };
    let keep = w.saturating_sub(record.chars().count() + 1);
    if keep < 4 {
        return cut_end(&s, w);
    }
    let head = keep / 2;
    let tail = keep - head;
    let chars: Vec<char> = name.chars().collect();
    let mut out: String = chars[..head.min(chars.len())].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len().saturating_sub(tail)..]);
    out.push_str(record);
    out
}

fn pad(s: &str, w: usize) -> String {
    let n = s.chars().count();
    let mut out = String::with_capacity(s.len() + w.saturating_sub(n));
    out.push_str(s);
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(n)));
    out
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => cut_end(s, W_VALUE),
        other => cut_end(&other.to_string(), W_VALUE),
    }
}

/// The file name of an input (`-` stays `-`; Windows separators count too, for paths
/// read on one system and shown on another).
fn file_name(src: &str) -> &str {
    let last = src.rsplit(['/', '\\']).next().unwrap_or(src);
    if last.is_empty() {
        Path::new(src)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(src)
    } else {
        last
    }
}

fn matched_text(w: &v1::Detection) -> String {
    let mut parts: Vec<String> = w
        .fields
        .iter()
        .map(|(k, v)| format!("{k}={}", show(v)))
        .collect();
    for k in &w.keywords {
        parts.push(format!("keyword={}", cut_end(k, W_VALUE)));
    }
    parts.join(" ")
}

impl<W: Write> Sink for TablePrinter<W> {
    fn write(&mut self, d: &Detection, meta: &RuleMeta) -> io::Result<()> {
        if !self.header {
            self.header = true;
            self.row(["TIME (UTC)", "LEVEL", "RULE", "FILE:RECORD", "MATCHED"])?;
        }
        let w = v1::Detection::from_engine(d, meta);
        let time = d
            .timestamp
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "-".into());
        let (rule, source, matched) = match &w.hit {
            None => {
                let source = match (&w.source, w.record) {
                    (Some(s), Some(r)) => format!("{}:{r}", file_name(s)),
                    (Some(s), None) => file_name(s).to_string(),
                    _ => "-".into(),
                };
                (w.rule_title.clone(), source, matched_text(&w))
            }
            Some(c) => {
                let mut parts: Vec<String> = c
                    .group
                    .iter()
                    .map(|(k, v)| format!("{k}={}", show(v)))
                    .collect();
                parts.push(format!("value={}", c.value));
                parts.push(format!("events={}", c.events.len()));
                if let Some(first) = d.correlation.as_ref().map(|c| c.first) {
                    parts.push(format!("since {}", first.format("%Y-%m-%d %H:%M:%S")));
                }
                (
                    format!("[correlation] {}", w.rule_title),
                    "-".into(),
                    parts.join(" "),
                )
            }
        };
        self.row([&time, &w.level, &rule, &source, &matched])
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_and_names() {
        assert_eq!(cut_end("abcdef", 4), "abc…");
        assert_eq!(cut_end("abc", 4), "abc");
        assert_eq!(cut_end("a\nb", 5), "a b");
        assert_eq!(pad("é", 3).chars().count(), 3);
        assert_eq!(file_name("/x/y/z.evtx"), "z.evtx");
        assert_eq!(file_name("C:\\logs\\Security.evtx"), "Security.evtx");
        assert_eq!(file_name("z.evtx"), "z.evtx");
        assert_eq!(file_name("-"), "-");
        let cut = cut_middle("intrusion-2026-07-25.jsonl:23", 20);
        assert_eq!(cut.chars().count(), 20, "{cut}");
        assert!(
            cut.ends_with(".jsonl:23") && cut.starts_with("intrus"),
            "{cut}"
        );
        assert_eq!(cut_middle("short.evtx:1", 20), "short.evtx:1");
    }

    #[test]
    fn layout_uses_the_width() {
        let narrow = Layout::new(MIN_WIDTH);
        let wide = Layout::new(200);
        assert_eq!(
            W_TIME + W_LEVEL + GAPS + narrow.rule + narrow.source + narrow.matched,
            MIN_WIDTH
        );
        assert_eq!(
            W_TIME + W_LEVEL + GAPS + wide.rule + wide.source + wide.matched,
            200
        );
        assert!(wide.rule > narrow.rule && wide.matched > narrow.matched);
        // Below the minimum the layout stays at the minimum.
        assert_eq!(Layout::new(10), narrow);
    }
}
