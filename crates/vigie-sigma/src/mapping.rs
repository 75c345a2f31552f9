//! Logsource routing and field aliases, from one user-editable YAML file (format in
//! `mapping/default.yml` and docs/mapping.md); the default is embedded.

use std::path::Path;

use crate::sstr::lower;
use crate::types::LoadError;
use crate::yaml::{YMap, Y};

/// The embedded default mapping file.
pub const DEFAULT_MAPPING: &str = include_str!("../mapping/default.yml");

/// One `logsources` entry as written.
struct FileEntry {
    product: Option<Vec<String>>,
    category: Option<Vec<String>>,
    service: Option<Vec<String>>,
    when: Vec<YMap>,
}

/// A name or a list of names.
fn names(v: &Y, what: &str) -> Result<Vec<String>, String> {
    match v {
        Y::String(s) => Ok(vec![s.clone()]),
        Y::Sequence(items) => items
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{what}: expected a name or a list of names"))
            })
            .collect(),
        _ => Err(format!("{what}: expected a name or a list of names")),
    }
}

/// `fields`: rule field name → alias or list of aliases, in file order.
fn parse_fields(v: &Y) -> Result<Vec<(String, Vec<String>)>, String> {
    let m = match v {
        Y::Null => return Ok(Vec::new()),
        Y::Mapping(m) => m,
        _ => return Err("`fields` must be a mapping of field name to aliases".into()),
    };
    let mut out = Vec::with_capacity(m.len());
    for (k, v) in m {
        let k = k
            .as_str()
            .ok_or_else(|| "fields: field name must be a string".to_string())?;
        let vals = match v {
            Y::String(s) => vec![s.clone()],
            Y::Sequence(s) => s
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("{k}: aliases must be strings"))
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(format!("{k}: expected a name or a list of names")),
        };
        out.push((k.to_string(), vals));
    }
    Ok(out)
}

fn parse_entry(v: &Y, where_: &dyn Fn() -> String) -> Result<FileEntry, String> {
    let Y::Mapping(m) = v else {
        return Err(format!("{}: must be a mapping", where_()));
    };
    let mut e = FileEntry {
        product: None,
        category: None,
        service: None,
        when: Vec::new(),
    };
    let mut has_when = false;
    for (k, v) in m {
        let key = k.as_str().unwrap_or("");
        let what = || format!("{}: {key}", where_());
        match key {
            "product" => e.product = (*v != Y::Null).then(|| names(v, &what())).transpose()?,
            "category" => e.category = (*v != Y::Null).then(|| names(v, &what())).transpose()?,
            "service" => e.service = (*v != Y::Null).then(|| names(v, &what())).transpose()?,
            "when" => {
                has_when = true;
                let Y::Sequence(alts) = v else {
                    return Err(format!("{}: must be a list of mappings", what()));
                };
                for alt in alts {
                    let Y::Mapping(a) = alt else {
                        return Err(format!("{}: must be a list of mappings", what()));
                    };
                    e.when.push(a.clone());
                }
            }
            _ => {
                return Err(format!(
                    "{}: unknown key `{key}`, expected product, category, service or when",
                    where_()
                ))
            }
        }
    }
    if !has_when {
        return Err(format!("{}: missing `when`", where_()));
    }
    Ok(e)
}

/// One field condition of a logsource alternative.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldCond {
    /// The field must not exist.
    Absent,
    /// Lowercased accepted values.
    AnyOf(Vec<String>),
}

/// One alternative: all of its fields must hold (fields the event lacks are skipped).
pub type Alternative = Vec<(String, FieldCond)>;

/// One routing entry.
#[derive(Debug, Clone)]
pub struct LogsourceEntry {
    pub product: Option<Vec<String>>,
    pub category: Option<Vec<String>>,
    pub service: Option<Vec<String>>,
    pub when: Vec<Alternative>,
    /// 1-based line of the entry in the mapping file (of the first, when several entries
    /// naming the same keys were merged), when known.
    pub line: Option<usize>,
}

impl LogsourceEntry {
    /// `product: linux, category: process_creation`: the entry's keys, each list shown
    /// whole when short, else as the value `rule` gives that key (`product: linux`, one
    /// of 29).
    pub fn label(&self, rule: (Option<&str>, Option<&str>, Option<&str>)) -> String {
        let mut parts = Vec::new();
        for (k, list, v) in [
            ("product", &self.product, rule.0),
            ("category", &self.category, rule.1),
            ("service", &self.service, rule.2),
        ] {
            let Some(list) = list else { continue };
            let shown = match (list.as_slice(), v) {
                ([one], _) => one.clone(),
                (_, Some(v)) if list.len() > 3 => {
                    format!("[{}, +{} more]", lower(v), list.len() - 1)
                }
                _ => format!("[{}]", list.join(", ")),
            };
            parts.push(format!("{k}: {shown}"));
        }
        parts.join(", ")
    }
}

/// How a rule's logsource was routed.
#[derive(Debug, Clone, Copy)]
pub enum Routing<'m> {
    /// An entry names all of the rule's logsource keys.
    Full(&'m LogsourceEntry),
    /// Only part of the logsource (e.g. the product) has an entry.
    Partial(&'m LogsourceEntry),
    /// No entry: the detection runs on every event.
    None,
}

/// Logsource routing and field aliases.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Rule field name → event field names tried when it is absent, in order.
    pub aliases: Vec<(String, Vec<String>)>,
    pub logsources: Vec<LogsourceEntry>,
    /// Lowercased `Channel` (or ETW `Provider_Name`) value → telemetry name: what an
    /// asset's `telemetry:` list calls the log source that carries it (`sysmon`,
    /// `security`, `powershell`...). Read by [`Mapping::telemetry_of`], never by matching.
    pub telemetry: Vec<(String, String)>,
}

impl Default for Mapping {
    fn default() -> Mapping {
        // The embedded file is tested (`default_mapping_parses`); failing here would be
        // a build defect, and an empty mapping is the safe degradation.
        Mapping::from_str(DEFAULT_MAPPING).unwrap_or_else(|e| {
            tracing::error!("embedded default mapping is invalid: {e}");
            Mapping {
                aliases: Vec::new(),
                logsources: Vec::new(),
                telemetry: Vec::new(),
            }
        })
    }
}

impl Mapping {
    /// Reads a mapping file; errors name the file and the line.
    pub fn from_file(path: &Path) -> Result<Mapping, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|e| LoadError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Mapping::from_str(&text).map_err(|message| LoadError::Config {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses a mapping from YAML text (errors carry `line N`).
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str) -> Result<Mapping, String> {
        let doc = crate::yaml::parse(text, &crate::yaml::default_limits())
            .map_err(|e| e.to_string())?
            .unwrap_or(Y::Null);
        let (mut fields, mut entries, mut telemetry) = (Y::Null, Y::Null, Y::Null);
        match doc {
            Y::Null => {}
            Y::Mapping(m) => {
                for (k, v) in m {
                    match k.as_str() {
                        Some("fields") => fields = v,
                        Some("logsources") => entries = v,
                        Some("telemetry") => telemetry = v,
                        _ => {
                            return Err(format!(
                                "unknown key {k:?} at the top level, expected fields, logsources or telemetry"
                            ))
                        }
                    }
                }
            }
            _ => return Err("a mapping file is a mapping with `fields` and `logsources`".into()),
        }
        let entries = match entries {
            Y::Null => Vec::new(),
            Y::Sequence(s) => s,
            _ => return Err("`logsources` must be a list".into()),
        };
        let mut logsources = Vec::new();
        let lines = entry_lines(text);
        for (i, e) in entries.iter().enumerate() {
            let where_ = || {
                let line = lines.get(i).copied();
                match line {
                    Some(l) => format!("line {l}: logsource entry {}", i + 1),
                    None => format!("logsource entry {}", i + 1),
                }
            };
            let e = parse_entry(e, &where_)?;
            if e.product.is_none() && e.category.is_none() && e.service.is_none() {
                return Err(format!(
                    "{}: names no product, category or service",
                    where_()
                ));
            }
            if e.when.is_empty() {
                return Err(format!("{}: `when` is empty", where_()));
            }
            let mut when = Vec::new();
            for alt in e.when {
                let mut a = Vec::new();
                for (k, v) in alt {
                    let Some(k) = k.as_str() else {
                        return Err(format!("{}: field names must be strings", where_()));
                    };
                    let cond = match &v {
                        Y::Null => FieldCond::Absent,
                        Y::Sequence(xs) => FieldCond::AnyOf(
                            xs.iter()
                                .map(|x| {
                                    cond_text(x).ok_or_else(|| {
                                        format!("{}: {k}: values must be scalars", where_())
                                    })
                                })
                                .collect::<Result<_, _>>()?,
                        ),
                        x => FieldCond::AnyOf(vec![cond_text(x).ok_or_else(|| {
                            format!("{}: {k}: value must be a scalar, a list or null", where_())
                        })?]),
                    };
                    a.push((k.to_string(), cond));
                }
                when.push(a);
            }
            let lw = |o: Option<Vec<String>>| o.map(|v| v.iter().map(|s| lower(s)).collect());
            let entry = LogsourceEntry {
                product: lw(e.product),
                category: lw(e.category),
                service: lw(e.service),
                when,
                line: lines.get(i).copied(),
            };
            // Entries naming the same keys are one entry: their alternatives add up (so
            // two readers of one logsource can each write their own entry).
            let same = logsources.iter_mut().find(|x: &&mut LogsourceEntry| {
                x.product == entry.product
                    && x.category == entry.category
                    && x.service == entry.service
            });
            match same {
                Some(x) => {
                    for alt in entry.when {
                        if !x.when.contains(&alt) {
                            x.when.push(alt);
                        }
                    }
                }
                None => logsources.push(entry),
            }
        }
        Ok(Mapping {
            aliases: parse_fields(&fields)?,
            logsources,
            telemetry: parse_telemetry(&telemetry)?,
        })
    }

    /// The entry for a rule logsource: among entries all of whose keys contain the
    /// rule's value, the one naming the most keys (the first on ties).
    pub fn route(
        &self,
        product: Option<&str>,
        category: Option<&str>,
        service: Option<&str>,
    ) -> Routing<'_> {
        let fits = |k: &Option<Vec<String>>, v: Option<&str>| -> Option<usize> {
            match (k, v) {
                (None, _) => Some(0),
                (Some(list), Some(v)) if list.iter().any(|x| x.eq_ignore_ascii_case(v)) => Some(1),
                _ => None,
            }
        };
        let mut best: Option<(usize, &LogsourceEntry)> = None;
        for e in &self.logsources {
            let (Some(a), Some(b), Some(c)) = (
                fits(&e.product, product),
                fits(&e.category, category),
                fits(&e.service, service),
            ) else {
                continue;
            };
            let score = a + b + c;
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, e));
            }
        }
        match best {
            None => Routing::None,
            Some((_, e)) => {
                let covers = (category.is_none() || e.category.is_some())
                    && (service.is_none() || e.service.is_some());
                if covers {
                    Routing::Full(e)
                } else {
                    Routing::Partial(e)
                }
            }
        }
    }
}

/// A rule logsource's routing, explained (for `rules check`'s `routing[]`).
#[derive(Debug, Clone)]
pub struct RoutingWhy<'m> {
    pub routing: Routing<'m>,
    /// 0-based index of the entry used in [`Mapping::logsources`].
    pub entry_index: Option<usize>,
    /// Why the logsource is partly routed or unrouted (`None` when fully routed).
    pub reason: Option<String>,
}

impl Mapping {
    /// [`Mapping::route`], with the entry's index and, unless the logsource is fully
    /// routed, a sentence saying why not and what it costs.
    pub fn explain(
        &self,
        product: Option<&str>,
        category: Option<&str>,
        service: Option<&str>,
    ) -> RoutingWhy<'_> {
        let routing = self.route(product, category, service);
        let rule = (product, category, service);
        let index_of = |e: &LogsourceEntry| self.logsources.iter().position(|x| std::ptr::eq(x, e));
        match routing {
            Routing::Full(e) => RoutingWhy {
                routing,
                entry_index: index_of(e),
                reason: None,
            },
            Routing::Partial(e) => {
                let mut missing = Vec::new();
                if let (Some(c), None) = (category, &e.category) {
                    missing.push(format!("`category: {}`", lower(c)));
                }
                if let (Some(s), None) = (service, &e.service) {
                    missing.push(format!("`service: {}`", lower(s)));
                }
                let admitted = match (product, &e.product) {
                    (Some(p), Some(_)) => format!("every {} event", lower(p)),
                    _ => "every event the entry admits".to_string(),
                };
                RoutingWhy {
                    routing,
                    entry_index: index_of(e),
                    reason: Some(format!(
                        "entry `{}` has no {}: the rule runs on {admitted}",
                        e.label(rule),
                        missing.join(" nor ")
                    )),
                }
            }
            Routing::None => {
                let mut unknown = Vec::new();
                for (k, v, pick) in [
                    ("product", product, 0u8),
                    ("category", category, 1),
                    ("service", service, 2),
                ] {
                    let Some(v) = v else { continue };
                    let named = self.logsources.iter().any(|e| {
                        let list = match pick {
                            0 => &e.product,
                            1 => &e.category,
                            _ => &e.service,
                        };
                        list.as_ref()
                            .is_some_and(|l| l.iter().any(|x| x.eq_ignore_ascii_case(v)))
                    });
                    if !named {
                        unknown.push(format!("`{k}: {}`", lower(v)));
                    }
                }
                let why = if unknown.is_empty() {
                    "every entry naming its keys also names a key with another value \
                     (or one the rule does not have)"
                        .to_string()
                } else {
                    format!("no entry names {}", unknown.join(" nor "))
                };
                RoutingWhy {
                    routing,
                    entry_index: None,
                    reason: Some(format!("{why}: the rule runs on every event")),
                }
            }
        }
    }

    /// The telemetry names (log sources an asset ships, as a model's `telemetry:` lists
    /// them) any one of which carries events of this rule logsource, sorted.
    ///
    /// The logsource is routed as for matching; each `Channel` (or `Provider_Name`) value
    /// its entry accepts is named by the `telemetry` table, else by the entry's `service`
    /// when it names exactly one, else by the value itself, lowercased. A logsource the
    /// mapping does not route to a Channel (Linux, cloud, network products...) is carried
    /// by its `service` and by its `product` (`auditd`, `linux`); one with neither, by
    /// its `category` (`webserver`, `proxy`).
    pub fn telemetry_of(&self, ls: &crate::rule::Logsource) -> Vec<String> {
        let (p, c, s) = (
            ls.product.as_deref(),
            ls.category.as_deref(),
            ls.service.as_deref(),
        );
        let mut out = Vec::new();
        if let Routing::Full(e) | Routing::Partial(e) = self.route(p, c, s) {
            for (field, cond) in e.when.iter().flatten() {
                let FieldCond::AnyOf(values) = cond else {
                    continue;
                };
                if !(field.eq_ignore_ascii_case("Channel")
                    || field.eq_ignore_ascii_case("Provider_Name"))
                {
                    continue;
                }
                for v in values {
                    out.push(self.channel_name(v, e));
                }
            }
        }
        if out.is_empty() {
            out.extend(s.map(lower));
            out.extend(p.map(lower));
            if out.is_empty() {
                out.extend(c.map(lower));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The telemetry name of one lowercased Channel value accepted by entry `e`.
    fn channel_name(&self, channel: &str, e: &LogsourceEntry) -> String {
        if let Some((_, name)) = self.telemetry.iter().find(|(c, _)| c == channel) {
            return name.clone();
        }
        match e.service.as_deref() {
            Some([one]) => one.clone(),
            _ => channel.to_string(),
        }
    }
}

/// `telemetry`: Channel value → telemetry name (both strings), lowercased.
fn parse_telemetry(v: &Y) -> Result<Vec<(String, String)>, String> {
    let m = match v {
        Y::Null => return Ok(Vec::new()),
        Y::Mapping(m) => m,
        _ => return Err("`telemetry` must be a mapping of Channel value to a name".into()),
    };
    let mut out = Vec::with_capacity(m.len());
    for (k, v) in m {
        let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
            return Err(format!(
                "telemetry: {k:?}: expected a Channel value mapped to a name (both strings)"
            ));
        };
        out.push((lower(k), lower(v)));
    }
    Ok(out)
}

fn cond_text(v: &Y) -> Option<String> {
    match v {
        Y::String(s) => Some(lower(s)),
        Y::Number(n) => Some(n.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// 1-based lines of the `- ` items under `logsources:`, in order (best effort, for
/// messages). Computed once per mapping: looking each entry up by a scan of the text
/// made loading the shipped mapping quadratic in its entries (6 % of a hunt).
fn entry_lines(text: &str) -> Vec<usize> {
    let mut in_ls = false;
    let mut lines = Vec::new();
    for (ln, l) in text.lines().enumerate() {
        if l.starts_with("logsources:") {
            in_ls = true;
            continue;
        }
        if in_ls {
            if !l.starts_with(' ') && !l.starts_with('#') && !l.trim().is_empty() {
                in_ls = false;
                continue;
            }
            if l.trim_start().starts_with("- ") && l.len() - l.trim_start().len() <= 2 {
                lines.push(ln + 1);
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_mapping_parses() {
        let m = Mapping::from_str(DEFAULT_MAPPING).unwrap();
        assert!(m.logsources.len() > 50);
        assert!(m.aliases.iter().any(|(k, _)| k == "Image"));
        let Routing::Full(e) = m.route(Some("windows"), Some("process_creation"), None) else {
            panic!("process_creation not routed")
        };
        assert_eq!(e.when.len(), 2);
        assert!(matches!(
            m.route(Some("windows"), None, Some("security")),
            Routing::Full(_)
        ));
        // Sysmon for Linux routes Linux's file_event; macOS's is still only its product.
        assert!(matches!(
            m.route(Some("linux"), Some("file_event"), None),
            Routing::Full(_)
        ));
        assert!(matches!(
            m.route(Some("linux"), None, Some("nosuchservice")),
            Routing::Partial(_)
        ));
        assert!(matches!(
            m.route(Some("macos"), Some("file_event"), None),
            Routing::Partial(_)
        ));
        assert!(matches!(
            m.route(Some("nothing"), None, Some("nothing")),
            Routing::None
        ));
    }

    #[test]
    fn telemetry_names_of_logsources() {
        let m = Mapping::default();
        let ls = |p: Option<&str>, c: Option<&str>, s: Option<&str>| crate::rule::Logsource {
            product: p.map(str::to_string),
            category: c.map(str::to_string),
            service: s.map(str::to_string),
        };
        let t = |p, c, s| m.telemetry_of(&ls(p, c, s));
        let w = Some("windows");
        assert_eq!(t(w, Some("process_creation"), None), ["security", "sysmon"]);
        assert_eq!(t(w, Some("registry_set"), None), ["sysmon"]);
        assert_eq!(t(w, None, Some("security")), ["security"]);
        assert_eq!(t(w, None, Some("system")), ["system"]);
        assert_eq!(t(w, Some("ps_script"), None), ["powershell"]);
        assert_eq!(t(w, Some("ps_classic_start"), None), ["powershell"]);
        assert_eq!(t(w, None, Some("powershell-classic")), ["powershell"]);
        // Not in the table: the entry's service names the channel.
        assert_eq!(t(w, None, Some("taskscheduler")), ["taskscheduler"]);
        assert_eq!(t(w, Some("antivirus"), None), ["windefend"]);
        assert_eq!(t(w, Some("file_access"), None), ["kernel-file"]);
        // Not routed to a Channel: service and product.
        assert_eq!(t(Some("linux"), None, Some("auditd")), ["auditd", "linux"]);
        assert_eq!(t(Some("linux"), Some("process_creation"), None), ["linux"]);
        // Sysmon for Linux's channel is named `linux` in the table; syslog services by
        // program are named by service and product.
        assert_eq!(
            t(Some("linux"), Some("network_connection"), None),
            ["linux"]
        );
        assert_eq!(t(Some("linux"), None, Some("sshd")), ["linux", "sshd"]);
        assert_eq!(t(Some("cisco"), None, Some("aaa")), ["aaa", "cisco"]);
        assert_eq!(
            t(Some("aws"), None, Some("cloudtrail")),
            ["aws", "cloudtrail"]
        );
        assert_eq!(t(Some("zeek"), Some("dns"), None), ["zeek"]);
        assert_eq!(t(None, Some("webserver"), None), ["webserver"]);
        let e = Mapping::from_str("telemetry: [a]\n").unwrap_err();
        assert!(e.contains("telemetry"), "{e}");
        let e = Mapping::from_str("telemetry: {a: [b]}\n").unwrap_err();
        assert!(e.contains("telemetry"), "{e}");
    }

    #[test]
    fn errors_name_the_line() {
        let e = Mapping::from_str("logsources:\n  - product: x\n    when: []\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        let e = Mapping::from_str("logsources:\n  - product: x\n    whn: []\n").unwrap_err();
        assert!(e.contains("line"), "{e}");
        let e = Mapping::from_str("logsources:\n  - when: [{a: 1}]\n").unwrap_err();
        assert!(e.contains("names no product"), "{e}");
        let m = Mapping::from_str(
            "fields: {A: B}\nlogsources:\n  - service: s\n    when: [{C: null, D: [1, x]}]\n",
        )
        .unwrap();
        assert_eq!(m.aliases, vec![("A".to_string(), vec!["B".to_string()])]);
        assert_eq!(
            m.logsources[0].when[0],
            vec![
                ("C".to_string(), FieldCond::Absent),
                (
                    "D".to_string(),
                    FieldCond::AnyOf(vec!["1".to_string(), "x".to_string()])
                )
            ]
        );
    }
}
