//! A small deterministic layered layout of a [`View`], drawn as SVG.
//!
//! Columns are attack hops from the compromised set (over the whole graph, so an attack
//! edge never skips a column forward: `hops(v) <= hops(u) + 1`); empty columns are
//! dropped and assets the attacker cannot reach go in a last column. Within a column,
//! rows start in selection order and are reordered by barycentre sweeps (down then up,
//! a few rounds), keeping the order with the fewest crossings between neighbouring
//! columns; ties keep the previous order, so the same view gives the same bytes.

use std::fmt::Write as _;

use super::esc::{clip, esc, hours, px};
use super::graph::{State, VEdge, View};

const NODE_W: f64 = 172.0;
const NODE_H: f64 = 40.0;
const COL_GAP: f64 = 60.0;
const ROW_PITCH: f64 = 52.0;
const MARGIN: f64 = 16.0;
const HEADER: f64 = 30.0;
const SWEEPS: usize = 6;
const FIT_WIDTH: f64 = 1750.0;

/// Column and row of every node.
pub struct Placed {
    pub column: Vec<usize>,
    /// Nodes of each column, top to bottom.
    pub columns: Vec<Vec<usize>>,
    /// Column captions.
    pub captions: Vec<String>,
}

fn caption(hops: Option<u32>) -> String {
    match hops {
        Some(0) => "compromised".to_string(),
        Some(1) => "1 step".to_string(),
        Some(h) => format!("{h} steps"),
        None => "out of reach".to_string(),
    }
}

/// Columns by hops, rows ordered to reduce crossings.
pub fn place(v: &View) -> Placed {
    let mut keys: Vec<Option<u32>> = v.nodes.iter().map(|n| n.hops).collect();
    keys.sort_by_key(|k| k.unwrap_or(u32::MAX));
    keys.dedup();
    let column: Vec<usize> = v
        .nodes
        .iter()
        .map(|n| keys.iter().position(|k| *k == n.hops).unwrap_or(0))
        .collect();
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); keys.len()];
    for (i, &c) in column.iter().enumerate() {
        columns[c].push(i);
    }
    let captions = keys.iter().map(|&k| caption(k)).collect();
    let mut p = Placed {
        column,
        columns,
        captions,
    };
    order_rows(&mut p, &v.edges);
    p
}

/// Row of each node, centred on its column (so columns of different heights compare).
fn centred_rows(p: &Placed, n: usize) -> Vec<f64> {
    let mut y = vec![0.0; n];
    for col in &p.columns {
        let mid = (col.len() as f64 - 1.0) / 2.0;
        for (r, &i) in col.iter().enumerate() {
            y[i] = r as f64 - mid;
        }
    }
    y
}

/// Crossings between edges joining neighbouring columns.
fn crossings(p: &Placed, edges: &[VEdge], n: usize) -> usize {
    let y = centred_rows(p, n);
    let mut spans: Vec<Vec<(f64, f64)>> = vec![Vec::new(); p.columns.len()];
    for e in edges {
        let (a, b) = (p.column[e.from], p.column[e.to]);
        let (l, r) = if a < b {
            (e.from, e.to)
        } else {
            (e.to, e.from)
        };
        if a.abs_diff(b) == 1 {
            spans[a.min(b)].push((y[l], y[r]));
        }
    }
    let mut total = 0;
    for s in &spans {
        for (i, x) in s.iter().enumerate() {
            for w in &s[i + 1..] {
                if (x.0 - w.0) * (x.1 - w.1) < 0.0 {
                    total += 1;
                }
            }
        }
    }
    total
}

/// Barycentre sweeps; keeps the best order seen.
fn order_rows(p: &mut Placed, edges: &[VEdge]) {
    let n = p.column.len();
    let mut nbrs: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in edges {
        nbrs[e.from].push(e.to);
        nbrs[e.to].push(e.from);
    }
    let mut best = p.columns.clone();
    let mut best_x = crossings(p, edges, n);
    for round in 0..SWEEPS {
        let down = round % 2 == 0;
        let cols: Vec<usize> = if down {
            (1..p.columns.len()).collect()
        } else {
            (0..p.columns.len().saturating_sub(1)).rev().collect()
        };
        for c in cols {
            let side = if down { c - 1 } else { c + 1 };
            let y = centred_rows(p, n);
            let mut keyed: Vec<(f64, usize, usize)> = p.columns[c]
                .iter()
                .enumerate()
                .map(|(r, &i)| {
                    let ys: Vec<f64> = nbrs[i]
                        .iter()
                        .filter(|&&j| p.column[j] == side)
                        .map(|&j| y[j])
                        .collect();
                    let key = if ys.is_empty() {
                        y[i]
                    } else {
                        ys.iter().sum::<f64>() / ys.len() as f64
                    };
                    (key, r, i)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            p.columns[c] = keyed.into_iter().map(|x| x.2).collect();
        }
        let x = crossings(p, edges, n);
        if x < best_x {
            best_x = x;
            best = p.columns.clone();
        }
    }
    p.columns = best;
}

/// Top-left corner of every node, and the drawing's size.
fn coordinates(p: &Placed, n: usize) -> (Vec<(f64, f64)>, f64, f64) {
    let tallest = p.columns.iter().map(Vec::len).max().unwrap_or(0) as f64;
    let height = MARGIN * 2.0 + HEADER + tallest * ROW_PITCH - (ROW_PITCH - NODE_H);
    let width = MARGIN * 2.0 + p.columns.len() as f64 * (NODE_W + COL_GAP) - COL_GAP;
    let mut at = vec![(0.0, 0.0); n];
    for (c, col) in p.columns.iter().enumerate() {
        let x = MARGIN + c as f64 * (NODE_W + COL_GAP);
        let top = MARGIN + HEADER + (tallest - col.len() as f64) * ROW_PITCH / 2.0;
        for (r, &i) in col.iter().enumerate() {
            at[i] = (x, top + r as f64 * ROW_PITCH);
        }
    }
    (
        at,
        width.max(NODE_W + 2.0 * MARGIN),
        height.max(NODE_H + 2.0 * MARGIN + HEADER),
    )
}

/// The four points of an edge's cubic Bézier, by where its ends sit.
fn bezier(p: &Placed, at: &[(f64, f64)], e: &VEdge) -> [(f64, f64); 4] {
    let (mut a, mut b) = (e.from, e.to);
    // A two-way edge is drawn left to right.
    if e.both && p.column[b] < p.column[a] {
        std::mem::swap(&mut a, &mut b);
    }
    let ((ax, ay), (bx, by)) = (at[a], at[b]);
    let (ay, by) = (ay + NODE_H / 2.0, by + NODE_H / 2.0);
    match p.column[a].cmp(&p.column[b]) {
        std::cmp::Ordering::Less => {
            let (x1, x2) = (ax + NODE_W, bx);
            let dx = (x2 - x1) / 2.0;
            [(x1, ay), (x1 + dx, ay), (x2 - dx, by), (x2, by)]
        }
        std::cmp::Ordering::Equal => {
            let x = ax + NODE_W;
            let bulge = 24.0 + (ay - by).abs().min(200.0) / 8.0;
            [(x, ay), (x + bulge, ay), (x + bulge, by), (x, by)]
        }
        std::cmp::Ordering::Greater => {
            let (x1, x2) = (ax, bx + NODE_W);
            let dx = ((x1 - x2) / 2.0).max(24.0);
            [(x1, ay), (x1 - dx, ay), (x2 + dx, by), (x2, by)]
        }
    }
}

fn edge_class(e: &VEdge) -> &'static str {
    if e.cut {
        "cut"
    } else if e.live {
        "live"
    } else {
        "idle"
    }
}

fn write_edge(s: &mut String, v: &View, p: &Placed, at: &[(f64, f64)], e: &VEdge, k: usize) {
    let pts = bezier(p, at, e);
    let class = edge_class(e);
    // Edges back towards the compromised assets add no reach: drawn fainter.
    let back = if !e.both && p.column[e.to] <= p.column[e.from] {
        " back"
    } else {
        ""
    };
    let reversed = e.both && p.column[e.to] < p.column[e.from];
    let (from, to) = if reversed {
        (e.to, e.from)
    } else {
        (e.from, e.to)
    };
    let start = if e.both {
        format!(" marker-start=\"url(#g{k}-{class})\"")
    } else {
        String::new()
    };
    let _ = write!(
        s,
        "<path class=\"gedge {class}{back}\" data-edge=\"{}\" data-to=\"{}\" data-cut=\"{}\" d=\"M{},{} C{},{} {},{} {},{}\"{start} marker-end=\"url(#g{k}-{class})\">",
        esc(&v.nodes[from].id),
        esc(&v.nodes[to].id),
        e.cut,
        px(pts[0].0), px(pts[0].1), px(pts[1].0), px(pts[1].1),
        px(pts[2].0), px(pts[2].1), px(pts[3].0), px(pts[3].1),
    );
    let arrow = if e.both { "↔" } else { "→" };
    let _ = write!(
        s,
        "<title>{} {arrow} {}: {} ({}){}</title></path>",
        esc(&v.nodes[from].id),
        esc(&v.nodes[to].id),
        esc(&e.techniques.join(", ")),
        esc(&hours(e.hours)),
        if e.cut { " — cut by the plan" } else { "" }
    );
    if e.cut {
        // The cut, marked where the edge crosses the gap between its ends.
        let mx = (pts[0].0 + 3.0 * pts[1].0 + 3.0 * pts[2].0 + pts[3].0) / 8.0;
        let my = (pts[0].1 + 3.0 * pts[1].1 + 3.0 * pts[2].1 + pts[3].1) / 8.0;
        let _ = write!(
            s,
            "<g class=\"cutmark\" transform=\"translate({},{})\"><circle r=\"6\"/><path d=\"M-3,-3 L3,3 M3,-3 L-3,3\"/></g>",
            px(mx),
            px(my)
        );
    }
}

fn write_node(s: &mut String, v: &View, i: usize, (x, y): (f64, f64)) {
    let n = &v.nodes[i];
    let state = n.state.as_str();
    let sub = if n.name.is_empty() || n.name == n.id {
        n.kind.to_string()
    } else {
        n.name.clone()
    };
    let _ = write!(
        s,
        "<g class=\"gnode {state}{}{}\" data-node=\"{}\" data-state=\"{state}\" data-crown-jewel=\"{}\" data-cut=\"{}\" transform=\"translate({},{})\">",
        if n.crown { " crown" } else { "" },
        if n.cut { " removed" } else { "" },
        esc(&n.id),
        n.crown,
        n.cut,
        px(x),
        px(y)
    );
    let when = match (n.state, n.hours) {
        (State::Compromised, _) => String::new(),
        (_, Some(h)) => format!(", reached in {}", hours(h)),
        _ => String::new(),
    };
    let _ = write!(
        s,
        "<title>{}{} ({}): {}{}{}{}</title>",
        esc(&n.id),
        if sub != n.kind {
            format!(" — {}", esc(&sub))
        } else {
            String::new()
        },
        n.kind,
        state,
        esc(&when),
        if n.crown { ", crown jewel" } else { "" },
        if n.cut { ", cut by the plan" } else { "" }
    );
    if n.crown {
        let _ = write!(
            s,
            "<rect class=\"ring\" x=\"-3.5\" y=\"-3.5\" width=\"{}\" height=\"{}\" rx=\"9\"/>",
            px(NODE_W + 7.0),
            px(NODE_H + 7.0)
        );
    }
    let _ = write!(
        s,
        "<rect class=\"box\" width=\"{}\" height=\"{}\" rx=\"6\"/>",
        px(NODE_W),
        px(NODE_H)
    );
    let star = if n.crown { "★ " } else { "" };
    let _ = write!(
        s,
        "<text class=\"nid\" x=\"9\" y=\"16\">{star}{}</text><text class=\"nsub\" x=\"9\" y=\"31\">{}</text>",
        esc(&clip(&n.id, if n.crown { 19 } else { 21 })),
        esc(&clip(&sub, 27))
    );
    if let (Some(h), false) = (n.hours, n.state == State::Compromised) {
        let _ = write!(
            s,
            "<text class=\"nh\" x=\"{}\" y=\"16\">{}</text>",
            px(NODE_W - 8.0),
            esc(&hours(h))
        );
    }
    if n.cut {
        let _ = write!(
            s,
            "<g class=\"badge\" transform=\"translate({},-8)\"><rect width=\"36\" height=\"15\" rx=\"7.5\"/><text x=\"18\" y=\"11\">CUT</text></g>",
            px(NODE_W - 44.0)
        );
    }
    s.push_str("</g>");
}

/// The SVG of a view; `k` keeps marker ids unique across the incidents of one page.
pub fn svg(v: &View, k: usize, label: &str) -> String {
    let p = place(v);
    let (at, w, h) = coordinates(&p, v.nodes.len());
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"attack-graph{}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{}\" data-nodes=\"{}\" data-edges=\"{}\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\"><defs>",
        // Up to this wide the drawing shrinks to the page (text stays legible); wider, it
        // keeps its size and the page scrolls it.
        if w <= FIT_WIDTH { " fit" } else { "" },
        esc(label),
        v.nodes.len(),
        v.edges.len(),
        px(w), px(h), px(w), px(h)
    );
    for class in ["cut", "live", "idle"] {
        let _ = write!(
            s,
            "<marker id=\"g{k}-{class}\" class=\"arrow {class}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,1 L10,5 L0,9 z\"/></marker>"
        );
    }
    s.push_str("</defs>");
    for (c, cap) in p.captions.iter().enumerate() {
        let x = MARGIN + c as f64 * (NODE_W + COL_GAP) + NODE_W / 2.0;
        let _ = write!(
            s,
            "<text class=\"colcap\" x=\"{}\" y=\"{}\">{}</text>",
            px(x),
            px(MARGIN + 10.0),
            esc(cap)
        );
    }
    s.push_str("<g class=\"edges\">");
    // Idle edges first, cut edges last, so what matters is drawn on top.
    let mut order: Vec<&VEdge> = v.edges.iter().collect();
    order.sort_by_key(|e| match edge_class(e) {
        "idle" => 0,
        "live" => 1,
        _ => 2,
    });
    for e in order {
        write_edge(&mut s, v, &p, &at, e, k);
    }
    s.push_str("</g><g class=\"nodes\">");
    for col in &p.columns {
        for &i in col {
            write_node(&mut s, v, i, at[i]);
        }
    }
    s.push_str("</g></svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::graph::{VNode, View};

    fn node(id: &str, hops: Option<u32>) -> VNode {
        VNode {
            id: id.into(),
            name: String::new(),
            kind: "host",
            state: State::Exposed,
            crown: false,
            cut: false,
            hops,
            hours: None,
        }
    }

    fn edge(from: usize, to: usize) -> VEdge {
        VEdge {
            from,
            to,
            techniques: vec!["T1021".into()],
            hours: 1.0,
            cut: false,
            live: true,
            both: false,
        }
    }

    /// a→d, b→c drawn in selection order cross; the sweeps uncross them.
    #[test]
    fn sweeps_remove_a_crossing() {
        let v = View {
            nodes: vec![
                node("a", Some(0)),
                node("b", Some(0)),
                node("c", Some(1)),
                node("d", Some(1)),
            ],
            edges: vec![edge(0, 3), edge(1, 2)],
            eligible: 4,
        };
        let p = place(&v);
        assert_eq!(p.captions, ["compromised", "1 step"]);
        assert_eq!(crossings(&p, &v.edges, 4), 0);
        assert_eq!(svg(&v, 0, "g"), svg(&v, 0, "g"));
    }

    #[test]
    fn unreachable_assets_go_last() {
        let v = View {
            nodes: vec![node("x", None), node("a", Some(0)), node("b", Some(3))],
            edges: vec![],
            eligible: 3,
        };
        let p = place(&v);
        assert_eq!(p.captions, ["compromised", "3 steps", "out of reach"]);
        assert_eq!(p.column, [2, 0, 1]);
    }
}
