//! The HTML report of `vigie respond --format html` (and of `vigie demo`): one
//! self-contained file, readable offline and printable.
//!
//! Everything is inline: the stylesheet, the drawings (SVG written here, no Graphviz), no
//! script, no font, image or link to fetch; a Content-Security-Policy of
//! `default-src 'none'` makes the page refuse any network access or script even if some
//! text escaped its escaping. All text from the report (rule titles, field values, asset
//! names, ids) is escaped ([`esc::esc`]).
//!
//! The page: an overview (counts, the index of incidents, the unresolved entities), then
//! per incident its facts and evidence, the decision in figures (the plan's customer-hours
//! next to isolate-everything, its actions, the crown jewels at risk), the regulator
//! notification draft (`notification`: deadlines, figures, thresholds, flags, the
//! content of each stage), the kill-chain timeline, the attack graph ([`graph`], [`layout`]), the
//! customer-hours per segment and the restore timeline ([`charts`]), and the detections.
//!
//! Bounded whatever the input's size ([`Options`]): detailed sections for the first
//! `max_incidents` incidents, at most `max_graph_nodes` assets per graph, and capped
//! tables, each cut saying how much was left out. Output is deterministic: the same
//! report and graph give the same bytes (no clock, no hash-order iteration).
//!
//! Stable hooks for tests and scripts: `section.incident[data-incident]`,
//! `svg.attack-graph [data-node]` (one per drawn asset, `data-state`, `data-cut`),
//! `[data-edge]`, `svg.segments-chart [data-bar=plan|isolate][data-segment]`,
//! `svg.gantt [data-gantt-bar=asset]`, `[data-gantt-service]`, `[data-gantt-segment]`,
//! `[data-plan-customer-hours]` and `[data-isolate-customer-hours]` (with `data-value`,
//! the JSON's number), and in `[data-notification]` one `[data-deadline-kind]` card per
//! deadline (`data-deadline`), `[data-stage]`, `[data-item]` (`data-to-complete`),
//! `[data-threshold]` and `[data-flag]`.

pub mod charts;
pub mod esc;
pub mod graph;
pub mod layout;
mod notification;
mod sections;
mod style;

use std::fmt::Write as _;

use vigie_response::graph::Graph;
use vigie_wire::v1::respond::{Incident, RespondReport};

use esc::{count, esc};

/// Size limits of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The page's title.
    pub title: String,
    /// Incidents with a detailed section (all are in the index table, up to `max_rows`).
    pub max_incidents: usize,
    /// Assets drawn per attack graph.
    pub max_graph_nodes: usize,
    /// Segments in the customer-hours chart.
    pub max_segments: usize,
    /// Rows of the restore timeline (asset steps first, then services, then segments).
    pub max_gantt_rows: usize,
    /// Detections listed per incident.
    pub max_detections: usize,
    /// Rows of the other tables (incident index, unresolved entities).
    pub max_rows: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            title: "vigie incident report".to_string(),
            max_incidents: 25,
            max_graph_nodes: 40,
            max_segments: 24,
            max_gantt_rows: 60,
            max_detections: 100,
            max_rows: 500,
        }
    }
}

/// The report's stylesheet (system fonts, the drawings' colours), for a page that shows
/// the same drawings ([`layout::svg`], [`charts`]) outside the report: `vigie serve`'s
/// dashboard serves it as a file.
pub fn stylesheet() -> &'static str {
    style::CSS
}

/// The report on `model` with the default [`Options`]. Builds the model's attack graph;
/// a caller that holds one already should use [`report_with`]. Should the graph not
/// build (a model other than the one the report was computed on), the page says so where
/// the drawings would be and shows the rest.
pub fn report(report: &RespondReport, model: &vigie_model::Model) -> String {
    match vigie_response::from_model(model) {
        Ok(g) => render(report, Ok(&g), &Options::default()),
        Err(e) => render(report, Err(e.to_string()), &Options::default()),
    }
}

/// The report drawn on `graph` (the response graph of the model the report is about).
pub fn report_with(report: &RespondReport, graph: &Graph, options: &Options) -> String {
    render(report, Ok(graph), options)
}

fn render(r: &RespondReport, g: Result<&Graph, String>, o: &Options) -> String {
    let mut s = String::with_capacity(64 * 1024);
    head(&mut s, r, o);
    sections::overview(&mut s, r, o);
    for (k, inc) in r.incidents.iter().enumerate().take(o.max_incidents) {
        incident(&mut s, k, inc, g.as_deref().map_err(String::as_str), o);
    }
    if !r.unresolved.is_empty() {
        let _ = write!(
            s,
            "<section id=\"unresolved\"><h2>Unresolved entities</h2><p class=\"muted\">Hosts, addresses and accounts seen in detections that name no asset of the model ({} in all): extend the model's <code>identifiers</code> to resolve them.</p>",
            count(r.unresolved.len() as u64)
        );
        sections::unresolved(&mut s, &r.unresolved, o, " data-unresolved=\"all\"");
        s.push_str("</section>");
    }
    let _ = writeln!(
        s,
        "<footer><span>vigie · schema {}</span><span>model {}</span><span>rules {}</span><span>Drawn by vigie; this file fetches nothing.</span></footer></main></body></html>",
        esc(&r.schema),
        esc(&r.model),
        esc(&r.rules)
    );
    s
}

fn head(s: &mut String, r: &RespondReport, o: &Options) {
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\"><meta name=\"generator\" content=\"vigie\"><title>{}</title><style>{}</style></head><body><header class=\"masthead\"><div class=\"brand\">vigie</div><div><h1>{}</h1><div class=\"sub\">{} incident{} · {} detections · model <span class=\"mono\">{}</span></div></div></header><main>",
        esc(&o.title),
        style::CSS,
        esc(&o.title),
        count(r.incidents.len() as u64),
        if r.incidents.len() == 1 { "" } else { "s" },
        count(r.summary.detections),
        esc(&esc::clip(&r.model, 24))
    );
}

fn incident(s: &mut String, k: usize, inc: &Incident, g: Result<&Graph, &str>, o: &Options) {
    let _ = write!(
        s,
        "<section class=\"incident\" id=\"{id}\" data-incident=\"{id}\"><h2><span class=\"mono\">{id}</span> {}</h2>",
        sections::severity_badge(&inc.severity),
        id = esc(&inc.id)
    );
    sections::facts(s, inc);
    s.push_str("<h3>Compromised assets and evidence</h3>");
    sections::evidence(s, inc);
    match &inc.contain {
        Some(c) => {
            s.push_str("<h3>Decision</h3>");
            sections::decision(s, inc, c);
        }
        None => s.push_str("<p class=\"empty\" data-no-decision=\"true\">No decision: no asset is judged compromised, so there is nothing to contain or restore. Keep watching the assets involved.</p>"),
    }
    sections::jewels(s, inc);
    if let Some(n) = &inc.notification {
        s.push_str("<h3>Regulator notification</h3>");
        notification::section(s, n);
    }
    s.push_str("<h3>Kill chain</h3>");
    sections::kill_chain(s, inc);
    if !inc.compromised.is_empty() {
        attack_graph(s, k, inc, g, o);
    }
    if let Some(c) = &inc.contain {
        s.push_str("<h3>Customer-hours per segment</h3>");
        match charts::segments(c, o.max_segments) {
            Some((svg, left)) => {
                legend(
                    s,
                    &[
                        ("sw-plan", "optimal plan"),
                        ("sw-isolate", "isolate everything"),
                    ],
                );
                let _ = write!(s, "<div class=\"scroll\">{svg}</div>");
                left_out(s, left, "segments");
            }
            None => s.push_str(
                "<p class=\"empty\">Neither plan takes any customer segment's service down.</p>",
            ),
        }
    }
    if let Some(r) = &inc.restore {
        s.push_str("<h3>Restore timeline</h3>");
        match charts::gantt(r, &inc.compromised, o.max_gantt_rows) {
            Some((svg, left)) => {
                legend(
                    s,
                    &[
                        ("sw-rebuild", "rebuild (compromised)"),
                        ("sw-restore", "restore after the cut"),
                        ("sw-service", "service back"),
                        ("sw-segment", "segment back"),
                    ],
                );
                let _ = write!(s, "<div class=\"scroll\">{svg}</div>");
                left_out(s, left, "timeline rows");
            }
            None => s.push_str("<p class=\"empty\">Nothing to restore.</p>"),
        }
    }
    s.push_str("<h3>Detections</h3>");
    sections::detections(s, inc, o);
    if !inc.unresolved.is_empty() {
        s.push_str("<h3>Unresolved entities</h3>");
        sections::unresolved(s, &inc.unresolved, o, "");
    }
    s.push_str("</section>");
}

fn legend(s: &mut String, items: &[(&str, &str)]) {
    s.push_str("<ul class=\"legend\">");
    for (class, label) in items {
        let _ = write!(s, "<li><span class=\"sw {class}\"></span>{label}</li>");
    }
    s.push_str("</ul>");
}

fn left_out(s: &mut String, n: usize, what: &str) {
    if n > 0 {
        let _ = write!(
            s,
            "<p class=\"note\" data-left-out=\"{n}\">{} more {what} not drawn (the JSON report has them all).</p>",
            count(n as u64)
        );
    }
}

fn attack_graph(s: &mut String, k: usize, inc: &Incident, g: Result<&Graph, &str>, o: &Options) {
    s.push_str("<h3>Attack graph</h3>");
    let g = match g {
        Ok(g) => g,
        Err(e) => {
            let _ = write!(
                s,
                "<p class=\"note\">Attack graph unavailable: {}</p>",
                esc(e)
            );
            return;
        }
    };
    let v = graph::view(g, inc, o.max_graph_nodes);
    legend(
        s,
        &[
            ("sw-compromised", "compromised"),
            ("sw-exposed", "still reachable after the plan"),
            ("sw-protected", "out of reach after the plan"),
            ("sw-removed", "isolated / disabled by the plan (CUT)"),
            ("sw-crown", "crown jewel ★"),
            ("sw-live", "attack edge still open"),
            ("sw-cut", "attack edge cut by the plan"),
        ],
    );
    let label = format!("Attack graph of {}", inc.id);
    let _ = write!(
        s,
        "<div class=\"scroll graph\">{}</div>",
        layout::svg(&v, k, &label)
    );
    if v.eligible > v.nodes.len() {
        let _ = write!(
            s,
            "<p class=\"note\" data-graph-shown=\"{}\" data-graph-eligible=\"{}\">Showing {} of {} assets: the compromised ones, the plan's targets, the cuts next to the attacker, the paths to the soonest crown jewels, then the nearest others. Columns are attack steps from the compromised assets.</p>",
            v.nodes.len(),
            v.eligible,
            count(v.nodes.len() as u64),
            count(v.eligible as u64)
        );
    } else {
        s.push_str("<p class=\"note\">Columns are attack steps from the compromised assets; hover an asset or an edge for details.</p>");
    }
}
