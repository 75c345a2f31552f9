//! JSON lines, JSON arrays, gzip, directories and discovery, on temporary files.

use crate::common;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::{gz, read_all};
use serde_json::json;
use vigie_event::{discover, Format, Position, ReadErrorKind, ReadOptions};
use vigie_test_support::write_file as write;

const LINES: &[u8] =
    b"{\"a\": 1}\n\n  \n{\"a\": 2, \"b\": {\"c\": \"x\"}}\r\n[1]\n{\"a\": \n\"str\"\n{\"a\": 3}";

#[test]
fn json_lines_events_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "x.log", LINES);
    let (files, errs) = discover(&[p]);
    assert!(errs.is_empty());
    assert_eq!(files[0].format, Format::JsonLines);
    assert!(!files[0].gzip);
    let progress = Arc::new(AtomicU64::new(0));
    let opts = ReadOptions {
        bytes_read: Some(progress.clone()),
        ..Default::default()
    };
    let out = read_all(&files[0], &opts);
    let stats = out.result.unwrap();
    let lines: Vec<u64> = out.events.iter().map(|e| e.record).collect();
    assert_eq!(lines, vec![1, 4, 8]);
    assert_eq!(out.events[1].get("b.c"), Some(&json!("x")));
    let errs: Vec<(Position, ReadErrorKind)> =
        out.errors.iter().map(|e| (e.position, e.kind)).collect();
    assert_eq!(
        errs,
        vec![
            (Position::Line(5), ReadErrorKind::NotAnObject),
            (Position::Line(6), ReadErrorKind::BadJson),
            (Position::Line(7), ReadErrorKind::NotAnObject),
        ]
    );
    // serde's reason with a column, and the file and line in the display.
    let shown = out.errors[1].to_string();
    assert!(shown.contains("x.log: line 6: "), "{shown}");
    assert!(shown.contains("column"), "{shown}");
    assert_eq!(stats.events, 3);
    assert_eq!(stats.skipped, 3);
    assert_eq!(stats.bytes, LINES.len() as u64);
    assert_eq!(progress.load(Ordering::Relaxed), LINES.len() as u64);
}

#[test]
fn json_array_streamed_with_recovery() {
    let text = br#" [ {"a": 1}, {"s": "x,]}\"y"}, 5, {"bad": }, {"n": [1, {"m": 2}]} ] "#;
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "arr.json", text);
    let (files, _) = discover(&[p]);
    assert_eq!(files[0].format, Format::JsonArray);
    let out = read_all(&files[0], &ReadOptions::default());
    out.result.unwrap();
    let idx: Vec<u64> = out.events.iter().map(|e| e.record).collect();
    assert_eq!(idx, vec![0, 1, 4]);
    assert_eq!(out.events[1].get("s"), Some(&json!("x,]}\"y")));
    let errs: Vec<(Position, ReadErrorKind)> =
        out.errors.iter().map(|e| (e.position, e.kind)).collect();
    assert_eq!(
        errs,
        vec![
            (Position::Element(2), ReadErrorKind::NotAnObject),
            (Position::Element(3), ReadErrorKind::BadJson),
        ]
    );
}

#[test]
fn json_array_edge_shapes() {
    let dir = tempfile::tempdir().unwrap();
    // Empty array: nothing, no error.
    let (f, _) = discover(&[write(dir.path(), "e.json", b"[ ]")]);
    let out = read_all(&f[0], &ReadOptions::default());
    assert!(out.events.is_empty() && out.errors.is_empty());
    // Trailing comma: the missing element is reported.
    let (f, _) = discover(&[write(dir.path(), "t.json", b"[{\"a\":1},]")]);
    let out = read_all(&f[0], &ReadOptions::default());
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.errors[0].position, Position::Element(1));
    // Truncated: whole elements still come out, the truncation is reported.
    let (f, _) = discover(&[write(dir.path(), "u.json", b"[{\"a\":1},{\"b\":2}")]);
    let out = read_all(&f[0], &ReadOptions::default());
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].kind, ReadErrorKind::BadJson);
    // Trailing garbage after the array.
    let (f, _) = discover(&[write(dir.path(), "g.json", b"[{\"a\":1}] x")]);
    let out = read_all(&f[0], &ReadOptions::default());
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.errors.len(), 1);
}

#[test]
fn gzip_of_lines_array_and_evtx() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.gz", &gz(LINES));
    let b = write(dir.path(), "b.json.gz", &gz(b"[{\"a\":1},{\"a\":2}]"));
    let evtx_src = common::shared().join("evtx/edge-cases/new-user-security.evtx");
    let c = write(
        dir.path(),
        "c.evtx.gz",
        &gz(&std::fs::read(evtx_src).unwrap()),
    );
    let (files, errs) = discover(&[a, b, c]);
    assert!(errs.is_empty(), "{errs:?}");
    let fmts: Vec<(Format, bool)> = files.iter().map(|f| (f.format, f.gzip)).collect();
    assert_eq!(
        fmts,
        vec![
            (Format::JsonLines, true),
            (Format::JsonArray, true),
            (Format::Evtx, true)
        ]
    );
    let counts: Vec<(usize, usize)> = files
        .iter()
        .map(|f| {
            let o = read_all(f, &ReadOptions::default());
            let stats = o.result.unwrap();
            assert_eq!(stats.bytes, f.size, "compressed bytes are counted");
            (o.events.len(), o.errors.len())
        })
        .collect();
    assert_eq!(counts, vec![(3, 3), (2, 0), (4, 0)]);
}

#[test]
fn damaged_gzip_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = gz(&LINES.repeat(2000));
    let cut = bytes.len() / 2;
    bytes.truncate(cut);
    let p = write(dir.path(), "cut.gz", &bytes);
    let (files, errs) = discover(&[p]);
    assert!(errs.is_empty());
    let out = read_all(&files[0], &ReadOptions::default());
    out.result.unwrap();
    assert!(!out.events.is_empty(), "what decompressed is still read");
    assert!(
        out.errors.iter().any(|e| e.kind == ReadErrorKind::BadGzip),
        "{:?}",
        out.errors.last()
    );
    // Gzip magic with nothing valid behind it.
    let p = write(
        dir.path(),
        "junk.gz",
        &[0x1f, 0x8b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    );
    let (files, errs) = discover(&[p]);
    assert!(files.is_empty());
    assert_eq!(errs[0].kind, ReadErrorKind::BadGzip);
}

#[test]
fn directories_sorted_unsupported_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "b/2.json", b"{\"a\":1}\n");
    write(dir.path(), "b/1.jsonl", b"{\"a\":1}\n");
    write(dir.path(), "a.json", b"[]");
    write(dir.path(), "LICENSE", b"MIT License\n");
    write(dir.path(), "rule.yml", b"title: x\n");
    write(dir.path(), "empty.json", b"");
    let missing = dir.path().join("nope.evtx");
    let (files, errs) = discover(&[dir.path().to_path_buf(), missing]);
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            f.path
                .strip_prefix(dir.path())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, vec!["a.json", "b/1.jsonl", "b/2.json"]);
    let kinds: Vec<(String, ReadErrorKind)> = errs
        .iter()
        .map(|e| {
            let n = Path::new(&*e.source_name).file_name().unwrap();
            (n.to_string_lossy().into_owned(), e.kind)
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("LICENSE".to_string(), ReadErrorKind::UnsupportedFormat),
            ("empty.json".to_string(), ReadErrorKind::UnsupportedFormat),
            ("rule.yml".to_string(), ReadErrorKind::UnsupportedFormat),
            ("nope.evtx".to_string(), ReadErrorKind::Io),
        ]
    );
    assert!(
        errs[0].to_string().contains("LICENSE: not EVTX"),
        "{}",
        errs[0]
    );
}

#[cfg(unix)]
#[test]
fn symlink_loop_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "d/x.json", b"{\"a\":1}\n");
    std::os::unix::fs::symlink(dir.path(), dir.path().join("d/loop")).unwrap();
    let (files, errs) = discover(&[dir.path().to_path_buf()]);
    assert_eq!(files.len(), 1);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].kind, ReadErrorKind::Io);
}

#[test]
fn read_bytes_matches_read_input() {
    let mut n = 0;
    let mut e = 0;
    let stats = vigie_event::read_bytes(
        "mem",
        LINES,
        &ReadOptions::default(),
        &mut |ev| {
            assert_eq!(&*ev.source, "mem");
            n += 1
        },
        &mut |_| e += 1,
    )
    .unwrap();
    assert_eq!((n, e), (3, 3));
    assert_eq!(stats.events, 3);
    let err = vigie_event::read_bytes(
        "mem",
        b"hello",
        &ReadOptions::default(),
        &mut |_| {},
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(err.kind, ReadErrorKind::UnsupportedFormat);
    assert_eq!(err.position, Position::File);
}

#[test]
fn pretty_printed_objects() {
    let text = b"\n{\n  \"a\": 1,\n  \"b\": {\"c\": \"}{\"}\n}\n[1, 2]\n{\n  \"a\": 2\n}\n\n  {\"x\": \n  3}\nnope\n{\"a\": 3}\n{\n \"cut\": ";
    let dir = tempfile::tempdir().unwrap();
    let (f, _) = discover(&[write(dir.path(), "pretty.json", text)]);
    assert_eq!(f[0].format, Format::JsonLines);
    let out = read_all(&f[0], &ReadOptions::default());
    out.result.unwrap();
    let starts: Vec<u64> = out.events.iter().map(|e| e.record).collect();
    assert_eq!(starts, vec![2, 7, 11, 14]);
    assert_eq!(out.events[0].get("b.c"), Some(&json!("}{")));
    assert_eq!(out.events[2].get("x"), Some(&json!(3)));
    let errs: Vec<(Position, ReadErrorKind)> =
        out.errors.iter().map(|e| (e.position, e.kind)).collect();
    assert_eq!(
        errs,
        vec![
            (Position::Line(6), ReadErrorKind::NotAnObject),
            (Position::Line(13), ReadErrorKind::BadJson),
            (Position::Line(15), ReadErrorKind::BadJson),
        ]
    );
    assert!(
        out.errors[2].message.contains("input ends inside"),
        "{}",
        out.errors[2]
    );
}

/// A first line cut short is reported alone; the lines after it are still records.
#[test]
fn truncated_first_line_stays_line_based() {
    let (mut n, mut errs) = (0, Vec::new());
    vigie_event::read_bytes(
        "t",
        b"{\"a\": 1\n{\"b\": 2}\n",
        &ReadOptions::default(),
        &mut |_| n += 1,
        &mut |e| errs.push(e),
    )
    .unwrap();
    assert_eq!(n, 1);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].position, Position::Line(1));
}

/// A gzip EVTX cut short: the records before the cut come out, the cut is reported once.
#[test]
fn truncated_gzip_evtx() {
    let raw = std::fs::read(common::shared().join("evtx/edge-cases/security.evtx")).unwrap();
    let mut z = gz(&raw);
    z.truncate(z.len() * 3 / 4);
    let dir = tempfile::tempdir().unwrap();
    let (f, errs) = discover(&[write(dir.path(), "cut.evtx.gz", &z)]);
    assert!(errs.is_empty());
    let out = read_all(&f[0], &ReadOptions::default());
    out.result.unwrap();
    assert!(out.events.len() > 100, "{}", out.events.len());
    let gz_errors = out
        .errors
        .iter()
        .filter(|e| e.kind == ReadErrorKind::BadGzip)
        .count();
    assert_eq!(gz_errors, 1, "{:?}", out.errors);
    // Nothing readable at all: one `Err`, no `on_error`.
    for cut in [20, 40, 200] {
        let mut errors = 0;
        let res = vigie_event::read_bytes(
            "head.evtx.gz",
            &gz(&raw)[..cut],
            &ReadOptions::default(),
            &mut |_| {},
            &mut |_| errors += 1,
        );
        assert_eq!(errors, 0, "cut {cut}");
        assert_eq!(res.unwrap_err().kind, ReadErrorKind::BadGzip, "cut {cut}");
    }
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for u in text.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

/// What Windows PowerShell 5.1 writes for `ConvertTo-Json > x.json`: UTF-16LE, pretty.
#[test]
fn utf16_json_as_powershell_writes_it() {
    let text = "[\r\n    {\r\n        \"Id\":  4688,\r\n        \"Message\":  \"Processus créé 😀\"\r\n    },\r\n    3\r\n]\r\n";
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "ps.json", &utf16(text, false));
    let b = write(
        dir.path(),
        "ps-be.json.gz",
        &gz(&utf16("{\"a\": 1}\n{\"a\": 2}\n", true)),
    );
    let c = write(dir.path(), "bin.txt", &utf16("ElfFile\0", false));
    let (files, errs) = discover(&[a, b, c]);
    let fmts: Vec<(Format, bool)> = files.iter().map(|f| (f.format, f.gzip)).collect();
    assert_eq!(
        fmts,
        vec![(Format::JsonArray, false), (Format::JsonLines, true)]
    );
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].kind, ReadErrorKind::UnsupportedFormat);
    assert!(errs[0].message.contains("UTF-16"), "{}", errs[0]);

    let out = read_all(&files[0], &ReadOptions::default());
    out.result.unwrap();
    assert_eq!(out.events.len(), 1);
    assert_eq!(
        out.events[0].get("Message"),
        Some(&json!("Processus créé 😀"))
    );
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].kind, ReadErrorKind::NotAnObject);
    let out = read_all(&files[1], &ReadOptions::default());
    assert_eq!(out.result.unwrap().events, 2);
}
