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
    if lit.is_empty() {
        None
    } else {
        Some(lower(&lit))
    }
}

fn test_req(t: &FieldTest) -> Option<Req> {
    let f = t.field?;
    match &t.test {
        Test::Match {
            pats,
            all,
            neq: false,
            or_null: false,
        } => {
            if *all {
                pats.iter()
                    .filter_map(|p| pat_literal(p).map(|l| vec![(f, l)]))
                    .max_by_key(score)
            } else {
                let mut out = Vec::with_capacity(pats.len());
                for p in pats {
                    out.push((f, pat_literal(p)?));
                }
                Some(out)
            }
        }
        _ => None,
    }
}

/// Higher is better: longer shortest literal, then fewer alternatives.
fn score(r: &Req) -> (usize, std::cmp::Reverse<usize>) {
    let min = r.iter().map(|(_, l)| l.len()).min().unwrap_or(0);
    (min.min(12), std::cmp::Reverse(r.len()))
}

fn best(cands: impl Iterator<Item = Option<Req>>) -> Option<Req> {
    cands.flatten().max_by_key(score)
}

fn union(parts: impl Iterator<Item = Option<Req>>) -> Option<Req> {
    let mut out = Vec::new();
    for p in parts {
        out.extend(p?);
    }
    Some(out)
}

fn sel_req(s: &Selection) -> Option<Req> {
    union(s.alts.iter().map(|alt| best(alt.iter().map(test_req))))
}

fn expr_req(e: &Expr, sels: &[Selection]) -> Option<Req> {
    match e {
        Expr::Sel(i) => sel_req(&sels[*i]),
        Expr::And(v) => best(v.iter().map(|x| expr_req(x, sels))),
        Expr::Or(v) => union(v.iter().map(|x| expr_req(x, sels))),
        // At least one of n operands (n ≥ 1) must hold, so the union is necessary.
        Expr::AtLeast(_, v) => union(v.iter().map(|x| expr_req(x, sels))),
        Expr::Not(_) => None,
    }
}

/// The literal requirement of a detection, if it has one.
pub fn requirement(d: &Detection) -> Option<Req> {
    let mut r = expr_req(&d.expr, &d.sels)?;
    r.sort();
    r.dedup();
    Some(r)
}

/// Literals of one field: list, literal → index, rules per literal.
type FieldLits = (Vec<String>, FxHashMap<String, usize>, Vec<Vec<u32>>);

/// Per-field automata over required literals.
#[derive(Debug, Default)]
pub struct Prefilter {
    /// (field, automaton, rules per pattern).
    pub fields: Vec<(FieldId, AhoCorasick, Vec<Vec<u32>>)>,
    /// Rules with no requirement: always evaluated.
    pub always: Vec<u32>,
}

impl Prefilter {
    /// Builds the index; `reqs[i]` is rule i's requirement.
    pub fn build(reqs: &[Option<Req>]) -> Prefilter {
        let mut by_field: FxHashMap<FieldId, FieldLits> = FxHashMap::default();
        let mut always = Vec::new();
        for (i, r) in reqs.iter().enumerate() {
            let Some(r) = r else {
                always.push(i as u32);
                continue;
            };
            for (f, lit) in r {
                let e = by_field.entry(*f).or_default();
                let idx = *e.1.entry(lit.clone()).or_insert_with(|| {
                    e.0.push(lit.clone());
                    e.2.push(Vec::new());
                    e.0.len() - 1
                });
                if e.2[idx].last() != Some(&(i as u32)) {
                    e.2[idx].push(i as u32);
                }
            }
        }
        let mut fields = Vec::new();
        let mut keys: Vec<_> = by_field.into_iter().collect();
        keys.sort_by_key(|(f, _)| *f);
        for (f, (lits, _, rules)) in keys {
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&lits)
                .or_else(|_| AhoCorasick::builder().build(&lits));
            match ac {
                Ok(ac) => fields.push((f, ac, rules)),
                Err(e) => {
                    // Cannot happen for plain literals; degrade to always evaluating.
                    tracing::warn!("literal index for field {f} not built: {e}");
                    for rs in rules {
                        always.extend(rs);
                    }
                }
            }
        }
        always.sort_unstable();
        always.dedup();
        Prefilter { fields, always }
    }
}
