//! Per-thread matching: one walk over the event fills a slot per known field name,
//! values are lowercased once, the literal index picks candidate rules, logsource
//! conditions are evaluated once per event, then candidates are evaluated in rule order.

use std::sync::Arc;

use serde_json::Value;
use vigie_event::{Event, FlatDoc};

use crate::detect::Ctx;
use crate::mapping::FieldCond;
use crate::ruleset::{RuleSet, Target};
use crate::sstr::{lower, lower_into};
use crate::types::{Match, RuleId, KEYWORD_FIELD};

/// Reuses a vector's allocation for another element type of the same layout (the
/// standard library collects in place for `into_iter().filter_map()`); the result is empty.
fn reuse<T, U>(v: Vec<T>) -> Vec<U> {
    v.into_iter().filter_map(|_| None).collect()
}

/// Matches events against a [`RuleSet`]; one per thread, buffers reused across events.
pub struct Matcher<'r> {
    rs: &'r RuleSet,
    /// See [`Ctx::slot_of`]; all zero between events.
    slot_of: Vec<u32>,
    leaves: Vec<&'static Value>,
    /// Set while a scan runs: if one unwound, per-field state is reset in full.
    dirty: bool,
    all: Vec<&'static Value>,
    /// Per entry of `all`: a field whose slot holds that leaf (its lowercased text is
    /// then already in `lower`), or `NO_FIELD`.
    all_field: Vec<u32>,
    all_lower: Vec<String>,
    prio: Vec<u8>,
    touched: Vec<u32>,
    lower: Vec<String>,
    text: Vec<String>,
    /// See [`Ctx::elems_lower`]; valid for the touched fields whose value is a list.
    elems_lower: Vec<Vec<String>>,
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
    group_buf: Vec<u32>,
    /// Literal hits of recently seen values: per group, one cache per field automaton
    /// of its index (sized when the group is first consulted).
    caches: Vec<Vec<HitCache>>,
    /// Set when the caches went over their memory bound: all are cleared once this
    /// event's candidates are found.
    clear_caches: bool,
    /// Approximate bytes held by `caches`.
    cache_bytes: usize,
    pat_buf: Vec<u32>,
    /// The folded text of every leaf of the current event joined by
    /// [`crate::index::KEYWORD_SEP`] (valid when `kw_stamp` is the current `gen`).
    kw_text: String,
    kw_stamp: u32,
    key_lists: KeyLists<'r>,
    stats: MatcherStats,
    unindexed: bool,
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
            slot_of: vec![0; nf],
            leaves: Vec::new(),
            dirty: false,
            all: Vec::new(),
            all_field: Vec::new(),
            all_lower: Vec::new(),
            prio: vec![u8::MAX; nf],
            touched: Vec::new(),
            lower: vec![String::new(); nf],
            text: vec![String::new(); nf],
            elems_lower: vec![Vec::new(); nf],
            scratch: String::new(),
            gen: 0,
            ls_stamp: vec![0; rs.logsources.len()],
            ls_ok: vec![false; rs.logsources.len()],
            cand_stamp: vec![0; rs.rules.len()],
            cand_bits: vec![0; rs.rules.len()],
            cands: Vec::new(),
            sel_buf: Vec::new(),
            low_buf: String::new(),
            group_buf: Vec::new(),
            caches: (0..rs.groups.len()).map(|_| Vec::new()).collect(),
            clear_caches: false,
            cache_bytes: 0,
            pat_buf: Vec::new(),
            kw_text: String::new(),
            kw_stamp: 0,
            key_lists: KeyLists::default(),
            stats: MatcherStats::default(),
            unindexed: false,
        }
    }

    /// Evaluates every rule on every event, ignoring the literal index (for testing the
    /// index: results must be identical, only slower).
    #[doc(hidden)]
    pub fn set_unindexed(&mut self, on: bool) {
        self.unindexed = on;
    }

    /// Counters since this matcher was made.
    pub fn stats(&self) -> MatcherStats {
        self.stats
    }

    /// The candidate rules of the last scan, in rule order (diagnostics: which rules the
    /// index lets through; `examples/evtx_scan.rs` with `EVALS=1`).
    #[doc(hidden)]
    pub fn last_candidates(&self) -> &[u32] {
        &self.cands
    }

    /// Appends the matches of `ev` to `out`, in rule order.
    pub fn scan<'e>(&mut self, ev: &'e Event, out: &mut Vec<Match>) {
        let rs = self.rs;
        self.gen = self.gen.wrapping_add(1);
        if self.gen == 0 {
            self.ls_stamp.iter_mut().for_each(|s| *s = 0);
            self.cand_stamp.iter_mut().for_each(|s| *s = 0);
            self.kw_stamp = 0;
            self.gen = 1;
        }
        let gen = self.gen;
        if self.dirty {
            self.slot_of.iter_mut().for_each(|s| *s = 0);
            self.prio.iter_mut().for_each(|p| *p = u8::MAX);
            self.touched.clear();
        }
        self.dirty = true;
        let mut leaves: Vec<&Value> = reuse(std::mem::take(&mut self.leaves));
        let slot_of = &mut self.slot_of;
        let mut all: Vec<&Value> = reuse(std::mem::take(&mut self.all));
        let all_field = &mut self.all_field;
        all_field.clear();

        // 1. One walk: fill slots for known names (best priority wins).
        {
            let prio = &mut self.prio;
            let touched = &mut self.touched;
            let want_all = rs.has_keywords;
            let mut place = |ts: Option<&[Target]>, v: &'e Value| {
                // The walk gives a leaf under several names in a row; keep it once.
                if want_all && !all.last().is_some_and(|l| std::ptr::eq(*l, v)) {
                    match v {
                        Value::Array(a) => all.extend(a.iter().filter(|e| is_scalar(e))),
                        v if is_scalar(v) => all.push(v),
                        _ => {}
                    }
                    all_field.resize(all.len(), NO_FIELD);
                }
                let Some(ts) = ts else { return };
                if let (Some(&(f, _)), Some(last)) = (ts.first(), all.last()) {
                    if std::ptr::eq(*last, v) {
                        if let Some(af) = all_field.last_mut() {
                            *af = f;
                        }
                    }
                }
                for &(f, p) in ts {
                    let fi = f as usize;
                    let s = slot_of[fi] as usize;
                    if s == 0 {
                        touched.push(f);
                        leaves.push(v);
                        slot_of[fi] = leaves.len() as u32;
                        prio[fi] = p;
                    } else if p < prio[fi] {
                        if let Some(l) = leaves.get_mut(s - 1) {
                            *l = v;
                        }
                        prio[fi] = p;
                    }
                }
            };
            match ev.flat() {
                // A flat record: its key list resolved once per distinct list.
                Some(flat) => {
                    let names = self.key_lists.names(rs, flat, &mut self.low_buf);
                    for ((_, v), name) in flat.iter().zip(names) {
                        match name {
                            Name::Skip => {}
                            Name::Known(ts) => place(Some(ts), v),
                            Name::Unknown => place(None, v),
                        }
                    }
                }
                None => {
                    let nospace = &mut self.low_buf;
                    ev.visit_fields(&mut self.scratch, &mut |name, v| {
                        place(resolve(rs, name, nospace), v)
                    });
                }
            }
        }
        // 2. Case-fold each scalar once.
        for &f in &self.touched {
            let fi = f as usize;
            match val_of(slot_of, &leaves, fi) {
                Some(Value::String(s)) => lower_into(s, &mut self.lower[fi]),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                    let t = &mut self.text[fi];
                    t.clear();
                    match v {
                        Value::Number(n) => crate::detect::number_text(n, t),
                        Value::Bool(b) => t.push_str(if *b { "true" } else { "false" }),
                        _ => {}
                    }
                    self.lower[fi].clear();
                    self.lower[fi].push_str(t);
                }
                Some(Value::Array(a)) => {
                    self.lower[fi].clear();
                    let lows = &mut self.elems_lower[fi];
                    lows.resize(a.len(), String::new());
                    for (e, low) in a.iter().zip(lows.iter_mut()) {
                        fold_scalar(e, low);
                    }
                }
                _ => self.lower[fi].clear(),
            }
        }
        // 3. Candidates from the literal indexes of the logsources the event satisfies.
        self.cands.clear();
        {
            let ctx = Ctx {
                slot_of,
                leaves: &leaves,
                lower: &self.lower,
                text: &self.text,
                all: &all,
                all_lower: &[],
                elems_lower: &self.elems_lower,
            };
            // Groups whose logsource can hold for this event's Channel (all of them
            // when the event has none).
            self.group_buf.clear();
            match rs
                .channel
                .and_then(|c| match val_of(slot_of, &leaves, c as usize) {
                    Some(Value::String(_)) => Some(&self.lower[c as usize]),
                    _ => None,
                }) {
                Some(ch) => {
                    self.group_buf.extend_from_slice(&rs.unkeyed_groups);
                    if let Some(g) = rs.groups_by_channel.get(ch.as_str()) {
                        let eid =
                            rs.event_id
                                .and_then(|f| match val_of(slot_of, &leaves, f as usize) {
                                    Some(Value::String(_) | Value::Number(_)) => {
                                        Some(&self.lower[f as usize])
                                    }
                                    _ => None,
                                });
                        match eid {
                            Some(e) => {
                                self.group_buf.extend_from_slice(&g.any_event);
                                if let Some(g) = g.by_event.get(e.as_str()) {
                                    self.group_buf.extend_from_slice(g);
                                }
                            }
                            None => self.group_buf.extend_from_slice(&g.all),
                        }
                    }
                }
                None => self.group_buf.extend(0..rs.groups.len() as u32),
            }
            for &gi in &self.group_buf {
                let group = &rs.groups[gi as usize];
                if let Some(ls) = group.ls {
                    let li = ls as usize;
                    if self.ls_stamp[li] != gen {
                        self.ls_stamp[li] = gen;
                        self.ls_ok[li] = ls_holds(&rs.logsources[li].alts, &ctx);
                    }
                    if !self.ls_ok[li] {
                        continue;
                    }
                }
                let pf = rs.group_index(gi as usize);
                let caches = &mut self.caches[gi as usize];
                if caches.len() < pf.fields.len() {
                    caches.resize_with(pf.fields.len(), HitCache::default);
                }
                for (k, (f, ac, rules, exact)) in pf.fields.iter().enumerate() {
                    let mut marks = Marks {
                        gen,
                        stamp: &mut self.cand_stamp,
                        bits: &mut self.cand_bits,
                        cands: &mut self.cands,
                    };
                    if *f == crate::index::KEYWORDS {
                        if pf.keywords_joinable {
                            // Every leaf folded once per event into one text, searched
                            // once per keyword group: one SIMD pass over the event rules
                            // out nearly all of them, where a pass per leaf paid the
                            // search's start-up (and its slow path on short leaves) for
                            // each of some twenty leaves.
                            if self.kw_stamp != gen {
                                self.kw_stamp = gen;
                                join_leaves(
                                    ctx.all,
                                    &self.all_field,
                                    slot_of,
                                    &leaves,
                                    &self.lower,
                                    &mut self.low_buf,
                                    &mut self.kw_text,
                                );
                            }
                            let hay = self.kw_text.as_bytes();
                            // The leftmost hit: no literal occurs before it.
                            let from = match &pf.keyword_pre {
                                Some(p) => match p.find(hay) {
                                    Some(m) => m.start(),
                                    None => continue,
                                },
                                None => 0,
                            };
                            if let Some(rest) = hay.get(from..) {
                                for m in ac.find_overlapping_iter(rest) {
                                    marks.apply(&rules[m.pattern().as_usize()]);
                                }
                            }
                            continue;
                        }
                        for (v, &af) in ctx.all.iter().zip(&self.all_field) {
                            let hay: &str = match v {
                                // A field's leaf: folded already.
                                _ if af != NO_FIELD
                                    && val_of(slot_of, &leaves, af as usize)
                                        .is_some_and(|l| std::ptr::eq(l, *v)) =>
                                {
                                    &self.lower[af as usize]
                                }
                                Value::String(s) => {
                                    lower_into(s, &mut self.low_buf);
                                    &self.low_buf
                                }
                                Value::Number(n) => {
                                    self.low_buf.clear();
                                    crate::detect::number_text(n, &mut self.low_buf);
                                    &self.low_buf
                                }
                                Value::Bool(true) => "true",
                                Value::Bool(false) => "false",
                                _ => continue,
                            };
                            if pf
                                .keyword_pre
                                .as_ref()
                                .is_some_and(|p| p.find(hay).is_none())
                            {
                                continue;
                            }
                            for m in ac.find_overlapping_iter(hay) {
                                marks.apply(&rules[m.pattern().as_usize()]);
                            }
                        }
                        continue;
                    }
                    let fi = *f as usize;
                    match val_of(slot_of, &leaves, fi) {
                        None | Some(Value::Null) | Some(Value::Object(_)) => {}
                        Some(Value::Array(a)) => {
                            // Folded in step 2; a non-scalar element's text is empty
                            // and holds no literal.
                            for (e, low) in a.iter().zip(&self.elems_lower[fi]) {
                                if crate::detect::scalar_text(e).is_some() {
                                    for m in ac.find_overlapping_iter(low.as_str()) {
                                        marks.apply(&rules[m.pattern().as_usize()]);
                                    }
                                    if let Some(&p) = exact.get(low.as_str()) {
                                        marks.apply(&rules[p as usize]);
                                    }
                                }
                            }
                        }
                        Some(_) => {
                            let hay = self.lower[fi].as_str();
                            let cache = &mut caches[k];
                            if let Some(pats) = cache.get(hay) {
                                for &p in pats.iter() {
                                    marks.apply(&rules[p as usize]);
                                }
                            } else {
                                self.pat_buf.clear();
                                for m in ac.find_overlapping_iter(hay) {
                                    let p = m.pattern().as_u32();
                                    marks.apply(&rules[p as usize]);
                                    if !self.pat_buf.contains(&p) {
                                        self.pat_buf.push(p);
                                    }
                                }
                                // A whole value (`crate::index::EXACT`): ids after the
                                // automaton's, so the cache keeps both kinds.
                                if let Some(&p) = exact.get(hay) {
                                    marks.apply(&rules[p as usize]);
                                    self.pat_buf.push(p);
                                }
                                self.cache_bytes += cache.put(hay, &self.pat_buf);
                                self.clear_caches |= self.cache_bytes > CACHE_MAX_BYTES;
                            }
                        }
                    }
                }
                // Unindexed rules appear in one group only, once.
                self.cands.extend_from_slice(&pf.always);
            }
            if std::mem::take(&mut self.clear_caches) {
                // Bound the memory of all caches of this matcher.
                self.caches.iter_mut().flatten().for_each(HitCache::clear);
                self.cache_bytes = 0;
            }
        }
        self.cands.sort_unstable();
        if self.unindexed {
            self.cands.clear();
            self.cands.extend(0..rs.rules.len() as u32);
        }
        self.stats.events += 1;
        self.stats.candidates += self.cands.len() as u64;

        // 4. Evaluate candidates; the lowercased text of every leaf only when one of
        // them searches keywords.
        let n_all = if self
            .cands
            .iter()
            .any(|&r| rs.rules.get(r as usize).is_some_and(|r| r.keywords))
        {
            lower_all(&all, &mut self.all_lower);
            all.len()
        } else {
            0
        };
        {
            let ctx = Ctx {
                slot_of,
                leaves: &leaves,
                lower: &self.lower,
                text: &self.text,
                all: &all[..n_all],
                all_lower: &self.all_lower[..n_all],
                elems_lower: &self.elems_lower,
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
            slot_of[f as usize] = 0;
        }
        self.touched.clear();
        self.dirty = false;
        self.leaves = reuse(leaves);
        self.all = reuse(all);
    }
}

/// The rule fields an event field name stands for.
fn resolve<'r>(rs: &'r RuleSet, name: &str, nospace: &mut String) -> Option<&'r [Target]> {
    let mut ts = if crate::ruleset::may_know(&rs.name_bits, name) {
        rs.lookup.get(name)
    } else {
        None
    };
    if ts.is_none() && name.contains(' ') {
        // Sigma names event fields with their spaces stripped (`Threat Name` →
        // `ThreatName`).
        nospace.clear();
        nospace.extend(name.chars().filter(|c| *c != ' '));
        ts = rs.lookup.get(nospace.as_str());
    }
    ts.map(|v| v.as_slice())
}

/// What one member of a flat record is to the rules.
#[derive(Clone, Copy)]
enum Name<'r> {
    /// Not visited (an empty key, which has no path).
    Skip,
    Unknown,
    Known(&'r [Target]),
}

/// Key lists of recent flat records, resolved: a log has few distinct ones (one per event
/// type; an auditd log one per combination of record types), so most records skip the
/// per-name lookups.
#[derive(Default)]
struct KeyLists<'r> {
    /// (hash of the keys text, keys text, key ends, resolution per member).
    lists: Vec<(u64, String, Vec<u32>, Vec<Name<'r>>)>,
    next: usize,
}

const KEY_LISTS_KEPT: usize = 64;

impl<'r> KeyLists<'r> {
    fn names(&mut self, rs: &'r RuleSet, flat: &FlatDoc, nospace: &mut String) -> &[Name<'r>] {
        let text = flat.key_text();
        // Lists of one source share long prefixes (every auditd event starts with
        // `type`, `timestamp`, `serial`...): a hash settles a comparison at once.
        let hash = {
            use std::hash::BuildHasher;
            rustc_hash::FxBuildHasher.hash_one(text)
        };
        let found = self.lists.iter().position(|(h, t, ends, _)| {
            *h == hash
                && t == text
                && ends.len() == flat.len()
                && ends.iter().copied().eq(flat.key_ends())
        });
        let at = match found {
            Some(i) => i,
            None => {
                let names = flat
                    .iter()
                    .map(|(k, _)| match k {
                        "" => Name::Skip,
                        k => resolve(rs, k, nospace).map_or(Name::Unknown, Name::Known),
                    })
                    .collect();
                let entry = (hash, text.to_owned(), flat.key_ends().collect(), names);
                if self.lists.len() < KEY_LISTS_KEPT {
                    self.lists.push(entry);
                    self.lists.len() - 1
                } else {
                    let i = self.next % KEY_LISTS_KEPT;
                    self.next = self.next.wrapping_add(1);
                    self.lists[i] = entry;
                    i
                }
            }
        };
        &self.lists[at].3
    }
}

/// See [`Matcher::all_field`].
const NO_FIELD: u32 = u32::MAX;

/// Recording literal hits for one event.
struct Marks<'a> {
    gen: u32,
    stamp: &'a mut [u32],
    bits: &'a mut [u8],
    cands: &'a mut Vec<u32>,
}

impl Marks<'_> {
    /// One literal seen: set its requirement bit in each rule it serves; a rule with all
    /// its bits becomes a candidate (once).
    #[inline]
    fn apply(&mut self, rules: &[(u32, u8, u8)]) {
        for &(r, bit, need) in rules {
            let ri = r as usize;
            if self.stamp[ri] != self.gen {
                self.stamp[ri] = self.gen;
                self.bits[ri] = 0;
            }
            let b = self.bits[ri] | bit;
            if b & 0x80 == 0 && b == need {
                self.cands.push(r);
                self.bits[ri] = b | 0x80;
            } else {
                self.bits[ri] = b;
            }
        }
    }
}

/// Literal hits of recently seen values of one field (real logs repeat values a lot:
/// same images, command lines, users). Bounded; switches itself off for a while when
/// values do not repeat.
#[derive(Default)]
struct HitCache {
    map: rustc_hash::FxHashMap<Box<str>, Box<[u32]>>,
    lookups: u32,
    hits: u32,
    /// Lookups to skip before trying the cache again.
    off: u32,
}

const CACHE_MAX_ENTRIES: usize = 4096;
const CACHE_MAX_VALUE: usize = 512;
const CACHE_PROBE: u32 = 4096;
/// Memory bound of all the caches of one matcher (one per thread).
const CACHE_MAX_BYTES: usize = 16 << 20;

impl HitCache {
    fn get(&mut self, v: &str) -> Option<&[u32]> {
        if self.off > 0 {
            self.off -= 1;
            return None;
        }
        self.lookups += 1;
        if self.lookups >= CACHE_PROBE {
            // Fewer than one hit in eight: not worth hashing and storing.
            if self.hits < CACHE_PROBE / 8 {
                self.off = 16 * CACHE_PROBE;
                self.map = Default::default();
            }
            self.lookups = 0;
            self.hits = 0;
        }
        let r = self.map.get(v).map(|b| &**b);
        if r.is_some() {
            self.hits += 1;
        }
        r
    }

    /// Remembers the hits of a value; returns the bytes added (approximately).
    fn put(&mut self, v: &str, pats: &[u32]) -> usize {
        if self.off > 0 || v.len() > CACHE_MAX_VALUE {
            return 0;
        }
        if self.map.len() >= CACHE_MAX_ENTRIES {
            self.map.clear();
        }
        self.map.insert(Box::from(v), Box::from(pats));
        v.len() + 4 * pats.len() + 48
    }

    fn clear(&mut self) {
        self.map = Default::default();
    }
}

/// Value of field `fi` during a scan (see [`Ctx::slot_of`]).
#[inline]
fn val_of<'a>(slot_of: &[u32], leaves: &[&'a Value], fi: usize) -> Option<&'a Value> {
    match slot_of[fi] as usize {
        0 => None,
        i => leaves.get(i - 1).copied(),
    }
}

/// The folded text of every scalar leaf joined by [`crate::index::KEYWORD_SEP`] (for the
/// keyword literal search: the same text per leaf as the per-leaf search folds).
fn join_leaves(
    all: &[&Value],
    all_field: &[u32],
    slot_of: &[u32],
    leaves: &[&Value],
    lower: &[String],
    low_buf: &mut String,
    out: &mut String,
) {
    out.clear();
    for (v, &af) in all.iter().zip(all_field) {
        match v {
            // A field's leaf: folded already.
            _ if af != NO_FIELD
                && val_of(slot_of, leaves, af as usize).is_some_and(|l| std::ptr::eq(l, *v)) =>
            {
                out.push_str(&lower[af as usize])
            }
            Value::String(s) => {
                lower_into(s, low_buf);
                out.push_str(low_buf);
            }
            Value::Number(n) => crate::detect::number_text(n, out),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            _ => continue,
        }
        out.push(crate::index::KEYWORD_SEP);
    }
}

/// The lowercased text of every scalar leaf, for keyword evaluation.
fn lower_all(all: &[&Value], out: &mut Vec<String>) {
    if out.len() < all.len() {
        out.resize(all.len(), String::new());
    }
    for (v, low) in all.iter().zip(out.iter_mut()) {
        fold_scalar(v, low);
    }
}

/// A scalar's text as matching compares it, lowercased (numbers and booleans as written);
/// empty for anything else.
fn fold_scalar(v: &Value, low: &mut String) {
    match v {
        Value::String(s) => lower_into(s, low),
        Value::Number(n) => {
            low.clear();
            crate::detect::number_text(n, low);
        }
        v => {
            low.clear();
            if let Some(t) = crate::detect::scalar_text(v) {
                low.push_str(&t);
            }
        }
    }
}

fn is_scalar(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn ls_holds(alts: &[Vec<(u32, FieldCond)>], ctx: &Ctx) -> bool {
    alts.iter().any(|alt| {
        alt.iter().all(|(f, c)| {
            let v = ctx.val(*f);
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
        // Only the alternatives that hold: the fields that actually matched.
        for alt in rule.det.sels[s]
            .alts
            .iter()
            .filter(|a| a.iter().all(|t| t.eval(ctx)))
        {
            for t in alt {
                let Some(f) = t.field else {
                    for k in t.matched_keywords(ctx, 8) {
                        let v = Value::String(k);
                        if !out.iter().any(|(n, x)| &**n == KEYWORD_FIELD && *x == v) {
                            out.push((Arc::from(KEYWORD_FIELD), v));
                        }
                    }
                    continue;
                };
                if let Some(v) = ctx.val(f) {
                    if !out.iter().any(|(n, _)| *n == t.name) {
                        out.push((t.name.clone(), v.clone()));
                    }
                }
            }
        }
    }
    out
}
