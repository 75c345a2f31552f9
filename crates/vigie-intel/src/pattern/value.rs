//! The value model of comparisons, following the reference matcher's documented
//! behaviour: JSON values keep their JSON type (integer, float, string, boolean, list,
//! object, null); properties whose name ends in `_hex` or `_bin` hold binary values;
//! a string compared with a timestamp literal is read as a timestamp; comparisons
//! between types with no defined comparison are false (then `!=` and `NOT` invert).

use std::cmp::Ordering;
use std::sync::OnceLock;

use serde_json::Value;

/// One value selected by an object path.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    Json(&'a Value),
    /// Decoded `_hex` / `_bin` property.
    Bytes(Vec<u8>),
    /// A `_refs` list after dereferencing (references that did not resolve dropped).
    RefList(Vec<&'a Value>),
}

/// A value as the comparison tables see it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Py<'a> {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
    /// Microseconds since the epoch.
    Time(i64),
    /// Lists and objects: never equal, ordered or in a set.
    Container,
}

pub(crate) fn py<'a>(v: &'a Val<'_>) -> Py<'a> {
    match v {
        Val::Bytes(b) => Py::Bytes(b),
        Val::RefList(_) => Py::Container,
        Val::Json(j) => match j {
            Value::Null => Py::Null,
            Value::Bool(b) => Py::Bool(*b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Py::Int(i as i128)
                } else if let Some(u) = n.as_u64() {
                    Py::Int(u as i128)
                } else {
                    Py::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => Py::Str(s),
            Value::Array(_) | Value::Object(_) => Py::Container,
        },
    }
}

/// Exact comparison of an integer and a float (as Python compares them).
fn int_float(i: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    let t = f.trunc();
    if t >= 1.7e38 {
        return Some(Ordering::Less);
    }
    if t <= -1.7e38 {
        return Some(Ordering::Greater);
    }
    match i.cmp(&(t as i128)) {
        Ordering::Equal => {
            let frac = f - t;
            Some(if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            })
        }
        o => Some(o),
    }
}

fn num_cmp(a: &Py, b: &Py) -> Option<Ordering> {
    match (a, b) {
        (Py::Int(x), Py::Int(y)) => Some(x.cmp(y)),
        (Py::Int(x), Py::Float(y)) => int_float(*x, *y),
        (Py::Float(x), Py::Int(y)) => int_float(*y, *x).map(Ordering::reverse),
        (Py::Float(x), Py::Float(y)) => x.partial_cmp(y),
        _ => None,
    }
}

/// A string as bytes when every code point is below 256 (the spec's string/binary
/// comparison), else `None`.
fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// `=` per the equality table (false where the table has no entry).
pub(crate) fn equal(a: &Py, b: &Py) -> bool {
    match (a, b) {
        (Py::Int(_) | Py::Float(_), Py::Int(_) | Py::Float(_)) => {
            num_cmp(a, b) == Some(Ordering::Equal)
        }
        (Py::Str(x), Py::Str(y)) => x == y,
        (Py::Bytes(x), Py::Bytes(y)) => x == y,
        (Py::Bytes(x), Py::Str(s)) | (Py::Str(s), Py::Bytes(x)) => {
            latin1(s).is_some_and(|b| b == *x)
        }
        (Py::Bool(x), Py::Bool(y)) => x == y,
        (Py::Time(x), Py::Time(y)) => x == y,
        _ => false,
    }
}

/// `<`, `>`, ... per the order table: `None` where the types are not comparable
/// (the comparison is then false).
pub(crate) fn order(value: &Py, lit: &Py) -> Option<Ordering> {
    match (value, lit) {
        (Py::Int(_) | Py::Float(_), Py::Int(_) | Py::Float(_)) => num_cmp(value, lit),
        (Py::Str(x), Py::Str(y)) => Some(x.cmp(y)),
        (Py::Bytes(x), Py::Bytes(y)) => Some(x.cmp(y)),
        (Py::Bytes(x), Py::Str(s)) => latin1(s).map(|b| (*x).cmp(&b[..])),
        (Py::Str(s), Py::Bytes(x)) => latin1(s).map(|b| b[..].cmp(x)),
        (Py::Time(x), Py::Time(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Set membership (`IN`): Python's `==` between hashable values, where booleans equal
/// the numbers 0 and 1 and strings never equal binary values.
pub(crate) fn set_equal(value: &Py, member: &Py) -> bool {
    fn as_num(p: &Py) -> Option<Py<'static>> {
        match p {
            Py::Bool(b) => Some(Py::Int(i128::from(*b))),
            Py::Int(i) => Some(Py::Int(*i)),
            Py::Float(f) => Some(Py::Float(*f)),
            _ => None,
        }
    }
    match (value, member) {
        (Py::Str(x), Py::Str(y)) => x == y,
        (Py::Bytes(x), Py::Bytes(y)) => x == y,
        (Py::Time(x), Py::Time(y)) => x == y,
        _ => match (as_num(value), as_num(member)) {
            (Some(a), Some(b)) => num_cmp(&a, &b) == Some(Ordering::Equal),
            _ => false,
        },
    }
}

/// A timestamp literal's text (already in the grammar's shape) as microseconds.
pub(crate) fn parse_timestamp(text: &str) -> Option<i64> {
    parse_json_timestamp(text)
}

/// A timestamp string as the reference reads one (`%Y-%m-%dT%H:%M:%S[.%f]Z`,
/// upper-case `T` and `Z`, digits past microseconds dropped), as microseconds since
/// the epoch. `None` if it is not one.
pub(crate) fn parse_json_timestamp(s: &str) -> Option<i64> {
    if s.chars().any(char::is_lowercase) {
        return None;
    }
    static WITH_FRACTION: OnceLock<Option<regex::Regex>> = OnceLock::new();
    static WITHOUT: OnceLock<Option<regex::Regex>> = OnceLock::new();
    const DATE: &str = r"(?P<Y>[0-9]{4})-(?P<m>1[0-2]|0[1-9]|[1-9])-(?P<d>3[01]|[12][0-9]|0[1-9]|[1-9]| [1-9])T(?P<H>2[0-3]|[0-1][0-9]|[0-9]):(?P<M>[0-5][0-9]|[0-9]):(?P<S>6[0-1]|[0-5][0-9]|[0-9])";
    let (owned, re);
    if s.contains('.') {
        // More than six fraction digits: keep six.
        let mut parts: Vec<&str> = s.split('.').collect();
        let cut;
        if parts.len() > 1 && parts[1].chars().count() > 7 && parts[1].ends_with('Z') {
            cut = format!("{}Z", parts[1].chars().take(6).collect::<String>());
            parts[1] = &cut;
            owned = parts.join(".");
        } else {
            owned = s.to_string();
        }
        re = WITH_FRACTION
            .get_or_init(|| regex::Regex::new(&format!(r"\A{DATE}\.(?P<f>[0-9]{{1,6}})Z\z")).ok())
            .as_ref()?;
    } else {
        owned = s.to_string();
        re = WITHOUT
            .get_or_init(|| regex::Regex::new(&format!(r"\A{DATE}Z\z")).ok())
            .as_ref()?;
    }
    let c = re.captures(&owned)?;
    let num = |k: &str| -> Option<u32> { c.name(k)?.as_str().trim().parse().ok() };
    let year = num("Y")?;
    let micro = match c.name("f") {
        Some(f) => {
            let mut digits = f.as_str().to_string();
            while digits.len() < 6 {
                digits.push('0');
            }
            digits.parse().ok()?
        }
        None => 0,
    };
    if year == 0 {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(year as i32, num("m")?, num("d")?)?;
    let sec = num("S")?;
    if sec > 59 {
        return None;
    }
    let t = date.and_hms_micro_opt(num("H")?, num("M")?, sec, micro)?;
    Some(t.and_utc().timestamp_micros())
}

/// An IPv4 address as `inet_aton` reads it (1 to 4 dot-separated parts, each decimal,
/// octal with a leading `0` or hex with `0x`; the last part fills the remaining bytes;
/// anything after a whitespace is ignored).
pub(crate) fn inet_aton(s: &str) -> Option<u32> {
    let s = match s.find(|c: char| c.is_ascii_whitespace()) {
        Some(i) => &s[..i],
        None => s,
    };
    if s.is_empty() {
        return None;
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut vals = Vec::with_capacity(4);
    for p in &parts {
        let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X"))
        {
            (h, 16)
        } else if p.len() > 1 && p.starts_with('0') {
            (&p[1..], 8)
        } else {
            (*p, 10)
        };
        if digits.is_empty() {
            // "0x" alone is 0 for inet_aton; an empty part is invalid.
            if radix == 16 {
                vals.push(0u64);
                continue;
            }
            return None;
        }
        let v = u64::from_str_radix(digits, radix).ok()?;
        if v > u64::from(u32::MAX) {
            return None;
        }
        vals.push(v);
    }
    let n = vals.len();
    for v in &vals[..n - 1] {
        if *v > 255 {
            return None;
        }
    }
    let last = vals[n - 1];
    let max_last = match n {
        1 => u64::from(u32::MAX),
        2 => 0xFF_FFFF,
        3 => 0xFFFF,
        _ => 0xFF,
    };
    if last > max_last {
        return None;
    }
    let mut out: u64 = 0;
    for (i, v) in vals[..n - 1].iter().enumerate() {
        out |= v << (24 - 8 * i);
    }
    Some((out | last) as u32)
}

/// `ip/prefix` with a prefix of 1 to 32.
fn cidr(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("invalid CIDR subnet: {s}");
    let (ip, prefix) = s.split_once('/').ok_or_else(bad)?;
    let ip = inet_aton(ip).ok_or_else(|| format!("invalid IPv4 address: {ip}"))?;
    if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let p: u32 = prefix.parse().map_err(|_| bad())?;
    if !(1..=32).contains(&p) {
        return Err(bad());
    }
    Ok((ip, p))
}

/// Is the address or subnet `inner` inside the subnet `outer`? Errors name the
/// malformed address or subnet (the reference raises on them).
pub(crate) fn ip_in_subnet(inner: &str, outer: &str) -> Result<bool, String> {
    let (ip, prefix) = if inner.contains('/') {
        cidr(inner)?
    } else {
        (
            inet_aton(inner).ok_or_else(|| format!("invalid IPv4 address: {inner}"))?,
            32,
        )
    };
    let (net, net_prefix) = cidr(outer)?;
    if net_prefix > prefix {
        return Ok(false);
    }
    let mask = if net_prefix == 0 {
        0
    } else {
        u32::MAX << (32 - net_prefix)
    };
    Ok(ip & mask == net & mask)
}

/// `_hex` / `_bin` property values as bytes (errors for what does not decode).
pub(crate) fn decode_suffixed(name: &str, v: &Value) -> Option<Result<Vec<u8>, String>> {
    if name.ends_with("_hex") {
        let Value::String(s) = v else {
            return Some(Err(format!("property {name} is not a hex string")));
        };
        let b = s.as_bytes();
        if !b.len().is_multiple_of(2) {
            return Some(Err(format!("property {name}: odd-length hex string")));
        }
        let mut out = Vec::with_capacity(b.len() / 2);
        for pair in b.chunks(2) {
            let hex = |c: u8| (c as char).to_digit(16);
            match (hex(pair[0]), hex(pair[1])) {
                (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                _ => return Some(Err(format!("property {name}: non-hex digit in {s:?}"))),
            }
        }
        Some(Ok(out))
    } else if name.ends_with("_bin") {
        let Value::String(s) = v else {
            return Some(Err(format!("property {name} is not a base64 string")));
        };
        Some(b64_lenient(s).ok_or_else(|| format!("property {name}: invalid base64 {s:?}")))
    } else {
        None
    }
}

/// Base64 as Python's non-validating decoder reads it: characters outside the
/// alphabet are skipped; decoding stops at padding; a lone trailing char is an error.
fn b64_lenient(s: &str) -> Option<Vec<u8>> {
    let mut acc = 0u32;
    let mut n = 0u32;
    let mut out = Vec::new();
    let mut pad = 0;
    for c in s.chars() {
        let v = match c {
            'A'..='Z' => c as u32 - 'A' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 26,
            '0'..='9' => c as u32 - '0' as u32 + 52,
            '+' => 62,
            '/' => 63,
            '=' => {
                pad += 1;
                if n >= 2 && n + pad >= 4 {
                    break;
                }
                continue;
            }
            _ => continue,
        };
        if pad > 0 {
            // data after a premature '=': Python ignores the padding
            pad = 0;
        }
        acc = (acc << 6) | v;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        0 => Some(out),
        1 => None,
        2 => {
            if pad < 2 {
                return None;
            }
            out.push((acc >> 4) as u8);
            Some(out)
        }
        _ => {
            if pad < 1 {
                return None;
            }
            out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]);
            Some(out)
        }
    }
}
