//! Semantic checks of a model: references, uniqueness, cycles, ranges, fields that make no
//! sense for an asset's kind. Every problem is collected; nothing stops at the first.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::diag::{closest, Diagnostic, Severity};
use crate::identity::{
    cidr_has_host_bits, clashes_visiting, is_country_code, Identifier, IdentifierAt,
};
use crate::tree::Step;
use crate::types::{AssetKind, DepTarget, Model, Ttc, TtcDist};

/// A semantic problem, located by a path into the model (indexes are positions in the
/// model's vectors).
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Error or warning.
    pub severity: Severity,
    /// Where.
    pub path: Vec<Step>,
    /// What is wrong.
    pub message: String,
    /// A related place (e.g. the first definition of a duplicate id).
    pub related: Option<Vec<Step>>,
}

/// Render a path as `assets[3].zone`.
pub fn path_string(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) | Step::KeyName(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Check a model built in code (no file positions): every problem, errors and warnings.
pub fn validate(model: &Model) -> Vec<Diagnostic> {
    check(model, &FxHashSet::default())
        .into_iter()
        .map(|i| Diagnostic {
            file: "<model>".into(),
            line: 0,
            column: 0,
            severity: i.severity,
            path: path_string(&i.path),
            message: match &i.related {
                Some(r) => format!("{} (first defined at {})", i.message, path_string(r)),
                None => i.message,
            },
        })
        .collect()
}

/// Where an id is defined, kept small (a million of them) and turned into a path on demand.
#[derive(Clone, Copy)]
struct Loc {
    section: &'static str,
    index: usize,
    /// False for flows named by default (`"<from>-><to>"`): point at the flow itself.
    id_field: bool,
}

impl Loc {
    fn path(self) -> Vec<Step> {
        let mut p = vec![key(self.section), Step::Index(self.index)];
        if self.id_field {
            p.push(key("id"));
        }
        p
    }
}

fn loc(section: &'static str, index: usize) -> Loc {
    Loc {
        section,
        index,
        id_field: true,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zone,
    Flow,
    Asset(AssetKind),
    Service,
    Segment,
}

fn key(k: &str) -> Step {
    Step::Key(k.to_string())
}

/// Unknown references beyond this many get no "did you mean" (each costs a scan of ids).
const MAX_SUGGESTIONS: usize = 50;

struct Checker<'m> {
    issues: Vec<Issue>,
    ids: FxHashMap<&'m str, (Kind, Loc)>,
    /// Ids of entities that failed to load: references to them are not reported again.
    broken: &'m FxHashSet<String>,
    suggestions_left: usize,
    memo: Vec<Option<(&'m str, Kind)>>,
}

/// Slots of the reference memo.
const MEMO: usize = 4096;

impl<'m> Checker<'m> {
    fn error(&mut self, path: Vec<Step>, message: String) {
        self.issues.push(Issue {
            severity: Severity::Error,
            path,
            message,
            related: None,
        });
    }

    fn warning(&mut self, path: Vec<Step>, message: String) {
        self.issues.push(Issue {
            severity: Severity::Warning,
            path,
            message,
            related: None,
        });
    }

    fn define(&mut self, id: &'m str, kind: Kind, loc: Loc) {
        if id.trim().is_empty() {
            self.error(loc.path(), "empty id".into());
            return;
        }
        if let Some((_, first)) = self.ids.get(id) {
            let first = first.path();
            self.issues.push(Issue {
                severity: Severity::Error,
                path: loc.path(),
                message: format!(
                    "duplicate id `{id}`: ids are unique across zones, flows, assets, services and segments"
                ),
                related: Some(first),
            });
            return;
        }
        self.ids.insert(id, (kind, loc));
    }

    fn suggest(&mut self, id: &str, accept: impl Fn(Kind) -> bool) -> String {
        if self.suggestions_left == 0 {
            return String::new();
        }
        self.suggestions_left -= 1;
        let candidates = self
            .ids
            .iter()
            .filter(|(_, (k, _))| accept(*k))
            .map(|(id, _)| *id);
        let found = closest(id, candidates, 3);
        if found.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = found.iter().map(|s| format!("`{s}`")).collect();
            format!(" (did you mean {}?)", list.join(", "))
        }
    }

    /// Check that `id` names something `accept` allows; `what` describes it for messages.
    /// Kind of the entity named `id`. References repeat (every asset of a zone names it,
    /// every server names the same admin group): a small direct-mapped memo in front of
    /// the id map spares most of the cache misses of a million-entry table.
    fn kind_of(&mut self, id: &str) -> Option<Kind> {
        let mut h = rustc_hash::FxHasher::default();
        std::hash::Hasher::write(&mut h, id.as_bytes());
        let slot = (std::hash::Hasher::finish(&h) as usize) % MEMO;
        if let Some((known, k)) = self.memo[slot] {
            if known == id {
                return Some(k);
            }
        }
        let (&key, &(k, _)) = self.ids.get_key_value(id)?;
        self.memo[slot] = Some((key, k));
        Some(k)
    }

    fn reference(
        &mut self,
        path: impl Fn() -> Vec<Step>,
        id: &str,
        what: &str,
        accept: impl Fn(Kind) -> bool + Copy,
    ) -> Option<Kind> {
        match self.kind_of(id) {
            Some(k) if accept(k) => Some(k),
            Some(k) => {
                self.error(
                    path(),
                    format!("`{id}` is {}, expected {what}", describe(k)),
                );
                None
            }
            None if self.broken.contains(id) => None,
            None => {
                let hint = self.suggest(id, accept);
                self.error(path(), format!("unknown {what} `{id}`{hint}"));
                None
            }
        }
    }
}

fn describe(k: Kind) -> String {
    match k {
        Kind::Zone => "a zone".into(),
        Kind::Flow => "a flow".into(),
        Kind::Asset(AssetKind::Application) => "an application".into(),
        Kind::Asset(AssetKind::Account) => "an account".into(),
        Kind::Asset(k) => format!("a {}", k.as_str().replace('_', " ")),
        Kind::Service => "a service".into(),
        Kind::Segment => "a segment".into(),
    }
}

fn non_negative(c: &mut Checker<'_>, path: impl FnOnce() -> Vec<Step>, v: f64, what: &str) {
    if !v.is_finite() || v < 0.0 {
        c.error(
            path(),
            format!("{what} must be a finite number >= 0, got {v}"),
        );
    }
}

/// Check `model`; `broken` holds ids of entities that failed to deserialize (references to
/// them are not reported as unknown).
pub fn check(model: &Model, broken: &FxHashSet<String>) -> Vec<Issue> {
    let mut c = Checker {
        issues: Vec::new(),
        ids: FxHashMap::default(),
        broken,
        suggestions_left: MAX_SUGGESTIONS,
        memo: vec![None; MEMO],
    };
    c.ids
        .reserve(model.assets.len() + model.zones.len() + model.services.len());
    let at = |section: &str, i: usize| vec![key(section), Step::Index(i)];
    let at_field =
        |section: &str, i: usize, field: &str| vec![key(section), Step::Index(i), key(field)];

    // Ids first, so references can point forward.
    for (i, z) in model.zones.iter().enumerate() {
        c.define(&z.id, Kind::Zone, loc("zones", i));
    }
    let flow_ids: Vec<String> = model.flows.iter().map(|f| f.id()).collect();
    for (i, id) in flow_ids.iter().enumerate() {
        let l = Loc {
            id_field: model.flows[i].explicit_id.is_some(),
            ..loc("flows", i)
        };
        c.define(id, Kind::Flow, l);
    }
    for (i, a) in model.assets.iter().enumerate() {
        c.define(&a.id, Kind::Asset(a.kind), loc("assets", i));
    }
    for (i, s) in model.services.iter().enumerate() {
        c.define(&s.id, Kind::Service, loc("services", i));
    }
    for (i, s) in model.segments.iter().enumerate() {
        c.define(&s.id, Kind::Segment, loc("segments", i));
    }

    check_settings(&mut c, model);

    let internet: Vec<usize> = (0..model.zones.len())
        .filter(|&i| model.zones[i].internet)
        .collect();
    for &i in internet.iter().skip(1) {
        c.error(
            at_field("zones", i, "internet"),
            format!(
                "more than one Internet zone (`{}` is already one)",
                model.zones[internet[0]].id
            ),
        );
    }
    let internet_id = internet.first().map(|&i| model.zones[i].id.as_str());

    let is_zone = |k: Kind| k == Kind::Zone;
    let is_service = |k: Kind| k == Kind::Service;
    let is_asset = |k: Kind| matches!(k, Kind::Asset(_));
    let is_dep = |k: Kind| matches!(k, Kind::Asset(_) | Kind::Service);

    for (i, f) in model.flows.iter().enumerate() {
        c.reference(|| at_field("flows", i, "from"), &f.from, "zone", is_zone);
        c.reference(|| at_field("flows", i, "to"), &f.to, "zone", is_zone);
        for (j, s) in f.services.iter().enumerate() {
            let p = || {
                let mut p = at_field("flows", i, "services");
                p.push(Step::Index(j));
                p
            };
            c.reference(p, s, "service", is_service);
        }
        if f.ports.contains(&0) {
            c.error(at_field("flows", i, "ports"), "port 0 is not a port".into());
        }
        if f.from == f.to {
            c.warning(
                at("flows", i),
                format!(
                    "flow `{}` stays in zone `{}`: same-zone traffic is always allowed",
                    flow_ids[i], f.from
                ),
            );
        }
    }

    for i in 0..model.assets.len() {
        check_asset(&mut c, model, i, internet_id);
    }
    check_runs_on_cycles(&mut c, model);
    check_identifiers(&mut c, model);
    if let Some(inet) = internet_id {
        check_exposure(&mut c, model, inet);
    }

    for (i, e) in model.attack_edges.iter().enumerate() {
        let from_ok = match c.ids.get(e.from.as_str()) {
            Some((Kind::Asset(_), _)) => true,
            Some((Kind::Zone, _)) if Some(e.from.as_str()) == internet_id => true,
            _ => false,
        };
        if !from_ok {
            c.reference(
                || at_field("attack_edges", i, "from"),
                &e.from,
                "asset (or the Internet zone)",
                is_asset,
            );
        }
        c.reference(
            || at_field("attack_edges", i, "to"),
            &e.to,
            "asset",
            is_asset,
        );
        if e.from == e.to {
            c.error(
                at("attack_edges", i),
                format!("attack edge from `{}` to itself", e.from),
            );
        }
        if let Some(h) = e.ttc_hours {
            non_negative(
                &mut c,
                || at_field("attack_edges", i, "ttc_hours"),
                h,
                "ttc_hours",
            );
        }
        if let Some(t) = &e.ttc {
            item_ttc(&mut c, at("attack_edges", i), t, e.ttc_hours.is_some());
        }
        check_technique(
            &mut c,
            at_field("attack_edges", i, "technique"),
            &e.technique,
        );
    }

    for (i, s) in model.services.iter().enumerate() {
        non_negative(
            &mut c,
            || at_field("services", i, "recovery_hours"),
            s.recovery_hours,
            "recovery_hours",
        );
        for (j, d) in s.depends_on.iter().enumerate() {
            let dp = |field: &str| {
                let mut p = at_field("services", i, "depends_on");
                p.push(Step::Index(j));
                p.push(key(field));
                p
            };
            match &d.target {
                DepTarget::Asset(id) => {
                    c.reference(|| dp("asset"), id, "asset", is_asset);
                }
                DepTarget::Service(id) => {
                    c.reference(|| dp("service"), id, "service", is_service);
                }
                DepTarget::AnyOf { k, of } => {
                    let n = of.len();
                    if *k == 0 {
                        c.error(
                            dp("k"),
                            "k = 0: the group would always hold; use k >= 1".into(),
                        );
                    } else if *k as usize > n {
                        c.error(
                            dp("k"),
                            format!("k = {k} but any_of lists only {n} member(s)"),
                        );
                    }
                    let mut seen = FxHashSet::default();
                    for (m, id) in of.iter().enumerate() {
                        let pm = || {
                            let mut p = dp("any_of");
                            p.push(Step::Index(m));
                            p
                        };
                        if !seen.insert(id.as_str()) {
                            c.error(pm(), format!("`{id}` is listed twice in any_of"));
                            continue;
                        }
                        c.reference(pm, id, "asset or service", is_dep);
                    }
                }
            }
        }
    }
    check_service_cycles(&mut c, model);

    for (i, g) in model.segments.iter().enumerate() {
        non_negative(
            &mut c,
            || at_field("segments", i, "sla_weight"),
            g.sla_weight,
            "sla_weight",
        );
        if g.uses.is_empty() {
            c.warning(
                at("segments", i),
                format!(
                    "segment `{}` uses no service: it can never be affected",
                    g.id
                ),
            );
        }
        check_countries(&mut c, i, &g.countries);
        for (s, &w) in &g.uses {
            let p = || {
                vec![
                    key("segments"),
                    Step::Index(i),
                    key("uses"),
                    Step::KeyName(s.clone()),
                ]
            };
            c.reference(p, s, "service", is_service);
            if !(0.0..=1.0).contains(&w) {
                let mut pv = p();
                pv.pop();
                pv.push(key(s));
                c.error(
                    pv,
                    format!("weight of `{s}` must be within [0, 1], got {w}"),
                );
            }
        }
    }
    c.issues
}

fn check_settings(c: &mut Checker<'_>, model: &Model) {
    let s = &model.settings;
    let fields = [
        ("containment_hours", s.containment_hours),
        ("exploit_ttc_hours", s.exploit_ttc_hours),
        ("credential_theft_hours", s.credential_theft_hours),
        ("edr_factor", s.edr_factor),
        ("valid_account_hours", s.valid_account_hours),
        ("mfa_factor", s.mfa_factor),
        ("membership_hours", s.membership_hours),
        ("host_to_hosted_hours", s.host_to_hosted_hours),
        ("hosted_to_host_hours", s.hosted_to_host_hours),
        ("soft_dependency_factor", s.soft_dependency_factor),
    ];
    // A rule whose distribution is given has its mean as hours: reported on the mean.
    let from_ttc: Vec<&str> = s
        .rule_ttcs()
        .iter()
        .filter(|r| r.2.is_some())
        .map(|r| r.0)
        .collect();
    for (name, v) in fields {
        if !from_ttc.contains(&name) {
            non_negative(c, || vec![key("settings"), key(name)], v, name);
        }
    }
    for (_, name, t) in s.rule_ttcs() {
        if let Some(t) = &t {
            check_ttc(c, vec![key("settings"), key(name)], t);
        }
    }
    if s.soft_dependency_factor > 1.0 {
        c.error(
            vec![key("settings"), key("soft_dependency_factor")],
            format!(
                "soft_dependency_factor must be within [0, 1], got {}",
                s.soft_dependency_factor
            ),
        );
    }
}

/// The distribution of a vulnerability or explicit edge at `item`: valid, and not given
/// twice (`ttc_hours` is already an exponential's mean).
fn item_ttc(c: &mut Checker<'_>, item: Vec<Step>, t: &Ttc, hours_too: bool) {
    let mut at = item.clone();
    at.push(key("ttc"));
    if hours_too {
        let mut name = item;
        name.push(Step::KeyName("ttc".into()));
        c.error(
            name,
            "both `ttc_hours` and `ttc` are given: `ttc_hours` is the mean of an exponential, \
             `ttc` a whole distribution; keep one"
                .into(),
        );
    }
    check_ttc(c, at, t);
}

/// The rules of a time-to-compromise distribution (`docs/model.md`, "Time to
/// compromise"); `at` is the path of the `ttc` mapping.
fn check_ttc(c: &mut Checker<'_>, at: Vec<Step>, t: &Ttc) {
    let field = |f: &str| {
        let mut p = at.clone();
        p.push(key(f));
        p
    };
    let mean = t.mean_hours;
    if !mean.is_finite() || mean < 0.0 {
        c.error(
            field("mean_hours"),
            format!("mean_hours must be a finite number >= 0, got {mean}"),
        );
    }
    let dist = t.dist.as_str();
    match t.cv {
        Some(cv) if !cv.is_finite() || cv < 0.0 => c.error(
            field("cv"),
            format!("cv must be a finite number >= 0, got {cv}"),
        ),
        Some(cv) if t.dist == TtcDist::Exponential && cv != 1.0 => c.error(
            field("cv"),
            format!(
                "an exponential's cv is 1 by definition, got {cv}: use `dist: gamma` or \
                 `dist: lognormal` for another spread"
            ),
        ),
        Some(cv) if t.dist == TtcDist::Fixed && cv != 0.0 => c.error(
            field("cv"),
            format!("a fixed time has cv 0, got {cv}: use `dist: gamma` or `dist: lognormal`"),
        ),
        Some(cv)
            if matches!(t.dist, TtcDist::Gamma | TtcDist::Lognormal) && cv == 0.0 && mean > 0.0 =>
        {
            c.error(
                field("cv"),
                format!("a {dist} needs cv > 0 (cv 0 is a fixed time: use `dist: fixed`)"),
            )
        }
        _ => {}
    }
    if let Some(p) = t.p_success {
        // Written so that NaN fails too.
        if !(p > 0.0 && p <= 1.0) {
            let hint = if p == 0.0 {
                " (a step that can never succeed is no attack edge: remove it)"
            } else {
                ""
            };
            c.error(
                field("p_success"),
                format!("p_success must be within (0, 1], got {p}{hint}"),
            );
        }
    }
}

/// An asset's `telemetry`: log source names, each once.
fn check_telemetry(c: &mut Checker<'_>, i: usize, sources: &[String]) {
    for (j, name) in sources.iter().enumerate() {
        let path = || {
            vec![
                key("assets"),
                Step::Index(i),
                key("telemetry"),
                Step::Index(j),
            ]
        };
        if name.trim().is_empty() {
            c.error(
                path(),
                "empty log source name in telemetry (use `telemetry: []` for none)".into(),
            );
        } else if sources[..j].contains(name) {
            c.warning(path(), format!("log source `{name}` is listed twice"));
        }
    }
}

fn check_technique(c: &mut Checker<'_>, path: Vec<Step>, t: &str) {
    let b = t.as_bytes();
    let base = b.len() >= 5 && b[0] == b'T' && b[1..5].iter().all(u8::is_ascii_digit);
    let ok = base
        && (b.len() == 5
            || (b.len() == 9 && b[5] == b'.' && b[6..9].iter().all(u8::is_ascii_digit)));
    if !ok {
        c.warning(
            path,
            format!("technique `{t}` is not an ATT&CK id like T1021 or T1021.001"),
        );
    }
}

fn check_asset(c: &mut Checker<'_>, model: &Model, i: usize, internet_id: Option<&str>) {
    let a = &model.assets[i];
    let f = |field: &str| vec![key("assets"), Step::Index(i), key(field)];
    let identity = a.kind.is_identity();
    let is_zone = |k: Kind| k == Kind::Zone;
    if identity {
        let kind = a.kind.as_str();
        let mut forbid = |present: bool, field: &str, why: &str| {
            if present {
                c.error(
                    vec![
                        key("assets"),
                        Step::Index(i),
                        Step::KeyName(field.to_string()),
                    ],
                    format!("`{field}` does not apply to {kind} `{}`: {why}", a.id),
                );
            }
        };
        forbid(
            a.zone.is_some(),
            "zone",
            "identities live in no network zone",
        );
        forbid(
            a.exposed,
            "exposed",
            "only network-reachable assets are exposed",
        );
        forbid(
            !a.listens.is_empty(),
            "listens",
            "identities listen on no port",
        );
        forbid(a.runs_on.is_some(), "runs_on", "identities run on no host");
        forbid(
            !a.vulnerabilities.is_empty(),
            "vulnerabilities",
            "identities are taken through credentials or membership",
        );
        forbid(
            !a.credentials.is_empty(),
            "credentials",
            "credentials are exposed on machines",
        );
        forbid(
            !a.admins.is_empty(),
            "admins",
            "administration rights are given on machines",
        );
        forbid(
            a.controls.edr || a.controls.mfa || a.controls.backup,
            "controls",
            "only recovery_hours applies to identities (MFA belongs to the assets they log on to)",
        );
    } else {
        match &a.zone {
            None => c.error(
                vec![key("assets"), Step::Index(i)],
                format!(
                    "{} `{}` has no zone (required except for accounts and groups)",
                    a.kind.as_str(),
                    a.id
                ),
            ),
            Some(z) => {
                if c.reference(|| f("zone"), z, "zone", is_zone).is_some()
                    && Some(z.as_str()) == internet_id
                {
                    c.error(f("zone"), format!("`{z}` is the Internet zone, which holds no assets; use `exposed: true`"));
                }
            }
        }
    }
    if a.kind != AssetKind::Group && !a.members.is_empty() {
        c.error(
            vec![
                key("assets"),
                Step::Index(i),
                Step::KeyName("members".into()),
            ],
            format!(
                "`members` only applies to groups, and `{}` is {}",
                a.id,
                describe(Kind::Asset(a.kind))
            ),
        );
    }
    if let Some(h) = &a.runs_on {
        if a.kind == AssetKind::NetworkDevice {
            c.error(
                f("runs_on"),
                format!("network device `{}` cannot run on a host", a.id),
            );
        } else if !identity {
            c.reference(
                || f("runs_on"),
                h,
                "host",
                |k| k == Kind::Asset(AssetKind::Host),
            );
            if h == &a.id {
                c.error(f("runs_on"), format!("`{}` runs on itself", a.id));
            }
        }
    }
    if let Some(t) = &a.telemetry {
        check_telemetry(c, i, t);
    }
    if let Some(h) = a.controls.recovery_hours {
        let p = || {
            let mut p = f("controls");
            p.push(key("recovery_hours"));
            p
        };
        non_negative(c, p, h, "recovery_hours");
    }
    for p in &a.listens {
        if *p == 0 {
            c.error(f("listens"), "port 0 is not a port".into());
        }
    }
    let mut vuln_ids = FxHashSet::default();
    for (j, v) in a.vulnerabilities.iter().enumerate() {
        let p = |field: &str| {
            vec![
                key("assets"),
                Step::Index(i),
                key("vulnerabilities"),
                Step::Index(j),
                key(field),
            ]
        };
        if !vuln_ids.insert(v.id.as_str()) {
            c.error(
                p("id"),
                format!("vulnerability `{}` listed twice on `{}`", v.id, a.id),
            );
        }
        if let Some(h) = v.ttc_hours {
            non_negative(c, || p("ttc_hours"), h, "ttc_hours");
        }
        if let Some(t) = &v.ttc {
            let mut item = p("ttc");
            item.pop();
            item_ttc(c, item, t, v.ttc_hours.is_some());
        }
        if let Some(t) = &v.technique {
            check_technique(c, p("technique"), t);
        }
        if v.ports.contains(&0) {
            c.error(p("ports"), "port 0 is not a port".into());
        }
    }
    if !identity {
        for (j, id) in a.credentials.iter().enumerate() {
            let p = || {
                vec![
                    key("assets"),
                    Step::Index(i),
                    key("credentials"),
                    Step::Index(j),
                ]
            };
            c.reference(p, id, "account", |k| k == Kind::Asset(AssetKind::Account));
        }
        for (j, id) in a.admins.iter().enumerate() {
            let p = || vec![key("assets"), Step::Index(i), key("admins"), Step::Index(j)];
            c.reference(
                p,
                id,
                "identity (account or group)",
                |k| matches!(k, Kind::Asset(a) if a.is_identity()),
            );
        }
    }
    if a.kind == AssetKind::Group {
        for (j, id) in a.members.iter().enumerate() {
            let p = || {
                vec![
                    key("assets"),
                    Step::Index(i),
                    key("members"),
                    Step::Index(j),
                ]
            };
            if id == &a.id {
                c.error(p(), format!("group `{id}` is a member of itself"));
                continue;
            }
            c.reference(
                p,
                id,
                "identity (account or group)",
                |k| matches!(k, Kind::Asset(a) if a.is_identity()),
            );
        }
    }
}

fn identifier_path(at: IdentifierAt) -> Vec<Step> {
    vec![
        key("assets"),
        Step::Index(at.asset),
        key("identifiers"),
        Step::Index(at.identifier),
    ]
}

/// Malformed identifiers, identifiers shared by two assets (the index's clashes), CIDRs
/// with host bits set, network identifiers on accounts and groups.
fn check_identifiers(c: &mut Checker<'_>, model: &Model) {
    let mut issues = Vec::new();
    let clashes = clashes_visiting(model, |at, text, parsed| {
        let a = &model.assets[at.asset];
        let warn = |message: String| Issue {
            severity: Severity::Warning,
            path: identifier_path(at),
            message,
            related: None,
        };
        match parsed {
            Err(e) => issues.push(Issue {
                severity: Severity::Error,
                path: identifier_path(at),
                message: format!("`{}`: bad identifier `{text}`: {e}", a.id),
                related: None,
            }),
            Ok(Identifier::Cidr(cidr)) if cidr_has_host_bits(text, cidr) => {
                issues.push(warn(format!(
                    "`{}`: CIDR `{text}` has bits set past its prefix: it means {cidr}",
                    a.id
                )))
            }
            Ok(id @ (Identifier::Host { .. } | Identifier::Ip(_) | Identifier::Cidr(_)))
                if a.kind.is_identity() =>
            {
                let what = match id {
                    Identifier::Host { .. } => "a hostname (a machine account `HOST$` is the host)",
                    Identifier::Ip(_) => "an IP address",
                    _ => "a CIDR",
                };
                issues.push(warn(format!(
                    "`{}` is {} but its identifier `{text}` is {what}: it belongs on a machine",
                    a.id,
                    describe(Kind::Asset(a.kind)),
                )))
            }
            Ok(_) => {}
        }
    });
    c.issues.extend(issues);
    for cl in clashes {
        c.issues.push(Issue {
            severity: Severity::Error,
            path: identifier_path(cl.second_at),
            message: format!(
                "identifier `{}` of `{}` already names `{}`: an identifier names one asset",
                cl.identifier, cl.second, cl.first
            ),
            related: Some(identifier_path(cl.first_at)),
        });
    }
}

/// Segments' countries: ISO 3166-1 alpha-2 codes, each once.
fn check_countries(c: &mut Checker<'_>, i: usize, countries: &[String]) {
    for (j, code) in countries.iter().enumerate() {
        let path = || {
            vec![
                key("segments"),
                Step::Index(i),
                key("countries"),
                Step::Index(j),
            ]
        };
        if !is_country_code(code) {
            let upper = code.trim().to_ascii_uppercase();
            let hint = if upper != *code && is_country_code(&upper) {
                format!(" (did you mean `{upper}`?)")
            } else {
                String::new()
            };
            c.error(
                path(),
                format!("`{code}` is not an ISO 3166-1 alpha-2 country code (two upper-case letters, e.g. `FR`){hint}"),
            );
        } else if countries[..j].contains(code) {
            c.warning(path(), format!("country `{code}` is listed twice"));
        }
    }
}

/// With an Internet zone declared, an exposed asset in a zone no flow from it enters is
/// probably a mistake (the exposure still counts: `exposed` is authoritative).
fn check_exposure(c: &mut Checker<'_>, model: &Model, inet: &str) {
    let entered: FxHashSet<&str> = model
        .flows
        .iter()
        .filter(|f| f.from == inet)
        .map(|f| f.to.as_str())
        .collect();
    for (i, a) in model.assets.iter().enumerate() {
        if let (true, Some(z)) = (a.exposed, &a.zone) {
            if !entered.contains(z.as_str()) && z != inet && !a.kind.is_identity() {
                c.warning(
                    vec![key("assets"), Step::Index(i), key("exposed")],
                    format!("`{}` is exposed but no flow from the Internet zone `{inet}` enters its zone `{z}`", a.id),
                );
            }
        }
    }
}

/// Hosts may run on hosts (virtual machines on a hypervisor); a loop there is an error.
fn check_runs_on_cycles(c: &mut Checker<'_>, model: &Model) {
    // 0 = unvisited, 1 = on the current chain, 2 = done.
    let mut state = vec![0u8; model.assets.len()];
    for start in 0..model.assets.len() {
        let mut chain = Vec::new();
        let mut cur = Some(start);
        while let Some(i) = cur {
            match state[i] {
                2 => break,
                1 => {
                    let pos = chain.iter().position(|&x| x == i).unwrap_or(0);
                    let cycle: Vec<&str> = chain[pos..]
                        .iter()
                        .chain(std::iter::once(&i))
                        .map(|&x| model.assets[x].id.as_str())
                        .collect();
                    if cycle.len() > 2 {
                        c.error(
                            vec![key("assets"), Step::Index(i), key("runs_on")],
                            format!("runs_on cycle: {}", cycle.join(" -> ")),
                        );
                    }
                    break;
                }
                _ => {}
            }
            state[i] = 1;
            chain.push(i);
            cur = match model.assets[i]
                .runs_on
                .as_deref()
                .and_then(|h| c.ids.get(h))
            {
                Some((Kind::Asset(_), l)) => Some(l.index),
                _ => None,
            };
        }
        for x in chain {
            state[x] = 2;
        }
    }
}

/// Services must form a DAG; report each cycle once, naming its members in order.
fn check_service_cycles(c: &mut Checker<'_>, model: &Model) {
    let index: FxHashMap<&str, usize> = model
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let n = model.services.len();
    // Edges to services only (assets end the recursion), with the dependency index.
    let succ: Vec<Vec<(usize, usize)>> = model
        .services
        .iter()
        .map(|s| {
            let mut out = Vec::new();
            for (j, d) in s.depends_on.iter().enumerate() {
                for id in d.ids() {
                    if let Some(&t) = index.get(id.as_str()) {
                        out.push((t, j));
                    }
                }
            }
            out
        })
        .collect();
    // Iterative DFS with colours; a grey successor closes a cycle.
    let mut colour = vec![0u8; n];
    for root in 0..n {
        if colour[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        colour[root] = 1;
        while let Some(&mut (u, ref mut next)) = stack.last_mut() {
            if let Some(&(v, dep)) = succ[u].get(*next) {
                *next += 1;
                match colour[v] {
                    0 => {
                        colour[v] = 1;
                        stack.push((v, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|&(x, _)| x == v).unwrap_or(0);
                        let mut names: Vec<&str> = stack[from..]
                            .iter()
                            .map(|&(x, _)| model.services[x].id.as_str())
                            .collect();
                        names.push(model.services[v].id.as_str());
                        c.error(
                            vec![
                                key("services"),
                                Step::Index(u),
                                key("depends_on"),
                                Step::Index(dep),
                            ],
                            format!("service dependency cycle: {}", names.join(" -> ")),
                        );
                    }
                    _ => {}
                }
            } else {
                colour[u] = 2;
                stack.pop();
            }
        }
    }
}
