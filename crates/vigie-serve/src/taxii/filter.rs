//! The TAXII 2.1 filters (specification section 3.4) and paging, over the versions a
//! collection holds.
//!
//! Parameters: `added_after` (a timestamp: versions added strictly after it),
//! `match[id]`, `match[type]` (comma-separated lists), `match[version]` (comma-separated
//! `last`, `first`, `all` or timestamps; default `last`, `all` on DELETE and the versions
//! endpoint), `match[spec_version]` (comma-separated; default: each object's latest
//! specification version), `limit` (a positive integer; at most [`MAX_LIMIT`] are
//! returned) and `next` (from the previous page's `next`). Unknown parameters are
//! refused with 400 (a misspelt filter would otherwise return everything).
//!
//! Collection reads (`objects/`, `manifest/`) run the selection and paging in SQL
//! ([`store_query`] for `vigie_store::Store::taxii_page`: only the page is read); the
//! one-object endpoints read that object's versions and use [`select`] and [`page`],
//! which define what the SQL must give (a proptest compares the two).
//!
//! Order: by date added (strictly increasing within a collection, see `vigie-store`), so
//! `next` is the last returned version's date added in microseconds, and the pages'
//! union is one full read (nothing skipped, nothing twice) whatever is added meanwhile.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use vigie_store::TaxiiObjectRow;

/// Largest page (a larger `limit` is lowered to it, as the specification allows).
pub const MAX_LIMIT: usize = 1000;
/// Page size without `limit`.
pub const DEFAULT_LIMIT: usize = 1000;

/// One `match[version]` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionTerm {
    Last,
    First,
    All,
    /// That exact version (microseconds).
    At(DateTime<Utc>),
}

/// A request's selection (what the parameters say).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Select {
    pub added_after: Option<DateTime<Utc>>,
    pub ids: Vec<String>,
    pub types: Vec<String>,
    /// Empty: the endpoint's default ([`Select::default_version`]).
    pub versions: Vec<VersionTerm>,
    /// Empty: each object's latest specification version.
    pub spec_versions: Vec<String>,
    /// Requested page size (None: [`DEFAULT_LIMIT`]).
    pub limit: Option<usize>,
    /// Date added (µs) of the last version of the previous page.
    pub next: Option<i64>,
    /// The default of `match[version]` when absent: `last` (objects, manifest, one
    /// object), `all` (versions, DELETE). Not a parameter.
    pub default_version: Option<VersionTerm>,
}

/// Which parameters an endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `objects/`, `manifest/`: every filter.
    Objects,
    /// `objects/{id}/`: no `match[id]`, `match[type]`.
    Object,
    /// `objects/{id}/versions/`: `added_after`, `limit`, `next`, `match[spec_version]`.
    Versions,
    /// DELETE `objects/{id}/`: `match[version]`, `match[spec_version]`.
    Delete,
    /// Everything else: none.
    None,
}

/// A bad parameter: names it and says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query parameter `{param}`: {why}")]
pub struct ParamError {
    pub param: String,
    pub why: String,
}

fn err(param: &str, why: impl Into<String>) -> ParamError {
    ParamError {
        param: param.to_string(),
        why: why.into(),
    }
}

/// A TAXII timestamp (RFC 3339, UTC `Z` or an offset).
pub fn timestamp(param: &str, v: &str) -> Result<DateTime<Utc>, ParamError> {
    DateTime::parse_from_rfc3339(v.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| err(param, format!("`{v}` is not an RFC 3339 timestamp ({e})")))
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses a decoded query string (`(key, value)` pairs) for `endpoint`.
pub fn parse(pairs: &[(String, String)], endpoint: Endpoint) -> Result<Select, ParamError> {
    let mut s = Select {
        default_version: Some(match endpoint {
            Endpoint::Versions | Endpoint::Delete => VersionTerm::All,
            _ => VersionTerm::Last,
        }),
        ..Select::default()
    };
    let takes = |k: &str| -> bool {
        match endpoint {
            Endpoint::Objects => true,
            Endpoint::Object => !matches!(k, "match[id]" | "match[type]"),
            Endpoint::Versions => {
                matches!(k, "added_after" | "limit" | "next" | "match[spec_version]")
            }
            Endpoint::Delete => matches!(k, "match[version]" | "match[spec_version]"),
            Endpoint::None => false,
        }
    };
    for (k, v) in pairs {
        let known = matches!(
            k.as_str(),
            "added_after"
                | "limit"
                | "next"
                | "match[id]"
                | "match[type]"
                | "match[version]"
                | "match[spec_version]"
        );
        if !known {
            return Err(err(k, "unknown parameter"));
        }
        if !takes(k) {
            return Err(err(k, "not a filter of this endpoint"));
        }
        match k.as_str() {
            "added_after" => s.added_after = Some(timestamp(k, v)?),
            "limit" => {
                let n: usize = v
                    .trim()
                    .parse()
                    .map_err(|_| err(k, format!("`{v}` is not a positive integer")))?;
                if n == 0 {
                    return Err(err(k, "must be at least 1"));
                }
                s.limit = Some(n);
            }
            "next" => {
                let n: i64 = v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n: &i64| *n >= 0)
                    .ok_or_else(|| err(k, format!("`{v}` is not a `next` this server gave")))?;
                s.next = Some(n);
            }
            "match[id]" => s.ids.extend(list(v)),
            "match[type]" => s.types.extend(list(v)),
            "match[version]" => {
                for term in list(v) {
                    s.versions.push(match term.as_str() {
                        "last" => VersionTerm::Last,
                        "first" => VersionTerm::First,
                        "all" => VersionTerm::All,
                        t => VersionTerm::At(timestamp(k, t).map_err(|_| {
                            err(
                                k,
                                format!("`{t}` is neither last, first, all nor a timestamp"),
                            )
                        })?),
                    });
                }
            }
            "match[spec_version]" => {
                for sv in list(v) {
                    if !matches!(sv.as_str(), "2.0" | "2.1") {
                        return Err(err(k, format!("`{sv}`: expected 2.0 or 2.1")));
                    }
                    s.spec_versions.push(sv);
                }
            }
            _ => {}
        }
    }
    Ok(s)
}

/// The versions `sel` selects, by date added, before paging (`added_after` applied; not
/// `next`/`limit`).
pub fn select(rows: Vec<TaxiiObjectRow>, sel: &Select) -> Vec<TaxiiObjectRow> {
    // Per object id: the spec versions it has (for the default "latest spec version").
    let mut latest_spec: HashMap<&str, &str> = HashMap::new();
    for r in &rows {
        let e = latest_spec.entry(r.id.as_str()).or_insert(&r.spec_version);
        if r.spec_version.as_str() > *e {
            *e = &r.spec_version;
        }
    }
    let spec_ok = |r: &TaxiiObjectRow| -> bool {
        if sel.spec_versions.is_empty() {
            latest_spec.get(r.id.as_str()) == Some(&r.spec_version.as_str())
        } else {
            sel.spec_versions.contains(&r.spec_version)
        }
    };
    let type_ok = |r: &TaxiiObjectRow| sel.types.is_empty() || sel.types.contains(&r.object_type);
    let id_ok = |r: &TaxiiObjectRow| sel.ids.is_empty() || sel.ids.contains(&r.id);
    let candidates: Vec<bool> = rows
        .iter()
        .map(|r| spec_ok(r) && type_ok(r) && id_ok(r))
        .collect();
    // First and last version per id among the candidates.
    let mut span: HashMap<&str, (DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
    for (r, ok) in rows.iter().zip(&candidates) {
        if !ok {
            continue;
        }
        let e = span.entry(r.id.as_str()).or_insert((r.version, r.version));
        e.0 = e.0.min(r.version);
        e.1 = e.1.max(r.version);
    }
    let default = sel.default_version.clone().unwrap_or(VersionTerm::Last);
    let terms: &[VersionTerm] = if sel.versions.is_empty() {
        std::slice::from_ref(&default)
    } else {
        &sel.versions
    };
    let keep: Vec<bool> = rows
        .iter()
        .zip(&candidates)
        .map(|(r, ok)| {
            if !ok {
                return false;
            }
            if sel.added_after.is_some_and(|t| r.date_added <= t) {
                return false;
            }
            let Some((first, last)) = span.get(r.id.as_str()) else {
                return false;
            };
            terms.iter().any(|t| match t {
                VersionTerm::All => true,
                VersionTerm::First => r.version == *first,
                VersionTerm::Last => r.version == *last,
                VersionTerm::At(v) => r.version == *v,
            })
        })
        .collect();
    let mut out: Vec<TaxiiObjectRow> = rows
        .into_iter()
        .zip(keep)
        .filter_map(|(r, k)| k.then_some(r))
        .collect();
    out.sort_by_key(|r| (r.date_added, r.seq));
    out
}

/// The store query of `sel` (selection and paging in SQL, `vigie_store::Store::taxii_page`):
/// the same versions as [`select`] then [`page`].
pub fn store_query(sel: &Select) -> vigie_store::TaxiiPageQuery {
    use vigie_store::TaxiiVersion as V;
    let term = |t: &VersionTerm| match t {
        VersionTerm::Last => V::Last,
        VersionTerm::First => V::First,
        VersionTerm::All => V::All,
        VersionTerm::At(v) => V::At(*v),
    };
    let versions: Vec<V> = if sel.versions.is_empty() {
        vec![term(
            sel.default_version.as_ref().unwrap_or(&VersionTerm::Last),
        )]
    } else {
        sel.versions.iter().map(term).collect()
    };
    let after = match (sel.added_after.map(|t| t.timestamp_micros()), sel.next) {
        (Some(a), Some(n)) => Some(a.max(n)),
        (a, n) => a.or(n),
    };
    vigie_store::TaxiiPageQuery {
        ids: sel.ids.clone(),
        types: sel.types.clone(),
        spec_versions: sel.spec_versions.clone(),
        versions,
        after,
        limit: sel.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as u32,
    }
}

/// A page from the store's answer to [`store_query`].
pub fn paged(items: Vec<TaxiiObjectRow>, more: bool) -> Paged {
    let next = match (more, items.last()) {
        (true, Some(last)) => Some(last.date_added.timestamp_micros().to_string()),
        _ => None,
    };
    Paged { items, more, next }
}

/// One page of a selection.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged {
    pub items: Vec<TaxiiObjectRow>,
    /// There is more after this page.
    pub more: bool,
    /// The `next` parameter of the following page (with `more`).
    pub next: Option<String>,
}

/// Applies `next` and `limit` to a selection (by date added).
pub fn page(selected: Vec<TaxiiObjectRow>, sel: &Select) -> Paged {
    let limit = sel.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let mut rest = selected
        .into_iter()
        .filter(|r| sel.next.is_none_or(|n| r.date_added.timestamp_micros() > n))
        .peekable();
    let mut items = Vec::new();
    while items.len() < limit {
        match rest.next() {
            Some(r) => items.push(r),
            None => break,
        }
    }
    let more = rest.peek().is_some();
    let next = match (more, items.last()) {
        (true, Some(last)) => Some(last.date_added.timestamp_micros().to_string()),
        _ => None,
    };
    Paged { items, more, next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_760_000_000 + s, 0).unwrap_or_default()
    }

    fn row(seq: i64, id: &str, ty: &str, version: i64, spec: &str) -> TaxiiObjectRow {
        TaxiiObjectRow {
            seq,
            id: id.into(),
            object_type: ty.into(),
            version: t(version),
            version_text: vigie_store::rfc3339(t(version)),
            spec_version: spec.into(),
            date_added: t(1000 + seq),
            document: json!({"id": id}),
        }
    }

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn rows() -> Vec<TaxiiObjectRow> {
        vec![
            row(1, "indicator--a", "indicator", 1, "2.1"),
            row(2, "indicator--a", "indicator", 2, "2.1"),
            row(3, "malware--b", "malware", 5, "2.1"),
            row(4, "indicator--a", "indicator", 3, "2.1"),
            row(5, "malware--c", "malware", 1, "2.0"),
            row(6, "malware--c", "malware", 2, "2.1"),
        ]
    }

    fn seqs(sel: &Select) -> Vec<i64> {
        select(rows(), sel).iter().map(|r| r.seq).collect()
    }

    #[test]
    fn versions_first_last_all_and_timestamps() {
        let p = |q: &[(&str, &str)]| parse(&pairs(q), Endpoint::Objects).unwrap_or_default();
        assert_eq!(seqs(&p(&[])), vec![3, 4, 6], "default: last");
        assert_eq!(seqs(&p(&[("match[version]", "first")])), vec![1, 3, 6]);
        assert_eq!(seqs(&p(&[("match[version]", "all")])), vec![1, 2, 3, 4, 6]);
        assert_eq!(
            seqs(&p(&[("match[version]", "first,last")])),
            vec![1, 3, 4, 6]
        );
        let v2 = vigie_store::rfc3339(t(2));
        assert_eq!(seqs(&p(&[("match[version]", &v2)])), vec![2, 6]);
        assert_eq!(
            seqs(&p(&[("match[spec_version]", "2.0")])),
            vec![5],
            "2.0 only"
        );
        assert_eq!(
            seqs(&p(&[
                ("match[spec_version]", "2.0,2.1"),
                ("match[version]", "all")
            ])),
            vec![1, 2, 3, 4, 5, 6]
        );
        assert_eq!(
            seqs(&p(&[
                ("match[type]", "malware"),
                ("match[id]", "malware--b")
            ])),
            vec![3]
        );
        let after = vigie_store::rfc3339(t(1003));
        assert_eq!(seqs(&p(&[("added_after", &after)])), vec![4, 6]);
    }

    #[test]
    fn bad_parameters_are_named() {
        for (q, param) in [
            (vec![("limit", "0")], "limit"),
            (vec![("limit", "ten")], "limit"),
            (vec![("added_after", "yesterday")], "added_after"),
            (vec![("match[version]", "latest")], "match[version]"),
            (vec![("match[spec_version]", "3.0")], "match[spec_version]"),
            (vec![("match[idd]", "x")], "match[idd]"),
            (vec![("next", "-4")], "next"),
        ] {
            let e = parse(&pairs(&q), Endpoint::Objects).err();
            assert_eq!(e.map(|e| e.param), Some(param.to_string()), "{q:?}");
        }
        assert!(parse(&pairs(&[("match[id]", "x")]), Endpoint::Versions).is_err());
        assert!(parse(&pairs(&[("limit", "3")]), Endpoint::Delete).is_err());
    }

    proptest! {
        /// Paging with any limit yields every selected version exactly once, in order.
        #[test]
        fn pages_union_is_one_full_read(limit in 1usize..8, n in 0usize..40) {
            let all: Vec<TaxiiObjectRow> = (0..n as i64)
                .map(|i| row(i, &format!("indicator--{}", i % 7), "indicator", i, "2.1"))
                .collect();
            let mut sel = Select { versions: vec![VersionTerm::All], limit: Some(limit), ..Select::default() };
            let full: Vec<i64> = select(all.clone(), &sel).iter().map(|r| r.seq).collect();
            let mut got = Vec::new();
            loop {
                let p = page(select(all.clone(), &sel), &sel);
                prop_assert!(p.items.len() <= limit);
                got.extend(p.items.iter().map(|r| r.seq));
                prop_assert_eq!(p.more, p.next.is_some());
                match p.next {
                    Some(n) => sel.next = Some(n.parse().unwrap_or(i64::MAX)),
                    None => break,
                }
            }
            prop_assert_eq!(got, full);
        }

        /// Any query string parses to a selection or a named error, never a panic.
        #[test]
        fn any_parameters_parse_or_fail_cleanly(k in "[a-z_\\[\\]]{0,20}", v in "\\PC{0,40}") {
            let q = vec![(k.clone(), v)];
            for e in [Endpoint::Objects, Endpoint::Object, Endpoint::Versions, Endpoint::Delete, Endpoint::None] {
                if let Err(e) = parse(&q, e) {
                    prop_assert_eq!(&e.param, &k);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// The store's SQL selection and paging gives, page after page, exactly what
        /// [`select`] then [`page`] give over every row (SQLite).
        #[test]
        fn sql_pages_equal_the_in_memory_selection(
            versions in proptest::collection::vec((0usize..4, 1i64..6, any::<bool>()), 0..30),
            ids in proptest::collection::vec(0usize..4, 0..3),
            terms in proptest::collection::vec(0usize..5, 0..3),
            spec in 0usize..3,
            limit in 1usize..6,
            added_after in proptest::option::of(0usize..30),
        ) {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let store = vigie_store::Store::open(&vigie_store::StoreSpec::Sqlite(dir.path().join("t.db")))
                .unwrap_or_else(|e| panic!("{e}"));
            let names = ["indicator--a", "malware--b", "indicator--c", "tool--d"];
            let objects: Vec<vigie_store::TaxiiNewObject> = versions
                .iter()
                .map(|&(n, v, old)| vigie_store::TaxiiNewObject {
                    id: names[n].to_string(),
                    object_type: names[n].split("--").next().unwrap_or("").to_string(),
                    version: Some(t(v)),
                    version_text: None,
                    spec_version: if old { "2.0" } else { "2.1" }.to_string(),
                    document: json!({"id": names[n], "v": v}),
                })
                .collect();
            store.taxii_add("c", &objects, None).unwrap_or_else(|e| panic!("{e}"));
            let all = store.taxii_objects("c", &[], &[]).unwrap_or_else(|e| panic!("{e}"));
            let term = |k: usize| match k {
                0 => VersionTerm::Last,
                1 => VersionTerm::First,
                2 => VersionTerm::All,
                k => VersionTerm::At(t(k as i64)),
            };
            let mut sel = Select {
                ids: ids.iter().map(|&n| names[n].to_string()).collect(),
                versions: terms.iter().map(|&k| term(k)).collect(),
                spec_versions: match spec { 0 => vec![], 1 => vec!["2.0".into()], _ => vec!["2.0".into(), "2.1".into()] },
                limit: Some(limit),
                added_after: added_after.and_then(|k| all.get(k).map(|r| r.date_added)),
                ..Select::default()
            };
            let mut pages = 0;
            loop {
                let want = page(select(all.clone(), &sel), &sel);
                let (items, more) = store.taxii_page("c", &store_query(&sel)).unwrap_or_else(|e| panic!("{e}"));
                let got = paged(items, more);
                prop_assert_eq!(&got, &want);
                pages += 1;
                match got.next.as_deref().map(str::parse::<i64>) {
                    Some(Ok(n)) if pages < 50 => sel.next = Some(n),
                    _ => break,
                }
            }
        }
    }
}
