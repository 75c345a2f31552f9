//! Resolving references between correlations and rules, aliases, and the per-rule field
//! table that [`Compiled::observe`] fills.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;
use vigie_event::Event;

use super::condition::Condition;
use super::def::{CorrelationDef, CorrelationType};
use crate::{Match, Observation, RuleId};

/// Where one input of a correlation comes from and which of its values it reads.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Index of the fed correlation in [`Compiled::corrs`].
    pub corr: usize,
    /// Position of the input in the correlation's `rules`.
    pub pos: usize,
    /// Per group-by field: for a detection input, the slot in [`Observation::values`];
    /// for a correlation input, the index in the upstream hit's `group`.
    pub group: Vec<usize>,
    /// Same for the aggregated field(s) (`condition.field`).
    pub value: Vec<usize>,
}

/// A detection rule feeding correlations.
#[derive(Debug, Clone, Default)]
pub(crate) struct Input {
    /// Field names read from its events, in [`Observation::values`] order.
    pub fields: Vec<Arc<str>>,
    pub targets: Vec<Target>,
}

/// One accepted correlation, ready to run.
#[derive(Debug, Clone)]
pub(crate) struct Corr {
    pub rule: RuleId,
    pub kind: CorrelationType,
    pub timespan_us: i64,
    pub condition: Condition,
    /// Fire as soon as the condition holds on a sliding window (see the module docs);
    /// otherwise decide when a fixed window closes.
    pub eager: bool,
    /// Names of the hit's `group`, in order: `group-by` as written (alias names), plus
    /// the field for `value_percentile` (which value was rare or common).
    pub outputs: Vec<String>,
    pub n_rules: usize,
    /// Whether its hits are reported (false when only a chain uses it).
    pub reported: bool,
    /// Correlations fed by this one.
    pub downstream: Vec<Target>,
}

/// Correlations compiled against the loaded rules.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    /// Topological order: a correlation comes after every correlation it references.
    pub(crate) corrs: Vec<Corr>,
    pub(crate) inputs: HashMap<RuleId, Input>,
    /// Rules referenced by a correlation without `generate: true` (and by none with it).
    suppressed: HashSet<RuleId>,
}

/// Per input position: group slots and value slots (see [`Target`]).
type Slots = (Vec<usize>, Vec<usize>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    Rule(RuleId),
    /// Index into `defs`.
    Corr(usize),
}

impl Compiled {
    /// Resolves references and aliases. `resolve` maps an id or `name` to a loaded rule;
    /// correlations among `defs` are also found by their own id and name (first checked).
    /// Returns the correlations that were refused and why: unknown reference, cycle,
    /// reference to a refused correlation, alias naming a rule outside `rules`, group-by
    /// or value field that an upstream correlation does not output.
    pub fn build(
        defs: Vec<(RuleId, CorrelationDef)>,
        resolve: &dyn Fn(&str) -> Option<RuleId>,
    ) -> (Compiled, Vec<(RuleId, String)>) {
        let mut refused: Vec<(RuleId, String)> = Vec::new();
        let by_rule: HashMap<RuleId, usize> =
            defs.iter().enumerate().map(|(i, (r, _))| (*r, i)).collect();
        let mut local: HashMap<&str, usize> = HashMap::new();
        // A later correlation reusing an id or name would make references ambiguous.
        let mut clash: Vec<Option<String>> = vec![None; defs.len()];
        for (i, (_, d)) in defs.iter().enumerate() {
            for key in [d.id.as_deref(), d.name.as_deref()].into_iter().flatten() {
                match local.get(key) {
                    Some(&j) if j != i => {
                        clash[i].get_or_insert_with(|| {
                            format!(
                                "{key:?} already names correlation {:?} (ids and names must be unique)",
                                defs[j].1.title
                            )
                        });
                    }
                    Some(_) => {}
                    None => {
                        local.insert(key, i);
                    }
                }
            }
        }
        let lookup = |r: &str| -> Option<Source> {
            if let Some(&i) = local.get(r) {
                return Some(Source::Corr(i));
            }
            let rid = resolve(r)?;
            Some(match by_rule.get(&rid) {
                Some(&i) => Source::Corr(i),
                None => Source::Rule(rid),
            })
        };

        // 1. References.
        let mut sources: Vec<Option<Vec<Source>>> = Vec::with_capacity(defs.len());
        for (i, (rid, d)) in defs.iter().enumerate() {
            let mut srcs = Vec::with_capacity(d.rules.len());
            let mut bad = clash[i].take();
            for r in d.rules.iter().filter(|_| bad.is_none()) {
                match lookup(r) {
                    Some(s) => srcs.push(s),
                    None => {
                        bad = Some(format!("correlation.rules references {r:?}, which is not a loaded rule (by id or name)"));
                        break;
                    }
                }
            }
            if bad.is_none() {
                let mut seen = HashSet::new();
                if let Some(dup) = srcs.iter().find(|s| !seen.insert(**s)) {
                    bad = Some(format!(
                        "correlation.rules references the same rule twice ({dup:?} by id and by name)"
                    ));
                }
            }
            match bad {
                Some(m) => {
                    refused.push((*rid, m));
                    sources.push(None);
                }
                None => sources.push(Some(srcs)),
            }
        }

        // 2. Topological order; cycles refused.
        let order = topo_order(&sources, &defs, &mut refused);

        // 3. Compile in order, so an upstream correlation is settled before its users.
        let mut out = Compiled::default();
        let mut index: Vec<Option<usize>> = vec![None; defs.len()];
        let mut referenced: HashMap<RuleId, bool> = HashMap::new();
        for i in order {
            let (rid, d) = &defs[i];
            let Some(srcs) = &sources[i] else { continue };
            if let Some(j) = srcs.iter().find_map(|s| match s {
                Source::Corr(j) if index[*j].is_none() => Some(*j),
                _ => None,
            }) {
                refused.push((
                    *rid,
                    format!(
                        "correlation.rules references correlation {:?}, which was refused",
                        label(&defs[j].1)
                    ),
                ));
                continue;
            }
            match out.plan(d, srcs, &index, &lookup) {
                Ok(plan) => {
                    let ci = out.corrs.len();
                    index[i] = Some(ci);
                    out.corrs.push(Corr {
                        rule: *rid,
                        kind: d.kind,
                        timespan_us: d.timespan_us,
                        condition: d.condition.clone(),
                        eager: d.kind.can_fire_early() && d.condition.lower_bounded_only(),
                        outputs: outputs(d),
                        n_rules: d.rules.len(),
                        reported: true,
                        downstream: Vec::new(),
                    });
                    for (pos, src) in srcs.iter().enumerate() {
                        let rule = match *src {
                            Source::Rule(r) => r,
                            Source::Corr(j) => defs[j].0,
                        };
                        let gen = referenced.entry(rule).or_insert(false);
                        *gen |= d.generate;
                        let (group, value) = plan[pos].clone();
                        let target = Target {
                            corr: ci,
                            pos,
                            group,
                            value,
                        };
                        match *src {
                            Source::Rule(r) => {
                                out.inputs.entry(r).or_default().targets.push(target)
                            }
                            Source::Corr(j) => {
                                if let Some(uj) = index[j] {
                                    out.corrs[uj].downstream.push(target);
                                }
                            }
                        }
                    }
                }
                Err(m) => refused.push((*rid, m)),
            }
        }
        out.suppressed = referenced
            .into_iter()
            .filter(|(_, gen)| !gen)
            .map(|(r, _)| r)
            .collect();
        for c in &mut out.corrs {
            c.reported = !out.suppressed.contains(&c.rule);
        }
        refused.sort_by_key(|(r, _)| *r);
        (out, refused)
    }

    /// For each input position: the group and value slots. Interns detection-rule field
    /// names into [`Input::fields`] only once the whole correlation is known to be valid.
    fn plan(
        &mut self,
        d: &CorrelationDef,
        srcs: &[Source],
        index: &[Option<usize>],
        lookup: &dyn Fn(&str) -> Option<Source>,
    ) -> Result<Vec<Slots>, String> {
        // alias → per input position → field name.
        let mut alias_map: HashMap<&str, Vec<Option<&str>>> = HashMap::new();
        for (alias, pairs) in &d.aliases {
            let mut per_pos = vec![None; srcs.len()];
            for (rref, field) in pairs {
                let pos = lookup(rref)
                    .and_then(|s| srcs.iter().position(|x| *x == s))
                    .ok_or_else(|| {
                        format!(
                            "correlation.aliases.{alias} maps {rref:?}, which is not one of correlation.rules"
                        )
                    })?;
                per_pos[pos] = Some(field.as_str());
            }
            alias_map.insert(alias.as_str(), per_pos);
        }
        let field_for = |pos: usize, name: &'_ str| -> String {
            alias_map
                .get(name)
                .and_then(|p| p[pos])
                .unwrap_or(name)
                .to_string()
        };
        // Check upstream correlations first, so nothing is interned for a refused rule.
        let mut names: Vec<(Vec<String>, Vec<String>)> = Vec::with_capacity(srcs.len());
        for (pos, src) in srcs.iter().enumerate() {
            let g: Vec<String> = d.group_by.iter().map(|n| field_for(pos, n)).collect();
            let v: Vec<String> = d.fields.iter().map(|n| field_for(pos, n)).collect();
            if let Source::Corr(j) = src {
                let Some(uj) = index[*j] else {
                    return Err("internal: upstream correlation not compiled".to_string());
                };
                let up = &self.corrs[uj].outputs;
                if let Some(missing) = g.iter().chain(v.iter()).find(|f| !up.contains(f)) {
                    return Err(format!(
                        "field {missing:?} is read from correlation {:?}, whose hits only carry {}",
                        d.rules[pos],
                        if up.is_empty() {
                            "no fields (it has no group-by)".to_string()
                        } else {
                            up.join(", ")
                        }
                    ));
                }
            }
            names.push((g, v));
        }
        let mut plan = Vec::with_capacity(srcs.len());
        for (src, (g, v)) in srcs.iter().zip(names) {
            let slots = match src {
                Source::Rule(r) => {
                    let input = self.inputs.entry(*r).or_default();
                    let mut slot = |f: &String| match input.fields.iter().position(|x| **x == **f) {
                        Some(i) => i,
                        None => {
                            input.fields.push(Arc::from(f.as_str()));
                            input.fields.len() - 1
                        }
                    };
                    (
                        g.iter().map(&mut slot).collect(),
                        v.iter().map(&mut slot).collect(),
                    )
                }
                Source::Corr(j) => {
                    let up = index[*j]
                        .map(|uj| &self.corrs[uj].outputs)
                        .ok_or_else(|| "internal: upstream correlation not compiled".to_string())?;
                    let pos_of = |f: &String| up.iter().position(|x| x == f).unwrap_or(0);
                    (
                        g.iter().map(pos_of).collect(),
                        v.iter().map(pos_of).collect(),
                    )
                }
            };
            plan.push(slots);
        }
        Ok(plan)
    }

    /// Whether matches of this detection rule feed some correlation.
    pub fn feeds(&self, rule: RuleId) -> bool {
        self.inputs.contains_key(&rule)
    }

    /// Whether the matches (detection rule) or hits (correlation) of `rule` should be
    /// reported: false when the rule is referenced by at least one correlation and none
    /// of those sets `generate: true`. The [`super::Correlator`] itself only emits
    /// reported hits.
    pub fn reported(&self, rule: RuleId) -> bool {
        !self.suppressed.contains(&rule)
    }

    /// How long after an input's time it can still take part in a hit, in
    /// microseconds: the longest chain of timespans (a correlation fed by another adds
    /// its own window to the upstream one's). 0 without correlations. A service keeps
    /// the inputs younger than this to rebuild correlation state.
    pub fn horizon_us(&self) -> i64 {
        // `corrs` is in topological order: upstream horizons are known first.
        let mut h: Vec<i64> = self.corrs.iter().map(|c| c.timespan_us.max(0)).collect();
        for (i, c) in self.corrs.iter().enumerate() {
            for t in &c.downstream {
                if let Some(d) = self.corrs.get(t.corr) {
                    let via = h[i].saturating_add(d.timespan_us.max(0));
                    if via > h[t.corr] {
                        h[t.corr] = via;
                    }
                }
            }
        }
        h.into_iter().max().unwrap_or(0)
    }

    /// Number of accepted correlations.
    pub fn len(&self) -> usize {
        self.corrs.len()
    }

    /// No correlation was accepted.
    pub fn is_empty(&self) -> bool {
        self.corrs.is_empty()
    }

    /// What a correlation needs from a match: `None` when the rule feeds no correlation,
    /// or when the event has no timestamp (correlations are defined over event time, so
    /// such events cannot take part; the caller should count them). Group-by and value
    /// fields are read from the event under the name the correlation's aliases give for
    /// this rule, as [`Event::get`] finds them (one walk of the event for all fields).
    pub fn observe(&self, m: &Match, ev: &Event) -> Option<Observation> {
        let input = self.inputs.get(&m.rule)?;
        let timestamp = ev.timestamp?;
        let mut values: Vec<Option<Value>> = vec![None; input.fields.len()];
        if !input.fields.is_empty() {
            let mut scratch = String::new();
            ev.visit_fields(&mut scratch, &mut |name, v| {
                if let Some(i) = input.fields.iter().position(|f| **f == *name) {
                    if values[i].is_none() {
                        values[i] = Some(v.clone());
                    }
                }
            });
        }
        Some(Observation {
            rule: m.rule,
            timestamp,
            source: ev.source.clone(),
            record: ev.record,
            values,
        })
    }
}

fn label(d: &CorrelationDef) -> &str {
    d.name.as_deref().or(d.id.as_deref()).unwrap_or(&d.title)
}

fn outputs(d: &CorrelationDef) -> Vec<String> {
    let mut o = d.group_by.clone();
    if d.kind == CorrelationType::ValuePercentile {
        o.extend(d.fields.iter().cloned());
    }
    o
}

/// Depth-first post-order over correlation → correlation references. A correlation on a
/// cycle (including referencing itself) is refused; the others come out upstream first.
fn topo_order(
    sources: &[Option<Vec<Source>>],
    defs: &[(RuleId, CorrelationDef)],
    refused: &mut Vec<(RuleId, String)>,
) -> Vec<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let n = sources.len();
    let mut mark = vec![Mark::New; n];
    let mut on_cycle = vec![false; n];
    let mut order = Vec::with_capacity(n);
    for start in 0..n {
        if mark[start] != Mark::New {
            continue;
        }
        // Iterative DFS: (node, next child index).
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        mark[start] = Mark::Active;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let children = sources[node].as_deref().unwrap_or(&[]);
            let child = children[*next..].iter().find_map(|s| match s {
                Source::Corr(j) => Some(*j),
                Source::Rule(_) => None,
            });
            // Advance past the child we are about to visit (or to the end).
            match children[*next..]
                .iter()
                .position(|s| matches!(s, Source::Corr(_)))
            {
                Some(p) => *next += p + 1,
                None => *next = children.len(),
            }
            match child {
                Some(j) => match mark[j] {
                    Mark::New => {
                        mark[j] = Mark::Active;
                        stack.push((j, 0));
                    }
                    Mark::Active => {
                        // Everything on the stack from j up to here is on the cycle.
                        let from = stack.iter().position(|(x, _)| *x == j).unwrap_or(0);
                        for (x, _) in &stack[from..] {
                            on_cycle[*x] = true;
                        }
                    }
                    Mark::Done => {}
                },
                None => {
                    mark[node] = Mark::Done;
                    order.push(node);
                    stack.pop();
                }
            }
        }
    }
    for (i, c) in on_cycle.iter().enumerate() {
        if *c {
            refused.push((
                defs[i].0,
                format!(
                    "correlation {:?} is part of a reference cycle",
                    label(&defs[i].1)
                ),
            ));
        }
    }
    order.retain(|i| !on_cycle[*i]);
    order
}
