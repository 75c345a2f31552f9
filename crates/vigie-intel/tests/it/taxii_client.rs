//! The TAXII 2.1 client against medallion 3.0.0 (the reference server, from the intel
//! venv; skipped locally when it is missing, required under CI), and its
//! `added_after` paging against a small scripted server (medallion always pages with
//! `next`).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

use serde_json::{json, Value};
use vigie_intel::taxii::client::{
    pull_collection, Client, ClientOptions, ObjectsQuery, TaxiiClientError,
};
use vigie_test_support::medallion::{
    self, id_version, sample_data, served, Medallion, EMPTY, INDICATORS, MALWARE, WRITE_ONLY,
};

fn client(user: &str, password: &str) -> Client {
    Client::new(&ClientOptions {
        user: Some(user.to_string()),
        password: Some(password.to_string()),
        timeout: Duration::from_secs(30),
        no_proxy: true,
        ..ClientOptions::default()
    })
    .unwrap()
}

fn start(name: &str) -> Option<(Medallion, tempfile::TempDir)> {
    let venv = vigie_test_support::python::intel_venv()?;
    let dir = tempfile::Builder::new()
        .prefix(&format!("taxii-client-{name}-"))
        .tempdir()
        .unwrap();
    let m = Medallion::start(&venv, dir.path(), sample_data, 100);
    Some((m, dir))
}

fn ids_versions(objs: &[Value]) -> BTreeSet<(String, String)> {
    objs.iter().map(id_version).collect()
}

#[test]
fn medallion_every_collection_pulled_exactly_with_paging() {
    let Some((m, _dir)) = start("pull") else {
        return;
    };
    let c = client(medallion::USER, medallion::PASSWORD);
    let root = m.api_root();

    let d = c.discovery(&format!("{}/taxii2/", m.base)).unwrap();
    assert_eq!(d.api_roots, vec![root.clone()]);
    let info = c.api_root(&root).unwrap();
    assert_eq!(info.max_content_length, 9_765_625);
    assert_eq!(info.versions, vec!["application/taxii+json;version=2.1"]);
    let cols = c.collections(&root).unwrap();
    let listed: Vec<&str> = cols.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(listed, vec![INDICATORS, MALWARE, WRITE_ONLY, EMPTY]);
    let mal = c.collection(&root, MALWARE).unwrap();
    assert!(mal.can_read && !mal.can_write);

    // every readable collection, 5 records a page: exactly the ids and versions served
    let q = ObjectsQuery {
        limit: Some(5),
        ..ObjectsQuery::default()
    };
    let mut figures = Vec::new();
    for (col, ids, versions, pages) in [
        (INDICATORS, 27, 51, 11),
        (MALWARE, 7, 10, 2),
        (EMPTY, 0, 0, 1),
    ] {
        let p = pull_collection(&c, &root, col, &q).unwrap();
        let want = served(&m.data, col);
        assert_eq!(ids_versions(&p.objects), want, "collection {col}");
        assert_eq!(p.objects.len(), want.len(), "no record twice in {col}");
        assert_eq!(
            (p.ids, p.objects.len(), p.pages),
            (ids, versions, pages),
            "{col}"
        );
        assert_eq!(
            (p.duplicates, p.skipped.len(), p.added_after_pages),
            (0, 0, 0)
        );
        // medallion strips its hidden field
        assert!(p.objects.iter().all(|o| o.get("_date_added").is_none()));
        figures.push(format!(
            "{col}: {ids} ids, {versions} versions, {pages} pages"
        ));
    }
    eprintln!("medallion pull: {}", figures.join("; "));

    // one unpaged read gives the same as the pages' union
    let whole = pull_collection(
        &c,
        &root,
        INDICATORS,
        &ObjectsQuery {
            limit: Some(100),
            ..ObjectsQuery::default()
        },
    )
    .unwrap();
    assert_eq!(whole.pages, 1);
    assert_eq!(ids_versions(&whole.objects), served(&m.data, INDICATORS));

    // the manifest, paged by 7: every (id, version, date_added) of the data file
    let man = c
        .manifest_all(
            &root,
            INDICATORS,
            &ObjectsQuery {
                limit: Some(7),
                versions: vec!["all".into()],
                ..ObjectsQuery::default()
            },
        )
        .unwrap();
    let data_manifest: BTreeSet<(String, String, String)> = m.data[medallion::API_ROOT]
        ["collections"][0]["manifest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["version"].as_str().unwrap().to_string(),
                r["date_added"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let got: BTreeSet<(String, String, String)> = man
        .items
        .iter()
        .map(|r| (r.id.clone(), r.version.clone(), r.date_added.clone()))
        .collect();
    assert_eq!(got, data_manifest);
    assert_eq!(man.pages, 8); // 51 records by 7
    assert_eq!(
        man.date_added_last.as_deref(),
        data_manifest.iter().map(|r| r.2.as_str()).max()
    );

    // versions and single object of an object with three versions
    let three = medallion::sdo_versions("indicator", 2, 3);
    let id = three[0]["id"].as_str().unwrap();
    let v = c
        .versions_all(&root, INDICATORS, id, &ObjectsQuery::default())
        .unwrap();
    let mut want: Vec<String> = three
        .iter()
        .map(|o| o["modified"].as_str().unwrap().to_string())
        .collect();
    want.sort();
    let mut got = v.items.clone();
    got.sort();
    assert_eq!(got, want);
    let one = c
        .object_all(&root, INDICATORS, id, &ObjectsQuery::all_versions())
        .unwrap();
    assert_eq!(ids_versions(&one.items), ids_versions(&three));
    let last = c
        .object_all(&root, INDICATORS, id, &ObjectsQuery::default())
        .unwrap();
    assert_eq!(
        last.items.len(),
        1,
        "the server's default is the last version"
    );
    assert_eq!(last.items[0]["modified"], three[2]["modified"]);

    // filters: match[type], added_after
    let scos = c
        .objects_all(
            &root,
            INDICATORS,
            &ObjectsQuery {
                types: vec!["ipv4-addr".into()],
                ..ObjectsQuery::all_versions()
            },
        )
        .unwrap();
    assert_eq!(scos.items.len(), 2);
    let mut dates: Vec<&str> = data_manifest.iter().map(|r| r.2.as_str()).collect();
    dates.sort();
    let after = c
        .objects_all(
            &root,
            INDICATORS,
            &ObjectsQuery {
                added_after: Some(dates[39].to_string()),
                limit: Some(4),
                ..ObjectsQuery::all_versions()
            },
        )
        .unwrap();
    assert_eq!(after.items.len(), 51 - 40);
    assert_eq!(after.pages, 3);
}

#[test]
fn medallion_errors_name_url_status_and_title() {
    let Some((m, _dir)) = start("errors") else {
        return;
    };
    let c = client(medallion::USER, medallion::PASSWORD);
    let root = m.api_root();
    let e = c
        .objects_all(&root, WRITE_ONLY, &ObjectsQuery::default())
        .unwrap_err();
    assert_eq!(e.http_status(), Some(403));
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("{root}collections/{WRITE_ONLY}/objects/")),
        "{text}"
    );
    assert!(
        text.contains("HTTP 403, ProcessingError: Forbidden to read collection"),
        "{text}"
    );
    let e = c.collection(&root, "no-such-collection").unwrap_err();
    assert_eq!(e.http_status(), Some(404));
    assert!(e.to_string().contains("not found"), "{e}");

    // a wrong password: 401, said so, no password in the message
    let bad = client(medallion::USER, "wrong-secret");
    let e = bad.collections(&root).unwrap_err();
    assert!(matches!(e, TaxiiClientError::Unauthorized { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "{root}collections/: authentication refused (HTTP 401"
        )),
        "{text}"
    );
    assert!(!text.contains("wrong-secret"));
}

#[test]
fn medallion_add_objects_status_and_delete() {
    let Some((m, _dir)) = start("add") else {
        return;
    };
    let c = client(medallion::USER, medallion::PASSWORD);
    let root = m.api_root();
    let mut new = medallion::sdo_versions("indicator", 500, 2);
    new.extend(medallion::sdo_versions("malware", 501, 1));
    let out = c
        .add_objects_and_wait(
            &root,
            INDICATORS,
            &new,
            Duration::from_millis(100),
            Duration::from_secs(10),
        )
        .unwrap();
    assert!(!out.timed_out);
    assert_eq!(out.status.status, "complete");
    assert_eq!(
        (
            out.status.total_count,
            out.status.success_count,
            out.status.failure_count
        ),
        (3, 3, 0)
    );
    let again = c.status(&root, &out.status.id).unwrap();
    assert_eq!(again.success_count, 3);

    // the same version again: medallion refuses it, with a message
    let dup = c.add_objects(&root, INDICATORS, &new[..1]).unwrap();
    assert_eq!((dup.success_count, dup.failure_count), (0, 1));
    assert_eq!(dup.failures[0].id, new[0]["id"].as_str().unwrap());

    // pulled back: the data file's objects and the three added
    let p = pull_collection(&c, &root, INDICATORS, &ObjectsQuery::default()).unwrap();
    let mut want = served(&m.data, INDICATORS);
    want.extend(ids_versions(&new));
    assert_eq!(ids_versions(&p.objects), want);

    // read-only collection: 403 on add
    let e = c.add_objects(&root, MALWARE, &new).unwrap_err();
    assert_eq!(e.http_status(), Some(403));

    // delete every version of one object
    let id = new[2]["id"].as_str().unwrap();
    c.delete_object(&root, INDICATORS, id, &ObjectsQuery::all_versions())
        .unwrap();
    let e = c
        .object_all(&root, INDICATORS, id, &ObjectsQuery::default())
        .unwrap_err();
    assert_eq!(e.http_status(), Some(404));
}

#[test]
fn unreachable_server_is_a_connect_error_naming_the_url() {
    let port = medallion::free_port();
    let url = format!("http://127.0.0.1:{port}/api1/");
    let e = client("u", "p").collections(&url).unwrap_err();
    assert!(matches!(e, TaxiiClientError::Connect { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("{url}collections/: cannot connect")),
        "{text}"
    );
}

/// A server that pages like some TAXII servers do: `more` without `next`, the client
/// to go on with `added_after` = `X-TAXII-Date-Added-Last`. `stall` repeats the same
/// page forever (the client must stop with an error).
fn scripted_server(
    records: usize,
    per_page: usize,
    stall: bool,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/root/", l.local_addr().unwrap());
    let date = |i: usize| format!("2026-01-01T00:00:{i:02}.000000Z");
    let h = std::thread::spawn(move || {
        let mut asked = Vec::new();
        for stream in l.incoming() {
            let Ok(mut s) = stream else { break };
            let mut line = String::new();
            let mut r = BufReader::new(s.try_clone().unwrap());
            if r.read_line(&mut line).is_err() {
                break;
            }
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
            if target == "/quit" {
                break;
            }
            asked.push(target.clone());
            let after = target
                .split("added_after=")
                .nth(1)
                .map(|a| a.split('&').next().unwrap_or("").replace("%3A", ":"));
            let start = match (&after, stall) {
                (_, true) => 0,
                (Some(a), false) => (0..records).find(|i| date(*i) > *a).unwrap_or(records),
                (None, false) => 0,
            };
            let end = (start + per_page).min(records);
            let objs: Vec<Value> = (start..end)
                .map(|i| json!({"type": "indicator", "id": format!("indicator--{i:04}"), "created": date(i), "modified": date(i)}))
                .collect();
            let body = json!({"more": end < records, "objects": objs}).to_string();
            let mut head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;version=2.1\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            if end > start {
                head.push_str(&format!(
                    "X-TAXII-Date-Added-First: {}\r\nX-TAXII-Date-Added-Last: {}\r\n",
                    date(start),
                    date(end - 1)
                ));
            }
            let _ = s.write_all(format!("{head}\r\n{body}").as_bytes());
        }
        asked
    });
    (base, h)
}

fn quit(base: &str) {
    let addr = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap();
    if let Ok(mut s) = std::net::TcpStream::connect(addr) {
        let _ = s.write_all(b"GET /quit HTTP/1.1\r\n\r\n");
    }
}

#[test]
fn paging_by_added_after_when_the_server_gives_no_next() {
    let (base, h) = scripted_server(11, 4, false);
    let c = client("u", "p");
    let got = c
        .objects_all(&base, "c", &ObjectsQuery::all_versions())
        .unwrap();
    quit(&base);
    let asked = h.join().unwrap();
    assert_eq!(got.items.len(), 11);
    assert_eq!((got.pages, got.added_after_pages), (3, 2));
    let ids: Vec<&str> = got
        .items
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    let want: Vec<String> = (0..11).map(|i| format!("indicator--{i:04}")).collect();
    assert_eq!(ids, want);
    assert_eq!(
        got.date_added_last.as_deref(),
        Some("2026-01-01T00:00:10.000000Z")
    );
    assert!(
        asked[1].contains("added_after=2026-01-01T00%3A00%3A03.000000Z"),
        "{asked:?}"
    );
    assert!(
        asked.iter().all(|a| a.contains("match%5Bversion%5D=all")),
        "{asked:?}"
    );

    // a server that keeps answering the same page: an error, not an endless loop
    let (base, h) = scripted_server(11, 4, true);
    let e = c
        .objects_all(&base, "c", &ObjectsQuery::default())
        .unwrap_err();
    quit(&base);
    let asked = h.join().unwrap();
    assert!(matches!(e, TaxiiClientError::Paging { .. }), "{e:?}");
    assert!(e.to_string().contains("no progress"), "{e}");
    assert_eq!(asked.len(), 2);
}
