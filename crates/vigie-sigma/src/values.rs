//! Compiling one `field|modifier|...: value(s)` item into a [`FieldTest`]: modifier
//! validation, transformation chain, and value parsing.

use std::sync::Arc;

use crate::yaml::Y;
use ipnet::IpNet;

use crate::detect::{Cmp, FieldId, FieldTest, Pat, RefHow, Test, TimeUnit};
use crate::pattern::StrPat;
use crate::placeholders::Placeholders;
use crate::sstr::{self, Piece, SStr};
use crate::types::RefusalKind;

/// Why an item cannot be compiled.
#[derive(Debug, Clone)]
pub struct Fail {
    pub kind: RefusalKind,
    pub reason: String,
    /// Text to look for in the document to locate the problem (a key).
    pub at: Option<String>,
}

pub(crate) fn fail(kind: RefusalKind, reason: impl Into<String>) -> Fail {
    Fail {
        kind,
        reason: reason.into(),
        at: None,
    }
}

/// What the compiler needs from its surroundings.
pub struct Env<'a> {
    pub intern: &'a mut dyn FnMut(&str) -> FieldId,
    pub placeholders: Option<&'a Placeholders>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mod {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Windash,
    Base64,
    Base64Offset,
    Utf16le,
    Utf16be,
    Utf16,
    Re,
    ReI,
    ReM,
    ReS,
    Cidr,
    Exists,
    Cased,
    Neq,
    FieldRef,
    Expand,
    Cmp(Cmp),
    Time(TimeUnit),
}

fn parse_mod(s: &str, after_re: bool) -> Option<Mod> {
    Some(match s {
        "contains" => Mod::Contains,
        "startswith" => Mod::StartsWith,
        "endswith" => Mod::EndsWith,
        "all" => Mod::All,
        "windash" => Mod::Windash,
        "base64" => Mod::Base64,
        "base64offset" => Mod::Base64Offset,
        "utf16le" | "wide" => Mod::Utf16le,
        "utf16be" => Mod::Utf16be,
        "utf16" => Mod::Utf16,
        "re" => Mod::Re,
        "i" if after_re => Mod::ReI,
        "m" if after_re => Mod::ReM,
        "s" if after_re => Mod::ReS,
        "cidr" => Mod::Cidr,
        "exists" => Mod::Exists,
        "cased" => Mod::Cased,
        "neq" => Mod::Neq,
        "fieldref" => Mod::FieldRef,
        "expand" => Mod::Expand,
        "lt" => Mod::Cmp(Cmp::Lt),
        "lte" => Mod::Cmp(Cmp::Lte),
        "gt" => Mod::Cmp(Cmp::Gt),
        "gte" => Mod::Cmp(Cmp::Gte),
        "minute" => Mod::Time(TimeUnit::Minute),
        "hour" => Mod::Time(TimeUnit::Hour),
        "day" => Mod::Time(TimeUnit::Day),
        "week" => Mod::Time(TimeUnit::Week),
        "month" => Mod::Time(TimeUnit::Month),
        "year" => Mod::Time(TimeUnit::Year),
        _ => return None,
    })
}

/// A rule value: YAML scalar as text, or `null`.
#[derive(Debug, Clone)]
enum RawVal {
    Text(String),
    Null,
    Bool(bool),
}

fn raw_values(v: &Y) -> Result<Vec<RawVal>, Fail> {
    let one = |x: &Y| -> Result<RawVal, Fail> {
        Ok(match x {
            Y::Null => RawVal::Null,
            Y::Bool(b) => RawVal::Bool(*b),
            Y::Number(n) => RawVal::Text(n.to_string()),
            Y::String(s) => RawVal::Text(s.clone()),
            Y::Sequence(_) => return Err(fail(RefusalKind::Value, "nested list as a value")),
            Y::Mapping(_) => return Err(fail(RefusalKind::Value, "mapping as a value")),
        })
    };
    match v {
        Y::Sequence(s) => {
            if s.is_empty() {
                return Err(fail(RefusalKind::Value, "empty list of values"));
            }
            s.iter().map(one).collect()
        }
        x => Ok(vec![one(x)?]),
    }
}

/// Value state along the transformation chain.
enum VState {
    Str(SStr),
    Bytes(Vec<u8>),
}

/// Compiles one item. `key` is the full key (`Field|mod|...`, or `|mod` / empty for
/// keywords); `keyword` is set for list items of a keyword selection.
pub fn compile_item(key: Option<&str>, value: &Y, env: &mut Env) -> Result<FieldTest, Fail> {
    let (field, mods_txt): (Option<&str>, Vec<&str>) = match key {
        None => (None, Vec::new()),
        Some(k) => {
            let mut it = k.split('|');
            let f = it.next().unwrap_or_default();
            (if f.is_empty() { None } else { Some(f) }, it.collect())
        }
    };
    let mut mods = Vec::with_capacity(mods_txt.len());
    let mut after_re = false;
    for m in &mods_txt {
        let Some(md) = parse_mod(m, after_re) else {
            return Err(fail(
                RefusalKind::Modifier,
                format!("unknown modifier `{m}`"),
            ));
        };
        if md == Mod::Re {
            after_re = true;
        }
        if mods.contains(&md) {
            return Err(fail(
                RefusalKind::Modifier,
                format!("modifier `{m}` given twice"),
            ));
        }
        mods.push(md);
    }
    let has = |m: Mod| mods.contains(&m);
    let name: Arc<str> = Arc::from(field.unwrap_or(""));
    let fid = field.map(|f| (env.intern)(f));
    let raws = raw_values(value)?;
    let all = has(Mod::All);
    let neq = has(Mod::Neq);
    let cased = has(Mod::Cased);
    let item = |test| FieldTest {
        field: fid,
        name: name.clone(),
        test,
    };
    if all && raws.len() < 2 {
        return Err(fail(
            RefusalKind::Modifier,
            "`all` on a single value (the specification forbids it)",
        ));
    }

    // Null values: only as a plain `field: null` (possibly among other values).
    let has_null = raws.iter().any(|r| matches!(r, RawVal::Null));
    if has_null {
        if field.is_none() {
            return Err(fail(RefusalKind::Value, "`null` as a keyword"));
        }
        if !mods.is_empty() {
            return Err(fail(RefusalKind::Modifier, "modifiers on a `null` value"));
        }
        if raws.len() == 1 {
            return Ok(item(Test::Null));
        }
    }

    // exists: one boolean, nothing else.
    if has(Mod::Exists) {
        if mods.len() != 1 || field.is_none() {
            return Err(fail(
                RefusalKind::Modifier,
                "`exists` must be the only modifier, on a field",
            ));
        }
        let b = match raws.as_slice() {
            [RawVal::Bool(b)] => *b,
            [RawVal::Text(t)] if t.eq_ignore_ascii_case("true") => true,
            [RawVal::Text(t)] if t.eq_ignore_ascii_case("false") => false,
            _ => return Err(fail(RefusalKind::Value, "`exists` takes true or false")),
        };
        return Ok(item(Test::Exists(b)));
    }

    let texts: Vec<Option<String>> = raws
        .into_iter()
        .map(|r| match r {
            RawVal::Text(t) => Some(t),
            RawVal::Bool(b) => Some(b.to_string()),
            RawVal::Null => None,
        })
        .collect();

    let mut pats = Vec::new();
    let mut null_alt = false;

    // Regular expressions.
    if has(Mod::Re) {
        let allowed = [
            Mod::Re,
            Mod::ReI,
            Mod::ReM,
            Mod::ReS,
            Mod::All,
            Mod::Neq,
            Mod::Cased,
        ];
        if let Some(bad) = mods.iter().find(|m| !allowed.contains(m)) {
            return Err(fail(
                RefusalKind::Modifier,
                format!("`re` cannot be combined with {bad:?}"),
            ));
        }
        for t in texts.iter().flatten() {
            // Flags inline, so the pattern text alone describes the regex (the literal
            // index re-parses it).
            let mut flags = String::new();
            for (m, c) in [(Mod::ReI, 'i'), (Mod::ReM, 'm'), (Mod::ReS, 's')] {
                if has(m) {
                    flags.push(c);
                }
            }
            let src = if flags.is_empty() {
                t.clone()
            } else {
                format!("(?{flags}){t}")
            };
            // Syntax checked now, the automaton built on first use.
            let re = crate::pattern::LazyRegex::new(src).map_err(|e| {
                fail(
                    RefusalKind::Value,
                    format!("bad regular expression {t:?}: {e}"),
                )
            })?;
            pats.push(Pat::Re(re));
        }
        return Ok(item(Test::Match {
            pats,
            all,
            neq,
            or_null: false,
        }));
    }
    if mods
        .iter()
        .any(|m| matches!(m, Mod::ReI | Mod::ReM | Mod::ReS))
    {
        return Err(fail(RefusalKind::Modifier, "`i`/`m`/`s` only after `re`"));
    }

    if has(Mod::Cidr) {
        if let Some(bad) = mods
            .iter()
            .find(|m| !matches!(m, Mod::Cidr | Mod::All | Mod::Neq))
        {
            return Err(fail(
                RefusalKind::Modifier,
                format!("`cidr` cannot be combined with {bad:?}"),
            ));
        }
        for t in texts.iter().flatten() {
            let net: IpNet = t
                .trim()
                .parse()
                .or_else(|_| t.trim().parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| fail(RefusalKind::Value, format!("bad CIDR {t:?}")))?;
            pats.push(Pat::Cidr(net));
        }
        return Ok(item(Test::Match {
            pats,
            all,
            neq,
            or_null: false,
        }));
    }

    let time = mods.iter().find_map(|m| match m {
        Mod::Time(u) => Some(*u),
        _ => None,
    });
    let cmp = mods.iter().find_map(|m| match m {
        Mod::Cmp(c) => Some(*c),
        _ => None,
    });
    if time.is_some() || cmp.is_some() {
        let n_cmp = mods.iter().filter(|m| matches!(m, Mod::Cmp(_))).count();
        let n_time = mods.iter().filter(|m| matches!(m, Mod::Time(_))).count();
        if n_cmp > 1 || n_time > 1 {
            return Err(fail(
                RefusalKind::Modifier,
                "more than one comparison or time part",
            ));
        }
        if let Some(bad) = mods
            .iter()
            .find(|m| !matches!(m, Mod::Cmp(_) | Mod::Time(_) | Mod::All | Mod::Neq))
        {
            return Err(fail(
                RefusalKind::Modifier,
                format!("numeric/time modifiers cannot be combined with {bad:?}"),
            ));
        }
        if field.is_none() {
            return Err(fail(
                RefusalKind::Modifier,
                "numeric modifiers need a field",
            ));
        }
        let cmp = cmp.unwrap_or(Cmp::Eq);
        for t in texts.iter().flatten() {
            let n: f64 = t
                .trim()
                .parse()
                .map_err(|_| fail(RefusalKind::Value, format!("{t:?} is not a number")))?;
            pats.push(match time {
                Some(u) => Pat::Time(u, cmp, n),
                None => Pat::Num(cmp, n),
            });
        }
        return Ok(item(Test::Match {
            pats,
            all,
            neq,
            or_null: false,
        }));
    }

    if has(Mod::FieldRef) {
        if let Some(bad) = mods.iter().find(|m| {
            !matches!(
                m,
                Mod::FieldRef
                    | Mod::Contains
                    | Mod::StartsWith
                    | Mod::EndsWith
                    | Mod::Cased
                    | Mod::Neq
                    | Mod::All
            )
        }) {
            return Err(fail(
                RefusalKind::Modifier,
                format!("`fieldref` cannot be combined with {bad:?}"),
            ));
        }
        if field.is_none() {
            return Err(fail(RefusalKind::Modifier, "`fieldref` needs a field"));
        }
        let how = if has(Mod::Contains) {
            RefHow::Contains
        } else if has(Mod::StartsWith) {
            RefHow::StartsWith
        } else if has(Mod::EndsWith) {
            RefHow::EndsWith
        } else {
            RefHow::Equal
        };
        for t in texts.iter().flatten() {
            let other = (env.intern)(t.trim());
            pats.push(Pat::FieldRef { other, how, cased });
        }
        return Ok(item(Test::Match {
            pats,
            all,
            neq,
            or_null: false,
        }));
    }

    // Strings: apply the transformation chain in order.
    for t in &texts {
        let Some(t) = t else {
            null_alt = true;
            continue;
        };
        let mut states = vec![VState::Str(SStr::parse(t))];
        for m in &mods {
            states = apply(*m, states, env)?;
        }
        // Keywords are searched in the whole value unless anchored explicitly.
        let anchored = has(Mod::Contains) || has(Mod::StartsWith) || has(Mod::EndsWith);
        for st in states {
            let s = match st {
                VState::Str(s) => s,
                VState::Bytes(b) => match String::from_utf8(b) {
                    Ok(s) => SStr::literal(&s),
                    Err(_) => {
                        return Err(fail(
                            RefusalKind::Value,
                            format!("{t:?}: encoded value is not text (add base64?)"),
                        ))
                    }
                },
            };
            let s = if field.is_none() && !anchored {
                s.contains()
            } else {
                s
            };
            pats.push(if cased {
                Pat::Cs(StrPat::compile(&s))
            } else {
                Pat::Ci(StrPat::compile(&s.lowercase()))
            });
        }
    }
    if !all {
        pats = crate::detect::merge_contains(pats);
    }
    // `[value, null]` also accepts an absent or null field (the spec discourages it).
    Ok(item(Test::Match {
        pats,
        all,
        neq,
        or_null: null_alt,
    }))
}

fn apply(m: Mod, states: Vec<VState>, env: &mut Env) -> Result<Vec<VState>, Fail> {
    let mut out = Vec::with_capacity(states.len());
    for st in states {
        match m {
            Mod::All | Mod::Cased | Mod::Neq => out.push(st),
            Mod::Contains | Mod::StartsWith | Mod::EndsWith | Mod::Windash => {
                let VState::Str(s) = st else {
                    return Err(fail(
                        RefusalKind::Modifier,
                        format!("{m:?} after an encoding that produced bytes"),
                    ));
                };
                out.push(VState::Str(match m {
                    Mod::Contains => s.contains(),
                    Mod::StartsWith => s.starts_with(),
                    Mod::EndsWith => s.ends_with(),
                    _ => s.windash(),
                }))
            }
            Mod::Utf16le | Mod::Utf16be | Mod::Utf16 => {
                let VState::Str(s) = st else {
                    return Err(fail(RefusalKind::Modifier, "UTF-16 encoding applied twice"));
                };
                let Some(p) = s.as_plain() else {
                    return Err(fail(
                        RefusalKind::Modifier,
                        "UTF-16 encoding of a value with wildcards",
                    ));
                };
                out.push(VState::Bytes(match m {
                    Mod::Utf16le => sstr::utf16le(&p),
                    Mod::Utf16be => sstr::utf16be(&p),
                    _ => sstr::utf16bom(&p),
                }))
            }
            Mod::Base64 | Mod::Base64Offset => {
                let bytes = match st {
                    VState::Bytes(b) => b,
                    VState::Str(s) => match s.as_plain() {
                        Some(p) => p.into_bytes(),
                        None => {
                            return Err(fail(
                                RefusalKind::Modifier,
                                "base64 of a value with wildcards (put contains after base64)",
                            ))
                        }
                    },
                };
                if m == Mod::Base64 {
                    out.push(VState::Str(SStr::literal(&sstr::base64(&bytes))));
                } else {
                    for v in sstr::base64_offsets(&bytes) {
                        out.push(VState::Str(SStr::literal(&v)));
                    }
                }
            }
            Mod::Expand => {
                let VState::Str(s) = st else {
                    return Err(fail(RefusalKind::Modifier, "`expand` after an encoding"));
                };
                out.extend(expand(&s, env.placeholders)?.into_iter().map(VState::Str));
            }
            // Handled before the chain.
            _ => out.push(st),
        }
    }
    Ok(out)
}

/// Replaces `%name%` in literal text by each value of the placeholder (cartesian
/// product when several); `\%` is a plain percent sign.
fn expand(s: &SStr, ph: Option<&Placeholders>) -> Result<Vec<SStr>, Fail> {
    let mut acc: Vec<SStr> = vec![SStr::default()];
    for p in &s.0 {
        let Piece::Lit(l) = p else {
            for a in &mut acc {
                a.push(p.clone());
            }
            continue;
        };
        let mut rest = l.as_str();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("\\%") {
                acc.iter_mut().for_each(|a| a.push_char('%'));
                rest = r;
                continue;
            }
            if let Some(r) = rest.strip_prefix('%') {
                if let Some(end) = r.find('%') {
                    let name = &r[..end];
                    let vals = ph.and_then(|p| p.get(name)).ok_or_else(|| {
                        fail(
                            RefusalKind::Placeholder,
                            format!(
                                "placeholder %{name}% has no value (give it in a placeholders file)"
                            ),
                        )
                    })?;
                    let mut next = Vec::with_capacity(acc.len() * vals.len());
                    for a in &acc {
                        for v in vals {
                            let mut n = a.clone();
                            for vp in SStr::parse(v).0 {
                                n.push(vp);
                            }
                            next.push(n);
                        }
                    }
                    if next.len() > 4096 {
                        return Err(fail(
                            RefusalKind::Placeholder,
                            "placeholder expansion too large",
                        ));
                    }
                    acc = next;
                    rest = &r[end + 1..];
                    continue;
                }
            }
            let c = rest.chars().next().unwrap_or('%');
            acc.iter_mut().for_each(|a| a.push_char(c));
            rest = &rest[c.len_utf8()..];
        }
    }
    Ok(acc)
}
