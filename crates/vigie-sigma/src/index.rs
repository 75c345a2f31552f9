//! The literal prefilter: for each rule, a set of (field, literal) of which at least one
//! must occur (as a substring of the lowercased field value) for the rule to possibly
//! match. One Aho-Corasick automaton per field finds the present literals per event, so
//! only the rules they point to (plus rules without such a set) are evaluated.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use rustc_hash::FxHashMap;

use crate::detect::{Detection, Expr, FieldId, FieldTest, Pat, Selection, Test};
use crate::pattern::{GTok, StrPat};
use crate::sstr::lower;

/// (field, lowercase literal) alternatives; one must be present.
type Req = Vec<(FieldId, String)>;

/// Marks a literal of a [`Req`] that is a whole value, not a substring: `EXACT` then the
/// lowercased value. A value compared for equality that is too short to be selective
/// as a substring (`a0: id`, `euid: 33`) is looked up whole in a hash table instead.
/// No substring literal starts with it (such a literal is not indexed).
pub const EXACT: char = '\u{1}';

/// Literals one of which any value matching `p` contains (lowercased), or, when
/// `exact_ok`, the whole value it equals (see [`EXACT`]).
fn pat_literals(p: &Pat, exact_ok: bool) -> Option<Vec<String>> {
    let lits = match p {
        Pat::Re(r) => regex_literals(r.as_str()),
        Pat::CiAny(set) => set
            .needles
            .iter()
            .all(|n| selective(n))
            .then(|| set.needles.clone()),
        p => match pat_literal(p) {
            Some(l) => Some(vec![l]),
            None if exact_ok => return exact_literal(p).map(|l| vec![l]),
            None => None,
        },
    }?;
    // A substring literal starting with the marker would read as a whole value.
    (!lits.iter().any(|l| l.starts_with(EXACT))).then_some(lits)
}

/// An equality's value, marked [`EXACT`].
fn exact_literal(p: &Pat) -> Option<String> {
    match p {
        Pat::Ci(StrPat::Exact(s)) | Pat::Cs(StrPat::Exact(s)) if !s.is_empty() => {
            Some(format!("{EXACT}{}", lower(s)))
        }
        _ => None,
    }
}

/// Necessary literals of a regex: its finite prefix (or suffix) literal set, when every
/// member is long enough to be selective.
fn regex_literals(src: &str) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::ParserBuilder::new().build().parse(src).ok()?;
    let mut best: Option<Vec<String>> = None;
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let mut ex = Extractor::new();
        ex.kind(kind);
        let seq = ex.extract(&hir);
        let Some(lits) = seq.literals() else { continue };
        if lits.is_empty() {
            continue;
        }
        let mut v = Vec::with_capacity(lits.len());
        for l in lits {
            let Ok(t) = std::str::from_utf8(l.as_bytes()) else {
                v.clear();
                break;
            };
            if !selective(t) {
                v.clear();
                break;
            }
            v.push(lower(t));
        }
        if v.is_empty() {
            continue;
        }
        v.sort();
        v.dedup();
        let better = match &best {
            None => true,
            Some(b) => {
                let min = |x: &Vec<String>| x.iter().map(String::len).min().unwrap_or(0);
                (min(&v), std::cmp::Reverse(v.len())) > (min(b), std::cmp::Reverse(b.len()))
            }
        };
        if better {
            best = Some(v);
        }
    }
    best
}

/// Long enough to be rare in values (any non-ASCII character counts as rare).
fn selective(lit: &str) -> bool {
    lit.len() >= MIN_LITERAL || !lit.is_ascii()
}

fn pat_literal(p: &Pat) -> Option<String> {
    let sp = match p {
        Pat::Ci(s) => s,
        Pat::Cs(s) => s,
        _ => return None,
    };
    let lit: String = match sp {
        StrPat::Exact(s) | StrPat::Prefix(s) | StrPat::Suffix(s) => s.clone(),
        StrPat::Contains(f) => String::from_utf8_lossy(f.needle()).into_owned(),
        StrPat::Frags { first, mids, last } => {
            let mut best = if first.len() >= last.len() {
                first.clone()
            } else {
                last.clone()
            };
            for m in mids {
                if m.needle().len() > best.len() {
                    best = String::from_utf8_lossy(m.needle()).into_owned();
                }
            }
            best
        }
        StrPat::Glob(toks) => {
            let mut best = String::new();
            let mut cur = String::new();
            for t in toks {
                if let GTok::Char(c) = t {
                    cur.push(*c);
                } else {
                    if cur.len() > best.len() {
                        best = std::mem::take(&mut cur);
                    }
                    cur.clear();
                }
            }
            if cur.len() > best.len() {
                best = cur;
            }
            best
        }
        StrPat::Any => String::new(),
    };
    // Very short literals occur in nearly every value and would flood the automaton
    // with hits; such a rule is better evaluated through its other selections, or always.
    if selective(&lit) {
        Some(lower(&lit))
    } else {
        None
    }
}

/// Above this many literals a DFA gets too big for the caches; the contiguous NFA is
/// smaller and faster there (measured on the SigmaHQ rules).
const DFA_MAX_PATTERNS: usize = 400;

/// Shortest literal worth indexing.
const MIN_LITERAL: usize = 3;

/// Pseudo field id of keyword (whole-event) literals: searched in every leaf.
pub const KEYWORDS: FieldId = FieldId::MAX;

/// Requirements that must all hold (each a set of alternatives); at most
/// [`MAX_CONJ`], the most selective. Empty: no requirement.
pub type Conj = Vec<Req>;

/// How many independent literal sets a rule must show before it is evaluated.
pub const MAX_CONJ: usize = 2;

fn test_req(t: &FieldTest) -> Conj {
    let f = t.field.unwrap_or(KEYWORDS);
    match &t.test {
        Test::Match {
            pats,
            all,
            neq: false,
            or_null: false,
        } => {
            let with_field = |ls: Vec<String>| ls.into_iter().map(|l| (f, l)).collect::<Req>();
            // Keywords are searched in every leaf as substrings: no whole values there.
            let exact_ok = t.field.is_some();
            if *all {
                top(pats
                    .iter()
                    .filter_map(|p| pat_literals(p, exact_ok).map(with_field))
                    .collect())
            } else {
                let mut out = Vec::with_capacity(pats.len());
                for p in pats {
                    match pat_literals(p, exact_ok) {
                        Some(ls) => out.extend(with_field(ls)),
                        None => return Vec::new(),
                    }
                }
                vec![out]
            }
        }
        _ => Vec::new(),
    }
}

/// Higher is better: longer shortest literal, then fewer alternatives. A whole value
/// counts as eight characters at least: equality with `id` is about as rare as a
/// substring of eight.
fn score(r: &Req) -> (usize, std::cmp::Reverse<usize>) {
    let len = |l: &String| match l.strip_prefix(EXACT) {
        Some(v) => v.len().max(8),
        None => l.len(),
    };
    let min = r.iter().map(|(_, l)| len(l)).min().unwrap_or(0);
    (min.min(12), std::cmp::Reverse(r.len()))
}

/// The most selective requirements of a conjunction, normalised and distinct. A
/// requirement whose alternatives include all of another's is implied by it (it holds
/// whenever the other does) and is dropped, so it takes no place from a selective one.
fn top(mut c: Conj) -> Conj {
    for r in &mut c {
        r.sort();
        r.dedup();
    }
    c.sort_by(|a, b| score(b).cmp(&score(a)).then_with(|| a.cmp(b)));
    c.dedup();
    let implied = |i: usize, c: &Conj| {
        c.iter().enumerate().any(|(j, other)| {
            j != i
                && other.len() < c[i].len()
                && other.iter().all(|x| c[i].binary_search(x).is_ok())
        })
    };
    let keep: Vec<bool> = (0..c.len()).map(|i| !implied(i, &c)).collect();
    let mut keep = keep.into_iter();
    c.retain(|_| keep.next().unwrap_or(true));
    c.truncate(MAX_CONJ);
    c
}

/// Any of several conjunctions holds: up to [`MAX_CONJ`] requirements, the k-th the union
/// of each one's k-th best requirement (its last when it has fewer), and the requirements
/// every conjunction has. Each holds whichever conjunction does, so the rule needs them
/// all. An alternative gives its own requirements to the unions before those it shares
/// with others: one shared by all (`type: EXECVE` in each selection of an auditd rule,
/// `Provider_Name` in each of a Security rule) is a requirement on its own, and in a
/// union it would make the union hold on every event that has it, where the unions of
/// the own requirements (`a0: chmod | a1: /bin/sh`, `EventID: 1102`) rule events out.
fn any_of(parts: impl Iterator<Item = Conj>) -> Conj {
    let parts: Vec<Conj> = parts.collect();
    let Some(first) = parts.first() else {
        return Vec::new();
    };
    if parts.iter().any(Vec::is_empty) {
        return Vec::new();
    }
    // How many alternatives have each requirement (normalised by `top`: sorted and
    // distinct, so equal ones compare equal). One that several share adds the same
    // literal to several unions' worth of events, so each alternative gives its rarest
    // first (stable: among equals, the most selective first, as `top` ordered them).
    let shared = |r: &Req| parts.iter().filter(|p| p.contains(r)).count();
    let common: Vec<Req> = first
        .iter()
        .filter(|r| shared(r) == parts.len())
        .cloned()
        .collect();
    let mut out: Vec<Req> = vec![Vec::new(); MAX_CONJ];
    for p in &parts {
        let mut ordered: Vec<&Req> = p.iter().collect();
        ordered.sort_by_key(|r| shared(r));
        let Some(last) = ordered.last().copied() else {
            return Vec::new();
        };
        for (k, req) in out.iter_mut().enumerate() {
            req.extend(ordered.get(k).copied().unwrap_or(last).iter().cloned());
        }
    }
    out.extend(common);
    top(out)
}

fn sel_req(s: &Selection) -> Conj {
    let alt = |a: &Vec<FieldTest>| top(a.iter().flat_map(test_req).collect());
    if s.alts.len() == 1 {
        alt(&s.alts[0])
    } else {
        any_of(s.alts.iter().map(alt))
    }
}

fn expr_req(e: &Expr, sels: &[Selection]) -> Conj {
    match e {
        Expr::Sel(i) => sel_req(&sels[*i]),
        Expr::And(v) => top(v.iter().flat_map(|x| expr_req(x, sels)).collect()),
        Expr::AtLeast(k, v) if *k >= v.len() => {
            top(v.iter().flat_map(|x| expr_req(x, sels)).collect())
        }
        // At least one operand must hold.
        Expr::Or(v) | Expr::AtLeast(_, v) => any_of(v.iter().map(|x| expr_req(x, sels))),
        Expr::Not(_) => Vec::new(),
    }
}

/// The literal requirements of a detection (empty: none).
pub fn requirement(d: &Detection) -> Conj {
    expr_req(&d.expr, &d.sels)
}

/// What one literal serves: per rule, (rule, its requirement bit, all the bits the rule
/// needs). Carrying the rule's full mask here (free: the tuple's padding) lets a group's
/// index be built on its own, without a table shared by every group.
pub type RuleBits = Vec<(u32, u8, u8)>;

/// Literals of one field: list, literal → index, the [`RuleBits`] of each literal.
type FieldLits = (Vec<String>, FxHashMap<String, usize>, Vec<RuleBits>);

/// One field's automaton and, per literal, the (rule, requirement bit) it serves.
pub type FieldIndex = (FieldId, LazyAc, Vec<RuleBits>, ExactValues);

/// Whole lowercased values → pattern index (after the automaton's patterns), for the
/// [`EXACT`] literals of one field.
pub type ExactValues = FxHashMap<Box<str>, u32>;

/// A field's automaton, built the first time an event of its logsource has the field
/// (dereferences to the [`AhoCorasick`]): most logsources' indexes are never consulted by
/// a given hunt, and building every automaton at load was the larger part of load time.
/// Same automaton kinds as an eager build: a DFA up to [`DFA_MAX_PATTERNS`] literals,
/// else a contiguous NFA; on a build error, the default builder.
pub struct LazyAc {
    lits: Vec<String>,
    ac: std::sync::OnceLock<AhoCorasick>,
}

impl std::fmt::Debug for LazyAc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LazyAc({} literals)", self.lits.len())
    }
}

impl LazyAc {
    fn new(lits: Vec<String>) -> LazyAc {
        LazyAc {
            lits,
            ac: std::sync::OnceLock::new(),
        }
    }

    fn build(lits: &[String]) -> Result<AhoCorasick, aho_corasick::BuildError> {
        AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .kind(Some(if lits.len() <= DFA_MAX_PATTERNS {
                AhoCorasickKind::DFA
            } else {
                AhoCorasickKind::ContiguousNFA
            }))
            .build(lits)
            .or_else(|_| AhoCorasick::builder().build(lits))
    }
}

impl std::ops::Deref for LazyAc {
    type Target = AhoCorasick;
    fn deref(&self) -> &AhoCorasick {
        self.ac.get_or_init(|| {
            // Checked at load (`Prefilter::build`): plain literals always build.
            LazyAc::build(&self.lits).unwrap_or_else(|e| {
                tracing::error!("literal index not built: {e}");
                match AhoCorasick::new([""; 0]) {
                    Ok(ac) => ac,
                    // No pattern, no state to overflow: a constant, not input.
                    Err(e) => unreachable!("empty automaton: {e}"),
                }
            })
        })
    }
}

/// Per-field automata over required literals.
#[derive(Debug, Default)]
pub struct Prefilter {
    /// (field, automaton, (rule, requirement bit) per pattern).
    pub fields: Vec<FieldIndex>,
    /// Rules with no requirement: always evaluated.
    pub always: Vec<u32>,
    /// A SIMD (Teddy) search for any keyword literal, when the CPU has one and there are
    /// few enough literals. Keyword literals are searched in every leaf of every event,
    /// nearly all of which hold none; this rules a leaf out some ten times faster than
    /// the automaton steps through it (with `AhoCorasick`'s own prefilter the overlapping
    /// search did not get faster on these literals).
    pub keyword_pre: Option<aho_corasick::packed::Searcher>,
    /// No keyword literal holds [`KEYWORD_SEP`], so the leaves of an event can be searched
    /// as one text, joined by it: a literal found there lies inside one leaf.
    pub keywords_joinable: bool,
}

/// Whether an automaton over `lits` can be built: aho-corasick fails only when the
/// pattern count or the state count overflows its 32-bit ids, and a trie has at most one
/// state per literal byte (plus the root); over that, the real build says why.
/// Over that size the automaton is built now (eagerly), so that a failure is known at
/// load and its rules fall back to being always evaluated.
fn buildable(lits: Vec<String>) -> Result<LazyAc, String> {
    let bytes: usize = lits.iter().map(String::len).sum();
    let lazy = LazyAc::new(lits);
    if lazy.lits.len() < (i32::MAX as usize) / 2 && bytes < (i32::MAX as usize) / 4 {
        return Ok(lazy);
    }
    let ac = LazyAc::build(&lazy.lits).map_err(|e| e.to_string())?;
    let _ = lazy.ac.set(ac);
    Ok(lazy)
}

/// What joins the leaves of an event for one keyword search (see
/// [`Prefilter::keywords_joinable`]).
pub const KEYWORD_SEP: char = '\0';

impl Prefilter {
    /// Builds the index over some rules: (rule index, its requirements).
    pub fn build(reqs: &[(u32, Conj)]) -> Prefilter {
        let mut by_field: FxHashMap<FieldId, FieldLits> = FxHashMap::default();
        let mut always = Vec::new();
        for (i, conj) in reqs {
            if conj.is_empty() {
                always.push(*i);
                continue;
            }
            let need = ((1u16 << conj.len()) - 1) as u8;
            for (bit, r) in conj.iter().enumerate() {
                let bit = 1u8 << bit;
                for (f, lit) in r {
                    let e = by_field.entry(*f).or_default();
                    let idx = *e.1.entry(lit.clone()).or_insert_with(|| {
                        e.0.push(lit.clone());
                        e.2.push(Vec::new());
                        e.0.len() - 1
                    });
                    if !e.2[idx].contains(&(*i, bit, need)) {
                        e.2[idx].push((*i, bit, need));
                    }
                }
            }
        }
        let mut fields = Vec::new();
        let mut keyword_pre = None;
        let mut keywords_joinable = true;
        let mut keys: Vec<_> = by_field.into_iter().collect();
        keys.sort_by_key(|(f, _)| *f);
        for (f, (all_lits, _, all_rules)) in keys {
            // Substring literals first (the automaton's pattern ids), whole values after.
            let mut lits = Vec::with_capacity(all_lits.len());
            let mut rules = Vec::with_capacity(all_rules.len());
            let mut exact: Vec<(Box<str>, RuleBits)> = Vec::new();
            for (l, r) in all_lits.into_iter().zip(all_rules) {
                match l.strip_prefix(EXACT) {
                    Some(v) => exact.push((v.into(), r)),
                    None => {
                        lits.push(l);
                        rules.push(r);
                    }
                }
            }
            let mut exact_values = ExactValues::default();
            for (v, r) in exact {
                // Distinct: `by_field` keeps each literal once.
                exact_values.insert(v, rules.len() as u32);
                rules.push(r);
            }
            if f == KEYWORDS {
                keywords_joinable = !lits.iter().any(|l| l.contains(KEYWORD_SEP));
                keyword_pre = aho_corasick::packed::Config::new()
                    .builder()
                    .extend(&lits)
                    .build();
            }
            // The automaton is built on first use; what could make it fail (more
            // patterns or states than its ids hold) is ruled out here by size.
            match buildable(lits) {
                Ok(ac) => fields.push((f, ac, rules, exact_values)),
                Err(e) => {
                    // Cannot happen for plain literals; degrade to always evaluating.
                    tracing::warn!("literal index for field {f} not built: {e}");
                    for rs in rules {
                        always.extend(rs.into_iter().map(|(r, _, _)| r));
                    }
                }
            }
        }
        always.sort_unstable();
        always.dedup();
        Prefilter {
            fields,
            always,
            keyword_pre,
            keywords_joinable,
        }
    }
}
