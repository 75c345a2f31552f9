//! The two charts of an incident: customer-hours per segment for the plan next to
//! isolate-everything (grouped horizontal bars), and the restore timeline (a Gantt chart:
//! one bar per asset step, each service's restart and the hour it is back, each
//! segment's hour back). Linear scales from zero with round ticks: the gap between the
//! plans is the point, so it is drawn to scale.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use vigie_wire::v1::response::{ContainReport, RestoreReport, SegmentImpact};

use super::esc::{clip, compact, esc, hours, num, px};

const LABEL_W: f64 = 270.0;
const PLOT_W: f64 = 760.0;
const VALUE_W: f64 = 110.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 26.0;

/// A round step for an axis from 0 to `max` with about `n` ticks.
fn tick_step(max: f64, n: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let raw = max / n;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Vertical grid lines and their labels over the plot area.
fn axis(s: &mut String, max: f64, height: f64, label: impl Fn(f64) -> String) -> f64 {
    let step = tick_step(max, 5.0);
    let top = (max / step).ceil().max(1.0) * step;
    let mut t = 0.0;
    let mut i = 0;
    while t <= top + step / 2.0 && i < 50 {
        let x = LABEL_W + t / top * PLOT_W;
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"/><text class=\"tick\" x=\"{x}\" y=\"{}\">{}</text>",
            px(TOP - 6.0),
            px(height - BOTTOM + 4.0),
            px(height - 8.0),
            esc(&label(t)),
            x = px(x)
        );
        i += 1;
        t = i as f64 * step;
    }
    top
}

/// One segment's figures under both plans.
struct Row<'a> {
    id: &'a str,
    name: &'a str,
    plan: Option<f64>,
    all: Option<f64>,
}

fn rows<'a>(
    plan: Option<&'a [SegmentImpact]>,
    all: &'a [SegmentImpact],
    cap: usize,
) -> (Vec<Row<'a>>, usize) {
    let mut by_id: BTreeMap<&str, Row<'a>> = BTreeMap::new();
    for s in all {
        by_id
            .entry(&s.id)
            .or_insert(Row {
                id: &s.id,
                name: &s.name,
                plan: None,
                all: None,
            })
            .all = Some(s.customer_hours);
    }
    for s in plan.unwrap_or_default() {
        by_id
            .entry(&s.id)
            .or_insert(Row {
                id: &s.id,
                name: &s.name,
                plan: None,
                all: None,
            })
            .plan = Some(s.customer_hours);
    }
    let mut v: Vec<Row<'a>> = by_id.into_values().collect();
    let total = v.len();
    let key = |r: &Row<'_>| r.all.unwrap_or(0.0).max(r.plan.unwrap_or(0.0));
    v.sort_by(|a, b| key(b).total_cmp(&key(a)).then_with(|| a.id.cmp(b.id)));
    v.truncate(cap);
    (v, total)
}

fn bar(s: &mut String, series: &str, seg: &str, value: f64, y: f64, scale: f64) {
    let w = (value.max(0.0) * scale).max(if value > 0.0 { 1.5 } else { 0.0 });
    let _ = write!(
        s,
        "<rect class=\"bar {series}\" data-bar=\"{series}\" data-segment=\"{}\" data-value=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"13\" rx=\"2\"><title>{}: {} customer-hours</title></rect><text class=\"val\" x=\"{}\" y=\"{}\">{}</text>",
        esc(seg),
        value,
        px(LABEL_W),
        px(y),
        px(w),
        if series == "plan" { "optimal plan" } else { "isolate everything" },
        esc(&num(value)),
        px(LABEL_W + w + 5.0),
        px(y + 10.5),
        esc(&compact(value))
    );
}

/// Customer-hours per segment, the plan next to isolate-everything; None when neither
/// plan touches any segment. Returns the SVG and how many segments were left out.
pub fn segments(c: &ContainReport, cap: usize) -> Option<(String, usize)> {
    let plan = c.plan.as_ref().map(|p| p.segments.as_slice());
    let (rows, total) = rows(plan, &c.isolate_everything.segments, cap);
    if rows.is_empty() {
        return None;
    }
    let group = 40.0;
    let height = TOP + rows.len() as f64 * group + BOTTOM;
    let max = rows
        .iter()
        .map(|r| r.all.unwrap_or(0.0).max(r.plan.unwrap_or(0.0)))
        .fold(0.0, f64::max);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart segments-chart fit\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Customer-hours per segment\" data-segments=\"{}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">",
        rows.len(),
        w = px(LABEL_W + PLOT_W + VALUE_W),
        h = px(height)
    );
    let top = axis(&mut s, max, height, compact);
    let scale = PLOT_W / top;
    for (i, r) in rows.iter().enumerate() {
        let y = TOP + i as f64 * group;
        let _ = write!(
            s,
            "<text class=\"seglabel\" x=\"{}\" y=\"{}\">{}<title>{} ({})</title></text>",
            px(LABEL_W - 10.0),
            px(y + 19.0),
            esc(&clip(r.name, 38)),
            esc(r.name),
            esc(r.id)
        );
        match r.plan {
            Some(v) => bar(&mut s, "plan", r.id, v, y + 3.0, scale),
            None => {
                let _ = write!(
                    s,
                    "<text class=\"val none\" x=\"{}\" y=\"{}\">not affected by the plan</text>",
                    px(LABEL_W + 4.0),
                    px(y + 13.5)
                );
            }
        }
        if let Some(v) = r.all {
            bar(&mut s, "isolate", r.id, v, y + 19.0, scale);
        }
    }
    s.push_str("</svg>");
    Some((s, total - rows.len()))
}

/// One row of the Gantt chart.
enum GRow<'a> {
    Asset {
        id: &'a str,
        name: &'a str,
        start: f64,
        up: f64,
        rebuild: bool,
    },
    Service {
        id: &'a str,
        name: &'a str,
        deps: f64,
        up: f64,
    },
    Segment {
        id: &'a str,
        name: &'a str,
        back: f64,
    },
}

fn gantt_rows<'a>(
    r: &'a RestoreReport,
    compromised: &[String],
    cap: usize,
) -> (Vec<GRow<'a>>, usize) {
    let mut v: Vec<GRow<'a>> = Vec::new();
    for a in &r.assets {
        v.push(GRow::Asset {
            id: &a.id,
            name: &a.name,
            start: a.start_hours,
            up: a.up_hours,
            rebuild: compromised.contains(&a.id),
        });
    }
    for s in &r.services {
        v.push(GRow::Service {
            id: &s.id,
            name: &s.name,
            deps: s.dependencies_back_hours,
            up: s.up_hours,
        });
    }
    for s in &r.segments {
        v.push(GRow::Segment {
            id: &s.id,
            name: &s.name,
            back: s.back_after_hours,
        });
    }
    let total = v.len();
    v.truncate(cap);
    let left_out = total - v.len();
    (v, left_out)
}

fn gantt_row(s: &mut String, row: &GRow<'_>, y: f64, scale: f64) {
    let x = |h: f64| px(LABEL_W + h.max(0.0) * scale);
    let label = |s: &mut String, kind: &str, name: &str, id: &str| {
        let shown = if name.is_empty() { id } else { name };
        let _ = write!(
            s,
            "<text class=\"glabel {kind}\" x=\"{}\" y=\"{}\">{}<title>{} ({})</title></text>",
            px(LABEL_W - 10.0),
            px(y + 12.0),
            esc(&clip(shown, 36)),
            esc(shown),
            esc(id)
        );
    };
    match *row {
        GRow::Asset {
            id,
            name,
            start,
            up,
            rebuild,
        } => {
            label(s, "asset", name, id);
            let class = if rebuild { "rebuild" } else { "restore" };
            let w = ((up - start).max(0.0) * scale).max(2.0);
            let _ = write!(
                s,
                "<rect class=\"gbar {class}\" data-gantt-bar=\"asset\" data-asset=\"{}\" data-start=\"{start}\" data-up=\"{up}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" rx=\"3\"><title>{}: {} from {} to {}</title></rect><text class=\"val\" x=\"{}\" y=\"{}\">{}</text>",
                esc(id), x(start), px(y + 1.0), px(w),
                esc(id), if rebuild { "rebuilt" } else { "restored" },
                esc(&hours(start)), esc(&hours(up)),
                px(LABEL_W + start.max(0.0) * scale + w + 5.0), px(y + 12.0), esc(&hours(up))
            );
        }
        GRow::Service { id, name, deps, up } => {
            label(s, "service", name, id);
            let _ = write!(
                s,
                "<line class=\"gwait\" x1=\"{}\" y1=\"{my}\" x2=\"{}\" y2=\"{my}\"/><rect class=\"grestart\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"8\" rx=\"2\"/><path class=\"gmile service\" data-gantt-service=\"{}\" data-up=\"{up}\" transform=\"translate({},{my})\" d=\"M0,-7 L7,0 L0,7 L-7,0 z\"><title>{} up at {}</title></path><text class=\"val\" x=\"{}\" y=\"{}\">up {}</text>",
                x(0.0), x(deps), x(deps), px(y + 4.0), px(((up - deps).max(0.0) * scale).max(1.0)),
                esc(id), x(up), esc(id), esc(&hours(up)),
                px(LABEL_W + up.max(0.0) * scale + 11.0), px(y + 12.0), esc(&hours(up)),
                my = px(y + 8.0)
            );
        }
        GRow::Segment { id, name, back } => {
            label(s, "segment", name, id);
            let _ = write!(
                s,
                "<path class=\"gmile segment\" data-gantt-segment=\"{}\" data-back=\"{back}\" transform=\"translate({},{})\" d=\"M-6,-6 L6,-6 L6,6 L-6,6 z\"><title>{} back at {}</title></path><text class=\"val\" x=\"{}\" y=\"{}\">back {}</text>",
                esc(id), x(back), px(y + 8.0), esc(id), esc(&hours(back)),
                px(LABEL_W + back.max(0.0) * scale + 11.0), px(y + 12.0), esc(&hours(back))
            );
        }
    }
}

/// The restore timeline; None when nothing is restored. Returns the SVG and how many
/// rows were left out.
pub fn gantt(r: &RestoreReport, compromised: &[String], cap: usize) -> Option<(String, usize)> {
    let (rows, left_out) = gantt_rows(r, compromised, cap);
    if rows.is_empty() {
        return None;
    }
    let pitch = 24.0;
    let height = TOP + rows.len() as f64 * pitch + BOTTOM;
    let end = rows
        .iter()
        .map(|row| match *row {
            GRow::Asset { up, .. } => up,
            GRow::Service { up, .. } => up,
            GRow::Segment { back, .. } => back,
        })
        .filter(|h| h.is_finite())
        .fold(r.total_hours.max(0.0), f64::max);
    let bars = rows
        .iter()
        .filter(|r| matches!(r, GRow::Asset { .. }))
        .count();
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart gantt fit\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Restore timeline\" data-bars=\"{bars}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">",
        w = px(LABEL_W + PLOT_W + VALUE_W),
        h = px(height)
    );
    let top = axis(&mut s, end, height, |t| format!("H+{}", num(t)));
    let scale = PLOT_W / top;
    let mut kind = "";
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + i as f64 * pitch;
        let this = match row {
            GRow::Asset { .. } => "asset",
            GRow::Service { .. } => "service",
            GRow::Segment { .. } => "segment",
        };
        if this != kind && i > 0 {
            let _ = write!(
                s,
                "<line class=\"gsep\" x1=\"0\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"/>",
                px(LABEL_W + PLOT_W),
                y = px(y - 4.0)
            );
        }
        kind = this;
        gantt_row(&mut s, row, y, scale);
    }
    s.push_str("</svg>");
    Some((s, left_out))
}

#[cfg(test)]
mod tests {
    use super::tick_step;

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(40.0, 5.0), 10.0);
        assert_eq!(tick_step(3_290_392_500.0, 5.0), 1e9);
        assert_eq!(tick_step(0.0, 5.0), 1.0);
        assert_eq!(tick_step(12.0, 5.0), 2.5);
    }
}
