//! Graphviz DOT of a [`Drawing`] (compromised assets red, crown jewels double-bordered
//! gold, the plan's isolated assets marked CUT, cut edges dashed red), and SVG through
//! the `dot` program when it is installed. The one place vigie runs another program.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use vigie_response::drawing::Drawing;
use vigie_response::graph::NodeKind;

/// Why a drawing could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DrawError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot run Graphviz `dot` ({0}): install graphviz for --svg, or use --dot FILE and render it elsewhere"
    )]
    DotMissing(std::io::Error),
    #[error("talking to `dot`: {0}")]
    Pipe(std::io::Error),
    #[error("dot -Tsvg failed ({status}) writing {path}")]
    DotFailed {
        status: std::process::ExitStatus,
        path: PathBuf,
    },
}

/// The DOT text of a drawing.
pub fn dot(d: &Drawing) -> String {
    let mut s = String::from("digraph vigie {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=8];\n");
    for n in &d.nodes {
        let shape = match n.kind {
            NodeKind::Internet => "cloud",
            NodeKind::Host => "box",
            NodeKind::Application => "component",
            NodeKind::Database => "cylinder",
            NodeKind::NetworkDevice => "diamond",
            NodeKind::Account => "ellipse",
            NodeKind::Group => "hexagon",
        };
        let mut attrs = vec![
            format!("label=\"{}\"", esc(&n.id)),
            format!("shape={shape}"),
        ];
        if n.compromised {
            attrs.push("style=filled, fillcolor=\"#f4a6a6\"".into());
        } else if n.removed {
            attrs.push("style=\"filled,dashed\", fillcolor=\"#dddddd\"".into());
        }
        if n.crown_jewel {
            attrs.push("peripheries=2, color=\"#c9a400\", penwidth=2".into());
        }
        if n.isolated {
            attrs.push("xlabel=\"CUT\", fontcolor=\"#b00000\"".into());
        }
        let _ = writeln!(s, "  n{} [{}];", n.node, attrs.join(", "));
    }
    for e in &d.edges {
        let style = if e.cut {
            ", style=dashed, color=\"#b00000\""
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  n{} -> n{} [label=\"{} {}h\"{style}];",
            e.from,
            e.to,
            esc(&e.technique),
            e.hours
        );
    }
    s.push_str("}\n");
    s
}

fn esc(x: &str) -> String {
    x.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Writes DOT text to `path`.
pub fn write_dot(path: &Path, dot: &str) -> Result<(), DrawError> {
    std::fs::write(path, dot).map_err(|source| DrawError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Renders SVG with Graphviz `dot -Tsvg` into `path`.
pub fn write_svg(path: &Path, dot: &str) -> Result<(), DrawError> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .arg("-o")
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(DrawError::DotMissing)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(dot.as_bytes()).map_err(DrawError::Pipe)?;
    }
    let status = child.wait().map_err(DrawError::Pipe)?;
    if !status.success() {
        return Err(DrawError::DotFailed {
            status,
            path: path.to_path_buf(),
        });
    }
    Ok(())
}
