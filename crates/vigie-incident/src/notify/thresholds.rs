//! The reporting thresholds a notification is checked against: a YAML table (read through
//! `vigie-yaml`, every problem reported with its line and column), embedded by default
//! (`data/thresholds.yml`: ENISA's Article 13a guideline, see its notes) or loaded from a
//! file.
//!
//! A row is crossed when every figure it sets is reached (`>=`, on the side of reporting:
//! the guideline says "more than", and a liaison would rather be told at the boundary):
//! `hours` (users affected for at least that long), `share` (those users as a fraction of
//! the user base), `users` (their number), `user_hours` (user-hours lost, without SLA
//! weights).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use vigie_yaml::{from_node, parse_yaml, Limits, Node, Pos, Value};

/// The embedded default table.
pub const DEFAULT_THRESHOLDS_YAML: &str = include_str!("../../data/thresholds.yml");

/// Origin named in errors about the embedded table.
pub const DEFAULT_THRESHOLDS_ORIGIN: &str = "<embedded thresholds.yml>";

/// Largest thresholds file read (a table is a few hundred bytes; this only stops a wrong
/// path from reading a log file into memory).
const MAX_BYTES: u64 = 1 << 20;

/// A thresholds table.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// Where the figures come from (named in every notification).
    pub source: String,
    /// The user base shares are taken of; None: the operator's customers.
    pub user_base: Option<u64>,
    pub rows: Vec<Threshold>,
}

/// One row. At least one figure is set.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub id: String,
    pub label: String,
    /// Minimum duration, hours.
    pub hours: Option<f64>,
    /// Minimum share of the user base, in (0, 1].
    pub share: Option<f64>,
    /// Minimum number of users.
    pub users: Option<u64>,
    /// Minimum user-hours.
    pub user_hours: Option<f64>,
}

/// What was wrong with a thresholds table.
#[derive(Debug, thiserror::Error)]
pub enum ThresholdsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {size} bytes, more than the {max} a thresholds table may have")]
    TooBig { path: PathBuf, size: u64, max: u64 },
    /// Every problem found, each `origin:line:column: message`.
    #[error("{}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid { problems: Vec<Problem> },
}

/// One positioned problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{origin}:{pos}: {message}")]
pub struct Problem {
    pub origin: String,
    pub pos: Pos,
    pub message: String,
}

impl Default for Thresholds {
    /// The embedded table. It is tested to load; should it ever not, the error is logged
    /// and the table is empty (its `source` says why), rather than a panic.
    fn default() -> Self {
        match Thresholds::parse(DEFAULT_THRESHOLDS_YAML, DEFAULT_THRESHOLDS_ORIGIN) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("embedded thresholds table: {e}");
                Thresholds {
                    source: format!("none (embedded table unreadable: {e})"),
                    user_base: None,
                    rows: Vec::new(),
                }
            }
        }
    }
}

/// A row as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    id: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    hours: Option<f64>,
    #[serde(default)]
    share: Option<f64>,
    #[serde(default)]
    users: Option<u64>,
    #[serde(default)]
    user_hours: Option<f64>,
}

const TOP_KEYS: [&str; 3] = ["source", "user_base", "thresholds"];

impl Thresholds {
    /// Read a table from a file (YAML or JSON).
    pub fn load(path: impl AsRef<Path>) -> Result<Thresholds, ThresholdsError> {
        let path = path.as_ref();
        let io = |source| ThresholdsError::Io {
            path: path.to_path_buf(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_BYTES {
            return Err(ThresholdsError::TooBig {
                path: path.to_path_buf(),
                size,
                max: MAX_BYTES,
            });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        Thresholds::parse(&text, &path.display().to_string())
    }

    /// Read a table from text; `origin` names it in errors (a path).
    pub fn parse(text: &str, origin: &str) -> Result<Thresholds, ThresholdsError> {
        let mut p = Problems {
            origin,
            list: Vec::new(),
        };
        let root = match parse_yaml(text, &Limits::default()) {
            Ok(root) => root,
            Err(errors) => {
                for e in errors {
                    p.push(e.pos, e.message);
                }
                return Err(p.into_error());
            }
        };
        let Value::Map(entries) = &root.value else {
            p.push(
                root.pos,
                format!(
                    "found {}, expected a mapping with `source` and `thresholds`",
                    root.type_name()
                ),
            );
            return Err(p.into_error());
        };
        // Where a missing top-level field is reported: the document's first key (the tree
        // places a block mapping where its first value starts).
        let top = entries.first().map_or(root.pos, |(k, _)| k.pos);
        for (k, _) in entries {
            let key = k.as_scalar().unwrap_or("");
            if !TOP_KEYS.contains(&key) {
                p.push(
                    k.pos,
                    format!("unknown field `{key}`, expected one of `source`, `user_base`, `thresholds`"),
                );
            }
        }
        let source = match root.get("source") {
            Some(n) => p.de::<String>(n).filter(|s| {
                let ok = !s.trim().is_empty();
                if !ok {
                    p.push(
                        n.pos,
                        "`source` is empty: name where the figures come from".into(),
                    );
                }
                ok
            }),
            None => {
                p.push(
                    top,
                    "missing field `source` (where the figures come from)".into(),
                );
                None
            }
        };
        let user_base = match root.get("user_base") {
            Some(n) if !is_null(n) => match p.de::<u64>(n) {
                Some(0) => {
                    p.push(n.pos, "`user_base` is 0: shares of it mean nothing".into());
                    None
                }
                v => v,
            },
            _ => None,
        };
        let rows = match root.get("thresholds") {
            Some(n) => rows(n, &mut p),
            None => {
                p.push(top, "missing field `thresholds` (the list of rows)".into());
                Vec::new()
            }
        };
        if !p.list.is_empty() {
            return Err(p.into_error());
        }
        Ok(Thresholds {
            source: source.unwrap_or_default(),
            user_base,
            rows,
        })
    }
}

fn is_null(n: &Node) -> bool {
    matches!(&n.value, Value::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
}

/// The rows of `thresholds:`, each checked on its own so one bad row does not hide the next.
fn rows(n: &Node, p: &mut Problems) -> Vec<Threshold> {
    let Value::Seq(items) = &n.value else {
        p.push(
            n.pos,
            format!("found {}, expected a list of rows", n.type_name()),
        );
        return Vec::new();
    };
    let mut out: Vec<Threshold> = Vec::new();
    // Every id read, valid row or not: a duplicate of a bad row is still a duplicate.
    let mut seen: Vec<String> = Vec::new();
    for item in items {
        let Some(raw) = p.de::<RawRow>(item) else {
            continue;
        };
        let at = |key: &str| item.get(key).map_or(item.pos, |v| v.pos);
        let before = p.list.len();
        if raw.id.trim().is_empty() {
            p.push(at("id"), "`id` is empty".into());
        } else if seen.contains(&raw.id) {
            p.push(at("id"), format!("threshold `{}` is listed twice", raw.id));
        } else {
            seen.push(raw.id.clone());
        }
        if raw.hours.is_none()
            && raw.share.is_none()
            && raw.users.is_none()
            && raw.user_hours.is_none()
        {
            p.push(
                item.pos,
                format!(
                    "threshold `{}` sets none of `hours`, `share`, `users`, `user_hours`",
                    raw.id
                ),
            );
        }
        for (key, v) in [("hours", raw.hours), ("user_hours", raw.user_hours)] {
            if let Some(v) = v.filter(|v| !v.is_finite() || *v < 0.0) {
                p.push(at(key), format!("`{key}` is {v}, expected a number >= 0"));
            }
        }
        if let Some(s) = raw.share.filter(|s| !(*s > 0.0 && *s <= 1.0)) {
            p.push(
                at("share"),
                format!("`share` is {s}, expected a fraction in (0, 1] (15 % is 0.15)"),
            );
        }
        if p.list.len() == before {
            out.push(Threshold {
                label: raw.label.unwrap_or_else(|| raw.id.clone()),
                id: raw.id,
                hours: raw.hours,
                share: raw.share,
                users: raw.users,
                user_hours: raw.user_hours,
            });
        }
    }
    out
}

struct Problems<'o> {
    origin: &'o str,
    list: Vec<Problem>,
}

impl Problems<'_> {
    fn push(&mut self, pos: Pos, message: String) {
        self.list.push(Problem {
            origin: self.origin.to_string(),
            pos,
            message,
        });
    }

    fn de<'n, T: Deserialize<'n>>(&mut self, n: &'n Node) -> Option<T> {
        match from_node::<T>(n) {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(e.pos.unwrap_or(n.pos), e.message);
                None
            }
        }
    }

    fn into_error(self) -> ThresholdsError {
        ThresholdsError::Invalid {
            problems: self.list,
        }
    }
}
