//! Graphviz DOT rendering of the attack graph around an incident, with a plan's cut
//! highlighted, and SVG through the `dot` program when it is installed.

use std::fmt::Write as _;
use std::path::Path;

use rustc_hash::FxHashSet;

use crate::contain::problem::{reach, Action, Cut};
use crate::error::Error;
use crate::graph::{Graph, NodeId, NodeKind};

/// Graphs bigger than this are cut down to the nodes on compromised -> crown jewel paths.
const MAX_NODES: usize = 3000;

/// DOT text: the assets reachable from `compromised` (all of them when small, else only
/// those that also reach a crown jewel), attack edges labelled by technique and hours,
/// compromised assets red, crown jewels double-bordered gold, the plan's isolated assets
/// crossed out and its cut edges dashed red.
pub fn render(g: &Graph, compromised: &[NodeId], plan: &[Action]) -> String {
    let fwd = reach(g, compromised, None);
    let mut keep: Vec<bool> = fwd.clone();
    if fwd.iter().filter(|&&b| b).count() > MAX_NODES {
        let bwd = crate::contain::problem::coreach(g, &g.crown_jewels(), None);
        for (k, b) in keep.iter_mut().zip(bwd) {
            *k = *k && b;
        }
    }
    let cut = Cut::new(g, plan);
    let isolated: FxHashSet<NodeId> = plan
        .iter()
        .filter_map(|a| match *a {
            Action::Isolate(n) | Action::Disable(n) => Some(n),
            _ => None,
        })
        .collect();
    let src: FxHashSet<NodeId> = compromised.iter().copied().collect();
    let mut s = String::from("digraph vigie {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=8];\n");
    for (n, _) in keep.iter().enumerate().filter(|x| *x.1) {
        let nid = n as NodeId;
        let shape = match g.kinds[n] {
            NodeKind::Internet => "cloud",
            NodeKind::Host => "box",
            NodeKind::Application => "component",
            NodeKind::Database => "cylinder",
            NodeKind::NetworkDevice => "diamond",
            NodeKind::Account => "ellipse",
            NodeKind::Group => "hexagon",
        };
        let mut attrs = vec![
            format!("label=\"{}\"", esc(&g.node_ids[n])),
            format!("shape={shape}"),
        ];
        if src.contains(&nid) {
            attrs.push("style=filled, fillcolor=\"#f4a6a6\"".into());
        } else if cut.removed[n] {
            attrs.push("style=\"filled,dashed\", fillcolor=\"#dddddd\"".into());
        }
        if g.crown[n] {
            attrs.push("peripheries=2, color=\"#c9a400\", penwidth=2".into());
        }
        if isolated.contains(&nid) {
            attrs.push("xlabel=\"CUT\", fontcolor=\"#b00000\"".into());
        }
        let _ = writeln!(s, "  n{n} [{}];", attrs.join(", "));
    }
    for e in 0..g.edge_count() {
        let (u, v) = (g.edge_from[e] as usize, g.edge_to[e] as usize);
        if !(keep[u] && keep[v]) {
            continue;
        }
        let open = !cut.removed[u] && cut.edge_open(g, e);
        let style = if open {
            ""
        } else {
            ", style=dashed, color=\"#b00000\""
        };
        let _ = writeln!(
            s,
            "  n{u} -> n{v} [label=\"{} {}h\"{style}];",
            esc(g.technique(e)),
            g.ttc(e)
        );
    }
    s.push_str("}\n");
    s
}

fn esc(x: &str) -> String {
    x.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Write DOT to `path`.
pub fn write_dot(path: &Path, dot: &str) -> Result<(), Error> {
    std::fs::write(path, dot)
        .map_err(|e| Error::Output(format!("cannot write {}: {e}", path.display())))
}

/// Render SVG with Graphviz `dot -Tsvg`; a clear error when it is not installed.
pub fn write_svg(path: &Path, dot: &str) -> Result<(), Error> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .arg("-o")
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::Output(format!(
                "cannot run Graphviz `dot` ({e}): install graphviz for --svg, or use --dot FILE and render it elsewhere"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .map_err(|e| Error::Output(format!("writing to dot: {e}")))?;
    }
    let status = child
        .wait()
        .map_err(|e| Error::Output(format!("waiting for dot: {e}")))?;
    if !status.success() {
        return Err(Error::Output(format!(
            "dot -Tsvg failed ({status}) writing {}",
            path.display()
        )));
    }
    Ok(())
}
