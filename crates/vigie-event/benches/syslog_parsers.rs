//! Syslog lines parsed into event documents, per format of the project's samples
//! (`tests/data/`): plain Linux syslog (the reference), Cisco, FortiGate, Juniper and
//! Huawei, Sysmon for Linux XML. Each iteration reads every good line of a sample once
//! (`syslog::parse` + `Message::to_document_checked`, which is what the file reader
//! does per line); throughput is in lines. Compare the formats to the plain syslog line
//! in the same run: `cargo bench -p vigie-event --bench syslog_parsers`.

use chrono::{TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use vigie_event::syslog::{parse, ParseOptions};

fn lines(sample: &str) -> Vec<Vec<u8>> {
    let path = format!("{}/tests/data/{sample}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let opts = ParseOptions::at(Utc.with_ymd_and_hms(2024, 6, 15, 0, 0, 0).unwrap());
    // Only the lines that read: the damaged ones stop early and would flatter the rate.
    text.split(|b| *b == b'\n')
        .filter(|l| {
            parse(l, &opts)
                .ok()
                .is_some_and(|m| m.to_document_checked().is_ok())
        })
        .map(<[u8]>::to_vec)
        .collect()
}

fn bench(c: &mut Criterion) {
    let opts = ParseOptions::at(Utc.with_ymd_and_hms(2024, 6, 15, 0, 0, 0).unwrap());
    let mut g = c.benchmark_group("syslog_line_to_document");
    for sample in [
        "syslog-linux.log",
        "cisco-ios.log",
        "fortigate.log",
        "juniper-huawei.log",
        "sysmon-linux.log",
    ] {
        let ls = lines(sample);
        g.throughput(Throughput::Elements(ls.len() as u64));
        g.bench_function(sample, |b| {
            b.iter(|| {
                for l in &ls {
                    if let Ok(m) = parse(black_box(l), &opts) {
                        black_box(m.to_document_checked().ok());
                    }
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
