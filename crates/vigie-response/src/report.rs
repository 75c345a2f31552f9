//! Serializable pieces shared by the assess / contain / restore reports.

use crate::graph::Graph;
use crate::impact::Impact;

/// A service that is down or degraded.
#[derive(Debug, Clone)]
pub struct ServiceImpact {
    pub id: String,
    pub name: String,
    /// "down" or "degraded".
    pub state: &'static str,
    /// Hours from the start of the outage until it is back (fully, when degraded).
    pub back_after_hours: f64,
}

/// One customer segment's loss.
#[derive(Debug, Clone)]
pub struct SegmentImpact {
    pub id: String,
    pub name: String,
    /// Customers in the segment.
    pub customers: u64,
    /// Customers who lose some service they use (down or degraded): the whole segment,
    /// since a segment's customers all use the same services; listed segments always are.
    pub customers_affected: u64,
    /// Customers × the fraction of their service lost at the height of the outage
    /// (see [`service_lost`]): 1 M customers losing a service of weight 0.02 count 20,000.
    pub customer_equivalents: f64,
    /// That fraction, in [0, 1].
    pub service_lost: f64,
    pub customer_hours: f64,
    /// Hours until every service the segment uses is fully back.
    pub back_after_hours: f64,
}

/// Fraction of segment `gi`'s service lost at the height of the outage, in [0, 1]: the sum
/// of the weights `uses[s]` of the services it uses that go down, plus
/// `soft_weight × uses[s]` for those only degraded by a soft dependency, capped at 1.
///
/// The height is t = 0: everything in the outage is down from t = 0 and services only ever
/// come back, so no later moment loses more. A segment's weights are, per the model, "the
/// fraction of these customers' service lost when that service is down", hence a sum, not
/// a share of the weights' total (which need not be 1); the cap keeps a customer from
/// losing more than all of it. The segment's `sla_weight` prices customer-hours and plays
/// no part here: this counts customers, not cost.
pub fn service_lost(g: &Graph, imp: &Impact, gi: usize) -> f64 {
    let lost: f64 = g.segments[gi]
        .uses
        .iter()
        .map(|&(s, w)| {
            let s = s as usize;
            if imp.service_up[s] > 0.0 {
                w
            } else if imp.service_degraded_until[s] > 0.0 {
                g.soft_weight * w
            } else {
                0.0
            }
        })
        .sum();
    lost.clamp(0.0, 1.0)
}

/// Services and segments touched by an impact, most expensive segments first.
pub fn summarize(g: &Graph, imp: &Impact) -> (Vec<ServiceImpact>, Vec<SegmentImpact>) {
    let mut services = Vec::new();
    for (s, svc) in g.services.iter().enumerate() {
        if !imp.service_affected(s) {
            continue;
        }
        let down = imp.service_up[s] > 0.0;
        services.push(ServiceImpact {
            id: svc.id.clone(),
            name: svc.name.clone(),
            state: if down { "down" } else { "degraded" },
            back_after_hours: tidy(imp.service_up[s].max(imp.service_degraded_until[s])),
        });
    }
    services.sort_by(|a, b| {
        b.back_after_hours
            .total_cmp(&a.back_after_hours)
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut segments = Vec::new();
    for (i, seg) in g.segments.iter().enumerate() {
        if imp.segment_hours[i] <= 0.0 && imp.segment_back[i] <= 0.0 {
            continue;
        }
        let lost = service_lost(g, imp, i);
        segments.push(SegmentImpact {
            id: seg.id.clone(),
            name: seg.name.clone(),
            customers: seg.customers,
            customers_affected: seg.customers,
            customer_equivalents: tidy(seg.customers as f64 * lost),
            service_lost: tidy(lost),
            customer_hours: tidy(imp.segment_hours[i]),
            back_after_hours: tidy(imp.segment_back[i]),
        });
    }
    segments.sort_by(|a, b| {
        b.customer_hours
            .total_cmp(&a.customer_hours)
            .then_with(|| a.id.cmp(&b.id))
    });
    (services, segments)
}

/// A figure as reported: rounded to 12 significant digits, so that sums and products of the
/// model's decimals print as the decimals they are (in binary, 0.1 + 0.2 is
/// 0.30000000000000004). Twelve digits lie far beyond any model input's precision and far
/// above the error of f64 arithmetic, so nothing meaningful is lost; orderings are decided
/// on the unrounded values before this is applied.
pub fn tidy(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if x == 0.0 {
        // -0.0 (an empty f64 sum is -0.0) would print as `-0.0`.
        return 0.0;
    }
    let mag = x.abs().log10().floor() as i32;
    // Dividing an integer-valued f64 by an exact power of ten (at most 1e22) is correctly
    // rounded, which is what makes the result the f64 nearest the decimal.
    if (-11..=11).contains(&mag) {
        let scale = 10f64.powi(11 - mag);
        (x * scale).round() / scale
    } else if (12..=300).contains(&mag) {
        let unit = 10f64.powi(mag - 11);
        (x / unit).round() * unit
    } else {
        x
    }
}

/// Milliseconds as reported: to the microsecond (the clock says no more).
pub fn tidy_ms(ms: f64) -> f64 {
    (ms * 1e3).round() / 1e3
}

/// Human formatting of a large quantity (1234567 -> "1.23 M").
pub fn human(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.2} G", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if a >= 1e4 {
        format!("{:.1} k", x / 1e3)
    } else if a == a.trunc() {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::tidy;

    #[test]
    fn tidy_removes_binary_noise_and_keeps_the_decimals() {
        assert_eq!(0.1 + 0.2, 0.30000000000000004);
        assert_eq!(tidy(0.1 + 0.2), 0.3);
        assert_eq!(tidy(5190000.000000001), 5190000.0);
        // An f32 widened is off in the 9th digit, beyond repair by rounding: hence f64
        // model quantities end to end.
        assert_eq!(tidy(f64::from(0.1f32)), 0.10000000149);
        assert_eq!(tidy(-4.6000000000000005), -4.6);
        assert_eq!(tidy(1.5e15 + 0.25), 1.5e15);
        assert_eq!(tidy(123.456789), 123.456789);
        assert_eq!(tidy(0.0), 0.0);
        assert!(tidy(-0.0).is_sign_positive(), "-0.0 prints as 0.0");
        assert_eq!(tidy(f64::INFINITY), f64::INFINITY);
        assert!(tidy(f64::NAN).is_nan());
        assert_eq!(tidy(1e-320), 1e-320);
    }
}
