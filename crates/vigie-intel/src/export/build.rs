//! Assembly of the bundle (see the module docs of [`super`] for the contract).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Map, Value};
use vigie_incident::{EntityKind, ObservedDetection};

use super::ids::sdo_id;
use super::observe::{observe, Ioc};
use super::redact::Redactor;
use super::{Bundle, DecisionFacts, ExportIncident, ExportInput, ExportOptions, ExportReport};

/// Creation time of the objects that do not come from detections (the vigie identity,
/// the extension definition, attack-patterns, the operator's identity): the date the
/// extension was defined, so they are the same object version in every export.
pub const FIXED_CREATED: &str = "2026-12-01T00:00:00.000Z";

/// Version of the incident property extension.
pub const EXTENSION_VERSION: &str = "1.0.0";

/// The id of vigie's incident property extension (the same in every export).
pub fn extension_id() -> String {
    sdo_id("extension-definition", "vigie-incident")
}

/// The id of the vigie identity that defines the extension.
pub fn vigie_identity_id() -> String {
    sdo_id("identity", "vigie")
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn epoch() -> DateTime<Utc> {
    Utc.timestamp_opt(0, 0).single().unwrap_or_default()
}

/// Two significant digits (what the default export says of customer figures).
fn round2(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return 0.0;
    }
    let mag = x.abs().log10().floor() as i32 - 1;
    let p = 10f64.powi(mag);
    (x / p).round() * p
}

/// The time span of a detection: a correlation's first and last event, else its time.
fn span(d: &ObservedDetection) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    match &d.detection.correlation {
        Some(c) => Some((c.first.min(c.last), c.last.max(c.first))),
        None => d.detection.timestamp.map(|t| (t, t)),
    }
}

/// One time range, widened as evidence comes in.
#[derive(Debug, Clone, Copy)]
struct Range(DateTime<Utc>, DateTime<Utc>);

impl Range {
    fn add(r: &mut Option<Range>, s: Option<(DateTime<Utc>, DateTime<Utc>)>) {
        let Some((a, b)) = s else { return };
        *r = Some(match *r {
            Some(Range(x, y)) => Range(x.min(a), y.max(b)),
            None => Range(a, b),
        });
    }
}

struct Out {
    objects: BTreeMap<String, Value>,
    report: ExportReport,
    marking: &'static str,
    creator: String,
}

impl Out {
    /// Adds an object with the marking (and, for SDOs and SROs, the creator).
    fn put(&mut self, mut obj: Value, sdo: bool) {
        let Some(m) = obj.as_object_mut() else { return };
        if sdo && !m.contains_key("created_by_ref") {
            m.insert("created_by_ref".into(), json!(self.creator));
        }
        m.insert("object_marking_refs".into(), json!([self.marking]));
        let Some(id) = m.get("id").and_then(Value::as_str).map(str::to_string) else {
            return;
        };
        self.objects.insert(id, obj);
    }

    fn redact(&mut self, why: &str, n: u64) {
        if n > 0 {
            *self.report.redacted.entry(why.to_string()).or_insert(0) += n;
        }
    }
}

/// One (rule, technique) of an incident: time range, detections, observed-data, title.
type RuleSeen<'a> = (Option<Range>, u64, BTreeSet<&'a str>, &'a str);

/// What is known of one indicator over the whole export.
#[derive(Default)]
struct IocAcc {
    range: Option<Range>,
    sco: String,
    techniques: BTreeSet<String>,
    rules: BTreeSet<String>,
    severe: bool,
    observed: BTreeSet<String>,
}

/// What is known of one technique over the whole export.
#[derive(Default)]
struct TechAcc {
    name: Option<String>,
    tactics: Vec<String>,
}

pub(super) fn bundle(input: &ExportInput<'_>, opts: &ExportOptions) -> Bundle {
    let model = input.model;
    let internal = opts.include_internal;
    let mut r = Redactor::new(model);
    r.add_sensitive(sensitive_names(input).iter().map(String::as_str));
    let operator_id = sdo_id("identity", &format!("operator:{}", model.operator.name));
    let mut out = Out {
        objects: BTreeMap::new(),
        report: ExportReport::default(),
        marking: opts.tlp.marking_id(),
        creator: operator_id.clone(),
    };

    // Fixed objects: the marking, vigie and its extension, the operator.
    out.objects.insert(
        opts.tlp.marking_id().to_string(),
        opts.tlp.marking_definition(),
    );
    out.put(
        json!({
            "type": "identity", "spec_version": "2.1", "id": vigie_identity_id(),
            "created": FIXED_CREATED, "modified": FIXED_CREATED,
            "name": "vigie", "identity_class": "system",
            "description": "vigie, the cyber-resilience engine that produced this bundle and defines its incident extension.",
            "created_by_ref": vigie_identity_id(),
        }),
        true,
    );
    out.put(extension_definition(), true);
    let operator_name = if model.operator.name.trim().is_empty() {
        "operator".to_string()
    } else {
        model.operator.name.trim().to_string()
    };
    out.put(
        json!({
            "type": "identity", "spec_version": "2.1", "id": operator_id,
            "created": FIXED_CREATED, "modified": FIXED_CREATED,
            "name": operator_name, "identity_class": "organization",
            "sectors": ["telecommunications"],
        }),
        true,
    );

    // First pass: every incident's detections observed, indicators and techniques
    // gathered over the whole export (an indicator seen in two incidents is one object).
    let mut incidents: Vec<&ExportIncident> = input.incidents.iter().collect();
    incidents.sort_by(|a, b| a.incident.id.cmp(&b.incident.id));
    let mut iocs: BTreeMap<Ioc, IocAcc> = BTreeMap::new();
    let mut techs: BTreeMap<String, TechAcc> = BTreeMap::new();
    struct Det<'d> {
        d: &'d ObservedDetection,
        key: String,
        observed: Option<String>,
        iocs: Vec<Ioc>,
        /// The STIX indicator the detection is a hit of (its rule is that indicator).
        of_indicator: Option<String>,
    }
    let mut per_incident: Vec<Vec<Det<'_>>> = Vec::new();
    for inc in &incidents {
        for t in &inc.incident.techniques {
            let acc = techs.entry(t.id.clone()).or_default();
            if acc.name.is_none() {
                acc.name = t.name.clone();
            }
            for ta in &t.tactics {
                if !acc.tactics.contains(ta) {
                    acc.tactics.push(ta.clone());
                }
            }
        }
        let mut dets: Vec<Det<'_>> = inc
            .detections
            .iter()
            .map(|d| Det {
                d,
                key: vigie_incident::detection_key(d),
                observed: None,
                iocs: Vec::new(),
                of_indicator: stix_indicator_id(&d.rule_key),
            })
            .collect();
        dets.sort_by(|a, b| {
            let k = |x: &Det<'_>| (span(x.d).is_none(), span(x.d), x.key.clone());
            k(a).cmp(&k(b))
        });
        dets.dedup_by(|a, b| a.key == b.key);
        for det in &mut dets {
            for t in &det.d.techniques {
                techs.entry(t.clone()).or_default();
            }
            let seen = observe(det.d, &r, internal);
            for (why, n) in &seen.redacted {
                out.redact(why, *n);
            }
            let Some((first, last)) = span(det.d) else {
                out.report.detections_without_time += 1;
                continue;
            };
            if seen.scos.is_empty() {
                out.report.detections_without_observables += 1;
                continue;
            }
            let od = sdo_id("observed-data", &det.key);
            let number = det
                .d
                .detection
                .correlation
                .as_ref()
                .map_or(1, |c| c.events.len().max(1));
            out.put(
                json!({
                    "type": "observed-data", "spec_version": "2.1", "id": od,
                    "created": ts(first), "modified": ts(last),
                    "first_observed": ts(first), "last_observed": ts(last),
                    "number_observed": number,
                    "object_refs": seen.scos.keys().collect::<Vec<_>>(),
                }),
                true,
            );
            for (_, sco) in seen.scos {
                out.put(sco, false);
            }
            let severe = matches!(
                det.d.level,
                vigie_sigma::Level::High | vigie_sigma::Level::Critical
            );
            for (ioc, sco) in seen.iocs {
                // A hit of a peer's indicator is a sighting of that indicator (below),
                // not a new one.
                if det.of_indicator.is_some() {
                    continue;
                }
                let acc = iocs.entry(ioc.clone()).or_default();
                Range::add(&mut acc.range, Some((first, last)));
                if acc.sco.is_empty() {
                    acc.sco = sco;
                }
                acc.techniques.extend(det.d.techniques.iter().cloned());
                acc.rules.insert(det.d.rule_title.clone());
                acc.severe |= severe;
                acc.observed.insert(od.clone());
                det.iocs.push(ioc);
            }
            det.observed = Some(od);
        }
        per_incident.push(dets);
    }

    // Attack-patterns.
    for (t, acc) in &techs {
        out.put(attack_pattern(t, acc), true);
    }

    // Indicators, what they indicate and what they are based on.
    for (ioc, acc) in &iocs {
        let Some(Range(first, last)) = acc.range else {
            continue;
        };
        let id = sdo_id("indicator", &ioc.key());
        let rules: Vec<String> = acc.rules.iter().map(|s| scrub(&r, &mut out, s)).collect();
        let mut ind = json!({
            "type": "indicator", "spec_version": "2.1", "id": id,
            "created": ts(first), "modified": ts(last),
            "name": format!("{} seen in an intrusion", ioc.describe()),
            "description": format!("Seen by {} from {} to {} in detections of: {}.",
                model_name(&operator_name), ts(first), ts(last), rules.join("; ")),
            "indicator_types": [if acc.severe { "malicious-activity" } else { "anomalous-activity" }],
            "pattern": ioc.pattern(), "pattern_type": "stix", "pattern_version": "2.1",
            "valid_from": ts(first),
        });
        let phases = kill_chain(acc.techniques.iter().filter_map(|t| techs.get(t)));
        if let (false, Some(m)) = (phases.is_empty(), ind.as_object_mut()) {
            m.insert("kill_chain_phases".into(), Value::Array(phases));
        }
        out.put(ind, true);
        for t in &acc.techniques {
            out.put(
                relationship("indicates", &id, &attack_pattern_id(t), first, last),
                true,
            );
        }
        for od in &acc.observed {
            out.put(relationship("based-on", &id, od, first, last), true);
        }
    }

    // Incidents, their sightings and relationships.
    for (inc, dets) in incidents.iter().zip(&per_incident) {
        let i = &inc.incident;
        let mut range: Option<Range> = None;
        for d in dets {
            Range::add(&mut range, span(d.d));
        }
        let Range(first, last) = range.unwrap_or(Range(
            i.first_seen.unwrap_or_else(epoch),
            i.last_seen.or(i.first_seen).unwrap_or_else(epoch),
        ));
        let inc_id = sdo_id("incident", &i.id);
        // Sightings of indicators: one per (incident, indicator).
        let mut by_ioc: BTreeMap<&Ioc, (Option<Range>, u64, BTreeSet<&str>)> = BTreeMap::new();
        for d in dets {
            for ioc in &d.iocs {
                let e = by_ioc.entry(ioc).or_default();
                Range::add(&mut e.0, span(d.d));
                e.1 += 1;
                if let Some(od) = &d.observed {
                    e.2.insert(od);
                }
            }
        }
        for (ioc, (rg, count, ods)) in &by_ioc {
            let Some(Range(a, b)) = *rg else { continue };
            let ind = sdo_id("indicator", &ioc.key());
            out.put(
                sighting(
                    &format!("{}|{}", i.id, ioc.key()),
                    &ind,
                    *count,
                    a,
                    b,
                    &operator_id,
                    ods,
                ),
                true,
            );
            out.put(relationship("related-to", &inc_id, &ind, a, b), true);
        }
        // Sightings of the indicators that detected: one per (incident, indicator), of
        // the indicator's own id.
        let mut by_indicator: BTreeMap<&str, (Option<Range>, u64, BTreeSet<&str>)> =
            BTreeMap::new();
        for d in dets {
            let Some(ind) = &d.of_indicator else { continue };
            let e = by_indicator.entry(ind).or_default();
            Range::add(&mut e.0, span(d.d));
            e.1 += 1;
            if let Some(od) = &d.observed {
                e.2.insert(od);
            }
        }
        for (ind, (rg, count, ods)) in &by_indicator {
            let Some(Range(a, b)) = *rg else { continue };
            out.put(
                sighting(
                    &format!("{}|{ind}", i.id),
                    ind,
                    *count,
                    a,
                    b,
                    &operator_id,
                    ods,
                ),
                true,
            );
            out.put(relationship("related-to", &inc_id, ind, a, b), true);
        }
        // Sightings of attack-patterns: one per (incident, rule, technique).
        let mut by_rule: BTreeMap<(&str, &str), RuleSeen<'_>> = BTreeMap::new();
        for d in dets {
            for t in &d.d.techniques {
                let e = by_rule
                    .entry((d.d.rule_key.as_str(), t.as_str()))
                    .or_insert((None, 0, BTreeSet::new(), d.d.rule_title.as_str()));
                Range::add(&mut e.0, span(d.d));
                e.1 += 1;
                if let Some(od) = &d.observed {
                    e.2.insert(od);
                }
            }
        }
        for ((rule, t), (rg, count, ods, title)) in &by_rule {
            let Some(Range(a, b)) = *rg else { continue };
            let mut s = sighting(
                &format!("{}|{rule}|{t}", i.id),
                &attack_pattern_id(t),
                *count,
                a,
                b,
                &operator_id,
                ods,
            );
            let title = scrub(&r, &mut out, title);
            if let Some(m) = s.as_object_mut() {
                m.insert(
                    "description".into(),
                    json!(format!("Detected by the rule \"{title}\".")),
                );
            }
            out.put(s, true);
        }
        for t in i.techniques.iter().map(|t| &t.id) {
            out.put(
                relationship("related-to", &inc_id, &attack_pattern_id(t), first, last),
                true,
            );
        }
        let obj = incident_object(
            &r,
            &mut out,
            inc,
            &inc_id,
            first,
            last,
            dets.len(),
            internal,
            model,
        );
        out.put(obj, true);
    }

    let mut objects: Vec<Value> = out.objects.into_values().collect();
    objects.sort_by(|a, b| {
        let k = |v: &Value| {
            let ty = v
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let rank = match ty.as_str() {
                "marking-definition" => 0,
                "extension-definition" => 2,
                "identity" => 1,
                _ => 3,
            };
            let id = v
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            (rank, ty, id)
        };
        k(a).cmp(&k(b))
    });
    let mut report = out.report;
    for o in &objects {
        if let Some(t) = o.get("type").and_then(Value::as_str) {
            *report.by_type.entry(t.to_string()).or_insert(0) += 1;
        }
    }
    let versions: Vec<String> = objects
        .iter()
        .map(|o| {
            let g = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("");
            format!("{}@{}", g("id"), g("modified"))
        })
        .collect();
    let id = sdo_id("bundle", &versions.join(","));
    Bundle {
        id,
        objects,
        report,
    }
}

fn model_name(operator: &str) -> &str {
    operator
}

fn scrub(r: &Redactor, out: &mut Out, s: &str) -> String {
    let (t, n) = r.scrub(s);
    out.redact("text_scrubbed", n as u64);
    t
}

/// Every name the export must not show: the entities of the detections (hosts,
/// accounts, SIDs, internal addresses) and the incidents' accounts and addresses.
fn sensitive_names(input: &ExportInput<'_>) -> Vec<String> {
    let r0 = Redactor::new(input.model);
    let mut names: Vec<String> = Vec::new();
    for inc in &input.incidents {
        names.extend(inc.incident.accounts.iter().cloned());
        names.extend(inc.incident.assets.iter().cloned());
        for ip in &inc.incident.ips {
            if ip.parse::<IpAddr>().is_ok_and(|a| r0.is_internal_ip(a)) {
                names.push(ip.clone());
            }
        }
        for (k, v, _) in &inc.incident.unresolved {
            if matches!(k, EntityKind::Host | EntityKind::Account | EntityKind::Sid) {
                names.push(v.clone());
            }
        }
        for d in &inc.detections {
            for e in &d.entities {
                let v = &e.entity.value;
                let keep = match e.entity.kind {
                    EntityKind::Account | EntityKind::Sid => true,
                    EntityKind::Host => e.asset.is_some() || r0.is_internal_domain(v),
                    EntityKind::Ip => v.parse::<IpAddr>().is_ok_and(|a| r0.is_internal_ip(a)),
                    _ => false,
                };
                if keep {
                    names.push(v.clone());
                }
                if let Some(a) = &e.asset {
                    names.push(a.clone());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// `rule_key` when it is a STIX indicator id (`indicator--` and a lower-case UUID): the
/// rule of a detection by a STIX indicator is that indicator (`vigie_intel::detect`);
/// MISP attribute uuids and list keys are not STIX ids.
fn stix_indicator_id(rule_key: &str) -> Option<String> {
    let uuid = rule_key.strip_prefix("indicator--")?;
    let parsed = uuid::Uuid::parse_str(uuid).ok()?;
    (parsed.hyphenated().to_string() == uuid).then(|| rule_key.to_string())
}

fn attack_pattern_id(t: &str) -> String {
    sdo_id("attack-pattern", &t.to_ascii_uppercase())
}

fn technique_ref(t: &str) -> Value {
    let t = t.to_ascii_uppercase();
    if t.starts_with("FGT") {
        return json!({"source_name": "mitre-fight", "external_id": t});
    }
    json!({"source_name": "mitre-attack", "external_id": t})
}

/// The technique's page (in the description: an external reference with a `url` must
/// carry the hashes of what it points to, which a web page cannot promise).
fn technique_url(t: &str) -> String {
    let t = t.to_ascii_uppercase();
    if t.starts_with("FGT") {
        return format!("https://fight.mitre.org/techniques/{t}");
    }
    format!(
        "https://attack.mitre.org/techniques/{}/",
        t.replace('.', "/")
    )
}

fn kill_chain<'a>(techs: impl Iterator<Item = &'a TechAcc>) -> Vec<Value> {
    let mut seen: Vec<String> = Vec::new();
    for t in techs {
        for ta in &t.tactics {
            if !seen.contains(ta) {
                seen.push(ta.clone());
            }
        }
    }
    seen.into_iter()
        .map(|p| json!({"kill_chain_name": "mitre-attack", "phase_name": p}))
        .collect()
}

fn attack_pattern(t: &str, acc: &TechAcc) -> Value {
    let mut o = json!({
        "type": "attack-pattern", "spec_version": "2.1", "id": attack_pattern_id(t),
        "created": FIXED_CREATED, "modified": FIXED_CREATED,
        "name": acc.name.clone().unwrap_or_else(|| t.to_ascii_uppercase()),
        "description": format!("{} technique {}: {}", if t.to_ascii_uppercase().starts_with("FGT") { "MITRE FiGHT" } else { "MITRE ATT&CK" }, t.to_ascii_uppercase(), technique_url(t)),
        "external_references": [technique_ref(t)],
    });
    let phases = kill_chain(std::iter::once(acc));
    if let (false, Some(m)) = (phases.is_empty(), o.as_object_mut()) {
        m.insert("kill_chain_phases".into(), Value::Array(phases));
    }
    o
}

fn relationship(
    ty: &str,
    source: &str,
    target: &str,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
) -> Value {
    json!({
        "type": "relationship", "spec_version": "2.1",
        "id": sdo_id("relationship", &format!("{ty}|{source}|{target}")),
        "created": ts(first), "modified": ts(last),
        "relationship_type": ty, "source_ref": source, "target_ref": target,
    })
}

fn sighting(
    key: &str,
    of: &str,
    count: u64,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    operator: &str,
    observed: &BTreeSet<&str>,
) -> Value {
    let mut s = json!({
        "type": "sighting", "spec_version": "2.1", "id": sdo_id("sighting", key),
        "created": ts(first), "modified": ts(last),
        "first_seen": ts(first), "last_seen": ts(last),
        "count": count.min(999_999_999),
        "sighting_of_ref": of,
        "where_sighted_refs": [operator],
    });
    if let (false, Some(m)) = (observed.is_empty(), s.as_object_mut()) {
        m.insert("observed_data_refs".into(), json!(observed));
    }
    s
}

/// How a containment action's target is named in the bundle.
fn target_name(r: &Redactor, model: &vigie_model::Model, target: &str, internal: bool) -> String {
    if let Some(role) = r.role(target) {
        return if internal {
            format!("{target}: {role}")
        } else {
            role.to_string()
        };
    }
    let zone = |z: &str| {
        model
            .zones
            .iter()
            .find(|x| x.id == z)
            .map_or(z.to_string(), |x| x.name.clone())
    };
    if let Some(f) = model.flows.iter().find(|f| {
        f.explicit_id.as_deref() == Some(target) || format!("{}->{}", f.from, f.to) == target
    }) {
        return format!("traffic from {} to {}", zone(&f.from), zone(&f.to));
    }
    if let Some(s) = model.services.iter().find(|s| s.id == target) {
        return format!(
            "service {}",
            if s.name.is_empty() { &s.id } else { &s.name }
        );
    }
    target.to_string()
}

#[allow(clippy::too_many_arguments)]
fn incident_object(
    r: &Redactor,
    out: &mut Out,
    inc: &ExportIncident,
    id: &str,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    detections: usize,
    internal: bool,
    model: &vigie_model::Model,
) -> Value {
    let i = &inc.incident;
    let fig = |x: f64| if internal { x } else { round2(x) };
    let role = |a: &str| {
        r.role(a)
            .map_or_else(|| "unknown asset".to_string(), str::to_string)
    };
    let compromised: Vec<String> = i.compromised.iter().map(|c| role(&c.asset)).collect();
    let involved: Vec<String> = i.assets.iter().map(|a| role(a)).collect();
    let mut ext = Map::new();
    ext.insert("extension_type".into(), json!("property-extension"));
    ext.insert("vigie_incident_id".into(), json!(i.id));
    ext.insert("severity".into(), json!(i.severity.as_str()));
    ext.insert("risk".into(), json!((i.risk * 10.0).round() / 10.0));
    ext.insert("detection_count".into(), json!(detections));
    ext.insert("first_seen".into(), json!(ts(first)));
    ext.insert("last_seen".into(), json!(ts(last)));
    ext.insert("exact_figures".into(), json!(internal));
    // Tactics here: stix2-validator 3.3.2 does not know the incident's
    // `kill_chain_phases` and calls it a custom property.
    if !i.tactics.is_empty() {
        ext.insert("tactics".into(), json!(i.tactics));
    }
    let mut roles_c: Vec<String> = compromised.clone();
    roles_c.sort();
    roles_c.dedup();
    let mut roles_i: Vec<String> = involved;
    roles_i.sort();
    roles_i.dedup();
    if !roles_c.is_empty() {
        ext.insert("compromised_roles".into(), json!(roles_c));
    }
    if !roles_i.is_empty() {
        ext.insert("involved_roles".into(), json!(roles_i));
    }
    if internal {
        if !i.assets.is_empty() {
            ext.insert("involved_assets".into(), json!(i.assets));
        }
        if !i.compromised.is_empty() {
            let c: Vec<&str> = i.compromised.iter().map(|c| c.asset.as_str()).collect();
            ext.insert("compromised_assets".into(), json!(c));
        }
        if !i.accounts.is_empty() {
            ext.insert("accounts".into(), json!(i.accounts));
        }
        if !i.ips.is_empty() {
            ext.insert("addresses".into(), json!(i.ips));
        }
    } else {
        out.redact("asset", i.assets.len() as u64);
    }
    let dec = inc.decision.as_ref();
    if let Some(d) = dec {
        decision_ext(r, &mut ext, d, fig, internal, model);
    }
    let n_tech = i.techniques.len();
    let names: Vec<String> = i
        .techniques
        .iter()
        .take(3)
        .map(|t| t.name.clone().unwrap_or_else(|| t.id.clone()))
        .collect();
    let mut name = format!(
        "{} incident {}: {}",
        capitalise(i.severity.as_str()),
        i.id,
        names.join(", ")
    );
    if n_tech > 3 {
        name.push_str(&format!(" and {} more techniques", n_tech - 3));
    }
    if n_tech == 0 {
        name = format!("{} incident {}", capitalise(i.severity.as_str()), i.id);
    }
    let mut desc = format!(
        "{detections} detection(s) from {} to {}",
        ts(first),
        ts(last)
    );
    if !compromised.is_empty() {
        desc.push_str(&format!(
            "; {} asset(s) judged compromised: {}",
            compromised.len(),
            compromised.join("; ")
        ));
    }
    if let Some(p) = dec.and_then(|d| d.plan.as_ref()) {
        desc.push_str(&format!(
            "; cheapest containment: {} action(s), {} customer-hours",
            p.actions.len(),
            fmt_num(fig(p.customer_hours))
        ));
        if let Some(iso) = dec.and_then(|d| d.isolate_everything.as_ref()) {
            desc.push_str(&format!(
                " (isolating every compromised asset: {})",
                fmt_num(fig(iso.customer_hours))
            ));
        }
    }
    desc.push('.');
    let name = scrub(r, out, &name);
    let desc = scrub(r, out, &desc);
    let ext = scrub_value(r, out, Value::Object(ext), internal);
    let o = json!({
        "type": "incident", "spec_version": "2.1", "id": id,
        "created": ts(first), "modified": ts(last),
        "name": name, "description": desc,
        "external_references": [{"source_name": "vigie", "external_id": i.id}],
        "extensions": { extension_id(): ext },
    });
    o
}

fn decision_ext(
    r: &Redactor,
    ext: &mut Map<String, Value>,
    d: &DecisionFacts,
    fig: impl Fn(f64) -> f64,
    internal: bool,
    model: &vigie_model::Model,
) {
    if let Some(x) = d.customer_hours_at_risk {
        ext.insert("customer_hours_at_risk".into(), json!(fig(x)));
    }
    if let (true, Some(x)) = (internal, d.customers_at_risk) {
        ext.insert("customers_at_risk".into(), json!(x));
    }
    let plan = |p: &super::PlanFacts| {
        let actions: Vec<Value> = p
            .actions
            .iter()
            .map(|a| json!({"action": a.action, "target": target_name(r, model, &a.target, internal)}))
            .collect();
        let mut m = Map::new();
        m.insert("label".into(), json!(p.label));
        m.insert("complete".into(), json!(p.complete));
        m.insert("customer_hours".into(), json!(fig(p.customer_hours)));
        m.insert("action_count".into(), json!(p.actions.len()));
        if !actions.is_empty() {
            m.insert("actions".into(), Value::Array(actions));
        }
        if internal {
            m.insert("customers_affected".into(), json!(p.customers_affected));
        }
        Value::Object(m)
    };
    let mut c = Map::new();
    if let Some(p) = &d.plan {
        c.insert("plan".into(), plan(p));
    }
    if let Some(o) = d.plan_optimal {
        c.insert("plan_optimal".into(), json!(o));
    }
    if let Some(p) = &d.isolate_everything {
        c.insert("isolate_everything".into(), plan(p));
    }
    if !c.is_empty() {
        ext.insert("containment".into(), Value::Object(c));
    }
    let mut rs = Map::new();
    if let Some(x) = d.restore_total_hours {
        rs.insert("total_hours".into(), json!((x * 10.0).round() / 10.0));
    }
    if let Some(x) = d.restore_customer_hours {
        rs.insert("customer_hours".into(), json!(fig(x)));
    }
    if !rs.is_empty() {
        ext.insert("restoration".into(), Value::Object(rs));
    }
}

/// Every string of `v` scrubbed (default export only).
fn scrub_value(r: &Redactor, out: &mut Out, v: Value, internal: bool) -> Value {
    if internal {
        return v;
    }
    match v {
        Value::String(s) => Value::String(scrub(r, out, &s)),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|x| scrub_value(r, out, x, internal))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (k, scrub_value(r, out, x, internal)))
                .collect(),
        ),
        other => other,
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `163,000,000`.
fn fmt_num(x: f64) -> String {
    let n = x.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// The definition of vigie's incident property extension.
fn extension_definition() -> Value {
    json!({
        "type": "extension-definition", "spec_version": "2.1", "id": extension_id(),
        "created_by_ref": vigie_identity_id(),
        "created": FIXED_CREATED, "modified": FIXED_CREATED,
        "name": "vigie incident decision",
        "description": "What vigie decided on an incident: severity, risk, the roles of the assets involved and compromised, customer-hours at risk, the cheapest containment plan next to isolating every compromised asset, and the restoration time. Figures are customer-hours (customers losing a service times hours without it, weighted by service level), rounded to two significant digits unless exact_figures is true.",
        "schema": schema_text(),
        "version": EXTENSION_VERSION,
        "extension_types": ["property-extension"],
    })
}

/// The extension's JSON Schema (the `schema` of the extension-definition, as text).
pub const EXTENSION_SCHEMA: &str = include_str!("extension-schema.json");

/// The schema as one line of JSON (what the extension-definition carries).
fn schema_text() -> String {
    serde_json::from_str::<Value>(EXTENSION_SCHEMA)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| EXTENSION_SCHEMA.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_and_numbers() {
        assert_eq!(round2(163_117_500.0), 160_000_000.0);
        assert_eq!(round2(0.0), 0.0);
        assert_eq!(round2(1234.0), 1200.0);
        assert_eq!(fmt_num(163_117_500.0), "163,117,500");
        assert_eq!(fmt_num(12.0), "12");
    }

    #[test]
    fn extension_schema_is_json() {
        assert!(serde_json::from_str::<Value>(EXTENSION_SCHEMA).is_ok());
    }
}
