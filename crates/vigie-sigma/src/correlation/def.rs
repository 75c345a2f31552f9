//! A correlation rule as written: parsed and checked, references not yet resolved.

use crate::yaml::Y as Yaml;

use super::condition::{parse_condition, parse_timespan, yaml_kind, Condition, Op};
use crate::{Level, RefusalKind};

/// The seven correlation types of the specification (v2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationType {
    /// Number of matching events per group.
    EventCount,
    /// Number of distinct values of `field` per group.
    ValueCount,
    /// All (or `condition` many) referenced rules matched, in any order.
    Temporal,
    /// The referenced rules matched in the listed order.
    TemporalOrdered,
    /// Sum of a numeric `field`.
    ValueSum,
    /// Average of a numeric `field`.
    ValueAvg,
    /// Share (percent) of the group's events carrying each value of `field`.
    ValuePercentile,
}

impl CorrelationType {
    /// Every type, with its name in rules.
    pub const ALL: [(CorrelationType, &'static str); 7] = [
        (CorrelationType::EventCount, "event_count"),
        (CorrelationType::ValueCount, "value_count"),
        (CorrelationType::Temporal, "temporal"),
        (CorrelationType::TemporalOrdered, "temporal_ordered"),
        (CorrelationType::ValueSum, "value_sum"),
        (CorrelationType::ValueAvg, "value_avg"),
        (CorrelationType::ValuePercentile, "value_percentile"),
    ];

    /// The name used in rules.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("?", |(_, n)| n)
    }

    fn from_name(s: &str) -> Option<CorrelationType> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(t, _)| *t)
    }

    /// Types that aggregate over `condition.field`.
    pub fn needs_field(self) -> bool {
        matches!(
            self,
            CorrelationType::ValueCount
                | CorrelationType::ValueSum
                | CorrelationType::ValueAvg
                | CorrelationType::ValuePercentile
        )
    }

    /// Whether the aggregate can only grow as events are added to a window, so that a
    /// lower-bound condition may fire as soon as it holds. `value_sum` qualifies because a
    /// window that reached the bound did satisfy the condition at that moment.
    pub(crate) fn can_fire_early(self) -> bool {
        !matches!(
            self,
            CorrelationType::ValueAvg | CorrelationType::ValuePercentile
        )
    }
}

impl std::fmt::Display for CorrelationType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed correlation rule (one YAML document with a `correlation` section).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CorrelationDef {
    pub id: Option<String>,
    pub name: Option<String>,
    pub title: String,
    /// `level`, [`Level::Medium`] when absent.
    pub level: Level,
    pub tags: Vec<String>,
    /// `generate`: whether the referenced rules are also reported on their own.
    pub generate: bool,
    /// The referenced rules (ids or names), as written.
    pub rules: Vec<String>,
    pub(crate) kind: CorrelationType,
    pub(crate) group_by: Vec<String>,
    pub(crate) timespan_us: i64,
    pub(crate) condition: Condition,
    pub(crate) fields: Vec<String>,
    /// alias → [(rule reference, field in that rule's events)].
    pub(crate) aliases: Aliases,
}

impl CorrelationDef {
    /// The correlation type.
    pub fn kind(&self) -> CorrelationType {
        self.kind
    }
    /// `group-by`, as written (aliases not resolved).
    pub fn group_by(&self) -> &[String] {
        &self.group_by
    }
    /// `timespan`.
    pub fn timespan(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::microseconds(self.timespan_us)
    }
    /// The condition (for temporal types without one: at least as many rules as listed).
    pub fn condition(&self) -> &Condition {
        &self.condition
    }
    /// `condition.field` (empty for types that do not aggregate a field).
    pub fn fields(&self) -> &[String] {
        &self.fields
    }
}

type Refuse = (RefusalKind, String);

/// alias → [(rule reference, field)].
pub(crate) type Aliases = Vec<(String, Vec<(String, String)>)>;

fn schema(msg: impl Into<String>) -> Refuse {
    (RefusalKind::Schema, msg.into())
}

const CORRELATION_KEYS: &[&str] = &[
    "type",
    "rules",
    "group-by",
    "timespan",
    "condition",
    "aliases",
    "generate",
];

/// Parses one YAML document holding a correlation rule.
///
/// Refuses (with the reason) a missing or wrongly typed attribute, an unknown
/// correlation type or attribute of the `correlation` section, a bad `timespan`, a bad
/// or missing `condition`, a missing or misplaced `condition.field`, duplicate rule
/// references and malformed `aliases`. `group-by` may be absent: the whole stream is
/// then one group (the specification text calls it optional, the schema mandatory).
pub fn parse(doc: &Yaml) -> Result<CorrelationDef, Refuse> {
    let Yaml::Mapping(top) = doc else {
        return Err((
            RefusalKind::Syntax,
            format!("a correlation rule must be a map, found {}", yaml_kind(doc)),
        ));
    };
    let get = |k: &str| top.get(k);
    let title = match get("title") {
        Some(Yaml::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Yaml::String(_)) => return Err(schema("title is empty")),
        Some(other) => {
            return Err(schema(format!(
                "title must be a string, found {}",
                yaml_kind(other)
            )))
        }
        None => return Err(schema("title is missing")),
    };
    let id = opt_string(get("id"), "id")?;
    let name = opt_string(get("name"), "name")?;
    let level = match get("level") {
        None | Some(Yaml::Null) => Level::Medium,
        Some(Yaml::String(s)) => s
            .parse()
            .map_err(|e: crate::UnknownLevel| schema(format!("level: {e}")))?,
        Some(other) => {
            return Err(schema(format!(
                "level must be a string, found {}",
                yaml_kind(other)
            )))
        }
    };
    let tags = match get("tags") {
        None | Some(Yaml::Null) => Vec::new(),
        Some(v) => string_list(v, "tags")?,
    };
    let Some(corr) = get("correlation") else {
        return Err(schema("correlation section is missing"));
    };
    let Yaml::Mapping(c) = corr else {
        return Err(schema(format!(
            "correlation must be a map, found {}",
            yaml_kind(corr)
        )));
    };
    for k in c.keys() {
        match k.as_str() {
            Some(s) if CORRELATION_KEYS.contains(&s) => {}
            Some(s) => {
                return Err(schema(format!(
                    "correlation.{s} is not a correlation attribute (expected one of {})",
                    CORRELATION_KEYS.join(", ")
                )))
            }
            None => return Err(schema("correlation has a non-string key")),
        }
    }
    // `generate` belongs at the top level; inside `correlation` is a common placement in
    // the wild, so both are read (top level wins when both are present).
    let generate = match get("generate").or_else(|| c.get("generate")) {
        None | Some(Yaml::Null) => false,
        Some(Yaml::Bool(b)) => *b,
        Some(other) => {
            return Err(schema(format!(
                "generate must be true or false, found {}",
                yaml_kind(other)
            )))
        }
    };
    let kind = match c.get("type") {
        Some(Yaml::String(s)) => CorrelationType::from_name(s).ok_or_else(|| {
            schema(format!(
                "unknown correlation type {s:?} (expected {})",
                CorrelationType::ALL.map(|(_, n)| n).join(", ")
            ))
        })?,
        Some(other) => {
            return Err(schema(format!(
                "correlation.type must be a string, found {}",
                yaml_kind(other)
            )))
        }
        None => return Err(schema("correlation.type is missing")),
    };
    let rules = match c.get("rules") {
        None | Some(Yaml::Null) => return Err(schema("correlation.rules is missing")),
        // A single reference written as a scalar is unambiguous; accept it.
        Some(Yaml::String(s)) => vec![s.clone()],
        Some(v) => string_list(v, "correlation.rules")?,
    };
    if rules.is_empty() {
        return Err(schema("correlation.rules is empty"));
    }
    if let Some(r) = rules.iter().find(|r| r.trim().is_empty()) {
        return Err(schema(format!(
            "correlation.rules has an empty reference {r:?}"
        )));
    }
    if let Some(d) = first_duplicate(&rules) {
        return Err(schema(format!("correlation.rules lists {d:?} twice")));
    }
    let group_by = match c.get("group-by") {
        None | Some(Yaml::Null) => Vec::new(),
        Some(Yaml::String(s)) => vec![s.clone()],
        Some(v) => string_list(v, "correlation.group-by")?,
    };
    if let Some(d) = first_duplicate(&group_by) {
        return Err(schema(format!("correlation.group-by lists {d:?} twice")));
    }
    if group_by.iter().any(|g| g.is_empty()) {
        return Err(schema("correlation.group-by names an empty field"));
    }
    let timespan_us = match c.get("timespan") {
        None | Some(Yaml::Null) => return Err(schema("correlation.timespan is missing")),
        Some(v) => parse_timespan(v).map_err(|e| (RefusalKind::Value, e))?,
    };
    let temporal = matches!(
        kind,
        CorrelationType::Temporal | CorrelationType::TemporalOrdered
    );
    let (condition, fields) = match c.get("condition") {
        None | Some(Yaml::Null) if temporal => (
            Condition::new(vec![(Op::Gte, rules.len() as f64)]),
            Vec::new(),
        ),
        None | Some(Yaml::Null) => {
            return Err((
                RefusalKind::Condition,
                format!("correlation.condition is missing (required by {kind})"),
            ))
        }
        Some(v) => {
            let p = parse_condition(v).map_err(|e| (RefusalKind::Condition, e))?;
            (p.condition, p.fields)
        }
    };
    check_fields(kind, &fields, &condition)?;
    let aliases = match c.get("aliases") {
        None | Some(Yaml::Null) => Vec::new(),
        Some(v) => parse_aliases(v)?,
    };
    Ok(CorrelationDef {
        id,
        name,
        title,
        level,
        tags,
        generate,
        rules,
        kind,
        group_by,
        timespan_us,
        condition,
        fields,
        aliases,
    })
}

fn check_fields(kind: CorrelationType, fields: &[String], cond: &Condition) -> Result<(), Refuse> {
    let cond_err = |m: String| Err((RefusalKind::Condition, m));
    if kind.needs_field() {
        if fields.is_empty() {
            return cond_err(format!(
                "correlation.condition.field is missing (required by {kind})"
            ));
        }
        if kind != CorrelationType::ValueCount && fields.len() > 1 {
            return cond_err(format!(
                "correlation.condition.field: {kind} aggregates one numeric field, found {}",
                fields.len()
            ));
        }
    } else if !fields.is_empty() {
        return cond_err(format!(
            "correlation.condition.field is not used by {kind} (only by value_* types)"
        ));
    }
    if kind == CorrelationType::ValuePercentile
        && cond.ops().iter().any(|(_, t)| !(0.0..=100.0).contains(t))
    {
        return cond_err(
            "value_percentile thresholds are percentages and must lie in 0..=100".to_string(),
        );
    }
    Ok(())
}

fn parse_aliases(v: &Yaml) -> Result<Aliases, Refuse> {
    let Yaml::Mapping(m) = v else {
        return Err(schema(format!(
            "correlation.aliases must be a map alias → {{rule: field}}, found {}",
            yaml_kind(v)
        )));
    };
    let mut out = Vec::with_capacity(m.len());
    for (k, per_rule) in m {
        let Some(alias) = k.as_str() else {
            return Err(schema("correlation.aliases has a non-string key"));
        };
        let Yaml::Mapping(pm) = per_rule else {
            return Err(schema(format!(
                "correlation.aliases.{alias} must be a map rule → field, found {}",
                yaml_kind(per_rule)
            )));
        };
        let mut pairs = Vec::with_capacity(pm.len());
        for (r, f) in pm {
            match (r.as_str(), f.as_str()) {
                (Some(r), Some(f)) if !f.is_empty() => pairs.push((r.to_string(), f.to_string())),
                _ => {
                    return Err(schema(format!(
                    "correlation.aliases.{alias}: each entry must map a rule name to a field name"
                )))
                }
            }
        }
        out.push((alias.to_string(), pairs));
    }
    Ok(out)
}

fn opt_string(v: Option<&Yaml>, what: &str) -> Result<Option<String>, Refuse> {
    match v {
        None | Some(Yaml::Null) => Ok(None),
        Some(Yaml::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(schema(format!(
            "{what} must be a string, found {}",
            yaml_kind(other)
        ))),
    }
}

fn string_list(v: &Yaml, what: &str) -> Result<Vec<String>, Refuse> {
    let Yaml::Sequence(items) = v else {
        return Err(schema(format!(
            "{what} must be a list of strings, found {}",
            yaml_kind(v)
        )));
    };
    items
        .iter()
        .map(|it| match it {
            Yaml::String(s) => Ok(s.clone()),
            other => Err(schema(format!(
                "{what}: every item must be a string, found {}",
                yaml_kind(other)
            ))),
        })
        .collect()
}

fn first_duplicate(items: &[String]) -> Option<&String> {
    items
        .iter()
        .enumerate()
        .find(|(i, a)| items[..*i].contains(a))
        .map(|(_, a)| a)
}
