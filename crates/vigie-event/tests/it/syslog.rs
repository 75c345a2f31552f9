//! Syslog: the parser against generated RFC 5424 messages, the framer against every way
//! of cutting a stream, and syslog files read like any input (sniffed, gzip, errors by line).

use std::io::Write;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::json;
use vigie_event::syslog::{
    parse, FrameError, Framer, Framing, Message, ParseOptions, SdElement, SyslogFormat,
};
use vigie_event::{discover, read_bytes, Format, Position, ReadErrorKind, ReadOptions};

use crate::common::{gz, read_all};

fn opts() -> ParseOptions {
    ParseOptions::at(Utc.with_ymd_and_hms(2024, 6, 15, 12, 0, 0).unwrap())
}

/// PRINTUSASCII without space, never `-` alone (that is nil).
fn header_field(max: usize) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(
        proptest::string::string_regex(&format!("[!-~]{{1,{max}}}"))
            .unwrap()
            .prop_filter("not nil", |s| s != "-"),
    )
}

fn sd_name() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[!#-<>-\\\\^-~]{1,32}").unwrap()
}

fn sd_element() -> impl Strategy<Value = SdElement> {
    (
        sd_name(),
        prop::collection::vec((sd_name(), any::<String>()), 0..4),
    )
        .prop_map(|(id, params)| SdElement { id, params })
}

fn timestamp() -> impl Strategy<Value = Option<DateTime<Utc>>> {
    // Years 1-9999 as RFC 3339 allows; microseconds as RFC 5424 allows.
    proptest::option::of(
        (-62_135_596_800i64..253_402_300_799, 0u32..1_000_000).prop_map(|(s, us)| {
            DateTime::from_timestamp(s, us * 1000).unwrap_or(DateTime::UNIX_EPOCH)
        }),
    )
}

fn message_5424() -> impl Strategy<Value = Message> {
    (
        (0u8..24, 0u8..8, 1u32..1000, timestamp()),
        (
            header_field(255),
            header_field(48),
            header_field(128),
            header_field(32),
        ),
        // Distinct SD-IDs (a repeated one is merged in the document, not in `Message`).
        prop::collection::btree_map(sd_name(), sd_element(), 0..3),
        // MSG: anything but what framing or trimming takes off (trailing CR/LF/NUL, a
        // leading BOM).
        any::<String>().prop_map(|s| {
            s.trim_start_matches('\u{feff}')
                .trim_end_matches(['\r', '\n', '\0'])
                .to_owned()
        }),
    )
        .prop_map(
            |((f, s, version, timestamp), (host, app, procid, msgid), sd, message)| Message {
                format: SyslogFormat::Rfc5424,
                facility: Some(f),
                severity: Some(s),
                version: Some(version),
                timestamp,
                host,
                app,
                procid,
                msgid,
                structured_data: sd
                    .into_iter()
                    .map(|(id, el)| SdElement { id, ..el })
                    .collect(),
                message,
            },
        )
}

fn frames(chunks: &[&[u8]], max: usize) -> (Vec<Result<Vec<u8>, FrameError>>, Option<Framing>) {
    let mut f = Framer::new(max);
    let mut out = Vec::new();
    let mut take = |r: Result<&[u8], FrameError>| out.push(r.map(<[u8]>::to_vec));
    for c in chunks {
        f.push(c, &mut take);
    }
    f.finish(&mut take);
    (out, f.framing())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// What `to_rfc5424` writes parses back to the same message.
    #[test]
    fn rfc5424_round_trip(m in message_5424()) {
        let text = m.to_rfc5424();
        let back = parse(text.as_bytes(), &opts());
        prop_assert_eq!(back.as_ref(), Ok(&m), "{}", text);
    }

    /// No input bytes make the parser, the framer or the file reader panic, and every
    /// error names an offset inside the message.
    #[test]
    fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200), pri in any::<bool>()) {
        let mut input = if pri { b"<13>1 ".to_vec() } else { Vec::new() };
        input.extend_from_slice(&bytes);
        if let Err(e) = parse(&input, &opts()) {
            prop_assert!(e.offset <= input.len());
        }
        let _ = frames(&[&input], 16);
        let _ = read_bytes("p", &input, &ReadOptions::default(), &mut |_| {}, &mut |_| {});
    }

    /// Octet-counted and line-framed streams give the same frames however they are cut
    /// into reads, errors included.
    #[test]
    fn framing_ignores_read_boundaries(
        msgs in prop::collection::vec(message_5424(), 1..5),
        octet in any::<bool>(),
        junk in prop::collection::vec(any::<u8>(), 0..12),
        max in 8usize..400,
    ) {
        let mut stream = Vec::new();
        for m in &msgs {
            let text = m.to_rfc5424();
            if octet {
                write!(stream, "{} {text}", text.len()).unwrap();
            } else {
                // Line framing cannot carry LF inside a message.
                stream.extend_from_slice(text.replace('\n', " ").as_bytes());
                stream.push(b'\n');
            }
        }
        stream.extend_from_slice(&junk);
        let (whole, framing) = frames(&[&stream], max);
        let want = if octet { Framing::OctetCounting } else { Framing::NonTransparent };
        prop_assert_eq!(framing, Some(want));
        for cut in 0..=stream.len() {
            let (a, b) = stream.split_at(cut);
            prop_assert_eq!(&frames(&[a, b], max).0, &whole, "cut at {}", cut);
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        prop_assert_eq!(&frames(&bytes, max).0, &whole);
        // Messages within the bound come out whole, in order.
        for (m, got) in msgs.iter().zip(&whole) {
            let text = m.to_rfc5424();
            if text.len() <= max && octet {
                prop_assert_eq!(got.as_deref(), Ok(text.as_bytes()));
            }
        }
    }
}

#[test]
fn event_time_and_fields() {
    let text = "<38>1 2024-03-04T05:06:07.5+02:00 web01 sshd 4242 AUTH [meta@1 user=\"root\" ip=\"10.0.0.9\"] Failed password\n\
                Mar  4 03:06:08 web01 sshd[4243]: Accepted password for bob\n";
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let stats = read_bytes(
        "auth.log",
        text.as_bytes(),
        &ReadOptions::default(),
        &mut |e| events.push(e),
        &mut |e| errors.push(e),
    )
    .unwrap();
    assert_eq!((stats.events, stats.skipped), (2, 0), "{errors:?}");
    let e = &events[0];
    assert_eq!(e.record, 1);
    assert_eq!(
        e.timestamp.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-03-04T03:06:07.500+00:00")
    );
    assert_eq!(e.get("host"), Some(&json!("web01")));
    assert_eq!(e.get("app"), Some(&json!("sshd")));
    assert_eq!(e.get("procid"), Some(&json!("4242")));
    assert_eq!(e.get("msgid"), Some(&json!("AUTH")));
    assert_eq!(e.get("facility"), Some(&json!("auth")));
    assert_eq!(e.get("severity"), Some(&json!("info")));
    assert_eq!(e.get("structured_data.meta@1.user"), Some(&json!("root")));
    assert_eq!(e.get("message"), Some(&json!("Failed password")));
    let e = &events[1];
    assert_eq!(e.record, 2);
    assert!(e.timestamp.is_some());
    assert_eq!(e.get("procid"), Some(&json!("4243")));
}

/// A syslog file is found by its content (plain and gzip), its bad lines are reported by
/// line and the rest read; the RFC 3164 year comes from the file's modification time.
#[test]
fn syslog_files_are_sniffed() {
    let dir = tempfile::tempdir().unwrap();
    let text = b"Dec 31 23:59:59 gw kernel: last of the year\n\
                 not a syslog line\n\
                 \n\
                 <13>1 2025-01-01T00:00:01Z gw app - - - first of the next\n";
    let plain = dir.path().join("messages");
    std::fs::write(&plain, text).unwrap();
    // Written on 2025-01-01: the December line belongs to 2024.
    let mtime = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_735_689_700);
    std::fs::File::options()
        .write(true)
        .open(&plain)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    std::fs::write(dir.path().join("messages.1.gz"), gz(text)).unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"hello\nworld\n").unwrap();
    let (inputs, errors) = discover(&[dir.path().to_path_buf()]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .message
            .contains("not EVTX, gzip, JSON, syslog, auditd"),
        "{}",
        errors[0]
    );
    assert_eq!(inputs.len(), 2);
    for input in &inputs {
        assert_eq!(input.format, Format::Syslog, "{}", input.name);
        let out = read_all(input, &ReadOptions::default());
        let stats = out.result.unwrap();
        assert_eq!((stats.events, stats.skipped), (2, 1));
        assert_eq!(out.errors[0].position, Position::Line(2));
        assert_eq!(out.errors[0].kind, ReadErrorKind::BadSyslog);
        assert!(
            out.errors[0]
                .to_string()
                .contains("line 2: byte 0: not syslog"),
            "{}",
            out.errors[0]
        );
        assert_eq!(out.events[1].record, 4);
        if !input.gzip {
            let t = out.events[0].timestamp.unwrap();
            assert_eq!(t.to_rfc3339(), "2024-12-31T23:59:59+00:00");
        }
    }
}
