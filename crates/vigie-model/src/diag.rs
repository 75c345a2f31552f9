//! Diagnostics: what is wrong, and where.

use std::fmt;

use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The model is refused.
    Error,
    /// The model is accepted, but something is probably not what was meant.
    Warning,
}

/// One problem of a model file, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// File (or origin such as `<built-in demo>`).
    pub file: String,
    /// Line, from 1 (0 when the problem has no position, e.g. an unreadable file).
    pub line: u32,
    /// Column, from 1 (0 when unknown).
    pub column: u32,
    /// Error or warning.
    pub severity: Severity,
    /// Where in the model, e.g. `assets[3].zone` (empty for syntax errors).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl Diagnostic {
    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {sev}: {}",
                self.file, self.line, self.column, self.message
            )?;
        } else {
            write!(f, "{}: {sev}: {}", self.file, self.message)?;
        }
        if !self.path.is_empty() {
            write!(f, " (at {})", self.path)?;
        }
        Ok(())
    }
}

/// The ids among `known` closest to `id` (edit distance at most a third of its length),
/// best first, at most `max`: the "did you mean" of unknown references.
pub fn closest<'a>(id: &str, known: impl Iterator<Item = &'a str>, max: usize) -> Vec<&'a str> {
    let limit = (id.chars().count() / 3).max(1);
    let mut found: Vec<(usize, &str)> = known
        .filter_map(|k| {
            let d = distance(id, k, limit)?;
            Some((d, k))
        })
        .collect();
    found.sort();
    found.dedup_by(|a, b| a.1 == b.1);
    found.into_iter().take(max).map(|(_, k)| k).collect()
}

/// Levenshtein distance, or None as soon as it must exceed `limit`.
fn distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= limit).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_only() {
        let known = ["dmz", "core", "corp", "internet"];
        assert_eq!(closest("dmzz", known.iter().copied(), 3), vec!["dmz"]);
        assert_eq!(
            closest("cor", known.iter().copied(), 3),
            vec!["core", "corp"]
        );
        assert!(closest("backoffice", known.iter().copied(), 3).is_empty());
    }
}
