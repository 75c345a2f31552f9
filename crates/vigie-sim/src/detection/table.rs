//! The detection table: rule weights by level and status, and per technique a baseline
//! probability, a delay distribution and an EDR probability. The default is embedded
//! (`data/detection.yml`); a user file of the same shape overrides it field by field.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use vigie_model::tree::{self, Node, Pos, Step};
use vigie_model::{Ttc, TtcDist};
use vigie_sigma::Level;

/// The embedded default table.
pub const DEFAULT_TABLE: &str = include_str!("../../data/detection.yml");

/// What one technique gets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TechniqueEntry {
    /// Probability the step is detected without any rule (users, IDS, the provider).
    pub baseline_p: f64,
    /// Time from the step to its detection.
    pub delay: Ttc,
    /// Probability an EDR agent on the target detects it.
    pub edr_p: f64,
}

/// A table that cannot be used, with where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{origin}:{}:{}: {message}", pos.line, pos.column)]
pub struct TableError {
    /// The file (or `embedded`).
    pub origin: String,
    /// Where in it (0:0 when the file could not be read).
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
}

/// Level and status weights and the per-technique entries (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionTable {
    /// Weight of a rule by level, indexed like [`Level::ALL`].
    levels: [f64; 5],
    /// Weight of a rule by lowercased status (`unstated` when it has none).
    statuses: BTreeMap<String, f64>,
    default: TechniqueEntry,
    techniques: BTreeMap<String, Partial>,
}

/// An entry as written: any field may be left to the parent technique or the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Partial {
    baseline_p: Option<f64>,
    delay: Option<Ttc>,
    edr_p: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    levels: BTreeMap<String, f64>,
    #[serde(default)]
    statuses: BTreeMap<String, f64>,
    default: Option<Partial>,
    #[serde(default)]
    techniques: BTreeMap<String, Partial>,
}

/// Status names a table may weight.
pub const STATUSES: [&str; 6] = [
    "stable",
    "test",
    "experimental",
    "unstated",
    "deprecated",
    "unsupported",
];

impl DetectionTable {
    /// The embedded default table.
    pub fn embedded() -> DetectionTable {
        // The embedded file is tested (`embedded_table_is_complete`); failing here would
        // be a build defect, and the neutral table (no rule weight, no baseline) is the
        // degradation that invents no detection.
        let empty = empty_clone();
        empty
            .overlay(DEFAULT_TABLE, "embedded")
            .unwrap_or_else(|e| {
                tracing::error!("embedded detection table is invalid: {e}");
                empty_clone()
            })
    }

    /// The embedded table overridden by the file at `path`.
    pub fn load(path: &Path) -> Result<DetectionTable, TableError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| TableError {
            origin: origin.clone(),
            pos: Pos::default(),
            message: format!("cannot read: {e}"),
        })?;
        DetectionTable::embedded().overlay(&text, &origin)
    }

    /// This table overridden by `text` (a table file; `origin` names it in errors).
    pub fn overlay(&self, text: &str, origin: &str) -> Result<DetectionTable, TableError> {
        let err = |pos: Pos, message: String| TableError {
            origin: origin.to_string(),
            pos,
            message,
        };
        let limits = tree::Limits {
            max_bytes: 16 << 20,
            ..tree::Limits::default()
        };
        let root = match tree::parse_yaml(text, &limits) {
            Ok(n) => n,
            Err(errs) if errs.iter().all(|e| e.kind == tree::ErrorKind::Empty) => {
                return Ok(self.clone())
            }
            Err(errs) => {
                let e = errs.into_iter().next().map_or_else(
                    || err(Pos::default(), "unreadable YAML".into()),
                    |e| err(e.pos, e.message),
                );
                return Err(e);
            }
        };
        let file: File = vigie_model::de::from_node(&root)
            .map_err(|e| err(e.pos.unwrap_or(root.pos), e.message))?;
        let mut out = self.clone();
        out.apply(&file, &root).map_err(|(pos, m)| err(pos, m))?;
        Ok(out)
    }

    fn apply(&mut self, f: &File, root: &Node) -> Result<(), (Pos, String)> {
        let at = |path: &[&str]| {
            let steps: Vec<Step> = path.iter().map(|s| Step::Key(s.to_string())).collect();
            tree::locate(root, &steps)
        };
        let key_at = |path: &[&str], last: &str| {
            let mut steps: Vec<Step> = path.iter().map(|s| Step::Key(s.to_string())).collect();
            steps.push(Step::KeyName(last.to_string()));
            tree::locate(root, &steps)
        };
        for (name, &w) in &f.levels {
            let Some(i) = Level::ALL.iter().position(|l| l.as_str() == name) else {
                return Err((
                    key_at(&["levels"], name),
                    format!("unknown level `{name}`, expected informational, low, medium, high or critical"),
                ));
            };
            check_p(w).map_err(|m| (at(&["levels", name]), m))?;
            self.levels[i] = w;
        }
        for (name, &w) in &f.statuses {
            if !STATUSES.contains(&name.as_str()) {
                return Err((
                    key_at(&["statuses"], name),
                    format!(
                        "unknown status `{name}`, expected one of {}",
                        STATUSES.join(", ")
                    ),
                ));
            }
            check_p(w).map_err(|m| (at(&["statuses", name]), m))?;
            self.statuses.insert(name.clone(), w);
        }
        if let Some(d) = &f.default {
            check_partial(d, &|field| at(&["default", field]))?;
            self.default = merge(d, self.default);
        }
        for (id, e) in &f.techniques {
            let norm = id.trim().to_ascii_uppercase();
            if !is_technique_id(&norm) {
                return Err((
                    key_at(&["techniques"], id),
                    format!("`{id}` is not an ATT&CK technique id (T1234 or T1234.001)"),
                ));
            }
            check_partial(e, &|field| at(&["techniques", id, field]))?;
            let slot = self.techniques.entry(norm).or_default();
            slot.baseline_p = e.baseline_p.or(slot.baseline_p);
            slot.delay = e.delay.or(slot.delay);
            slot.edr_p = e.edr_p.or(slot.edr_p);
        }
        Ok(())
    }

    /// A rule's own detection probability: its level's weight × its status's weight
    /// (`status` lowercased; None is `unstated`; a status the table does not weight
    /// counts as `unstated`).
    pub fn rule_q(&self, level: Level, status: Option<&str>) -> f64 {
        let li = Level::ALL.iter().position(|l| *l == level).unwrap_or(0);
        let s = status
            .filter(|s| self.statuses.contains_key(*s))
            .unwrap_or("unstated");
        self.levels[li] * self.statuses.get(s).copied().unwrap_or(0.0)
    }

    /// What `technique` gets: its own entry, else its parent's, else the default, field
    /// by field.
    pub fn entry(&self, technique: &str) -> TechniqueEntry {
        let t = technique.trim().to_ascii_uppercase();
        let mut e = self.default;
        let parent = vigie_incident::attack::parent(&t);
        if parent != t {
            if let Some(p) = self.techniques.get(parent) {
                e = merge(p, e);
            }
        }
        if let Some(own) = self.techniques.get(&t) {
            e = merge(own, e);
        }
        e
    }

    /// Techniques the table names, sorted.
    pub fn techniques(&self) -> impl Iterator<Item = &str> {
        self.techniques.keys().map(String::as_str)
    }
}

fn empty_clone() -> DetectionTable {
    DetectionTable {
        levels: [0.0; 5],
        statuses: BTreeMap::new(),
        default: TechniqueEntry {
            baseline_p: 0.0,
            delay: Ttc::exponential(0.0),
            edr_p: 0.0,
        },
        techniques: BTreeMap::new(),
    }
}

fn merge(p: &Partial, base: TechniqueEntry) -> TechniqueEntry {
    TechniqueEntry {
        baseline_p: p.baseline_p.unwrap_or(base.baseline_p),
        delay: p.delay.unwrap_or(base.delay),
        edr_p: p.edr_p.unwrap_or(base.edr_p),
    }
}

fn check_p(p: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(format!("{p} is not a probability (0 to 1)"))
    }
}

fn check_partial(e: &Partial, at: &dyn Fn(&str) -> Pos) -> Result<(), (Pos, String)> {
    if let Some(p) = e.baseline_p {
        check_p(p).map_err(|m| (at("baseline_p"), m))?;
    }
    if let Some(p) = e.edr_p {
        check_p(p).map_err(|m| (at("edr_p"), m))?;
    }
    if let Some(d) = e.delay {
        check_delay(&d).map_err(|m| (at("delay"), m))?;
    }
    Ok(())
}

/// A delay is a ttc without the chance of failure: finite, non-negative, a sane cv.
fn check_delay(d: &Ttc) -> Result<(), String> {
    if !(d.mean_hours.is_finite() && d.mean_hours >= 0.0) {
        return Err(format!(
            "delay: mean_hours {} must be finite and >= 0",
            d.mean_hours
        ));
    }
    if let Some(cv) = d.cv {
        if !(cv.is_finite() && cv >= 0.0) {
            return Err(format!("delay: cv {cv} must be finite and >= 0"));
        }
        if cv > 0.0 && d.dist == TtcDist::Fixed {
            return Err("delay: a fixed delay has cv 0".into());
        }
        if cv != 1.0 && d.dist == TtcDist::Exponential {
            return Err("delay: an exponential delay has cv 1".into());
        }
        if cv == 0.0 && matches!(d.dist, TtcDist::Gamma | TtcDist::Lognormal) {
            return Err("delay: a gamma or log-normal delay needs cv > 0".into());
        }
    }
    if d.p_success.is_some() {
        return Err("delay: p_success has no meaning for a detection delay".into());
    }
    Ok(())
}

/// `T` + 4 digits, optionally `.` + 3 digits (uppercase).
pub fn is_technique_id(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => b[0] == b'T' && digits(&b[1..5]),
        9 => b[0] == b'T' && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..9]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_is_complete() {
        let t = DetectionTable::empty_for_test()
            .overlay(DEFAULT_TABLE, "embedded")
            .unwrap();
        assert_eq!(t, DetectionTable::embedded());
        for s in STATUSES {
            assert!(t.statuses.contains_key(s), "{s}");
        }
        assert!(t.levels.iter().all(|w| *w > 0.0));
        assert!(t.default.delay.mean_hours > 0.0);
    }

    impl DetectionTable {
        fn empty_for_test() -> DetectionTable {
            empty_clone()
        }
    }
}
