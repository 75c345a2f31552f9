//! Test failpoints: `VIGIE_FAILPOINTS=point=action@n[,point=action@n...]`. The store
//! calls its hook at named points (`commit.begin`, `commit.written`); the action runs
//! on the n-th call of its point (1-based). Actions: `abort` (SIGABRT, as sudden as a
//! kill: what the durability tests use inside a commit). Unset: no hook is installed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::ServeError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Abort,
}

#[derive(Debug)]
struct Point {
    name: String,
    action: Action,
    at: u64,
    calls: AtomicU64,
}

/// Parsed failpoints.
#[derive(Debug, Default)]
pub struct Failpoints {
    points: Vec<Point>,
}

impl Failpoints {
    /// Parses the variable's text (empty: none).
    pub fn parse(text: &str) -> Result<Failpoints, ServeError> {
        let bad = |item: &str, why: &str| {
            ServeError::Option(format!(
                "VIGIE_FAILPOINTS: `{item}`: {why} (expected point=abort@N)"
            ))
        };
        let mut points = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, rest) = item.split_once('=').ok_or_else(|| bad(item, "no `=`"))?;
            let (action, at) = rest.split_once('@').unwrap_or((rest, "1"));
            let action = match action.trim() {
                "abort" => Action::Abort,
                _ => return Err(bad(item, "unknown action")),
            };
            let at: u64 = at
                .trim()
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| bad(item, "N must be a whole number from 1"))?;
            points.push(Point {
                name: name.trim().to_string(),
                action,
                at,
                calls: AtomicU64::new(0),
            });
        }
        Ok(Failpoints { points })
    }

    /// From the environment (`VIGIE_FAILPOINTS`), `None` when unset or empty.
    pub fn from_env() -> Result<Option<Arc<Failpoints>>, ServeError> {
        let text = std::env::var("VIGIE_FAILPOINTS").unwrap_or_default();
        let f = Failpoints::parse(&text)?;
        Ok((!f.points.is_empty()).then(|| Arc::new(f)))
    }

    /// What the point's action is on this call, counting it.
    pub fn hit(&self, point: &str) -> Option<Action> {
        let mut due = None;
        for p in self.points.iter().filter(|p| p.name == point) {
            if p.calls.fetch_add(1, Ordering::SeqCst) + 1 == p.at {
                due = Some(p.action);
            }
        }
        due
    }

    /// The store hook: runs the due action.
    pub fn hook(self: Arc<Self>) -> Arc<dyn Fn(&'static str) + Send + Sync> {
        Arc::new(move |point| match self.hit(point) {
            Some(Action::Abort) => {
                tracing::error!(point, "failpoint: abort");
                std::process::abort()
            }
            None => {}
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_counts() {
        let f = Failpoints::parse("commit.written=abort@3, commit.begin=abort").expect("ok");
        assert_eq!(f.hit("commit.written"), None);
        assert_eq!(f.hit("commit.written"), None);
        assert_eq!(f.hit("commit.written"), Some(Action::Abort));
        assert_eq!(f.hit("commit.written"), None, "only the n-th call");
        assert_eq!(f.hit("commit.begin"), Some(Action::Abort), "@1 by default");
        assert_eq!(f.hit("other"), None);
        for bad in ["x", "x=boom@1", "x=abort@0", "x=abort@y"] {
            assert!(Failpoints::parse(bad).is_err(), "{bad}");
        }
        assert!(Failpoints::parse("").expect("empty").points.is_empty());
    }
}
