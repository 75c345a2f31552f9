//! Escaping and number formatting for the HTML report.
//!
//! Everything that comes from the report (rule titles, field values, asset names, even
//! ids) is untrusted: it goes through [`esc`] before it reaches the page, in text and in
//! attribute values alike (`"` and `'` are escaped too, so one function serves both).

use std::fmt::Write as _;

/// `s` as HTML text or a quoted attribute value. C0 control characters other than tab
/// and newline (parse errors in HTML, invisible anyway) become U+FFFD.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of `s`, with an ellipsis when cut (SVG text does not wrap,
/// so labels are cut to their box; the full text goes in a `<title>`).
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Digits grouped by thousands with commas: `1234567` → `1,234,567`.
fn group(int_digits: &str) -> String {
    let (sign, digits) = match int_digits.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", int_digits),
    };
    let mut out = String::from(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A quantity for people: whole numbers from 100 up (grouped by thousands), at most two
/// decimals below, trailing zeros dropped; `—` for a non-finite value.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    if x.abs() >= 100.0 {
        return group(&format!("{:.0}", x));
    }
    let s = format!("{:.2}", x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// A count grouped by thousands.
pub fn count(n: u64) -> String {
    group(&n.to_string())
}

/// A quantity in three significant digits with k / M / bn, for chart labels.
pub fn compact(x: f64) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    let a = x.abs();
    let (v, unit) = if a >= 1e9 {
        (x / 1e9, " bn")
    } else if a >= 1e6 {
        (x / 1e6, " M")
    } else if a >= 1e4 {
        (x / 1e3, " k")
    } else {
        return num(x);
    };
    let digits = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else {
        2
    };
    let mut s = String::new();
    let _ = write!(s, "{:.*}", digits, v);
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    s + unit
}

/// Hours as `36 h`, `1.5 h`, or days and hours past two days (`3 d 4 h`).
pub fn hours(h: f64) -> String {
    if !h.is_finite() {
        return "—".to_string();
    }
    if h >= 48.0 {
        let d = (h / 24.0).floor();
        let rest = h - d * 24.0;
        if rest < 0.05 {
            return format!("{} d", num(d));
        }
        return format!("{} d {} h", num(d), num(rest));
    }
    format!("{} h", num(h))
}

/// An SVG coordinate: one decimal at most, so the same layout prints the same bytes.
pub fn px(x: f64) -> String {
    let s = format!("{:.1}", x);
    match s.strip_suffix(".0") {
        Some(i) if i != "-0" => i.to_string(),
        Some(_) => "0".to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(esc("a\u{0}b\u{1b}c\td"), "a\u{fffd}b\u{fffd}c\td");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(111_450_000.0), "111,450,000");
        assert_eq!(num(-1234.4), "-1,234");
        assert_eq!(num(12.0), "12");
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(5.10), "5.1");
        assert_eq!(num(f64::INFINITY), "—");
        assert_eq!(count(31_000_000), "31,000,000");
        assert_eq!(compact(3_290_392_500.0), "3.29 bn");
        assert_eq!(compact(79_500_000.0), "79.5 M");
        assert_eq!(compact(14_310.0), "14.3 k");
        assert_eq!(compact(950.0), "950");
        assert_eq!(hours(40.0), "40 h");
        assert_eq!(hours(76.0), "3 d 4 h");
        assert_eq!(px(12.04), "12");
        assert_eq!(px(-0.01), "0");
        assert_eq!(px(3.25), "3.2");
    }

    #[test]
    fn clip_counts_characters() {
        assert_eq!(clip("abcdef", 6), "abcdef");
        assert_eq!(clip("abcdefg", 6), "abcde…");
        assert_eq!(clip("ééééééé", 3), "éé…");
    }
}
