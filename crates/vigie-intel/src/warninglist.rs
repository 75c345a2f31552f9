//! Warning lists: known-benign values in the MISP warninglist format, which suppress
//! indicator hits.
//!
//! A warning list is a `list.json` (`name`, `description`, `version`, `type`, `list`,
//! optional `matching_attributes`). [`WarningLists::load`] reads a directory holding
//! `*/list.json` (the `lists/` directory of the misp-warninglists repository, or the
//! repository itself, or one `list.json`).
//!
//! Matching, per `type` (the semantics of pymispwarninglists 1.7.0's "slow search",
//! which the tests compare with on 5,000 values; every comparison is case-sensitive
//! unless said):
//! - `string`: the value equals an entry.
//! - `substring`: an entry occurs in the value.
//! - `hostname`: when the value is a URL with a host (`scheme://host...`, parsed as
//!   Python's `urllib.parse.urlparse` does, the host lowercased), the host, else the
//!   value itself, equals an entry or ends with `.` + the entry without its leading
//!   dots.
//! - `cidr`: an IPv4 or IPv6 address (Python `ipaddress` rules: no leading zeros, an
//!   IPv6 zone `%id` allowed) inside a network of the list; a value that is not an
//!   address equals an entry.
//! - `regex`: the value matches one of the entries, written `/pattern/flags` (flag `i`
//!   honoured, others ignored) as MISP writes them. (pymispwarninglists 1.7.0 never
//!   matches regex lists; MISP does: vigie follows MISP here, and the comparison leaves
//!   the two regex lists out.)
//!
//! [`WarningLists::search`] returns every list a value hits, whatever its type;
//! [`WarningLists::hits`] only asks the lists that apply to an indicator type (those
//! whose `matching_attributes` name a MISP attribute type of that indicator type, or
//! that have none) and answers the first, by name.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use aho_corasick::AhoCorasick;
use rustc_hash::FxHashSet;
use serde::Deserialize;

use crate::feed::{Position, Refusal};
use crate::index::ranges::Ranges;
use crate::indicator::IocType;

/// The `type` of a warning list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListType {
    String,
    Substring,
    Hostname,
    Cidr,
    Regex,
}

impl ListType {
    pub fn as_str(self) -> &'static str {
        match self {
            ListType::String => "string",
            ListType::Substring => "substring",
            ListType::Hostname => "hostname",
            ListType::Cidr => "cidr",
            ListType::Regex => "regex",
        }
    }
}

#[derive(Debug)]
enum Matcher {
    String(FxHashSet<String>),
    Substring(Option<AhoCorasick>),
    Hostname {
        exact: FxHashSet<String>,
        /// Entries without their leading dots.
        suffix: FxHashSet<String>,
    },
    Cidr {
        v4: Ranges,
        v6: Ranges,
        raw: FxHashSet<String>,
    },
    Regex(Vec<regex::Regex>),
}

/// One warning list.
#[derive(Debug)]
pub struct WarningList {
    pub name: String,
    pub description: String,
    pub version: u64,
    pub list_type: ListType,
    /// MISP attribute types it applies to (empty: all).
    pub matching_attributes: Vec<String>,
    /// Entries.
    pub len: usize,
    /// The `list.json` it came from.
    pub path: PathBuf,
    matcher: Matcher,
}

#[derive(Deserialize)]
struct ListFile {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    version: serde_json::Value,
    #[serde(rename = "type")]
    list_type: String,
    list: Vec<String>,
    #[serde(default)]
    matching_attributes: Vec<String>,
}

/// A warning-list directory that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum WarningListError {
    #[error("{path}: cannot read the warning lists: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: no */list.json under it")]
    Empty(String),
}

/// Loaded warning lists, sorted by name.
#[derive(Debug, Default)]
pub struct WarningLists {
    lists: Vec<WarningList>,
    /// Lists or entries that could not be used (file, position, reason).
    pub refused: Vec<Refusal>,
}

impl WarningList {
    /// Build a list from its parts (what `list.json` holds). Entries that cannot be
    /// used (a `cidr` entry that is not a network, a `regex` that does not compile) are
    /// refused into `refused`, positioned by JSON pointer `/list/N`.
    pub fn new(
        name: String,
        list_type: ListType,
        entries: Vec<String>,
        matching_attributes: Vec<String>,
        path: PathBuf,
        refused: &mut Vec<Refusal>,
    ) -> WarningList {
        let file = path.display().to_string();
        let len = entries.len();
        let matcher = match list_type {
            ListType::String => Matcher::String(entries.into_iter().collect()),
            ListType::Substring => {
                let entries: Vec<&String> = entries.iter().collect();
                Matcher::Substring(if entries.is_empty() {
                    None
                } else {
                    match AhoCorasick::new(entries) {
                        Ok(ac) => Some(ac),
                        Err(e) => {
                            refused.push(Refusal {
                                file: file.clone(),
                                position: Position::Pointer("/list".into()),
                                reason: format!("substring automaton: {e}"),
                            });
                            None
                        }
                    }
                })
            }
            ListType::Hostname => Matcher::Hostname {
                suffix: entries
                    .iter()
                    .map(|e| e.trim_start_matches('.').to_string())
                    .collect(),
                exact: entries.into_iter().collect(),
            },
            ListType::Cidr => {
                let mut v4 = Vec::new();
                let mut v6 = Vec::new();
                for (k, e) in entries.iter().enumerate() {
                    match parse_network_strict(e) {
                        Some(Net::V4(lo, hi)) => v4.push((u128::from(lo), u128::from(hi), 0)),
                        Some(Net::V6(lo, hi)) => v6.push((lo, hi, 0)),
                        None => refused.push(Refusal {
                            file: file.clone(),
                            position: Position::Pointer(format!("/list/{k}")),
                            reason: format!(
                                "{e:?} is not a network (host bits set, or not an address); kept for exact matches only"
                            ),
                        }),
                    }
                }
                Matcher::Cidr {
                    v4: Ranges::build(v4),
                    v6: Ranges::build(v6),
                    raw: entries.into_iter().collect(),
                }
            }
            ListType::Regex => {
                let mut rs = Vec::new();
                for (k, e) in entries.iter().enumerate() {
                    match compile_misp_regex(e) {
                        Ok(r) => rs.push(r),
                        Err(reason) => refused.push(Refusal {
                            file: file.clone(),
                            position: Position::Pointer(format!("/list/{k}")),
                            reason,
                        }),
                    }
                }
                Matcher::Regex(rs)
            }
        };
        WarningList {
            name,
            description: String::new(),
            version: 0,
            list_type,
            matching_attributes,
            len,
            path,
            matcher,
        }
    }

    /// Whether `value` hits this list (see the module documentation).
    pub fn contains(&self, value: &str) -> bool {
        match &self.matcher {
            Matcher::String(s) => s.contains(value),
            Matcher::Substring(ac) => ac.as_ref().is_some_and(|ac| ac.is_match(value)),
            Matcher::Hostname { exact, suffix } => {
                let host = python_url_hostname(value);
                let v = host.as_deref().unwrap_or(value);
                if exact.contains(v) {
                    return true;
                }
                // v.endswith("." + s) for some s: every suffix after a dot.
                v.char_indices()
                    .filter(|&(_, c)| c == '.')
                    .any(|(i, _)| suffix.contains(&v[i + 1..]))
            }
            Matcher::Cidr { v4, v6, raw } => {
                let mut out = Vec::new();
                if let Some(a) = python_ipv4(value) {
                    v4.lookup(u128::from(u32::from(a)), &mut out);
                    return !out.is_empty();
                }
                if let Some(a) = python_ipv6(value) {
                    v6.lookup(u128::from(a), &mut out);
                    return !out.is_empty();
                }
                raw.contains(value)
            }
            Matcher::Regex(rs) => rs.iter().any(|r| r.is_match(value)),
        }
    }

    /// Whether the list applies to values of `ty` (by its `matching_attributes`).
    pub fn applies_to(&self, ty: IocType) -> bool {
        if self.matching_attributes.is_empty() {
            return true;
        }
        let names = misp_attribute_types(ty);
        self.matching_attributes.iter().any(|a| {
            names.contains(&a.as_str()) || (ty == IocType::FileName && a.starts_with("filename|"))
        })
    }
}

/// The MISP attribute types that hold values of an indicator type.
pub fn misp_attribute_types(ty: IocType) -> &'static [&'static str] {
    match ty {
        IocType::Ipv4 | IocType::Ipv6 => &[
            "ip-src",
            "ip-dst",
            "ip-src|port",
            "ip-dst|port",
            "domain|ip",
        ],
        IocType::Domain => &["domain", "hostname", "domain|ip", "hostname|port"],
        IocType::Url => &["url", "uri", "link"],
        IocType::Md5 => &["md5", "filename|md5"],
        IocType::Sha1 => &["sha1", "filename|sha1"],
        IocType::Sha256 => &["sha256", "filename|sha256"],
        IocType::FileName => &["filename"],
    }
}

impl WarningLists {
    /// Load `dir/*/list.json` (or `dir/lists/*/list.json`, or `dir` itself when it is
    /// a `list.json` or holds one). A list that cannot be read is refused (in
    /// [`WarningLists::refused`]) and the others still load; `Err` only when nothing
    /// can be read.
    pub fn load(dir: &Path) -> Result<WarningLists, WarningListError> {
        let mut files = Vec::new();
        if dir.is_file() {
            files.push(dir.to_path_buf());
        } else if dir.join("list.json").is_file() {
            files.push(dir.join("list.json"));
        } else {
            let root = if dir.join("lists").is_dir() {
                dir.join("lists")
            } else {
                dir.to_path_buf()
            };
            let rd = std::fs::read_dir(&root).map_err(|source| WarningListError::Io {
                path: root.display().to_string(),
                source,
            })?;
            for e in rd.flatten() {
                let p = e.path().join("list.json");
                if p.is_file() {
                    files.push(p);
                }
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(WarningListError::Empty(dir.display().to_string()));
        }
        let mut wl = WarningLists::default();
        for f in files {
            wl.load_file(&f);
        }
        wl.finish();
        Ok(wl)
    }

    fn load_file(&mut self, path: &Path) {
        let file = path.display().to_string();
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) => {
                self.refused.push(Refusal {
                    file,
                    position: Position::File,
                    reason: format!("cannot read: {e}"),
                });
                return;
            }
        };
        let lf: ListFile = match serde_json::from_slice(&text) {
            Ok(l) => l,
            Err(e) => {
                self.refused.push(Refusal {
                    file,
                    position: Position::Line {
                        line: e.line() as u64,
                        column: e.column() as u64,
                    },
                    reason: format!("not a warning list: {e}"),
                });
                return;
            }
        };
        let ty = match lf.list_type.as_str() {
            "string" => ListType::String,
            "substring" => ListType::Substring,
            "hostname" => ListType::Hostname,
            "cidr" => ListType::Cidr,
            "regex" => ListType::Regex,
            other => {
                self.refused.push(Refusal {
                    file,
                    position: Position::Pointer("/type".into()),
                    reason: format!(
                        "unknown warning list type {other:?} (expected string, substring, hostname, cidr or regex)"
                    ),
                });
                return;
            }
        };
        let mut l = WarningList::new(
            lf.name,
            ty,
            lf.list,
            lf.matching_attributes,
            path.to_path_buf(),
            &mut self.refused,
        );
        l.description = lf.description;
        l.version = match &lf.version {
            serde_json::Value::Number(n) => n.as_u64().unwrap_or(0),
            serde_json::Value::String(s) => s.parse().unwrap_or(0),
            _ => 0,
        };
        self.lists.push(l);
    }

    /// Build from lists made in code.
    pub fn from_lists(lists: Vec<WarningList>) -> WarningLists {
        let mut wl = WarningLists {
            lists,
            refused: Vec::new(),
        };
        wl.finish();
        wl
    }

    /// Sort by name; a later list of the same name replaces an earlier one (as
    /// pymispwarninglists keys lists by name), with a warning.
    fn finish(&mut self) {
        self.lists.sort_by(|a, b| a.name.cmp(&b.name));
        let before = self.lists.len();
        // Keep the last of each name (stable sort keeps load order within a name).
        let mut kept: Vec<WarningList> = Vec::with_capacity(before);
        for l in self.lists.drain(..) {
            if kept.last().is_some_and(|k| k.name == l.name) {
                tracing::warn!(name = %l.name, path = %l.path.display(), "two warning lists of one name: the later wins");
                kept.pop();
            }
            kept.push(l);
        }
        self.lists = kept;
    }

    pub fn lists(&self) -> &[WarningList] {
        &self.lists
    }

    pub fn len(&self) -> usize {
        self.lists.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// Every list `value` hits, whatever its type, by name.
    pub fn search(&self, value: &str) -> Vec<&str> {
        self.lists
            .iter()
            .filter(|l| l.contains(value))
            .map(|l| l.name.as_str())
            .collect()
    }

    /// The first list (by name) that applies to `ty` and that `value` hits.
    pub fn hits(&self, ty: IocType, value: &str) -> Option<&str> {
        self.lists
            .iter()
            .find(|l| l.applies_to(ty) && l.contains(value))
            .map(|l| l.name.as_str())
    }
}

enum Net {
    V4(u32, u32),
    V6(u128, u128),
}

/// A network in prefix notation, or an address (a single-address network), with no
/// host bits set (Python's `ip_network(v)`, strict).
fn parse_network_strict(e: &str) -> Option<Net> {
    let (addr, len) = match e.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (e, None),
    };
    let prefix = |max: u32| -> Option<u32> {
        match len {
            None => Some(max),
            Some(l) if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) => {
                l.parse::<u32>().ok().filter(|&p| p <= max)
            }
            _ => None,
        }
    };
    if let Some(a) = python_ipv4(addr) {
        let p = prefix(32)?;
        let a = u32::from(a);
        let host = u32::MAX.checked_shr(p).unwrap_or(0);
        if a & host != 0 {
            return None;
        }
        return Some(Net::V4(a, a | host));
    }
    let a = python_ipv6(addr)?;
    let p = prefix(128)?;
    let a = u128::from(a);
    let host = u128::MAX.checked_shr(p).unwrap_or(0);
    if a & host != 0 {
        return None;
    }
    Some(Net::V6(a, a | host))
}

/// An IPv4 address as Python's `ipaddress.IPv4Address(str)` accepts it: four decimal
/// octets of 1-3 ASCII digits, no leading zero, at most 255.
pub fn python_ipv4(s: &str) -> Option<Ipv4Addr> {
    let mut o = [0u8; 4];
    let mut n = 0;
    for part in s.split('.') {
        if n == 4 || part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        if part.len() > 1 && part.starts_with('0') {
            return None;
        }
        o[n] = u8::try_from(part.parse::<u32>().ok()?).ok()?;
        n += 1;
    }
    (n == 4).then(|| Ipv4Addr::from(o))
}

/// An IPv6 address as Python's `ipaddress.IPv6Address(str)` accepts it: an optional
/// non-empty `%zone` (without `%` or `/`) after the address, which is ignored.
pub fn python_ipv6(s: &str) -> Option<Ipv6Addr> {
    if s.contains('/') {
        return None;
    }
    let addr = match s.split_once('%') {
        Some((a, zone)) => {
            if zone.is_empty() || zone.contains('%') {
                return None;
            }
            a
        }
        None => s,
    };
    // Python takes the embedded IPv4 part with IPv4 rules; Rust's parser agrees on
    // the forms it accepts (no leading zeros either).
    if let Some(k) = addr.rfind(':') {
        let tail = &addr[k + 1..];
        if tail.contains('.') && python_ipv4(tail).is_none() {
            return None;
        }
    }
    // Python allows at most 4 hex digits a group, like Rust.
    Ipv6Addr::from_str(addr).ok()
}

/// The host of a URL as Python's `urllib.parse.urlparse(value).hostname` gives it
/// (lowercased; `None` when there is no `//` authority or it is empty).
pub fn python_url_hostname(value: &str) -> Option<String> {
    // Leading C0 controls and spaces stripped; tab, CR, LF removed everywhere.
    let v = value.trim_start_matches(|c: char| c <= ' ');
    let cleaned: String;
    let v = if v.contains(['\t', '\r', '\n']) {
        cleaned = v
            .chars()
            .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
            .collect();
        cleaned.as_str()
    } else {
        v
    };
    let mut rest = v;
    if let Some(i) = v.find(':') {
        let scheme = &v[..i];
        if i > 0
            && scheme.as_bytes()[0].is_ascii_alphabetic()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            rest = &v[i + 1..];
        }
    }
    let after = rest.strip_prefix("//")?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let netloc = &after[..end];
    let hostinfo = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
    let hostname = match hostinfo.split_once('[') {
        Some((_, bracketed)) => bracketed.split_once(']').map_or(bracketed, |(h, _)| h),
        None => hostinfo.split_once(':').map_or(hostinfo, |(h, _)| h),
    };
    if hostname.is_empty() {
        return None;
    }
    Some(match hostname.split_once('%') {
        Some((h, zone)) => format!("{}%{}", h.to_lowercase(), zone),
        None => hostname.to_lowercase(),
    })
}

/// A MISP regex entry `/pattern/flags` (or a bare pattern).
fn compile_misp_regex(e: &str) -> Result<regex::Regex, String> {
    let (pat, flags) = match e.strip_prefix('/').and_then(|r| r.rsplit_once('/')) {
        Some((p, f)) if f.chars().all(|c| c.is_ascii_alphabetic()) => (p, f),
        _ => (e, ""),
    };
    regex::RegexBuilder::new(pat)
        .case_insensitive(flags.contains('i'))
        .multi_line(flags.contains('m'))
        .dot_matches_new_line(flags.contains('s'))
        .build()
        .map_err(|err| format!("regex {e:?} does not compile: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_url_hosts() {
        assert_eq!(
            python_url_hostname("http://User@Foo.Blah.DE:80/meh").as_deref(),
            Some("foo.blah.de")
        );
        assert_eq!(python_url_hostname("foo.blah.de"), None);
        assert_eq!(python_url_hostname("//x.y/z").as_deref(), Some("x.y"));
        assert_eq!(python_url_hostname("http:///path"), None);
        assert_eq!(python_url_hostname("1http://x.y/"), None);
    }

    #[test]
    fn python_ips() {
        assert!(python_ipv4("1.2.3.4").is_some());
        assert!(python_ipv4("01.2.3.4").is_none());
        assert!(python_ipv4("1.2.3").is_none());
        assert!(python_ipv4("1.2.3.256").is_none());
        assert!(python_ipv6("fe80::1%eth0").is_some());
        assert!(python_ipv6("fe80::1%").is_none());
    }

    #[test]
    fn hostname_list() {
        let mut r = Vec::new();
        let l = WarningList::new(
            "t".into(),
            ListType::Hostname,
            vec!["blah.de".into(), ".example.com".into()],
            vec![],
            PathBuf::from("t"),
            &mut r,
        );
        assert!(l.contains("blah.de"));
        assert!(l.contains("a.blah.de"));
        assert!(l.contains("http://A.Blah.de/x"));
        assert!(!l.contains("xblah.de"));
        assert!(l.contains("www.example.com"));
        assert!(!l.contains("example.com"));
        assert!(l.contains(".example.com"));
    }
}
