//! A table for the terminal: fixed-width aligned columns so rows stream out as they
//! come; long values are cut with `…`, control characters shown as spaces.
//!
//! ```text
//! TIME (UTC)           LEVEL     RULE                                      SOURCE:RECORD              MATCHED
//! 2024-05-01 10:00:05  high      Suspicious Encoded PowerShell Command L…  …/sysmon.evtx:1234         CommandLine=powershell -enc …
//! ```

use std::io::{self, Write};
use std::path::Path;

use serde_json::Value;
use vigie_sigma::RuleMeta;

use super::Sink;
use crate::Detection;

const W_TIME: usize = 19;
const W_LEVEL: usize = 13;
const W_RULE: usize = 44;
const W_SOURCE: usize = 30;
const W_MATCHED: usize = 90;
const W_VALUE: usize = 48;

/// Table printer.
pub struct TablePrinter<W: Write> {
    out: W,
    header: bool,
}

impl<W: Write> TablePrinter<W> {
    pub fn new(out: W) -> Self {
        TablePrinter { out, header: false }
    }

    fn row(&mut self, cols: [&str; 5]) -> io::Result<()> {
        let [time, level, rule, source, matched] = cols;
        writeln!(
            self.out,
            "{}  {}  {}  {}  {}",
            pad(time, W_TIME),
            pad(level, W_LEVEL),
            pad(&cut_end(rule, W_RULE), W_RULE),
            pad(&cut_start(source, W_SOURCE), W_SOURCE),
            cut_end(matched, W_MATCHED).trim_end()
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

/// Cuts the start (the end of a path is what tells files apart).
fn cut_start(s: &str, w: usize) -> String {
    let s = clean(s);
    let n = s.chars().count();
    if n <= w {
        return s;
    }
    let mut out = String::from("…");
    out.extend(s.chars().skip(n - (w - 1)));
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

fn short_source(src: &str) -> &str {
    // Keep the file name and its folder: enough to tell inputs apart in a terminal.
    let p = Path::new(src);
    match (p.parent().and_then(|d| d.file_name()), p.file_name()) {
        (Some(_), Some(_)) => {
            let parent = p.parent().and_then(|d| d.parent());
            match parent
                .and_then(|pp| p.strip_prefix(pp).ok())
                .and_then(|r| r.to_str())
            {
                Some(r) => r,
                None => src,
            }
        }
        _ => src,
    }
}

impl<W: Write> Sink for TablePrinter<W> {
    fn write(&mut self, d: &Detection, meta: &RuleMeta) -> io::Result<()> {
        if !self.header {
            self.header = true;
            self.row(["TIME (UTC)", "LEVEL", "RULE", "SOURCE:RECORD", "MATCHED"])?;
        }
        let time = d
            .timestamp
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "-".into());
        let (rule, source, matched) = match &d.correlation {
            None => {
                let source = match (&d.source, d.record) {
                    (Some(s), Some(r)) => format!("{}:{r}", short_source(s)),
                    (Some(s), None) => short_source(s).to_string(),
                    _ => "-".into(),
                };
                let mut seen: Vec<&str> = Vec::new();
                let mut parts = Vec::new();
                for (k, v) in &d.fields {
                    if seen.contains(&&**k) {
                        continue;
                    }
                    seen.push(k);
                    parts.push(format!("{k}={}", show(v)));
                }
                (meta.title.clone(), source, parts.join(" "))
            }
            Some(c) => {
                let mut parts: Vec<String> = c
                    .group
                    .iter()
                    .map(|(k, v)| format!("{k}={}", show(v)))
                    .collect();
                parts.push(format!("value={}", c.value));
                parts.push(format!("events={}", c.events.len()));
                parts.push(format!("since {}", c.first.format("%Y-%m-%d %H:%M:%S")));
                (
                    format!("[correlation] {}", meta.title),
                    "-".into(),
                    parts.join(" "),
                )
            }
        };
        self.row([&time, meta.level.as_str(), &rule, &source, &matched])
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
    fn cutting() {
        assert_eq!(cut_end("abcdef", 4), "abc…");
        assert_eq!(cut_end("abc", 4), "abc");
        assert_eq!(cut_start("abcdef", 4), "…def");
        assert_eq!(cut_end("a\nb", 5), "a b");
        assert_eq!(pad("é", 3).chars().count(), 3);
        assert_eq!(short_source("/x/y/z.evtx"), "y/z.evtx");
        assert_eq!(short_source("z.evtx"), "z.evtx");
    }
}
