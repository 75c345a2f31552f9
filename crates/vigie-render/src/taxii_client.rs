//! `vigie intel pull` and `vigie intel push` as text, written from their wire reports
//! ([`vigie_wire::v1::taxii_client`]).

use std::fmt::Write as _;

use vigie_wire::v1::taxii_client::{PullReport, PushReport};

/// Skipped records and refused objects listed before "and N more".
const LISTED: usize = 10;

/// One line per collection, then the totals and what was skipped.
pub fn pull(r: &PullReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "TAXII pull from {}", r.api_root);
    for c in &r.collections {
        let title = c
            .title
            .as_deref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        match (&c.error, &c.file) {
            (Some(e), _) => {
                let _ = writeln!(s, "  {}{title}: not read: {e}", c.id);
            }
            (None, file) => {
                let _ = write!(
                    s,
                    "  {}{title}: {} objects, {} versions, {} {}",
                    c.id,
                    c.objects,
                    c.versions,
                    c.pages,
                    plural(c.pages as u64, "page", "pages")
                );
                if c.added_after_pages > 0 {
                    let _ = write!(s, " ({} by added_after)", c.added_after_pages);
                }
                if let Some(f) = file {
                    let _ = write!(s, " -> {f}");
                }
                let _ = writeln!(s);
                if c.duplicates > 0 {
                    let _ = writeln!(s, "    {} duplicate records written once", c.duplicates);
                }
                for k in c.skipped.iter().take(LISTED) {
                    let _ = writeln!(s, "    skipped {} {}: {}", k.url, k.pointer, k.reason);
                }
                if c.skipped.len() > LISTED {
                    let _ = writeln!(s, "    and {} more skipped", c.skipped.len() - LISTED);
                }
                if let Some(last) = &c.date_added_last {
                    let _ = writeln!(s, "    next pull: --added-after {last}");
                }
            }
        }
    }
    if !r.unreadable.is_empty() {
        let _ = writeln!(
            s,
            "  not readable with these credentials (can_read: false): {}",
            r.unreadable.join(", ")
        );
    }
    let t = &r.totals;
    let _ = write!(
        s,
        "{} {}, {} objects, {} versions, {} {}",
        t.collections,
        plural(t.collections, "collection", "collections"),
        t.objects,
        t.versions,
        t.pages,
        plural(t.pages, "page", "pages")
    );
    if t.failed > 0 {
        let _ = write!(s, "; {} not read", t.failed);
    }
    if t.skipped > 0 {
        let _ = write!(s, "; {} records skipped", t.skipped);
    }
    let _ = writeln!(s);
    s
}

/// The final status: counts, then each refused object.
pub fn push(r: &PushReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "TAXII push of {} to {} collection {}: {} objects sent in {} {}",
        r.file,
        r.api_root,
        r.collection,
        r.sent,
        r.envelopes,
        plural(r.envelopes, "envelope", "envelopes")
    );
    for k in r.refused.iter().take(LISTED) {
        let _ = writeln!(s, "  not sent {}: {}", k.pointer, k.reason);
    }
    if r.refused.len() > LISTED {
        let _ = writeln!(s, "  and {} more not sent", r.refused.len() - LISTED);
    }
    let _ = writeln!(
        s,
        "status {}: {} total, {} success, {} failure, {} pending",
        r.status, r.total, r.success, r.failure, r.pending
    );
    for f in r.failures.iter().take(LISTED) {
        let _ = writeln!(
            s,
            "  failed {} {}{}",
            f.id,
            f.version,
            f.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
    }
    if r.failures.len() > LISTED {
        let _ = writeln!(s, "  and {} more failed", r.failures.len() - LISTED);
    }
    s
}

fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_wire::v1::taxii_client::{PullTotals, PulledCollection, StatusObject};

    #[test]
    fn pull_text_counts_each_collection() {
        let r = PullReport {
            schema: "vigie/v1".into(),
            api_root: "http://h/api1/".into(),
            collections: vec![
                PulledCollection {
                    id: "c1".into(),
                    title: Some("One".into()),
                    file: Some("out/c1.json".into()),
                    objects: 3,
                    versions: 5,
                    pages: 2,
                    added_after_pages: 0,
                    date_added_last: Some("2024-01-01T00:00:00.000000Z".into()),
                    duplicates: 0,
                    skipped: vec![],
                    error: None,
                },
                PulledCollection {
                    id: "c2".into(),
                    title: None,
                    file: None,
                    objects: 0,
                    versions: 0,
                    pages: 0,
                    added_after_pages: 0,
                    date_added_last: None,
                    duplicates: 0,
                    skipped: vec![],
                    error: Some("http://h/api1/collections/c2/objects/: HTTP 403".into()),
                },
            ],
            unreadable: vec![],
            totals: PullTotals {
                collections: 2,
                failed: 1,
                unreadable: 0,
                objects: 3,
                versions: 5,
                pages: 2,
                skipped: 0,
            },
        };
        let t = pull(&r);
        assert!(
            t.contains("c1 (One): 3 objects, 5 versions, 2 pages -> out/c1.json"),
            "{t}"
        );
        assert!(
            t.contains("c2: not read: http://h/api1/collections/c2/objects/: HTTP 403"),
            "{t}"
        );
        assert!(
            t.contains("--added-after 2024-01-01T00:00:00.000000Z"),
            "{t}"
        );
        assert!(
            t.ends_with("2 collections, 3 objects, 5 versions, 2 pages; 1 not read\n"),
            "{t}"
        );
    }

    #[test]
    fn push_text_gives_the_counts_and_failures() {
        let r = PushReport {
            schema: "vigie/v1".into(),
            api_root: "http://h/api1/".into(),
            collection: "c1".into(),
            file: "b.json".into(),
            sent: 2,
            refused: vec![],
            envelopes: 1,
            status_ids: vec!["s1".into()],
            status: "complete".into(),
            total: 2,
            success: 1,
            failure: 1,
            pending: 0,
            failures: vec![StatusObject {
                id: "indicator--1".into(),
                version: "2024-01-01T00:00:00Z".into(),
                message: Some("Unable to process object".into()),
            }],
            polls: 0,
        };
        let t = push(&r);
        assert!(
            t.contains("status complete: 2 total, 1 success, 1 failure, 0 pending"),
            "{t}"
        );
        assert!(
            t.contains("failed indicator--1 2024-01-01T00:00:00Z: Unable to process object"),
            "{t}"
        );
    }
}
