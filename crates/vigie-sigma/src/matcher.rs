//! Per-thread matching: one walk over the event fills a slot per known field name,
//! values are lowercased once, the literal index picks candidate rules, logsource
//! conditions are evaluated once per event, then candidates are evaluated in rule order.

use std::sync::Arc;

use serde_json::Value;
use vigie_event::Event;

use crate::detect::Ctx;
use crate::mapping::FieldCond;
use crate::ruleset::RuleSet;
use crate::sstr::{lower, lower_into};
use crate::types::{Match, RuleId};

/// Reuses a vector's allocation for another element type of the same layout (the
/// standard library collects in place for `into_iter().filter_map()`); the result is empty.
fn reuse<T, U>(v: Vec<T>) -> Vec<U> {
    v.into_iter().filter_map(|_| None).collect()
}

/// Matches events against a [`RuleSet`]; one per thread, buffers reused across events.
pub struct Matcher<'r> {
    rs: &'r RuleSet,
    slots: Vec<Option<&'static Value>>,
    all: Vec<&'static Value>,
    all_lower: Vec<String>,
    prio: Vec<u8>,
    touched: Vec<u32>,
    lower: Vec<String>,
    text: Vec<String>,
    scratch: String,
    gen: u32,
    ls_stamp: Vec<u32>,
    ls_ok: Vec<bool>,
    cand_stamp: Vec<u32>,
    /// Requirement bits seen this event, per rule (valid where `cand_stamp` is current);
    /// bit 7 marks "already a candidate".
    cand_bits: Vec<u8>,
    cands: Vec<u32>,
    sel_buf: Vec<usize>,
    low_buf: String,
    stats: MatcherStats,
}

/// Counters of one matcher (diagnostics: how well the index prunes).
#[derive(Debug, Clone, Copy, Default)]
pub struct MatcherStats {
    pub events: u64,
    /// Rules picked by the literal index (or unindexed) across all events.
    pub candidates: u64,
    /// Candidates whose logsource held and whose detection was evaluated.
    pub evaluated: u64,
    pub matches: u64,
}

impl<'r> Matcher<'r> {
    pub fn new(rs: &'r RuleSet) -> Matcher<'r> {
        let nf = rs.field_names.len();
        Matcher {
            rs,
            slots: Vec::with_capacity(nf),
            all: Vec::new(),
            all_lower: Vec::new(),
            prio: vec![u8::MAX; nf],
            touched: Vec::new(),
            lower: vec![String::new(); nf],
            text: vec![String::new(); nf],
            scratch: String::new(),
            gen: 0,
            ls_stamp: vec![0; rs.logsources.len()],
            ls_ok: vec![false; rs.logsources.len()],
            cand_stamp: vec![0; rs.rules.len()],
            cand_bits: vec![0; rs.rules.len()],
            cands: Vec::new(),
            sel_buf: Vec::new(),
            low_buf: String::new(),
            stats: MatcherStats::default(),
        }
    }

    /// Counters since this matcher was made.
    pub fn stats(&self) -> MatcherStats {
        self.stats
    }

    /// Appends the matches of `ev` to `out`, in rule order.
    pub fn scan(&mut self, ev: &Event, out: &mut Vec<Match>) {
        let rs = self.rs;
        self.gen = self.gen.wrapping_add(1);
        if self.gen == 0 {
            self.ls_stamp.iter_mut().for_each(|s| *s = 0);
            self.cand_stamp.iter_mut().for_each(|s| *s = 0);
            self.gen = 1;
        }
        let gen = self.gen;
        let nf = rs.field_names.len();
        let mut slots: Vec<Option<&Value>> = reuse(std::mem::take(&mut self.slots));
        slots.resize(nf, None);
        let mut all: Vec<&Value> = reuse(std::mem::take(&mut self.all));

        // 1. One walk: fill slots for known names (best priority wins).
        {
            let prio = &mut self.prio;
            let touched = &mut self.touched;
            let want_all = rs.has_keywords;
            let lookup = &rs.lookup;
            ev.visit_fields(&mut self.scratch, &mut |name, v| {
                // The walk gives a leaf under several names in a row; keep it once.
                if want_all && !all.last().is_some_and(|l| std::ptr::eq(*l, v)) {
                    match v {
                        Value::Array(a) => all.extend(a.iter().filter(|e| is_scalar(e))),
                        v if is_scalar(v) => all.push(v),
                        _ => {}
                    }
                }
                if let Some(ts) = lookup.get(name) {
                    for &(f, p) in ts {
                        let fi = f as usize;
                        if slots[fi].is_none() {
                            touched.push(f);
                            slots[fi] = Some(v);
                            prio[fi] = p;
                        } else if p < prio[fi] {
                            slots[fi] = Some(v);
                            prio[fi] = p;
                        }
                    }
                }
            });
        }
        // 2. Case-fold each scalar once.
        for &f in &self.touched {
            let fi = f as usize;
            match slots[fi] {
                Some(Value::String(s)) => lower_into(s, &mut self.lower[fi]),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                    let t = &mut self.text[fi];
                    t.clear();
                    match v {
                        Value::Number(n) => {
                            use std::fmt::Write;
                            let _ = write!(t, "{n}");
                        }
                        Value::Bool(b) => t.push_str(if *b { "true" } else { "false" }),
                        _ => {}
                    }
                    self.lower[fi].clear();
                    self.lower[fi].push_str(t);
                }
                _ => self.lower[fi].clear(),
            }
        }
        if rs.has_keywords {
            if self.all_lower.len() < all.len() {
                self.all_lower.resize(all.len(), String::new());
            }
            for (v, low) in all.iter().zip(self.all_lower.iter_mut()) {
                match v {
                    Value::String(s) => lower_into(s, low),
                    v => {
                        low.clear();
                        if let Some(t) = crate::detect::scalar_text(v) {
                            low.push_str(&t);
                        }
                    }
                }
            }
        }
        // 3. Candidates from the literal indexes of the logsources the event satisfies.
        self.cands.clear();
        {
            let ctx = Ctx {
                vals: &slots,
                lower: &self.lower,
                text: &self.text,
                all: &all,
                all_lower: &self.all_lower[..all.len().min(self.all_lower.len())],
            };
            for (ls, pf) in &rs.groups {
                if let Some(ls) = ls {
                    let li = *ls as usize;
                    if self.ls_stamp[li] != gen {
                        self.ls_stamp[li] = gen;
                        self.ls_ok[li] = ls_holds(&rs.logsources[li].alts, &ctx);
                    }
                    if !self.ls_ok[li] {
                        continue;
                    }
                }
                for (f, ac, rules) in &pf.fields {
                    let need = &rs.need;
                    let bits = &mut self.cand_bits;
                    let mut mark = |hay: &str, cands: &mut Vec<u32>, stamp: &mut [u32]| {
                        for m in ac.find_overlapping_iter(hay) {
                            for &(r, bit) in &rules[m.pattern().as_usize()] {
                                let ri = r as usize;
                                if stamp[ri] != gen {
                                    stamp[ri] = gen;
                                    bits[ri] = 0;
                                }
                                let b = bits[ri] | bit;
                                if b & 0x80 == 0 && b == need[ri] {
                                    cands.push(r);
                                    bits[ri] = b | 0x80;
                                } else {
                                    bits[ri] = b;
                                }
                            }
                        }
                    };
                    if *f == crate::index::KEYWORDS {
                        for low in ctx.all_lower {
                            mark(low, &mut self.cands, &mut self.cand_stamp);
                        }
                        continue;
                    }
                    let fi = *f as usize;
                    match slots[fi] {
                        None | Some(Value::Null) | Some(Value::Object(_)) => {}
                        Some(Value::Array(a)) => {
                            for e in a {
                                if let Some(t) = crate::detect::scalar_text(e) {
                                    lower_into(&t, &mut self.low_buf);
                                    mark(&self.low_buf, &mut self.cands, &mut self.cand_stamp);
                                }
                            }
                        }
                        Some(_) => mark(&self.lower[fi], &mut self.cands, &mut self.cand_stamp),
                    }
                }
                // Unindexed rules appear in one group only, once.
                self.cands.extend_from_slice(&pf.always);
            }
        }
        self.cands.sort_unstable();
        self.stats.events += 1;
        self.stats.candidates += self.cands.len() as u64;

        // 4. Evaluate candidates.
        {
            let ctx = Ctx {
                vals: &slots,
                lower: &self.lower,
                text: &self.text,
                all: &all,
                all_lower: &self.all_lower[..all.len().min(self.all_lower.len())],
            };
            for &r in &self.cands {
                let rule = &rs.rules[r as usize];
                if let Some(ls) = rule.ls {
                    let li = ls as usize;
                    if self.ls_stamp[li] != gen {
                        self.ls_stamp[li] = gen;
                        self.ls_ok[li] = ls_holds(&rs.logsources[li].alts, &ctx);
                    }
                    if !self.ls_ok[li] {
                        continue;
                    }
                }
                self.stats.evaluated += 1;
                if rule.det.eval(&ctx) {
                    self.stats.matches += 1;
                    out.push(Match {
                        rule: RuleId(r),
                        fields: matched_fields(rule, &ctx, &mut self.sel_buf),
                    });
                }
            }
        }

        // Reset per-event state, hand the buffers back.
        for &f in &self.touched {
            self.prio[f as usize] = u8::MAX;
        }
        self.touched.clear();
        self.slots = reuse(slots);
        self.all = reuse(all);
    }
}

fn is_scalar(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn ls_holds(alts: &[Vec<(u32, FieldCond)>], ctx: &Ctx) -> bool {
    alts.iter().any(|alt| {
        alt.iter().all(|(f, c)| {
            let v = ctx.vals[*f as usize];
            match (c, v) {
                (FieldCond::Absent, v) => v.is_none(),
                // A field the event does not have is not a routing criterion.
                (FieldCond::AnyOf(_), None) => true,
                (FieldCond::AnyOf(vals), Some(Value::Array(a))) => a.iter().any(|e| {
                    crate::detect::scalar_text(e).is_some_and(|t| vals.contains(&lower(&t)))
                }),
                (FieldCond::AnyOf(vals), Some(_)) => {
                    vals.iter().any(|x| *x == ctx.lower[*f as usize])
                }
            }
        })
    })
}

fn matched_fields(
    rule: &crate::ruleset::CRule,
    ctx: &Ctx,
    buf: &mut Vec<usize>,
) -> Vec<(Arc<str>, Value)> {
    buf.clear();
    rule.det.expr.positive_true(&rule.det.sels, ctx, buf);
    buf.sort_unstable();
    let mut out: Vec<(Arc<str>, Value)> = Vec::new();
    for &s in buf.iter() {
        for alt in &rule.det.sels[s].alts {
            for t in alt {
                let Some(f) = t.field else { continue };
                if let Some(v) = ctx.vals[f as usize] {
                    if !out.iter().any(|(n, _)| *n == t.name) {
                        out.push((t.name.clone(), v.clone()));
                    }
                }
            }
        }
    }
    out
}
