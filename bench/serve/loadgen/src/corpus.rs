//! The benchmark's events: real records (EVTX files, EVTX-JSON or flat JSON lines)
//! flattened once to Sigma field names, then replayed as an endless stream in which
//! every record is unique.
//!
//! Flat, because that is the shape both servers evaluate without configuration
//! (rsigma's JSON events resolve `EventID` only as a top-level key; vigie reads flat
//! objects natively), so neither pays for a mapping the other does not.
//!
//! Unique, because a replayed record would be a duplicate for vigie (event key =
//! Computer, Channel, EventRecordID) and skipped: every emitted event gets
//! `EventRecordID` = its sequence number + 1. Its `TimeCreated` is made from its
//! sequence number too: the events of POST j (batch size B) all fall in second t0 + j,
//! spread over that second in record order. The API prints detection times to the
//! second, so a detection's time names the POST its event came from, which is how the
//! latency probe matches detections to sends; and event time stays monotonic, a few
//! seconds out of order at most across concurrent connections (under the allowed
//! lateness of both servers' correlation). Records keep their order within each source
//! (sorted by their original time), so bursts such as a brute force stay together.

use std::fs;
use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// The flattened records, each serialised without its surrounding braces.
pub struct Corpus {
    pub records: Vec<String>,
}

/// Counts of a conversion, printed so that skipped input is visible.
#[derive(Default)]
pub struct ConvertStats {
    pub files: u64,
    pub records: u64,
    pub bad_records: u64,
    pub unreadable_files: u64,
    pub untimed: u64,
}

pub fn convert(out: &Path, inputs: &[PathBuf]) -> io::Result<ConvertStats> {
    let mut files = Vec::new();
    for p in inputs {
        walk(p, &mut files)?;
    }
    files.sort();
    let mut stats = ConvertStats::default();
    let mut w = BufWriter::new(fs::File::create(out)?);
    for f in &files {
        let mut recs = match read_source(f, &mut stats) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("loadgen convert: {}: skipped: {e}", f.display());
                stats.unreadable_files += 1;
                continue;
            }
        };
        stats.files += 1;
        // Stable sort: untimed records keep their place after the timed ones they follow.
        recs.sort_by_key(|(t, _)| t.unwrap_or(i64::MAX));
        for (t, mut obj) in recs {
            if t.is_none() {
                stats.untimed += 1;
            }
            // Both are rewritten for every emitted event.
            for k in ["TimeCreated", "EventRecordID", "@timestamp", "UtcTime"] {
                obj.remove(k);
            }
            serde_json::to_writer(&mut w, &Value::Object(obj))?;
            w.write_all(b"\n")?;
            stats.records += 1;
        }
    }
    w.flush()?;
    Ok(stats)
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    if p.is_dir() {
        for e in fs::read_dir(p)? {
            walk(&e?.path(), out)?;
        }
    } else {
        let name = p.to_string_lossy();
        if name.ends_with(".evtx") || name.ends_with(".jsonl") || name.ends_with(".json") {
            out.push(p.to_path_buf());
        }
    }
    Ok(())
}

type Timed = (Option<i64>, Map<String, Value>);

fn read_source(f: &Path, stats: &mut ConvertStats) -> Result<Vec<Timed>, String> {
    let mut out = Vec::new();
    if f.extension().is_some_and(|e| e == "evtx") {
        let mut p = evtx::EvtxParser::from_path(f).map_err(|e| e.to_string())?;
        for r in p.records_json_value() {
            match r {
                Ok(rec) => out.push(flatten(rec.data)),
                Err(_) => stats.bad_records += 1,
            }
        }
    } else {
        let file = fs::File::open(f).map_err(|e| e.to_string())?;
        for line in io::BufReader::new(file).lines() {
            let line = line.map_err(|e| e.to_string())?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(&line) {
                Ok(v) => out.push(flatten(v)),
                Err(_) => stats.bad_records += 1,
            }
        }
    }
    Ok(out)
}

/// An EVTX record (`{"Event": {"System": .., "EventData": ..}}`) as one flat object of
/// Sigma field names; an already flat object is kept (its time read from `TimeCreated`,
/// `@timestamp` or `UtcTime`).
fn flatten(v: Value) -> Timed {
    let Value::Object(mut top) = v else {
        return (None, Map::new());
    };
    let Some(Value::Object(mut event)) = top.remove("Event") else {
        let t = ["TimeCreated", "@timestamp", "UtcTime"]
            .iter()
            .find_map(|k| top.get(*k).and_then(Value::as_str).and_then(parse_time));
        return (t, top);
    };
    let mut flat = Map::new();
    let mut time = None;
    if let Some(Value::Object(sys)) = event.remove("System") {
        for (k, v) in sys {
            match (k.as_str(), v) {
                ("Provider", v) => {
                    if let Some(n) = v.pointer("/#attributes/Name") {
                        flat.insert("Provider_Name".into(), n.clone());
                    }
                }
                ("TimeCreated", v) => {
                    time = v
                        .pointer("/#attributes/SystemTime")
                        .and_then(Value::as_str)
                        .and_then(parse_time);
                }
                (_, Value::Object(o)) => {
                    if let Some(t) = o.get("#text") {
                        flat.insert(k, t.clone());
                    }
                }
                (_, v) => {
                    flat.insert(k, v);
                }
            }
        }
    }
    for part in ["EventData", "UserData"] {
        if let Some(Value::Object(data)) = event.remove(part) {
            merge_data(part, data, &mut flat);
        }
    }
    (time, flat)
}

fn merge_data(part: &str, data: Map<String, Value>, flat: &mut Map<String, Value>) {
    for (k, v) in data {
        if k == "#attributes" {
            continue;
        }
        // UserData holds one element named after its schema, whose children are the fields.
        match (part, v) {
            ("UserData", Value::Object(inner)) => {
                for (ik, iv) in inner {
                    if ik != "#attributes" {
                        flat.entry(ik).or_insert(iv);
                    }
                }
            }
            (_, v) => {
                flat.entry(k).or_insert(v);
            }
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f][Z]` as Unix seconds (fraction dropped, UTC assumed: EVTX
/// SystemTime is UTC).
pub fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    Some(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`, appended to `out`.
pub fn push_time(out: &mut String, t: i64) {
    let (days, secs) = (t.div_euclid(86400), t.rem_euclid(86400));
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    use std::fmt::Write as _;
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

impl Corpus {
    pub fn load(path: &Path) -> io::Result<Corpus> {
        let mut records = Vec::new();
        for line in io::BufReader::new(fs::File::open(path)?).lines() {
            let line = line?;
            let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let s = serde_json::to_string(&v)?;
            records.push(s[1..s.len() - 1].to_string());
        }
        if records.is_empty() {
            return Err(io::Error::other("empty corpus"));
        }
        Ok(Corpus { records })
    }

    /// Appends events `seq..seq + count` as JSON lines to `out`; `per_second` events
    /// share each second of event time (the POST batch size).
    pub fn emit(&self, t0: i64, per_second: u64, seq: u64, count: u64, out: &mut String) {
        let n = self.records.len() as u64;
        for s in seq..seq + count {
            let r = &self.records[(s % n) as usize];
            out.push_str("{\"TimeCreated\":\"");
            push_time(out, t0 + (s / per_second) as i64);
            out.pop();
            let micros = (s % per_second) * 1_000_000 / per_second;
            out.push_str(&format!(".{micros:06}Z\",\"EventRecordID\":{}", s + 1));
            if !r.is_empty() {
                out.push(',');
                out.push_str(r);
            }
            out.push_str("}\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_round_trip() {
        let t = parse_time("2025-07-24T00:00:04.727052Z").unwrap();
        let mut s = String::new();
        push_time(&mut s, t);
        assert_eq!(s, "2025-07-24T00:00:04Z");
        let mut s = String::new();
        push_time(&mut s, 0);
        assert_eq!(s, "1970-01-01T00:00:00Z");
    }
}
