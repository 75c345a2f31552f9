//! The `condition` map (`gt`, `gte`, `lt`, `lte`, `eq`, `neq`, AND-ed) and `timespan`.

use crate::yaml::Y as Yaml;

/// One comparison of a correlation condition.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Op {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
    Neq,
}

impl Op {
    fn from_key(k: &str) -> Option<Op> {
        Some(match k {
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "eq" => Op::Eq,
            "neq" => Op::Neq,
            _ => return None,
        })
    }

    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Gt => value > threshold,
            Op::Gte => value >= threshold,
            Op::Lt => value < threshold,
            Op::Lte => value <= threshold,
            Op::Eq => value == threshold,
            Op::Neq => value != threshold,
        }
    }

    /// The key as written in a rule.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Eq => "eq",
            Op::Neq => "neq",
        }
    }
}

/// A conjunction of comparisons against the aggregate of a window.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Condition {
    ops: Vec<(Op, f64)>,
}

impl Condition {
    /// A condition from comparisons (at least one); used for the implicit condition of
    /// `temporal` rules and by tests.
    pub fn new(ops: Vec<(Op, f64)>) -> Condition {
        Condition { ops }
    }

    /// Whether `value` satisfies every comparison.
    pub fn holds(&self, value: f64) -> bool {
        self.ops.iter().all(|&(op, t)| op.holds(value, t))
    }

    /// True when the condition only bounds the aggregate from below (`gt`/`gte`). For an
    /// aggregate that can only grow while events arrive, such a condition can be decided
    /// as soon as it holds; any other condition needs the whole window.
    pub fn lower_bounded_only(&self) -> bool {
        self.ops
            .iter()
            .all(|(op, _)| matches!(op, Op::Gt | Op::Gte))
    }

    /// The comparisons, in rule order.
    pub fn ops(&self) -> &[(Op, f64)] {
        &self.ops
    }

    /// Whether some value can satisfy every comparison (so a typo such as
    /// `gt: 100, lt: 10` is refused instead of silently never firing).
    fn satisfiable(&self) -> bool {
        let mut lo = f64::NEG_INFINITY;
        let mut lo_incl = true;
        let mut hi = f64::INFINITY;
        let mut hi_incl = true;
        let mut eq: Option<f64> = None;
        for &(op, t) in &self.ops {
            match op {
                Op::Gt if t >= lo => {
                    lo = t;
                    lo_incl = false;
                }
                Op::Gte if t > lo => {
                    lo = t;
                    lo_incl = true;
                }
                Op::Lt if t <= hi => {
                    hi = t;
                    hi_incl = false;
                }
                Op::Lte if t < hi => {
                    hi = t;
                    hi_incl = true;
                }
                Op::Eq => eq = Some(t),
                _ => {}
            }
        }
        if let Some(e) = eq {
            return self.holds(e);
        }
        // Any non-empty real interval contains infinitely many values, so a finite number
        // of `neq` cannot empty it.
        lo < hi || (lo == hi && lo_incl && hi_incl && self.holds(lo))
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (op, t)) in self.ops.iter().enumerate() {
            if i > 0 {
                f.write_str(" and ")?;
            }
            write!(f, "{} {}", op.as_str(), t)?;
        }
        Ok(())
    }
}

/// What the `condition` map holds: comparisons and the optional `field`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedCondition {
    pub condition: Condition,
    /// `field`: one name, or several (`value_count` over combinations).
    pub fields: Vec<String>,
}

/// Parses the `condition` map. Errors are messages for [`crate::RefusalKind::Condition`].
pub fn parse_condition(v: &Yaml) -> Result<ParsedCondition, String> {
    let Yaml::Mapping(m) = v else {
        return Err(format!(
            "correlation.condition must be a map such as {{gte: 10}}, found {}",
            yaml_kind(v)
        ));
    };
    let mut ops = Vec::new();
    let mut fields = Vec::new();
    for (k, val) in m {
        let Some(key) = k.as_str() else {
            return Err(format!(
                "correlation.condition has a non-string key ({})",
                yaml_kind(k)
            ));
        };
        if key == "field" {
            fields = parse_field(val)?;
            continue;
        }
        let Some(op) = Op::from_key(key) else {
            return Err(format!(
                "correlation.condition: unknown operator {key:?} (expected gt, gte, lt, lte, eq, neq or field)"
            ));
        };
        let t = match val {
            Yaml::Number(n) => n.as_f64(),
            _ => None,
        };
        match t {
            Some(t) if t.is_finite() => ops.push((op, t)),
            _ => {
                return Err(format!(
                    "correlation.condition.{key} must be a finite number, found {}",
                    yaml_kind(val)
                ))
            }
        }
    }
    if ops.is_empty() {
        return Err(
            "correlation.condition has no comparison (expected gt, gte, lt, lte, eq or neq)"
                .to_string(),
        );
    }
    let condition = Condition { ops };
    if !condition.satisfiable() {
        return Err(format!(
            "correlation.condition can never hold ({condition})"
        ));
    }
    Ok(ParsedCondition { condition, fields })
}

fn parse_field(v: &Yaml) -> Result<Vec<String>, String> {
    let fields: Vec<String> = match v {
        Yaml::String(s) => vec![s.clone()],
        Yaml::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                match it.as_str() {
                    Some(s) => out.push(s.to_string()),
                    None => {
                        return Err(format!(
                            "correlation.condition.field: every item must be a string, found {}",
                            yaml_kind(it)
                        ))
                    }
                }
            }
            out
        }
        other => {
            return Err(format!(
                "correlation.condition.field must be a field name or a list of names, found {}",
                yaml_kind(other)
            ))
        }
    };
    if fields.is_empty() || fields.iter().any(|f| f.is_empty()) {
        return Err("correlation.condition.field names an empty field".to_string());
    }
    Ok(fields)
}

/// Parses `timespan` (`number + lowercase unit`: s, m, h, d, and w for weeks) into
/// microseconds. Errors are messages for [`crate::RefusalKind::Value`].
pub fn parse_timespan(v: &Yaml) -> Result<i64, String> {
    let Some(s) = v.as_str() else {
        return Err(format!(
            "correlation.timespan must be a string such as \"5m\", found {}",
            yaml_kind(v)
        ));
    };
    parse_timespan_str(s)
}

/// See [`parse_timespan`].
pub fn parse_timespan_str(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let Some(unit) = t.chars().last() else {
        return Err("correlation.timespan is empty".to_string());
    };
    let secs: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => {
            return Err(format!(
            "correlation.timespan {s:?}: expected a number followed by s, m, h, d or w (lowercase)"
        ))
        }
    };
    let digits = &t[..t.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "correlation.timespan {s:?}: expected a whole number before the unit"
        ));
    }
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("correlation.timespan {s:?}: number too large"))?;
    if n == 0 {
        return Err(format!("correlation.timespan {s:?} must be positive"));
    }
    // Ten years is far beyond any meaningful correlation window and keeps arithmetic on
    // microsecond timestamps far from overflow.
    const MAX_SECS: u64 = 10 * 366 * 86_400;
    match n.checked_mul(secs) {
        Some(total) if total <= MAX_SECS => Ok(total as i64 * 1_000_000),
        _ => Err(format!(
            "correlation.timespan {s:?} is longer than ten years"
        )),
    }
}

/// A short name for the kind of a YAML value, for error messages.
pub(crate) fn yaml_kind(v: &Yaml) -> &'static str {
    match v {
        Yaml::Null => "nothing",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a list",
        Yaml::Mapping(_) => "a map",
    }
}
