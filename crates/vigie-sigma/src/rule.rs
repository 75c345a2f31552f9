//! One YAML document → a detection rule or a filter (correlations are handed over to
//! `crate::correlation`), with its detection compiled.

use std::sync::Arc;

use crate::yaml::{YMap, Y};

use crate::condition;
use crate::detect::{Detection, Expr, FieldTest, Selection};
use crate::types::{Level, RefusalKind, UnknownLevel};
use crate::values::{compile_item, fail, Env, Fail};

/// A rule's `logsource` keys (lowercased).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Logsource {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
}

/// Identification shared by rules and filters.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Header {
    pub id: Option<String>,
    pub name: Option<String>,
    pub title: String,
    pub level: Level,
    pub tags: Vec<String>,
    /// Sigma `status` (stable, test, experimental, deprecated, unsupported), lowercased.
    pub status: Option<String>,
}

/// A parsed detection rule.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RuleDef {
    pub head: Header,
    pub logsource: Logsource,
    pub detection: Detection,
}

/// A parsed filter (Sigma filters specification).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FilterDef {
    pub head: Header,
    pub logsource: Logsource,
    /// Ids or names of the rules it applies to.
    pub rules: Vec<String>,
    pub detection: Detection,
}

/// What a document is.
pub enum DocKind {
    Rule,
    Filter,
    Correlation,
}

/// Classifies a parsed document by its keys.
pub fn kind_of(doc: &Y) -> Result<DocKind, Fail> {
    let Y::Mapping(m) = doc else {
        return Err(fail(RefusalKind::Syntax, "document is not a mapping"));
    };
    if m.contains_key("correlation") {
        Ok(DocKind::Correlation)
    } else if m.contains_key("filter") {
        Ok(DocKind::Filter)
    } else if m.contains_key("detection") {
        Ok(DocKind::Rule)
    } else {
        Err(fail(
            RefusalKind::Schema,
            "not a Sigma document: no `detection`, `filter` or `correlation`",
        ))
    }
}

fn at(mut f: Fail, key: &str) -> Fail {
    if f.at.is_none() {
        f.at = Some(key.to_string());
    }
    f
}

fn opt_str(m: &YMap, key: &str) -> Result<Option<String>, Fail> {
    match m.get(key) {
        None | Some(Y::Null) => Ok(None),
        Some(Y::String(s)) => Ok(Some(s.clone())),
        Some(Y::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(at(
            fail(RefusalKind::Schema, format!("`{key}` must be a string")),
            &format!("{key}:"),
        )),
    }
}

/// Title, id, name, level and tags. Missing `level` means medium (documented).
pub fn header(m: &YMap) -> Result<Header, Fail> {
    let title = opt_str(m, "title")?.ok_or_else(|| fail(RefusalKind::Schema, "missing `title`"))?;
    let level = match opt_str(m, "level")? {
        None => Level::Medium,
        Some(l) => l
            .parse()
            .map_err(|e: UnknownLevel| at(fail(RefusalKind::Schema, e.to_string()), "level:"))?,
    };
    let tags = match m.get("tags") {
        None | Some(Y::Null) => Vec::new(),
        Some(Y::Sequence(s)) => s
            .iter()
            .map(|t| match t {
                Y::String(s) => Ok(s.clone()),
                _ => Err(at(
                    fail(RefusalKind::Schema, "tags must be strings"),
                    "tags:",
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(at(
                fail(RefusalKind::Schema, "`tags` must be a list"),
                "tags:",
            ))
        }
    };
    Ok(Header {
        id: opt_str(m, "id")?,
        name: opt_str(m, "name")?,
        title,
        level,
        tags,
        status: opt_str(m, "status")?.map(|s| s.to_ascii_lowercase()),
    })
}

fn logsource(m: &YMap) -> Result<Logsource, Fail> {
    let Some(Y::Mapping(ls)) = m.get("logsource") else {
        return Err(at(
            fail(RefusalKind::Schema, "missing or non-mapping `logsource`"),
            "logsource:",
        ));
    };
    let get = |k: &str| -> Result<Option<String>, Fail> {
        Ok(opt_str(ls, k)?.map(|s| s.to_ascii_lowercase()))
    };
    Ok(Logsource {
        product: get("product")?,
        category: get("category")?,
        service: get("service")?,
    })
}

/// Parses a detection rule document.
pub fn parse_rule(doc: &Y, env: &mut Env) -> Result<RuleDef, Fail> {
    let Y::Mapping(m) = doc else {
        return Err(fail(RefusalKind::Syntax, "document is not a mapping"));
    };
    let head = header(m)?;
    let logsource = logsource(m)?;
    let Some(Y::Mapping(det)) = m.get("detection") else {
        return Err(at(
            fail(RefusalKind::Schema, "`detection` must be a mapping"),
            "detection:",
        ));
    };
    let detection = compile_detection(det, &[], env)?;
    Ok(RuleDef {
        head,
        logsource,
        detection,
    })
}

/// Parses a filter document (`filter: {rules, <selections>, condition}`).
pub fn parse_filter(doc: &Y, env: &mut Env) -> Result<FilterDef, Fail> {
    let Y::Mapping(m) = doc else {
        return Err(fail(RefusalKind::Syntax, "document is not a mapping"));
    };
    let head = header(m)?;
    let logsource = logsource(m)?;
    let Some(Y::Mapping(f)) = m.get("filter") else {
        return Err(at(
            fail(RefusalKind::Schema, "`filter` must be a mapping"),
            "filter:",
        ));
    };
    let rules = match f.get("rules") {
        Some(Y::Sequence(s)) if !s.is_empty() => s
            .iter()
            .map(|r| match r {
                Y::String(s) => Ok(s.clone()),
                _ => Err(at(
                    fail(RefusalKind::Schema, "filter rules must be strings"),
                    "rules:",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(Y::String(s)) => vec![s.clone()],
        _ => {
            return Err(at(
                fail(
                    RefusalKind::Schema,
                    "`filter.rules` (the rules to apply the filter to) is missing or empty",
                ),
                "filter:",
            ))
        }
    };
    let detection = compile_detection(f, &["rules"], env)?;
    Ok(FilterDef {
        head,
        logsource,
        rules,
        detection,
    })
}

/// Compiles selections and the condition of a `detection` (or `filter`) mapping.
pub fn compile_detection(det: &YMap, skip: &[&str], env: &mut Env) -> Result<Detection, Fail> {
    let mut sels = Vec::new();
    let mut names = Vec::new();
    let mut cond = None;
    for (k, v) in det {
        let Some(k) = k.as_str() else {
            return Err(fail(
                RefusalKind::Schema,
                format!("search identifier {k:?} is not a string"),
            ));
        };
        if k == "condition" {
            cond = Some(v);
            continue;
        }
        if skip.contains(&k) {
            continue;
        }
        let sel = selection(k, v, env).map_err(|f| at(f, &format!("{k}:")))?;
        names.push(k.to_string());
        sels.push(sel);
    }
    let cond = cond.ok_or_else(|| fail(RefusalKind::Condition, "missing `condition`"))?;
    let conds: Vec<&str> = match cond {
        Y::String(s) => vec![s.as_str()],
        Y::Sequence(s) if !s.is_empty() => s
            .iter()
            .map(|c| {
                c.as_str().ok_or_else(|| {
                    fail(
                        RefusalKind::Condition,
                        "condition list items must be strings",
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(fail(RefusalKind::Condition, "`condition` must be a string")),
    };
    let mut exprs = Vec::new();
    for c in &conds {
        if c.contains('|') {
            return Err(at(
                fail(
                    RefusalKind::Condition,
                    format!("aggregation in condition ({c:?}) is Sigma 1.0 syntax; use a correlation rule"),
                ),
                "condition:",
            ));
        }
        exprs.push(condition::parse(c, &names).map_err(|e| {
            at(
                fail(RefusalKind::Condition, format!("condition {c:?}: {e}")),
                "condition:",
            )
        })?);
    }
    let expr = if exprs.len() == 1 {
        exprs.remove(0)
    } else {
        Expr::Or(exprs)
    };
    Ok(Detection { sels, expr })
}

fn selection(name: &str, v: &Y, env: &mut Env) -> Result<Selection, Fail> {
    let mut alts: Vec<Vec<FieldTest>> = Vec::new();
    match v {
        Y::Mapping(m) => alts.push(map_items(m, env)?),
        Y::Sequence(s) => {
            if s.is_empty() {
                return Err(fail(RefusalKind::Value, "empty search identifier"));
            }
            let mut kws = Vec::new();
            for item in s {
                match item {
                    Y::Mapping(m) => alts.push(map_items(m, env)?),
                    Y::Sequence(_) => {
                        return Err(fail(
                            RefusalKind::Value,
                            "nested list in a search identifier",
                        ))
                    }
                    x => kws.push(x.clone()),
                }
            }
            if !kws.is_empty() {
                alts.push(vec![compile_item(None, &Y::Sequence(kws), env)?]);
            }
        }
        Y::Null => return Err(fail(RefusalKind::Value, "empty search identifier")),
        x => alts.push(vec![compile_item(None, x, env)?]),
    }
    Ok(Selection {
        name: name.to_string(),
        alts,
    })
}

fn map_items(m: &YMap, env: &mut Env) -> Result<Vec<FieldTest>, Fail> {
    if m.is_empty() {
        return Err(fail(RefusalKind::Value, "empty map in a search identifier"));
    }
    let mut out = Vec::with_capacity(m.len());
    for (k, v) in m {
        let key: String = match k {
            Y::String(s) => s.clone(),
            Y::Number(n) => n.to_string(),
            _ => {
                return Err(fail(
                    RefusalKind::Schema,
                    format!("field name {k:?} is not a string"),
                ))
            }
        };
        out.push(compile_item(Some(&key), v, env).map_err(|f| at(f, &key))?);
    }
    Ok(out)
}

/// Field names and values a rule's matching selections looked at (for reports).
pub fn field_name(t: &FieldTest) -> Option<&Arc<str>> {
    t.field.map(|_| &t.name)
}
