//! Evaluation: a pattern is compiled once into a [`Plan`] (its regexes built, its
//! data-independent errors found); evaluating a plan over observed-data first finds,
//! for each observation `[...]`, the observed-data it matches, then searches for a
//! binding of every observation of the pattern to distinct observed-data (an
//! observed-data with `number_observed` n can be bound n times) that satisfies
//! `AND`, `OR`, `FOLLOWEDBY`, `WITHIN`, `REPEATS` and `START ... STOP`.
//!
//! The search is depth-first and stops at the first complete binding: each leaf binds
//! one observed-data that still has an unbound instance; constraints of enclosing
//! qualifiers are checked as each observed-data is bound (they are monotone: a part of
//! a binding that fails one cannot be completed into a binding that meets it); the
//! copies of a `REPEATS` are bound in non-decreasing order (they are interchangeable).
//! The per-observation candidate sets prune it: each node knows the fewest instances
//! a binding of it takes and the observed-data its leaves match, and is not entered
//! when fewer of those are still unbound and admissible under the constraints in
//! force (so a count no `WITHIN` window holds, or a side nothing matches, fails at
//! once); the left side of a `FOLLOWEDBY` only binds observed-data that start before
//! the right side's latest candidate ends; `AND` binds its more selective side first.
//! A step budget ([`SEARCH_BUDGET`]: bindings tried plus candidates counted) bounds
//! the cost of adversarial patterns: past it the evaluation reports an error rather
//! than run on.

use std::cmp::Ordering;

use rustc_hash::FxHashMap;
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use super::ast::*;
use super::observed::{is_sdo_type_21, ObservedData};
use super::value::{self, py, Py, Val};
use super::{EvalError, Evaluation, SimpleTerm};

/// Search steps (bindings tried, candidates counted) in one evaluation before it
/// gives up (about a second in a debug build).
pub(crate) const SEARCH_BUDGET: usize = 5_000_000;

/// Nested search calls (about two per observation bound, plus the pattern's depth)
/// before the evaluation gives up rather than overflow the stack: `REPEATS 500 TIMES`
/// or an `AND` of 500 observations still evaluate on a 2 MB thread stack.
pub(crate) const MAX_SEARCH_DEPTH: usize = 1_100;

/// A compiled pattern.
#[derive(Debug)]
pub(crate) struct Plan {
    node: Node,
    leaves: Vec<Leaf>,
    /// An error every evaluation reports (e.g. `REPEATS 0 TIMES`, a set literal of
    /// mixed types, an invalid regex), as the reference does whatever the data.
    static_error: Option<String>,
}

#[derive(Debug)]
enum Node {
    Leaf(usize),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    FollowedBy(Box<Node>, Box<Node>),
    /// Microseconds.
    Within(Box<Node>, i64),
    StartStop(Box<Node>, i64, i64),
    Repeat(Box<Node>, u64),
}

#[derive(Debug)]
enum Leaf {
    And(Box<Leaf>, Box<Leaf>),
    Or(Box<Leaf>, Box<Leaf>),
    Test(Test),
}

#[derive(Debug)]
struct Test {
    path: ObjectPath,
    negated: bool,
    kind: TestKind,
}

#[derive(Debug)]
enum TestKind {
    Eq(Lit, bool /* != */),
    Order(Lit, Ordering, bool /* or equal */),
    In(Vec<Lit>),
    Like {
        re: Option<regex::Regex>,
        bin_ok: bool,
    },
    Matches {
        re: Option<regex::Regex>,
        bytes: Option<regex::bytes::Regex>,
    },
    IsSubset(String),
    IsSuperset(String),
    Exists,
}

/// A literal as a comparison operand.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Time(i64),
}

impl Lit {
    fn py(&self) -> Py<'_> {
        match self {
            Lit::Bool(b) => Py::Bool(*b),
            Lit::Int(i) => Py::Int(*i),
            Lit::Float(f) => Py::Float(*f),
            Lit::Str(s) => Py::Str(s),
            Lit::Bytes(b) => Py::Bytes(b),
            Lit::Time(t) => Py::Time(*t),
        }
    }
    fn kind(&self) -> u8 {
        match self {
            Lit::Bool(_) => 0,
            Lit::Int(_) => 1,
            Lit::Float(_) => 2,
            Lit::Str(_) => 3,
            Lit::Bytes(_) => 4,
            Lit::Time(_) => 5,
        }
    }
}

struct Compiler {
    leaves: Vec<Leaf>,
    error: Option<String>,
}

impl Compiler {
    fn fail(&mut self, msg: String) {
        if self.error.is_none() {
            self.error = Some(msg);
        }
    }

    fn node(&mut self, e: &PatternExpr) -> Node {
        match e {
            PatternExpr::Observation(o) => {
                let leaf = self.leaf(&o.expr);
                self.leaves.push(leaf);
                Node::Leaf(self.leaves.len() - 1)
            }
            PatternExpr::Group(inner) => self.node(inner),
            PatternExpr::And(a, b) => Node::And(Box::new(self.node(a)), Box::new(self.node(b))),
            PatternExpr::Or(a, b) => Node::Or(Box::new(self.node(a)), Box::new(self.node(b))),
            PatternExpr::FollowedBy(a, b) => {
                Node::FollowedBy(Box::new(self.node(a)), Box::new(self.node(b)))
            }
            PatternExpr::Qualified(inner, q) => {
                let child = Box::new(self.node(inner));
                match q {
                    Qualifier::Within(n) => {
                        if n.value <= 0.0 {
                            self.fail(format!(
                                "invalid WITHIN value (must be positive): {}",
                                n.text
                            ));
                        }
                        // Seconds to whole microseconds, rounded as a timedelta is.
                        let micros = (n.value * 1e6).round();
                        let micros = if micros >= 9.2e18 {
                            i64::MAX
                        } else {
                            micros as i64
                        };
                        Node::Within(child, micros)
                    }
                    Qualifier::Repeats(n) => {
                        if n.value < 1.0 {
                            self.fail(format!("invalid repetition count: {}", n.text));
                        }
                        let count = if n.value >= 1.8e19 {
                            u64::MAX
                        } else {
                            n.value as u64
                        };
                        Node::Repeat(child, count)
                    }
                    Qualifier::StartStop(a, b) => {
                        let start = self.time(a);
                        let stop = self.time(b);
                        Node::StartStop(child, start, stop)
                    }
                }
            }
        }
    }

    fn time(&mut self, t: &Timestamp) -> i64 {
        match t.value {
            Some(v) => v,
            None => {
                self.fail(format!("invalid timestamp literal: t'{}'", t.text));
                0
            }
        }
    }

    fn lit(&mut self, l: &Literal) -> Lit {
        match l {
            Literal::Int(i) => Lit::Int(*i),
            Literal::Float(f) => Lit::Float(*f),
            Literal::Str(s) => Lit::Str(s.clone()),
            Literal::Bytes { bytes, .. } => Lit::Bytes(bytes.clone()),
            Literal::Bool(b) => Lit::Bool(*b),
            Literal::Timestamp(t) => Lit::Time(self.time(t)),
        }
    }

    fn leaf(&mut self, e: &ComparisonExpr) -> Leaf {
        match e {
            ComparisonExpr::And(a, b) => Leaf::And(Box::new(self.leaf(a)), Box::new(self.leaf(b))),
            ComparisonExpr::Or(a, b) => Leaf::Or(Box::new(self.leaf(a)), Box::new(self.leaf(b))),
            ComparisonExpr::Group(inner) => self.leaf(inner),
            ComparisonExpr::Test(c) => {
                let kind = match &c.op {
                    CompOp::Eq(l) => TestKind::Eq(self.lit(l), false),
                    CompOp::Ne(l) => TestKind::Eq(self.lit(l), true),
                    CompOp::Lt(l) => TestKind::Order(self.lit(l), Ordering::Less, false),
                    CompOp::Le(l) => TestKind::Order(self.lit(l), Ordering::Less, true),
                    CompOp::Gt(l) => TestKind::Order(self.lit(l), Ordering::Greater, false),
                    CompOp::Ge(l) => TestKind::Order(self.lit(l), Ordering::Greater, true),
                    CompOp::In(set) => {
                        let lits: Vec<Lit> = set.iter().map(|l| self.lit(l)).collect();
                        let numeric = |l: &Lit| matches!(l, Lit::Int(_) | Lit::Float(_));
                        let homogeneous = lits.windows(2).all(|w| w[0].kind() == w[1].kind())
                            || lits.iter().all(numeric);
                        if !homogeneous {
                            self.fail(format!(
                                "nonhomogeneous set (members of one type only, or numbers): {}",
                                Comparison {
                                    path: c.path.clone(),
                                    negated: c.negated,
                                    op: c.op.clone()
                                }
                            ));
                        }
                        TestKind::In(lits)
                    }
                    CompOp::Like(s) => {
                        let s: String = s.nfc().collect();
                        let mut re = String::from(r"\A(?:");
                        for ch in s.chars() {
                            match ch {
                                '%' => re.push_str(".*"),
                                '_' => re.push('.'),
                                c if c.is_alphanumeric() => re.push(c),
                                c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
                            }
                        }
                        // Python's `$`: the end, or before a final newline.
                        re.push_str(r")\n?\z");
                        let bin_ok = s.chars().all(|c| (c as u32) < 256);
                        match regex::Regex::new(&re) {
                            Ok(r) => TestKind::Like {
                                re: Some(r),
                                bin_ok,
                            },
                            Err(e) => {
                                self.fail(format!("LIKE {s:?}: {e}"));
                                TestKind::Like { re: None, bin_ok }
                            }
                        }
                    }
                    CompOp::Matches(s) => {
                        let s: String = s.nfc().collect();
                        let translated = translate_regex(&s);
                        let re = match regex::Regex::new(&translated) {
                            Ok(r) => Some(r),
                            Err(e) => {
                                self.fail(format!(
                                    "MATCHES {s:?}: not a regular expression vigie supports: {e}"
                                ));
                                None
                            }
                        };
                        let bytes = if s.chars().all(|c| (c as u32) < 256) {
                            let mut b = String::from("(?-u)");
                            for ch in translated.chars() {
                                if (ch as u32) >= 128 {
                                    b.push_str(&format!("\\x{:02x}", ch as u32));
                                } else {
                                    b.push(ch);
                                }
                            }
                            regex::bytes::Regex::new(&b).ok()
                        } else {
                            None
                        };
                        TestKind::Matches { re, bytes }
                    }
                    CompOp::IsSubset(s) => TestKind::IsSubset(s.clone()),
                    CompOp::IsSuperset(s) => TestKind::IsSuperset(s.clone()),
                    CompOp::Exists => TestKind::Exists,
                };
                Leaf::Test(Test {
                    path: c.path.clone(),
                    negated: c.negated,
                    kind,
                })
            }
        }
    }
}

/// Python regular expressions as the `regex` crate reads them, where the two differ
/// in a way this can fix: `$` (outside a class, without the `m` flag) also matches
/// before a final newline; `\Z` is the very end.
fn translate_regex(s: &str) -> String {
    let multiline = s.contains("(?m") || s.contains("(?im") || s.contains("(?sm");
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push('\\');
                    break;
                };
                if n == 'Z' && !in_class {
                    out.push_str(r"\z");
                } else {
                    out.push('\\');
                    out.push(n);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A `]` or `^]` right after the opening bracket is literal.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str(r"\]");
                    chars.next();
                }
            }
            '[' => out.push_str(r"\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '$' if !in_class && !multiline => out.push_str(r"(?:\n?\z)"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn compile(root: &PatternExpr) -> Plan {
    let mut c = Compiler {
        leaves: Vec::new(),
        error: None,
    };
    let node = c.node(root);
    Plan {
        node,
        leaves: c.leaves,
        static_error: c.error,
    }
}

// ---------------------------------------------------------------------------------
// Comparison expressions over one observed-data

/// Values selected by a path from one root object.
fn select<'a>(
    path: &ObjectPath,
    od: &'a ObservedData,
    root: &'a Value,
) -> Result<Vec<Val<'a>>, String> {
    let mut vals = vec![Val::Json(root)];
    for step in &path.steps {
        let mut next = Vec::new();
        match step {
            PathStep::Key(k) => {
                for v in &vals {
                    if let Val::Json(Value::Object(m)) = v {
                        if let Some(x) = m.get(k) {
                            match value::decode_suffixed(k, x) {
                                Some(Ok(b)) => next.push(Val::Bytes(b)),
                                Some(Err(e)) => return Err(e),
                                None => next.push(Val::Json(x)),
                            }
                        }
                    }
                }
                if k.ends_with("_ref") {
                    let mut deref = Vec::new();
                    for v in &next {
                        let Val::Json(Value::String(id)) = v else {
                            return Err(format!(
                                "the value of reference property {k:?} is not a string"
                            ));
                        };
                        if let Some(o) = od.get(id) {
                            deref.push(Val::Json(o));
                        }
                    }
                    next = deref;
                } else if k.ends_with("_refs") {
                    let mut deref = Vec::new();
                    for v in &next {
                        let Val::Json(Value::Array(ids)) = v else {
                            return Err(format!(
                                "the value of reference list property {k:?} is not a list"
                            ));
                        };
                        let mut objs = Vec::new();
                        for id in ids {
                            let Value::String(id) = id else {
                                return Err(format!(
                                    "a value of reference list property {k:?} is not a string"
                                ));
                            };
                            if let Some(o) = od.get(id) {
                                objs.push(o);
                            }
                        }
                        if !objs.is_empty() {
                            deref.push(Val::RefList(objs));
                        }
                    }
                    next = deref;
                }
            }
            PathStep::Index(i) => {
                for v in &vals {
                    let Ok(i) = usize::try_from(*i) else { continue };
                    match v {
                        Val::Json(Value::Array(a)) => {
                            if let Some(x) = a.get(i) {
                                next.push(Val::Json(x));
                            }
                        }
                        Val::RefList(l) => {
                            if let Some(x) = l.get(i) {
                                next.push(Val::Json(x));
                            }
                        }
                        _ => {}
                    }
                }
            }
            PathStep::Star => {
                for v in &vals {
                    match v {
                        Val::Json(Value::Array(a)) => next.extend(a.iter().map(Val::Json)),
                        Val::RefList(l) => next.extend(l.iter().map(|x| Val::Json(x))),
                        _ => {}
                    }
                }
            }
        }
        vals = next;
        if vals.is_empty() {
            break;
        }
    }
    Ok(vals)
}

fn timestamp_hack<'a>(v: Py<'a>, lit_is_time: bool) -> Result<Py<'a>, String> {
    if let (true, Py::Str(s)) = (lit_is_time, &v) {
        return value::parse_json_timestamp(s)
            .map(Py::Time)
            .ok_or_else(|| format!("invalid timestamp in JSON: {s}"));
    }
    Ok(v)
}

fn test_value(t: &Test, v: &Val<'_>) -> Result<bool, String> {
    let p = py(v);
    let r = match &t.kind {
        TestKind::Eq(lit, ne) => {
            let p = timestamp_hack(p, matches!(lit, Lit::Time(_)))?;
            value::equal(&p, &lit.py()) != *ne
        }
        TestKind::Order(lit, dir, or_equal) => {
            let p = timestamp_hack(p, matches!(lit, Lit::Time(_)))?;
            match value::order(&p, &lit.py()) {
                None => false,
                Some(o) => o == *dir || (*or_equal && o == Ordering::Equal),
            }
        }
        TestKind::In(set) => {
            let p = timestamp_hack(p, matches!(set.first(), Some(Lit::Time(_))))?;
            set.iter().any(|m| value::set_equal(&p, &m.py()))
        }
        TestKind::Like { re, bin_ok } => {
            let Some(re) = re else { return Ok(false) };
            let s: Option<String> = match (&p, v) {
                (Py::Str(s), _) => Some(s.nfc().collect()),
                (Py::Bytes(b), _) if *bin_ok => match std::str::from_utf8(b) {
                    Ok(s) => Some(s.nfc().collect()),
                    Err(_) => return Err("a binary value is not UTF-8 (LIKE)".into()),
                },
                _ => None,
            };
            s.is_some_and(|s| re.is_match(&s))
        }
        TestKind::Matches { re, bytes } => match &p {
            Py::Str(s) => match re {
                Some(re) => {
                    let s: String = s.nfc().collect();
                    re.is_match(&s)
                }
                None => false,
            },
            Py::Bytes(b) => bytes.as_ref().is_some_and(|re| re.is_match(b)),
            _ => false,
        },
        TestKind::IsSubset(net) => match &p {
            Py::Str(s) => value::ip_in_subnet(s, net)?,
            _ => false,
        },
        TestKind::IsSuperset(ip) => match &p {
            Py::Str(s) => value::ip_in_subnet(ip, s)?,
            _ => false,
        },
        TestKind::Exists => true,
    };
    Ok(r != t.negated)
}

/// Root objects (indexes into `od.objects`) satisfying the leaf, ascending.
fn eval_leaf(l: &Leaf, od: &ObservedData) -> Result<Vec<u32>, String> {
    match l {
        Leaf::And(a, b) => {
            let x = eval_leaf(a, od)?;
            let y = eval_leaf(b, od)?;
            Ok(x.into_iter()
                .filter(|i| y.binary_search(i).is_ok())
                .collect())
        }
        Leaf::Or(a, b) => {
            let mut x = eval_leaf(a, od)?;
            x.extend(eval_leaf(b, od)?);
            x.sort_unstable();
            x.dedup();
            Ok(x)
        }
        Leaf::Test(t) => {
            let mut out = Vec::new();
            if od.stix21 && is_sdo_type_21(&t.path.object_type) {
                return Ok(out);
            }
            for (i, (_, obj)) in od.objects.iter().enumerate() {
                let Value::Object(m) = obj else { continue };
                if m.get("type").and_then(Value::as_str) != Some(t.path.object_type.as_str()) {
                    continue;
                }
                let vals = select(&t.path, od, obj)?;
                if let TestKind::Exists = t.kind {
                    if !vals.is_empty() {
                        out.push(i as u32);
                    }
                    continue;
                }
                for v in &vals {
                    if test_value(t, v)? {
                        out.push(i as u32);
                        break;
                    }
                }
            }
            Ok(out)
        }
    }
}

// ---------------------------------------------------------------------------------
// Bindings

/// A constraint of an enclosing node on every observed-data bound below it.
#[derive(Clone, Copy)]
enum Frame {
    /// `WITHIN`: the observed-data bound since `start` (an index into the path) fit
    /// in a window of `d` microseconds.
    Within { start: usize, d: i64 },
    /// `START ... STOP`.
    StartStop(i64, i64),
    /// Right of `FOLLOWEDBY`: last_observed no earlier than the left side's latest
    /// first_observed.
    After(i64),
    /// Left of `FOLLOWEDBY`: first_observed no later than the latest last_observed of
    /// the right side's candidates (else nothing can follow it).
    Before(i64),
}

/// What the candidate sets say about one node, computed once per evaluation.
struct Stat {
    /// The fewest observed-data instances a binding of the node takes.
    need: u128,
    /// The observed-data any leaf below the node matches, ascending.
    cands: Vec<u32>,
    /// The latest last_observed among `cands` (`i64::MIN` if none).
    latest_last: i64,
    /// Every binding of the node is one observed-data instance (a leaf, an `OR` of
    /// such, ...): the copies of a `REPEATS` of it are then bound in non-decreasing
    /// observed-data order.
    single: bool,
}

/// Per-node [`Stat`]s, keyed by the node's address in the (immutable) plan.
type Stats = FxHashMap<*const Node, Stat>;

fn stats(n: &Node, leaves: &[Vec<u32>], obs: &[ObservedData], out: &mut Stats) {
    let kids: Vec<&Node> = match n {
        Node::Leaf(_) => Vec::new(),
        Node::And(a, b) | Node::Or(a, b) | Node::FollowedBy(a, b) => vec![a, b],
        Node::Within(c, _) | Node::StartStop(c, ..) | Node::Repeat(c, _) => vec![c],
    };
    for k in &kids {
        stats(k, leaves, obs, out);
    }
    let of = |k: &Node| &out[&(k as *const Node)];
    let single = match n {
        Node::Leaf(_) => true,
        Node::Or(a, b) => of(a).single && of(b).single,
        Node::Within(c, _) | Node::StartStop(c, ..) => of(c).single,
        Node::Repeat(c, count) => *count <= 1 && of(c).single,
        Node::And(..) | Node::FollowedBy(..) => false,
    };
    let (need, mut cands) = match n {
        Node::Leaf(i) => (1, leaves[*i].clone()),
        Node::And(a, b) | Node::FollowedBy(a, b) => {
            let (x, y) = (of(a), of(b));
            let c = [x.cands.as_slice(), y.cands.as_slice()].concat();
            (x.need.saturating_add(y.need), c)
        }
        Node::Or(a, b) => {
            let (x, y) = (of(a), of(b));
            let c = [x.cands.as_slice(), y.cands.as_slice()].concat();
            (x.need.min(y.need), c)
        }
        Node::Within(c, _) | Node::StartStop(c, ..) => (of(c).need, of(c).cands.clone()),
        Node::Repeat(c, count) => (
            of(c).need.saturating_mul(u128::from((*count).max(1))),
            of(c).cands.clone(),
        ),
    };
    cands.sort_unstable();
    cands.dedup();
    let latest_last = cands
        .iter()
        .map(|&o| obs[o as usize].last)
        .max()
        .unwrap_or(i64::MIN);
    out.insert(
        n as *const Node,
        Stat {
            need,
            cands,
            latest_last,
            single,
        },
    );
}

/// The rest of the search, called when a node has been bound (returns true to stop:
/// a match was found).
type Cont<'k, 'o> = &'k mut dyn FnMut(&mut Search<'o>) -> Result<bool, String>;

struct Search<'o> {
    obs: &'o [ObservedData],
    leaves: Vec<Vec<u32>>,
    /// Times each observed-data is bound so far.
    used: Vec<u64>,
    /// The observed-data bound so far, in binding order.
    path: Vec<u32>,
    frames: Vec<Frame>,
    steps: usize,
    budget: usize,
    depth: usize,
    found: Option<Vec<u32>>,
    stats: &'o Stats,
}

impl<'o> Search<'o> {
    fn interval(&self, o: u32) -> (i64, i64) {
        let od = &self.obs[o as usize];
        (od.first, od.last)
    }

    fn check_interval(&self, o: u32) -> Result<(), String> {
        let (f, l) = self.interval(o);
        if f > l {
            return Err(format!(
                "observed-data {} has first_observed after last_observed",
                self.obs[o as usize].id().unwrap_or("(no id)")
            ));
        }
        Ok(())
    }

    /// Can `o` be bound next, given the enclosing constraints?
    fn admissible(&self, o: u32) -> Result<bool, String> {
        if self.used[o as usize] >= self.obs[o as usize].number {
            return Ok(false);
        }
        let (f, l) = self.interval(o);
        for fr in &self.frames {
            match *fr {
                Frame::Within { start, d } => {
                    self.check_interval(o)?;
                    let mut max_first = f;
                    let mut min_last = l;
                    for &p in &self.path[start..] {
                        let (pf, pl) = self.interval(p);
                        max_first = max_first.max(pf);
                        min_last = min_last.min(pl);
                    }
                    if i128::from(max_first) > i128::from(min_last) + i128::from(d) {
                        return Ok(false);
                    }
                }
                Frame::StartStop(start, stop) => {
                    self.check_interval(o)?;
                    if !(f < stop && l >= start) {
                        return Ok(false);
                    }
                }
                Frame::After(t) => {
                    if l < t {
                        return Ok(false);
                    }
                }
                Frame::Before(t) => {
                    if f > t {
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }

    fn step(&mut self) -> Result<(), String> {
        self.steps += 1;
        if self.steps > self.budget {
            return Err(format!(
                "evaluation stopped after {} steps (the pattern is too costly over these observed-data)",
                self.budget
            ));
        }
        Ok(())
    }

    /// Run `k` with the frame on top of the stack (pushed by the caller) taken off,
    /// so the constraint applies only inside the node that pushed it.
    fn outside(&mut self, k: Cont<'_, 'o>) -> Result<bool, String> {
        let f = self.frames.pop();
        let r = k(self);
        if let Some(f) = f {
            self.frames.push(f);
        }
        r
    }

    fn with_frame(&mut self, f: Frame, n: &Node, k: Cont<'_, 'o>) -> Result<bool, String> {
        self.frames.push(f);
        let r = self.solve(n, &mut |s: &mut Search<'o>| s.outside(&mut *k));
        self.frames.pop();
        r
    }

    fn stat(&self, n: &Node) -> &'o Stat {
        let stats: &'o Stats = self.stats;
        &stats[&(n as *const Node)]
    }

    /// Can `need` more instances still be bound among `cands` (those from `from` on)?
    /// An instance counts if it is unbound and admissible now: the constraints only
    /// tighten as the binding grows, so one inadmissible now stays so below. (An
    /// observed-data whose admissibility is an error counts: the error is the
    /// search's to report, if it gets there.)
    fn enough(&mut self, need: u128, cands: &[u32], from: u32) -> Result<bool, String> {
        let mut have: u128 = 0;
        let first = cands.partition_point(|&o| o < from);
        for &o in &cands[first..] {
            self.step()?;
            if self.admissible(o).unwrap_or(true) {
                let od = &self.obs[o as usize];
                have += u128::from(od.number - self.used[o as usize].min(od.number));
                if have >= need {
                    return Ok(true);
                }
            }
        }
        Ok(have >= need)
    }

    fn solve(&mut self, n: &Node, k: Cont<'_, 'o>) -> Result<bool, String> {
        if self.depth >= MAX_SEARCH_DEPTH {
            return Err(format!(
                "evaluation stopped: the pattern nests or repeats too deeply over these observed-data (over {MAX_SEARCH_DEPTH} nested search steps; e.g. REPEATS over about 500)"
            ));
        }
        self.depth += 1;
        let r = self.solve_node(n, k);
        self.depth -= 1;
        r
    }

    fn solve_node(&mut self, n: &Node, k: Cont<'_, 'o>) -> Result<bool, String> {
        if !matches!(n, Node::Leaf(_)) {
            let st = self.stat(n);
            if !self.enough(st.need, &st.cands, 0)? {
                return Ok(false);
            }
        }
        match n {
            Node::Leaf(i) => {
                for j in 0..self.leaves[*i].len() {
                    let o = self.leaves[*i][j];
                    self.step()?;
                    if !self.admissible(o)? {
                        continue;
                    }
                    self.used[o as usize] += 1;
                    self.path.push(o);
                    let r = k(self);
                    self.path.pop();
                    self.used[o as usize] -= 1;
                    if r? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Node::And(a, b) => {
                // The side with fewer candidates first (fails sooner). The order is
                // fixed for the evaluation, so REPEATS copies stay comparable.
                let (a, b) = if self.stat(b).cands.len() < self.stat(a).cands.len() {
                    (b, a)
                } else {
                    (a, b)
                };
                self.solve(a, &mut |s: &mut Search<'o>| s.solve(b, &mut *k))
            }
            Node::Or(a, b) => Ok(self.solve(a, &mut *k)? || self.solve(b, &mut *k)?),
            Node::FollowedBy(a, b) => {
                let start = self.path.len();
                let before = Frame::Before(self.stat(b).latest_last);
                self.with_frame(before, a, &mut |s: &mut Search<'o>| {
                    let latest_first = s.path[start..]
                        .iter()
                        .map(|&o| s.interval(o).0)
                        .max()
                        .unwrap_or(i64::MIN);
                    s.with_frame(Frame::After(latest_first), b, &mut *k)
                })
            }
            Node::Within(c, d) => {
                let start = self.path.len();
                self.with_frame(Frame::Within { start, d: *d }, c, k)
            }
            Node::StartStop(c, start, stop) => {
                if start >= stop {
                    return Ok(false);
                }
                self.with_frame(Frame::StartStop(*start, *stop), c, k)
            }
            Node::Repeat(c, count) => {
                if *count <= 1 {
                    return self.solve(c, k);
                }
                self.repeat(c, *count, None, k)
            }
        }
    }

    /// `remaining` more copies of `c`. The copies are interchangeable, so they are
    /// bound in non-decreasing order of their bindings (`prev`: the previous copy's
    /// range in the path), which visits each multiset of copies once.
    fn repeat(
        &mut self,
        c: &Node,
        remaining: u64,
        prev: Option<(usize, usize)>,
        k: Cont<'_, 'o>,
    ) -> Result<bool, String> {
        // Not enough admissible instances left for the copies still to bind (one
        // observed-data per copy of a leaf: those from the previous copy's on).
        let st = self.stat(c);
        let from = match prev {
            Some((p, _)) if st.single => self.path[p],
            _ => 0,
        };
        if !self.enough(
            st.need.saturating_mul(u128::from(remaining)),
            &st.cands,
            from,
        )? {
            return Ok(false);
        }
        let start = self.path.len();
        self.solve(c, &mut |s: &mut Search<'o>| {
            let end = s.path.len();
            if let Some((ps, pe)) = prev {
                if s.path[start..end] < s.path[ps..pe] {
                    return Ok(false);
                }
            }
            if remaining == 1 {
                k(s)
            } else {
                s.repeat(c, remaining - 1, Some((start, end)), &mut *k)
            }
        })
    }
}

pub(crate) fn evaluate(plan: &Plan, obs: &[ObservedData]) -> Evaluation {
    run(plan, obs, SEARCH_BUDGET).0
}

/// The evaluation and the search steps it took.
fn run(plan: &Plan, obs: &[ObservedData], budget: usize) -> (Evaluation, usize) {
    let fail = |message: String| Evaluation {
        matched: false,
        matched_observed_data: Vec::new(),
        error: Some(EvalError { message }),
    };
    if let Some(e) = &plan.static_error {
        return (fail(e.clone()), 0);
    }
    let mut leaves = Vec::with_capacity(plan.leaves.len());
    for l in &plan.leaves {
        let mut matching = Vec::new();
        for (i, od) in obs.iter().enumerate() {
            match eval_leaf(l, od) {
                Ok(roots) if !roots.is_empty() => matching.push(i as u32),
                Ok(_) => {}
                Err(e) => {
                    let who = od.id().map(|id| format!(" ({id})")).unwrap_or_default();
                    return (fail(format!("observed-data {i}{who}: {e}")), 0);
                }
            }
        }
        leaves.push(matching);
    }
    let mut st = Stats::default();
    stats(&plan.node, &leaves, obs, &mut st);
    let mut s = Search {
        obs,
        stats: &st,
        leaves,
        used: vec![0; obs.len()],
        path: Vec::new(),
        frames: Vec::new(),
        steps: 0,
        budget,
        depth: 0,
        found: None,
    };
    let r = s.solve(&plan.node, &mut |s: &mut Search<'_>| {
        s.found = Some(s.path.clone());
        Ok(true)
    });
    let steps = s.steps;
    let eval = match r {
        Ok(true) => {
            let mut bound: Vec<usize> = s
                .found
                .unwrap_or_default()
                .into_iter()
                .map(|o| o as usize)
                .collect();
            bound.sort_unstable();
            bound.dedup();
            Evaluation {
                matched: true,
                matched_observed_data: bound,
                error: None,
            }
        }
        Ok(false) => Evaluation::default(),
        Err(e) => fail(e),
    };
    (eval, steps)
}

// ---------------------------------------------------------------------------------
// Simple terms

pub(crate) fn simple_terms(root: &PatternExpr) -> Option<Vec<SimpleTerm>> {
    fn obs(e: &PatternExpr, out: &mut Vec<SimpleTerm>) -> Option<()> {
        match e {
            PatternExpr::Or(a, b) => {
                obs(a, out)?;
                obs(b, out)
            }
            PatternExpr::Group(inner) => obs(inner, out),
            PatternExpr::Observation(o) => cmp(&o.expr, out),
            _ => None,
        }
    }
    fn cmp(e: &ComparisonExpr, out: &mut Vec<SimpleTerm>) -> Option<()> {
        match e {
            ComparisonExpr::Or(a, b) => {
                cmp(a, out)?;
                cmp(b, out)
            }
            ComparisonExpr::Group(inner) => cmp(inner, out),
            ComparisonExpr::And(..) => None,
            ComparisonExpr::Test(c) => {
                if c.negated {
                    return None;
                }
                let term = |v: &str| SimpleTerm {
                    object_type: c.path.object_type.clone(),
                    path: c.path.property_text(),
                    value: v.to_string(),
                };
                match &c.op {
                    CompOp::Eq(Literal::Str(s)) => out.push(term(s)),
                    CompOp::In(set) if !set.is_empty() => {
                        for l in set {
                            let Literal::Str(s) = l else { return None };
                            out.push(term(s));
                        }
                    }
                    _ => return None,
                }
                Some(())
            }
        }
    }
    let mut out = Vec::new();
    obs(root, &mut out)?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use serde_json::json;

    use super::*;
    use crate::pattern::{Pattern, StixVersion};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2004, 10, 11, 21, 44, 58)
            .single()
            .unwrap_or_default()
    }

    /// `n` observed-data of one person each (age = index), `step_ms` apart.
    fn people(n: usize, step_ms: i64) -> Vec<ObservedData> {
        (0..n)
            .map(|i| {
                let t = t0() + Duration::milliseconds(step_ms * i as i64);
                let person = json!({"type": "person", "name": "alice", "age": i});
                ObservedData::new(t, t, 1, vec![("0".into(), person)])
            })
            .collect()
    }

    fn eval_budget(pattern: &str, obs: &[ObservedData], budget: usize) -> (Evaluation, usize) {
        let p = Pattern::parse_version(pattern, StixVersion::V2_0)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"));
        run(&p.plan, obs, budget)
    }

    fn eval(pattern: &str, obs: &[ObservedData]) -> (Evaluation, usize) {
        eval_budget(pattern, obs, SEARCH_BUDGET)
    }

    /// stix2-matcher's `test_combinatorial_explosion_match` vectors (20 observed-data
    /// a second apart, ages 0..19): each outcome within a few thousand steps.
    #[test]
    fn combinatorial_patterns_take_few_steps() {
        let obs = people(20, 1000);
        let start = "START '2004-10-11T21:40:00Z' STOP '2004-10-11T21:50:00Z'";
        let a = "[person:age < 20]";
        for (p, matched) in [
            (format!("{a} REPEATS 10 TIMES"), true),
            (format!("{a} REPEATS 10 TIMES WITHIN 10 SECONDS"), true),
            (format!("{a} REPEATS 10 TIMES {start}"), true),
            (format!("{a} REPEATS 10 TIMES AND {a}"), true),
            (format!("{a} REPEATS 10 TIMES OR {a}"), true),
            (format!("{a} REPEATS 10 TIMES FOLLOWEDBY {a}"), true),
            (format!("{a} REPEATS 5 TIMES REPEATS 2 TIMES"), true),
            (format!("{a} REPEATS 2 TIMES REPEATS 5 TIMES"), true),
            ([a; 10].join(" AND "), true),
            ([a; 10].join(" OR "), true),
            (
                format!("({a} FOLLOWEDBY [person:age > 5]) REPEATS 10 TIMES"),
                true,
            ),
            (format!("{a} REPEATS 10 TIMES WITHIN 8 SECONDS"), false),
            (format!("{a} REPEATS 21 TIMES"), false),
            (
                format!("{a} REPEATS 10 TIMES AND {a} REPEATS 11 TIMES"),
                false,
            ),
        ] {
            let (e, steps) = eval(&p, &obs);
            assert_eq!(e.error, None, "{p}");
            assert_eq!(e.matched, matched, "{p}");
            assert!(steps < 5_000, "{p}: {steps} steps");
        }
    }

    /// What the candidate sets rule out is not searched: a side nothing matches, a
    /// count no window holds, a FOLLOWEDBY whose right side is all earlier.
    #[test]
    fn impossible_patterns_are_pruned_early() {
        let obs = people(60, 500);
        for p in [
            "[person:age >= 0] REPEATS 20 TIMES FOLLOWEDBY [person:age < 0]",
            "[person:age >= 0] REPEATS 30 TIMES WITHIN 10 SECONDS",
            "([person:age >= 0] OR [person:age >= 1]) REPEATS 25 TIMES WITHIN 10 SECONDS",
            "[person:age >= 1] REPEATS 10 TIMES FOLLOWEDBY [person:age = 0]",
            "([person:age >= 0] FOLLOWEDBY [person:age >= 0]) WITHIN 0.4 SECONDS",
        ] {
            let (e, steps) = eval(p, &obs);
            assert_eq!(e.error, None, "{p}");
            assert!(!e.matched, "{p}");
            assert!(steps < 10_000, "{p}: {steps} steps");
        }
    }

    /// Deep patterns evaluate up to a bound, then fail with an error (not a stack
    /// overflow), on a test thread's 2 MB stack.
    #[test]
    fn deep_patterns_are_bounded() {
        let t = t0();
        let obs: Vec<ObservedData> = (0..10)
            .map(|i| {
                let person = json!({"type": "person", "name": "alice", "age": i});
                ObservedData::new(t, t, 1000, vec![("0".into(), person)])
            })
            .collect();
        let person = "[person:age >= 0]";
        for (p, ok) in [
            ([person; 500].join(" AND "), true),
            (
                format!("{person} REPEATS 1000 TIMES WITHIN 1 SECONDS"),
                true,
            ),
            ([person; 1000].join(" AND "), false),
            (
                format!("{person} REPEATS 5000 TIMES WITHIN 1 SECONDS"),
                false,
            ),
        ] {
            let (e, _) = eval(&p, &obs);
            assert_eq!(e.matched, ok, "{:?}", e.error);
            let msg = e.error.map(|e| e.message).unwrap_or_default();
            assert_eq!(msg.contains("too deeply"), !ok, "{msg}");
        }
        // Longer chains are refused by the parser (they would overflow it).
        let long = [person; 1002].join(" AND ");
        let e = Pattern::parse(&long)
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(e.contains("more than 1000 operators"), "{e}");
    }

    /// The budget stops a search that would run long, with an error.
    #[test]
    fn the_budget_stops_a_long_search() {
        let obs = people(60, 500);
        let p =
            "(([person:age >= 0] REPEATS 5 TIMES) FOLLOWEDBY [person:age = 59]) WITHIN 5 SECONDS";
        let (e, steps) = eval(p, &obs);
        assert!(e.matched && steps > 10_000, "{steps} steps");
        let (e, steps) = eval_budget(p, &obs, 10_000);
        assert!(!e.matched);
        assert_eq!(steps, 10_001);
        let msg = e.error.map(|e| e.message).unwrap_or_default();
        assert!(msg.contains("stopped after 10000 steps"), "{msg}");
    }
}
