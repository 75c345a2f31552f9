//! The compiled detection form of one rule and its evaluation against one event.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{Datelike, Timelike};
use ipnet::IpNet;
use serde_json::Value;

use crate::pattern::{LazyRegex, StrPat};
use crate::sstr::lower;

/// Index of a field name in the rule set's field table.
pub type FieldId = u32;

/// The view of one event that evaluation needs; built once per event by the matcher.
pub struct Ctx<'e> {
    /// Per field id: 0 when the event lacks the field, else 1 + its index in `leaves`
    /// (a dense table kept across events and reset through the touched fields only, so
    /// no per-event clear of one slot per known field name).
    pub slot_of: &'e [u32],
    /// The values of the fields the event has.
    pub leaves: &'e [&'e Value],
    /// Lowercased text of scalar values, per field id (valid where `vals` is a scalar).
    pub lower: &'e [String],
    /// Text of non-string scalars (numbers, booleans), per field id.
    pub text: &'e [String],
    /// Every scalar leaf of the event (array elements included), for keyword
    /// (field-less) searches, and its lowercased text.
    pub all: &'e [&'e Value],
    pub all_lower: &'e [String],
    /// Per field id whose value is a list: the lowercased text of each element (empty
    /// for an element that is not a scalar), so a list field is folded once per event,
    /// not once per pattern that tests it (auditd's joined `type`, `name`, `key`...).
    /// A field without an entry of the list's length is folded as it is tested.
    pub elems_lower: &'e [Vec<String>],
}

impl<'e> Ctx<'e> {
    /// Value of field `f`, when the event has it.
    #[inline]
    pub fn val(&self, f: FieldId) -> Option<&'e Value> {
        let i = self.slot_of[f as usize] as usize;
        if i == 0 {
            None
        } else {
            self.leaves.get(i - 1).copied()
        }
    }

    /// Original text of a scalar slot.
    fn orig(&self, f: FieldId) -> Option<&'e str> {
        match self.val(f)? {
            Value::String(s) => Some(s.as_str()),
            Value::Number(_) | Value::Bool(_) => Some(self.text[f as usize].as_str()),
            _ => None,
        }
    }
}

/// Text of a scalar JSON value as Sigma compares it (numbers and booleans as strings).
pub fn scalar_text(v: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        Value::String(s) => Some(std::borrow::Cow::Borrowed(s)),
        Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(std::borrow::Cow::Borrowed(if *b {
            "true"
        } else {
            "false"
        })),
        _ => None,
    }
}

/// Appends the text of a JSON number to `out`, the same as its `Display` (integers
/// without the formatting machinery: they are most numbers in events).
pub fn number_text(n: &serde_json::Number, out: &mut String) {
    fn digits(mut u: u64, out: &mut String) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (u % 10) as u8;
            u /= 10;
            if u == 0 {
                break;
            }
        }
        out.extend(buf[i..].iter().map(|&d| d as char));
    }
    if let Some(u) = n.as_u64() {
        digits(u, out);
    } else if let Some(i) = n.as_i64() {
        out.push('-');
        digits(i.unsigned_abs(), out);
    } else {
        use std::fmt::Write;
        let _ = write!(out, "{n}");
    }
}

/// Numeric comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Cmp {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Cmp {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Lt => a < b,
            Cmp::Lte => a <= b,
            Cmp::Gt => a > b,
            Cmp::Gte => a >= b,
        }
    }
}

/// Part of a date the time modifiers extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TimeUnit {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// How a `fieldref` compares the two fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RefHow {
    Equal,
    StartsWith,
    EndsWith,
    Contains,
}

/// One value test. (Serde: the compiled-rule cache, `crate::cache`.)
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Pat {
    /// Case-insensitive: lowercase pattern on the lowercased value.
    Ci(StrPat),
    /// `cased`: on the original value.
    Cs(StrPat),
    /// Compiled on first use ([`LazyRegex`]).
    Re(LazyRegex),
    /// Several case-insensitive `contains` of one item, any of which matches, searched
    /// at once (see [`merge_contains`]).
    CiAny(Box<ContainsSet>),
    Cidr(#[serde(with = "crate::cache::ipnet_text")] IpNet),
    Num(Cmp, f64),
    Time(TimeUnit, Cmp, f64),
    FieldRef {
        other: FieldId,
        how: RefHow,
        cased: bool,
    },
}

impl Pat {
    /// What this pattern looks for, as a keyword a person recognises, when it matches
    /// the scalar `orig` (lowercased: `low`); `None` when it does not match.
    pub fn keyword_label(&self, orig: &str, low: &str, ctx: &Ctx) -> Option<String> {
        if !self.on_text(orig, low, ctx) {
            return None;
        }
        Some(match self {
            Pat::Ci(p) | Pat::Cs(p) => p.describe(),
            Pat::Re(r) => format!("/{}/", r.as_str()),
            Pat::CiAny(set) => {
                let found = set.needles.iter().find(|n| low.contains(n.as_str()));
                format!("*{}*", found.map_or("", |n| n.as_str()))
            }
            Pat::Cidr(net) => net.to_string(),
            Pat::Num(_, n) | Pat::Time(_, _, n) => n.to_string(),
            Pat::FieldRef { .. } => orig.to_string(),
        })
    }

    /// Test on one scalar, given its original and lowercased text.
    fn on_text(&self, orig: &str, low: &str, ctx: &Ctx) -> bool {
        match self {
            Pat::Ci(p) => p.is_match(low),
            Pat::Cs(p) => p.is_match(orig),
            Pat::Re(r) => r.is_match(orig),
            Pat::CiAny(set) => set.is_match(low),
            Pat::Cidr(net) => orig
                .trim()
                .parse::<IpAddr>()
                .map(|ip| net.contains(&ip))
                .unwrap_or(false),
            Pat::Num(cmp, n) => parse_num(orig).is_some_and(|v| cmp.holds(v, *n)),
            Pat::Time(unit, cmp, n) => time_part(orig, *unit).is_some_and(|v| cmp.holds(v, *n)),
            Pat::FieldRef { other, how, cased } => {
                let Some(ov) = ctx.val(*other) else {
                    return false;
                };
                let check = |o: &str| -> bool {
                    let (a, b);
                    let (x, y) = if *cased {
                        (orig, o)
                    } else {
                        a = low.to_string();
                        b = lower(o);
                        (a.as_str(), b.as_str())
                    };
                    match how {
                        RefHow::Equal => x == y,
                        RefHow::StartsWith => x.starts_with(y),
                        RefHow::EndsWith => x.ends_with(y),
                        RefHow::Contains => x.contains(y),
                    }
                };
                match ov {
                    Value::Array(a) => a.iter().filter_map(scalar_text).any(|o| check(&o)),
                    v => scalar_text(v).is_some_and(|o| check(&o)),
                }
            }
        }
    }

    /// Test on a scalar whose lowercased text the matcher made (`low`); `None` for a
    /// value that is not a scalar. A number's or boolean's text is `low` as it is (it has
    /// no letters to fold): no need to format it again.
    fn on_folded(&self, v: &Value, low: &str, ctx: &Ctx) -> Option<bool> {
        match v {
            Value::String(s) => Some(self.on_text(s, low, ctx)),
            Value::Number(_) | Value::Bool(_) => Some(self.on_text(low, low, ctx)),
            _ => None,
        }
    }

    /// Test on a JSON value met outside the slot cache (array elements, keywords).
    fn on_value(&self, v: &Value, ctx: &Ctx) -> bool {
        match v {
            Value::Array(a) => a.iter().any(|e| self.on_value(e, ctx)),
            v => match scalar_text(v) {
                Some(t) => {
                    let low = if matches!(self, Pat::Ci(_) | Pat::CiAny(_) | Pat::FieldRef { .. }) {
                        lower(&t)
                    } else {
                        String::new()
                    };
                    self.on_text(&t, &low, ctx)
                }
                None => false,
            },
        }
    }

    /// Test on a field slot.
    fn on_slot(&self, f: FieldId, ctx: &Ctx) -> bool {
        match ctx.val(f) {
            None | Some(Value::Null) | Some(Value::Object(_)) => false,
            Some(Value::Array(a)) => match ctx.elems_lower.get(f as usize) {
                Some(lows) if lows.len() == a.len() => a.iter().zip(lows).any(|(e, low)| {
                    self.on_folded(e, low, ctx)
                        .unwrap_or_else(|| self.on_value(e, ctx))
                }),
                _ => a.iter().any(|e| self.on_value(e, ctx)),
            },
            Some(_) => match ctx.orig(f) {
                Some(o) => self.on_text(o, &ctx.lower[f as usize], ctx),
                None => false,
            },
        }
    }
}

/// Lowercase needles searched with one automaton, built the first time it is needed:
/// most rules are never evaluated on a given log (the literal index rules them out), so
/// building every set at load would cost more than it saves.
#[derive(Debug, Clone)]
pub struct ContainsSet {
    pub needles: Vec<String>,
    ac: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>>,
}

impl ContainsSet {
    pub(crate) fn new(needles: Vec<String>) -> ContainsSet {
        ContainsSet {
            needles,
            ac: std::sync::OnceLock::new(),
        }
    }

    fn is_match(&self, low: &str) -> bool {
        let ac = self.ac.get_or_init(|| {
            // A contiguous NFA builds several times faster than a DFA and, behind the
            // prefilter that rules out most values, searches about as fast.
            aho_corasick::AhoCorasick::builder()
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .build(&self.needles)
                .ok()
        });
        match ac {
            Some(ac) => ac.is_match(low),
            // Not for want of memory on a few hundred needles; search one by one.
            None => self.needles.iter().any(|n| low.contains(n.as_str())),
        }
    }
}

/// From this many `contains` values on, one automaton beats a substring search per value
/// (SigmaHQ rules list up to hundreds, evaluated on every event of their logsource when
/// the literal index cannot rule them out).
const MERGE_MIN: usize = 4;

/// Replaces the case-insensitive `contains` values of an any-of item by one
/// [`Pat::CiAny`] (same result: some needle occurs in the lowercased value).
pub fn merge_contains(pats: Vec<Pat>) -> Vec<Pat> {
    let needle = |p: &Pat| match p {
        Pat::Ci(StrPat::Contains(f)) => std::str::from_utf8(f.needle()).ok().map(str::to_owned),
        _ => None,
    };
    if pats.iter().filter(|p| needle(p).is_some()).count() < MERGE_MIN {
        return pats;
    }
    let mut needles = Vec::new();
    let mut rest = Vec::with_capacity(pats.len());
    for p in pats {
        match needle(&p) {
            Some(n) => needles.push(n),
            None => rest.push(p),
        }
    }
    rest.insert(0, Pat::CiAny(Box::new(ContainsSet::new(needles))));
    rest
}

fn parse_num(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok().map(|v| v as f64);
    }
    s.parse::<f64>().ok()
}

fn time_part(s: &str, unit: TimeUnit) -> Option<f64> {
    let t = vigie_event::event::parse_time_str(s)?;
    Some(match unit {
        TimeUnit::Minute => t.minute() as f64,
        TimeUnit::Hour => t.hour() as f64,
        TimeUnit::Day => t.day() as f64,
        TimeUnit::Week => t.iso_week().week() as f64,
        TimeUnit::Month => t.month() as f64,
        TimeUnit::Year => t.year() as f64,
    })
}

/// What a selection item checks on one field (or on every field, for keywords).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Test {
    /// `field: null`: absent or null.
    Null,
    /// `field|exists: bool`.
    Exists(bool),
    /// Values: any (or all, with `all`) must match; `neq` negates the result;
    /// `or_null` also accepts an absent or null field.
    Match {
        pats: Vec<Pat>,
        all: bool,
        neq: bool,
        or_null: bool,
    },
}

/// One `field|modifiers: values` item.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FieldTest {
    /// `None` for keyword searches over the whole event.
    pub field: Option<FieldId>,
    /// The name the rule used (reported in matches).
    pub name: Arc<str>,
    pub test: Test,
}

impl FieldTest {
    pub fn eval(&self, ctx: &Ctx) -> bool {
        let Some(f) = self.field else {
            return self.eval_keyword(ctx);
        };
        let v = ctx.val(f);
        match &self.test {
            Test::Null => matches!(v, None | Some(Value::Null)),
            Test::Exists(want) => v.is_some() == *want,
            Test::Match {
                pats,
                all,
                neq,
                or_null,
            } => {
                if *or_null && matches!(v, None | Some(Value::Null)) {
                    return true;
                }
                let r = if *all {
                    pats.iter().all(|p| p.on_slot(f, ctx))
                } else {
                    pats.iter().any(|p| p.on_slot(f, ctx))
                };
                r != *neq
            }
        }
    }

    /// For a keyword item that holds: the keywords that matched some leaf of the event,
    /// each once, in rule order (at most `cap`).
    pub fn matched_keywords(&self, ctx: &Ctx, cap: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let Test::Match {
            pats, neq: false, ..
        } = &self.test
        else {
            return out;
        };
        for p in pats {
            let label = ctx
                .all
                .iter()
                .zip(ctx.all_lower)
                .find_map(|(v, low)| match v {
                    Value::String(s) => p.keyword_label(s, low, ctx),
                    Value::Number(_) | Value::Bool(_) => p.keyword_label(low, low, ctx),
                    _ => None,
                });
            if let Some(l) = label {
                if !out.contains(&l) {
                    out.push(l);
                }
            }
            if out.len() >= cap {
                break;
            }
        }
        out
    }

    fn eval_keyword(&self, ctx: &Ctx) -> bool {
        match &self.test {
            Test::Match { pats, all, neq, .. } => {
                let one = |p: &Pat| {
                    ctx.all
                        .iter()
                        .zip(ctx.all_lower)
                        .any(|(v, low)| p.on_folded(v, low, ctx).unwrap_or(false))
                };
                let r = if *all {
                    pats.iter().all(one)
                } else {
                    pats.iter().any(one)
                };
                r != *neq
            }
            // Rejected at compile time; a keyword has no field to be null or exist.
            Test::Null | Test::Exists(_) => false,
        }
    }
}

/// A search identifier: OR of alternatives, each an AND of items.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Selection {
    pub name: String,
    pub alts: Vec<Vec<FieldTest>>,
}

impl Selection {
    pub fn eval(&self, ctx: &Ctx) -> bool {
        self.alts.iter().any(|a| a.iter().all(|t| t.eval(ctx)))
    }
}

/// A condition over selections.
#[derive(Debug, Clone)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// At least n of the operands (`1 of` is `Or`, `all of` is `And`).
    AtLeast(usize, Vec<Expr>),
    Sel(usize),
}

impl Expr {
    pub fn eval(&self, sels: &[Selection], ctx: &Ctx) -> bool {
        match self {
            Expr::And(v) => v.iter().all(|e| e.eval(sels, ctx)),
            Expr::Or(v) => v.iter().any(|e| e.eval(sels, ctx)),
            Expr::Not(e) => !e.eval(sels, ctx),
            Expr::AtLeast(n, v) => {
                let mut k = 0;
                for e in v {
                    if e.eval(sels, ctx) {
                        k += 1;
                        if k >= *n {
                            return true;
                        }
                    }
                }
                false
            }
            Expr::Sel(i) => sels[*i].eval(ctx),
        }
    }

    /// Selections that are true and not under a negation, for reporting matched fields.
    pub fn positive_true(&self, sels: &[Selection], ctx: &Ctx, out: &mut Vec<usize>) {
        match self {
            Expr::And(v) | Expr::Or(v) | Expr::AtLeast(_, v) => {
                for e in v {
                    e.positive_true(sels, ctx, out)
                }
            }
            Expr::Not(_) => {}
            Expr::Sel(i) => {
                if !out.contains(i) && sels[*i].eval(ctx) {
                    out.push(*i)
                }
            }
        }
    }

    /// Shifts selection indexes (when appending a filter's selections to a rule's).
    pub fn offset(&mut self, by: usize) {
        match self {
            Expr::And(v) | Expr::Or(v) | Expr::AtLeast(_, v) => {
                v.iter_mut().for_each(|e| e.offset(by))
            }
            Expr::Not(e) => e.offset(by),
            Expr::Sel(i) => *i += by,
        }
    }
}

/// A compiled detection: selections and the condition over them.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Detection {
    pub sels: Vec<Selection>,
    pub expr: Expr,
}

impl Detection {
    pub fn eval(&self, ctx: &Ctx) -> bool {
        self.expr.eval(&self.sels, ctx)
    }

    /// Replaces every field id `f` (tested fields and `fieldref` targets) by `ids[f]`:
    /// a detection compiled with a field table of its own moves into the load's table.
    /// An id outside `ids` is kept (none is, by construction).
    pub(crate) fn renumber_fields(&mut self, ids: &[FieldId]) {
        let to = |f: &mut FieldId| {
            debug_assert!((*f as usize) < ids.len(), "field id {f} not in the table");
            if let Some(&g) = ids.get(*f as usize) {
                *f = g;
            }
        };
        for t in self
            .sels
            .iter_mut()
            .flat_map(|s| s.alts.iter_mut().flatten())
        {
            if let Some(f) = t.field.as_mut() {
                to(f);
            }
            if let Test::Match { pats, .. } = &mut t.test {
                for p in pats {
                    if let Pat::FieldRef { other, .. } = p {
                        to(other);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod number_text_tests {
    use super::number_text;

    #[test]
    fn number_text_is_display() {
        let nums: Vec<serde_json::Number> = [
            "0",
            "7",
            "4624",
            "-1",
            "-9223372036854775808",
            "18446744073709551615",
            "1.5",
            "-0.25",
            "1e300",
        ]
        .iter()
        .filter_map(|t| serde_json::from_str(t).ok())
        .collect();
        assert_eq!(nums.len(), 9);
        let mut out = String::new();
        for n in nums {
            out.clear();
            number_text(&n, &mut out);
            assert_eq!(out, n.to_string());
        }
    }
}
